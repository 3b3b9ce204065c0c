"""Text for the REPL and the runner, in the style of the original RASP REPL.

>>> format_sequence([1, 1.5, 2.0])
'[1, 1.5, 2.0] (floats)'
>>> format_sequence(["a", "a", "a"])
'[a]*3 (strings)'
>>> format_sequence([True, False])
'[T, F] (bools)'
>>> print("\\n".join(selector_lines(list("ab"), [[True, False], [True, True]])))
             a b
         a | 1
         b | 1 1
"""

from __future__ import annotations

from typing import Any

from ..lang.nodes import Selector, SOp
from .values import Builtin, RaspFunction, brief

__all__ = [
    "format_atom",
    "format_sequence",
    "type_tag",
    "selector_lines",
    "verbose_lines",
    "header",
]

_TYPE_NAMES = ((bool, "bool"), (str, "string"), (int, "int"), (float, "float"))


def format_atom(value: Any) -> str:
    """Strings in double quotes, everything else as Python prints it."""
    return f'"{value}"' if isinstance(value, str) else _text(value)


def _text(value: Any) -> str:
    try:
        return str(value)
    except ValueError:  # an int too long to print
        return f"<an int of {value.bit_length()} bits>"


def _small(value: Any) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        return str(round(value, 3))
    return _text(value)


def type_tag(values: list[Any]) -> str:
    """``ints``, ``floats``, ``strings``, ``bools`` or ``mixed`` (ints with floats: floats)."""
    for kind, name in _TYPE_NAMES:
        if kind is int and any(isinstance(v, bool) for v in values):
            continue
        if all(isinstance(v, kind) for v in values):
            return name + "s"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return "floats" if numbers else "mixed values"


def format_sequence(values: list[Any]) -> str:
    """An s-op's values on one input, with their type."""
    shown = [_small(v) for v in values]
    if len(values) > 1 and all(_same(v, values[0]) for v in values):
        body = f"[{shown[0]}]*{len(values)}"
    else:
        body = "[" + ", ".join(shown) + "]"
    return f"{body} ({type_tag(values)})"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def selector_lines(example: list[Any], matrix: list[list[bool]], indent: str = "") -> list[str]:
    """The selector as a grid: a row per query, ``1`` where it attends to a key."""
    keys = [_small(v) for v in example]
    width = max(len(k) for k in keys)
    top = " ".join(k.rjust(width) for k in keys)
    lines = [f"{indent}{' ' * (width + 12)}{top}".rstrip()]
    for query, row in zip(keys, matrix, strict=True):
        cells = " ".join(("1" if hit else " ").rjust(width) for hit in row)
        lines.append(f"{indent}         {query.rjust(width)} | {cells}".rstrip())
    return lines


def verbose_lines(example: list[Any], values: list[Any], indent: str = "") -> list[str]:
    """Input and output one above the other, aligned by position."""
    ins, outs = [_small(v) for v in example], [_small(v) for v in values]
    width = max(len(s) for s in ins + outs)
    row_in = " ".join(s.rjust(width) for s in ins)
    row_out = " ".join(s.rjust(width) for s in outs)
    return [
        f"{indent}        input:  {row_in}   ({type_tag(example)})",
        f"{indent}        output: {row_out}   ({type_tag(values)})",
    ]


def header(name: str, value: Any) -> str:
    """The first line shown for a name bound to ``value``."""
    if isinstance(value, SOp):
        return f"s-op: {name}"
    if isinstance(value, Selector):
        return f"selector: {name}"
    if isinstance(value, RaspFunction):
        return f"function: {name}({', '.join(value.params)})"
    if isinstance(value, Builtin):
        return f"built-in function: {name}"
    if isinstance(value, list):
        return f"list: {name} = {_collection(value)}"
    if isinstance(value, dict):
        return f"dict: {name} = {_collection(value)}"
    return f"value: {name} = {format_atom(value)}"


def _collection(value: Any) -> str:
    return brief(value, 2000, format_atom)
