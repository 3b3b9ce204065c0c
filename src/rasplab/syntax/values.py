"""The values a RASP program handles besides IR nodes: functions, token types, limits.

Atoms (int, float, str, bool), lists and dicts are plain Python values;
s-ops and selectors are rasplab IR nodes.

>>> kind_of([1, 2]), kind_of(3), kind_of("a")
('list', 'atom', 'atom')
>>> read_tokens("12", "int")
[1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, RaspTypeError
from ..lang.dsl import tokens as TOKENS
from ..lang.nodes import Map, Node, Selector, SOp, is_atom

__all__ = [
    "Limits",
    "TOKEN_TYPES",
    "TokenVariant",
    "TokenContext",
    "RaspFunction",
    "Builtin",
    "kind_of",
    "plural",
    "show",
    "brief",
    "read_tokens",
]

#: The ``tokens_*`` variants: how each reads one raw token (None: as it is).
TOKEN_TYPES: dict[str, Callable[[Any], Any] | None] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "asis": None,
}


@dataclass(frozen=True)
class Limits:
    """Safety limits of the interpreter (each error names the one it hit)."""

    max_call_depth: int = 100  # nested function calls
    max_steps: int = 1_000_000  # loop iterations, comprehension items and calls, in total
    max_collection: int = 1_000_000  # elements of one list, dict, string or range
    max_int_bits: int = 100_000  # size of one integer built by ^ or *
    max_input_length: int = 10_000  # longest input an s-op is applied to inside a program
    max_nesting: int = 10_000  # how deep an expression may nest (checked before parsing)
    max_source_chars: int = 10_000_000  # longest source text parsed


@dataclass(frozen=True)
class TokenVariant:
    """What the names ``tokens_str``, ``tokens_int``, ... stand for before use."""

    kind: str


class _MixedTokenTypes(Exception):
    """Internal: a program read tokens as two types; rerun it reading them as-is."""


class TokenContext:
    """Decides which IR node each ``tokens_*`` variant is, for one program.

    A program that reads its input one way (the usual case) gets the shared
    ``tokens`` node itself, and its raw input is converted on the way in
    (``token_type``). A program using several variants (and the REPL) reads
    input as-is and turns each variant into a map of ``tokens``.
    """

    def __init__(self, *, asis: bool = False) -> None:
        self.primary: str | None = "asis" if asis else None
        self.settled = False  # the program has run: its token type can no longer change
        self._maps: dict[str, SOp] = {}

    @property
    def token_type(self) -> str:
        return self.primary or "str"

    def node(self, kind: str) -> SOp:
        if self.primary is None:
            self.primary = kind
        if kind == self.primary:
            return TOKENS
        if self.primary != "asis" and self.settled:
            raise RaspTypeError(
                f"this program reads its tokens as {self.primary}, so tokens_{kind} cannot be "
                "used with it afterwards (a program using several tokens_* types reads its "
                "input as-is)"
            )
        if self.primary != "asis":
            raise _MixedTokenTypes(kind)
        if kind not in self._maps:
            convert = TOKEN_TYPES[kind]
            if convert is None:  # only "asis" has no conversion, and "asis" is primary here
                raise RaspTypeError(f"tokens_{kind} has no conversion to apply")
            self._maps[kind] = Map(convert, TOKENS, name=f"tokens_{kind}")
        return self._maps[kind]

    def read(self, raw: Any) -> list[Any]:
        return read_tokens(raw, self.token_type)


def read_tokens(raw: Any, token_type: str) -> list[Any]:
    """One raw input as a token list, each token read as ``token_type``.

    A string is one token per character.

    >>> read_tokens([1, 0], "bool"), read_tokens("ab", "str")
    ([True, False], ['a', 'b'])
    """
    if isinstance(raw, str):
        items = list(raw)
    elif isinstance(raw, Sequence) or hasattr(raw, "tolist"):
        items = list(raw.tolist() if hasattr(raw, "tolist") else raw)
    else:
        raise InputError(
            f"an input is a string (one token per character) or a list of tokens, got {raw!r}"
        )
    convert = TOKEN_TYPES[token_type]
    if convert is None or (convert is str and isinstance(raw, str)):
        return items
    try:
        return [convert(token) for token in items]
    except (TypeError, ValueError, OverflowError):
        pass
    for pos, token in enumerate(items):  # find the token that failed, to name it
        try:
            convert(token)
        except (TypeError, ValueError, OverflowError):
            raise InputError(
                f"token {token!r} at position {pos} cannot be read as {token_type} "
                f"(this program reads tokens_{token_type})"
            ) from None
    raise AssertionError("unreachable")


class RaspFunction:
    """A function defined with ``def`` (a closure over its defining scope)."""

    def __init__(self, name, params, body, returns, closure, interpreter, home=(None, None)):
        self.name = name
        self.params = tuple(params)
        self.body = body  # statement trees
        self.returns = returns  # the return statement's tree
        self.closure = closure  # the scope it was defined in
        self.interpreter = interpreter
        self.home = home  # (file name, folder) it was defined in

    def __call__(self, *args: Any) -> Any:
        """Call from Python: ``prog.functions["count"](tokens, "a")`` (a fresh step budget)."""
        self.interpreter.steps = 0
        return self.interpreter.call_function(self, list(args))

    def __repr__(self) -> str:
        return f"<function {self.name}({', '.join(self.params)})>"


class Builtin:
    """A function the interpreter provides (``range``, ``zip``, ``len``, ...)."""

    def __init__(self, name: str, fn: Callable[..., Any], arity: tuple[int, int]) -> None:
        self.name, self.fn, self.arity = name, fn, arity

    def __call__(self, *args: Any) -> Any:
        low, high = self.arity
        if not low <= len(args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise RaspTypeError(f"{self.name} takes {plural(want, 'argument')}, got {len(args)}")
        return self.fn(*args)

    def __repr__(self) -> str:
        return f"<builtin {self.name}>"


def plural(count: Any, noun: str) -> str:
    """``1 argument``, ``2 arguments``."""
    return f"{count} {noun}" if str(count) == "1" else f"{count} {noun}s"


def kind_of(value: Any) -> str:
    """The language's name for the kind of ``value``."""
    if isinstance(value, SOp):
        return "s-op"
    if isinstance(value, Selector):
        return "selector"
    if isinstance(value, RaspFunction | Builtin):
        return "function"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    if is_atom(value):
        return "atom"
    return type(value).__name__


def show(value: Any, cap: int = 60) -> str:
    """A short description of ``value`` for error messages.

    >>> from rasplab import tokens, select
    >>> show(select(tokens, tokens, "==")), show([tokens, 1])
    ('the selector select(tokens, tokens, ==)', 'the list [tokens, 1]')
    """
    if isinstance(value, RaspFunction | Builtin):
        return f"the function {value.name}"
    text = brief(value, cap)
    if len(text) > cap:
        text = text[: cap - 3] + "..."
    return f"the {kind_of(value)} {text}"


def brief(value: Any, budget: int = 200, atom: Callable[[Any], str] = repr) -> str:
    """A value as text, cut at about ``budget`` characters (shared lists stay cheap).

    Nodes show their name (or what they compute), atoms ``atom(value)``.

    >>> brief([1, [2, "x"]]), brief(list(range(100)), budget=12)
    ("[1, [2, 'x']]", '[0, 1, 2, 3, ...]')
    """
    parts: list[str] = []
    _brief(value, parts, [budget], atom)
    return "".join(parts)


def _brief(value: Any, parts: list[str], left: list[int], atom) -> None:
    if isinstance(value, list | dict):
        opening, closing = ("[", "]") if isinstance(value, list) else ("{", "}")
        parts.append(opening)
        for i, item in enumerate(value.items() if isinstance(value, dict) else value):
            if left[0] <= 0:
                parts.append(", ..." if i else "...")
                break
            if i:
                parts.append(", ")
            if isinstance(value, dict):
                _brief(item[0], parts, left, atom)
                parts.append(": ")
                item = item[1]
            _brief(item, parts, left, atom)
        parts.append(closing)
        return
    text = _atom_text(value, atom)
    left[0] -= len(text) + 2
    parts.append(text)


def _atom_text(value: Any, atom) -> str:
    if isinstance(value, Node):
        return value.name if value.name is not None else value.describe()
    if isinstance(value, RaspFunction | Builtin):
        return f"<function {value.name}>"
    try:
        return atom(value)
    except ValueError:  # an int too long to print
        return f"<an int of {value.bit_length()} bits>"
