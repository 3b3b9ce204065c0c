"""Source text to parse tree: the lark LALR parser and friendly syntax errors.

The grammar lives in ``rasp.lark`` beside this module. Syntax errors become
``RaspSyntaxError`` with a line, a column and a caret line:

>>> try:
...     parse_tree("x = tokens + 1\\ny = 2;")
... except RaspSyntaxError as err:
...     print(err)
line 1, column 15: missing ';' at the end of this statement
    x = tokens + 1
                  ^
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, cast

from ..errors import RaspSyntaxError
from .prescan import check_source
from .values import Limits

if TYPE_CHECKING:  # lark is imported on first use, to keep ``import rasplab`` light
    from lark import Lark, Token, Tree
    from lark.exceptions import UnexpectedInput, UnexpectedToken

__all__ = ["parse_tree", "is_complete", "grammar_text"]

_NAMED = {
    "ID": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "$END": "the end of the input",
}


def grammar_text() -> str:
    """The grammar, as shipped with the package."""
    return resources.files(__package__).joinpath("rasp.lark").read_text(encoding="utf-8")


@functools.cache
def _parser() -> Lark:
    from lark import Lark

    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def parse_tree(source: str, filename: str | None = None, limits: Limits | None = None) -> Tree:
    """Parse a whole program (or REPL input) into a lark tree rooted at ``start``.

    A source longer or more deeply nested than ``limits`` allow is refused
    first, cheaply, with a ``LimitError`` naming the limit.
    """
    if not isinstance(source, str):
        raise RaspSyntaxError(f"RASP source must be text, got {type(source).__name__}")
    check_source(source, limits or Limits(), filename)
    from lark.exceptions import UnexpectedInput

    try:
        return _parser().parse(source)
    except UnexpectedInput as err:
        raise _syntax_error(err, source, filename) from None


def is_complete(source: str) -> bool:
    """False when ``source`` only lacks its ending (REPL: read another line).

    Other syntax errors raise ``RaspSyntaxError``.

    >>> is_complete("def f(x) {"), is_complete("x = 1;")
    (False, True)
    """
    from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken

    try:
        _parser().parse(source)
    except UnexpectedEOF:
        return False
    except UnexpectedToken as err:
        if err.token.type == "$END":
            return False
        raise _syntax_error(err, source, None) from None
    except UnexpectedInput as err:
        raise _syntax_error(err, source, None) from None
    return True


def _line(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _error(message: str, source: str, line: int, column: int, filename: str | None):
    return RaspSyntaxError(
        message,
        line=line,
        column=column,
        source_line=_line(source, line),
        filename=filename,
    )


def _syntax_error(err: UnexpectedInput, source: str, filename: str | None) -> RaspSyntaxError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(err, UnexpectedCharacters):
        # lark declares ``pos_in_stream = None`` on the base class; the lexer always
        # sets it to the offset of the character it could not match.
        pos = cast(int, err.pos_in_stream)
        char = source[pos] if pos < len(source) else ""
        if char == '"':
            message = "unterminated string (a string ends on the line it starts)"
        else:
            message = f"unexpected character {char!r}"
        return _error(message, source, err.line, err.column, filename)
    if isinstance(err, UnexpectedToken):
        return _token_error(err, source, filename)
    line, column = _end_of_code(source, len(source))
    return _error("unexpected end of input", source, line, column, filename)


def _token_error(err: UnexpectedToken, source: str, filename: str | None) -> RaspSyntaxError:
    token: Token = err.token
    expected = set(err.expected)
    at_end = token.type == "$END"
    # A token without a position reads as one at the end (``source[:None]``).
    start = len(source) if at_end or token.start_pos is None else token.start_pos
    prev_line, prev_column = _end_of_code(source, start)
    if "SEMICOLON" in expected and (at_end or (token.line or 0) > prev_line):
        message = "missing ';' at the end of this statement"
        return _error(message, source, prev_line, prev_column, filename)
    found = "the end of the input" if at_end else repr(str(token))
    message = f"unexpected {found}; expected {_describe(expected)}"
    if at_end:
        return _error(message, source, prev_line, prev_column, filename)
    return _error(message, source, token.line or 0, token.column or 0, filename)


def _describe(expected: set[str]) -> str:
    if {"ID", "INT", "STRING"} <= expected:
        return "an expression"
    shown = sorted({_terminal_text(name) for name in expected})
    if len(shown) > 6:
        shown = shown[:6] + ["..."]
    return " or ".join(shown) if len(shown) <= 2 else ", ".join(shown)


def _terminal_text(name: str) -> str:
    if name in _NAMED:
        return _NAMED[name]
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return repr(pattern.value)
    return name.lower().replace("_", " ")


def _code_end(text: str) -> int:
    """Length of ``text`` without its trailing comment and whitespace."""
    in_string = False
    for i, char in enumerate(text):
        if char == '"':
            in_string = not in_string
        elif char == "#" and not in_string:
            return len(text[:i].rstrip())
    return len(text.rstrip())


def _end_of_code(source: str, pos: int) -> tuple[int, int]:
    """(line, column) just after the last code character before ``pos``."""
    lines = source[:pos].split("\n")
    for index in range(len(lines) - 1, -1, -1):
        end = _code_end(lines[index])
        if end:
            return index + 1, end + 1
    return 1, 1
