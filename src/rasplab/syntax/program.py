"""``parse`` and ``load``: RASP source to a namespace of s-ops, selectors and functions.

>>> from rasplab import analyse
>>> prog = parse('''
... hist = selector_width(select(tokens, tokens, ==));
... ''')
>>> prog.hist("hello"), prog.token_type
([1, 1, 2, 2, 1], 'str')
>>> analyse(prog.output).heads_per_layer
(1,)
>>> parse("tokens = tokens_int; y = tokens + 1;").evaluate("123")
[2, 3, 4]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import RaspError, RaspTypeError
from ..evaluate import evaluate_batch
from ..lang.dsl import indices, length
from ..lang.nodes import Comparison, Select, Selector, SelectorWidth, SOp
from .errors import RaspLoadError
from .interpreter import Interpreter
from .parser import parse_tree
from .scope import Scope
from .values import (
    Builtin,
    Limits,
    RaspFunction,
    TokenContext,
    TokenVariant,
    _MixedTokenTypes,
    read_tokens,
)

__all__ = ["RaspProgram", "parse", "load", "new_session", "LIBRARY_NAMES", "stdlib_source"]

FULL_S = Select(indices, indices, Comparison.TRUE, name="full_s")
_OUTPUT_COMMENT = re.compile(r"^\s*#\s*output\s*:\s*([A-Za-z_][A-Za-z_0-9]*)\s*$", re.M)


def stdlib_source() -> str:
    """The standard library's RASP source, as shipped with the package."""
    return resources.files(__package__).joinpath("stdlib.rasp").read_text(encoding="utf-8")


@functools.cache
def _stdlib_items():
    return parse_tree(stdlib_source(), filename="stdlib.rasp").children


def _builtins(interp: Interpreter) -> dict[str, Any]:
    limit = interp.limits.max_collection

    def range_(*args: Any) -> list[int]:
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise RaspTypeError(f"range needs ints, got {list(args)!r}")
        if args[-1:] == (0,) and len(args) == 3:
            raise RaspTypeError("range step must not be zero")
        span = range(*args)
        try:
            size = len(span)
        except OverflowError:
            size = limit + 1
        if size > limit:
            shown = ", ".join(str(a) for a in args)
            raise RaspTypeError(
                f"range({shown}) has more than {limit} numbers, the limit (max_collection); "
                "raise it with Limits(max_collection=...)"
            )
        return list(span)

    def zip_(*lists: Any) -> list[list[Any]]:
        if not all(isinstance(x, list) for x in lists):
            raise RaspTypeError("zip needs lists")
        if len({len(x) for x in lists}) > 1:
            raise RaspTypeError(f"zip needs lists of one length, got {[len(x) for x in lists]}")
        return [list(row) for row in zip(*lists, strict=True)]

    def len_(value: Any) -> int:
        if not isinstance(value, list | dict | str):
            raise RaspTypeError(f"len needs a list, dict or string, got {type(value).__name__}")
        return len(value)

    def width(sel: Any) -> SOp:
        if not isinstance(sel, Selector):
            raise RaspTypeError(f"selector_width needs a selector, got {sel!r}")
        return SelectorWidth(sel)

    return {
        "range": Builtin("range", range_, (1, 3)),
        "zip": Builtin("zip", zip_, (1, 64)),
        "len": Builtin("len", len_, (1, 1)),
        "selector_width": Builtin("selector_width", width, (1, 1)),
        "length": length,
        "full_s": FULL_S,
    }


def _base_scope(interp: Interpreter) -> Scope:
    base = Scope(name="base")
    for name, value in _builtins(interp).items():
        base.set(name, value)
    interp.base = base
    interp.files.append(("stdlib.rasp", None))
    try:
        interp.run(_stdlib_items(), base)
    finally:
        interp.files.pop()
    base.set("tokens", base.lookup("tokens_str"))
    base.vars.pop("out", None)
    return base


def _library_names() -> frozenset[str]:
    defined = re.findall(r"^def\s+([A-Za-z_][A-Za-z_0-9]*)\s*\(", stdlib_source(), re.M)
    return frozenset({"length", "full_s", "selector_width", *defined})


LIBRARY_NAMES = _library_names()


def new_session(*, asis: bool = False, limits=None, filename=None, base_dir=None, search_path=()):
    """A fresh interpreter and its top scope, with the standard library loaded."""
    interp = Interpreter(
        tokens=TokenContext(asis=asis),
        limits=limits,
        filename=filename,
        base_dir=base_dir,
        search_path=tuple(search_path),
    )
    base = _base_scope(interp)
    return interp, Scope(base, name="program", reserved=LIBRARY_NAMES)


class RaspProgram(Mapping[str, Any]):
    """The names a RASP program defined, plus how to read and run its input.

    Mapping access (``prog["hist"]``) and attribute access (``prog.hist``)
    see the program's names and the standard library; iterating lists the
    program's own top-level names in definition order. Attribute access
    yields to this class's own attributes (``output``, ``names``, ...), so a
    program name like ``output`` is reached as ``prog["output"]``.
    """

    def __init__(self, interp: Interpreter, scope: Scope, source: str, path: Path | None):
        self._interp = interp
        self._scope = scope
        self.source = source
        self.path = path
        found = _OUTPUT_COMMENT.search(source)
        self.output_comment = found.group(1) if found else None
        self.example = interp.example

    @property
    def token_type(self) -> str:
        """How input tokens are read: ``str``, ``int``, ``float``, ``bool`` or ``asis``."""
        return self._interp.tokens.token_type

    def read_input(self, raw: Any) -> list[Any]:
        """One raw input (a string is one token per character) as the program's tokens."""
        return read_tokens(raw, self.token_type)

    @property
    def names(self) -> dict[str, Any]:
        return {n: self._scope.vars[n] for n in self._scope.history if n != "out"}

    @property
    def sops(self) -> dict[str, SOp]:
        return {n: v for n, v in self.names.items() if isinstance(v, SOp)}

    @property
    def selectors(self) -> dict[str, Selector]:
        return {n: v for n, v in self.names.items() if isinstance(v, Selector)}

    @property
    def functions(self) -> dict[str, RaspFunction]:
        return {n: v for n, v in self.names.items() if isinstance(v, RaspFunction)}

    @property
    def output_name(self) -> str | None:
        """``# output: NAME`` if the source says so, else the last s-op assigned at top level."""
        if self.output_comment is not None:
            return self.output_comment
        sops = list(self.sops)
        return sops[-1] if sops else None

    @property
    def output(self) -> SOp:
        return self.sop(None)

    def sop(self, name: str | None) -> SOp:
        """The s-op called ``name`` (default: ``output_name``), or a clear error."""
        name = name or self.output_name
        if name is None:
            raise RaspError("the program assigns no s-op to use as its output")
        if name not in self:
            known = ", ".join(self.sops) or "none"
            raise RaspError(f"the program defines no {name!r} (its s-ops: {known})")
        value = self[name]
        if not isinstance(value, SOp):
            raise RaspTypeError(f"{name!r} is not an s-op, so it has no output sequence")
        return value

    def evaluate(self, raw: Any, name: str | None = None) -> list[Any]:
        """The values of ``name`` (default: the output) on one raw input."""
        return self.evaluate_batch([raw], name)[0]

    def evaluate_batch(self, raws: Iterable[Any], name: str | None = None) -> list[list[Any]]:
        return evaluate_batch(self.sop(name), [self.read_input(r) for r in raws])

    def __getitem__(self, name: str) -> Any:
        try:
            value = self._scope.lookup(name)
        except RaspError:
            raise KeyError(name) from None
        if isinstance(value, TokenVariant):
            return self._interp.tokens.node(value.kind)
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the program defines no {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._scope.defines(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return f"<RaspProgram{where}: {', '.join(self.names) or 'no names'}>"


def parse(
    source: str,
    *,
    filename: str | None = None,
    limits: Limits | None = None,
    search_path: Iterable[str | Path] = (),
    base_dir: str | Path | None = None,
) -> RaspProgram:
    """Run RASP source and return the namespace it builds.

    ``load "x";`` statements look beside ``base_dir`` (default: the current
    folder), then in ``search_path``.
    """
    items = parse_tree(source, filename=filename, limits=limits).children
    folder = Path(base_dir) if base_dir is not None else None
    for asis in (False, True):  # a program reading tokens as two types reruns as-is
        interp, scope = new_session(
            asis=asis, limits=limits, filename=filename, base_dir=folder, search_path=search_path
        )
        try:
            interp.run(items, scope)
        except _MixedTokenTypes:
            continue
        interp.tokens.settled = True
        path = Path(filename) if filename else None
        return RaspProgram(interp, scope, source, path)
    raise AssertionError("unreachable: the as-is pass cannot mix token types")


def load(path: str | Path, *, limits: Limits | None = None, search_path=()) -> RaspProgram:
    """Read and run a ``.rasp`` file (see ``parse``)."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RaspLoadError(f"cannot read {path}: {err}") from None
    return parse(
        source, filename=str(path), limits=limits, search_path=search_path, base_dir=path.parent
    )
