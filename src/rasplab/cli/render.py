"""Plain-text tables and JSON output for the command line.

>>> print(table(["name", "n"], [["sort", 2], ["hist", 10]], align="lr"))
name   n
----  --
sort   2
hist  10
>>> plural(1, "layer"), plural(3, "layer")
('1 layer', '3 layers')
>>> sequence(["a", "b"]), sequence([1, 2]), cell(True), cell(1 / 3)
('ab', '[1, 2]', 'True', '0.3333')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["cell", "sequence", "table", "plural", "jsonable", "dumps"]


def cell(value: Any) -> str:
    """One value as a short table cell (blank or whitespace strings are quoted)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "-"
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value if value and value.strip() == value else repr(value)
    return str(value)


def sequence(values: Sequence[Any]) -> str:
    """A sequence compactly: joined if every item is one visible character, else a list."""
    values = list(values)
    if values and all(isinstance(v, str) and len(v) == 1 and not v.isspace() for v in values):
        return "".join(values)
    return "[" + ", ".join(cell(v) if not isinstance(v, str) else repr(v) for v in values) + "]"


def plural(n: int, word: str) -> str:
    """``n word`` with an ``s`` unless ``n`` is 1."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _lines(value: Any) -> list[str]:
    """A cell's text lines (``None`` is blank)."""
    return str(value).split("\n") if value is not None else [""]


def table(header: Sequence[Any], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """Columns padded to a common width, a rule under the header.

    ``align`` holds one letter per column (``l`` or ``r``; missing letters mean
    ``l``). A cell may span several lines (text with newlines).
    """
    body = [[_lines(c) for c in row] for row in rows]
    head = [_lines(c) for c in header]
    width = [max(len(line) for line in c) for c in head]
    for row in body:
        for i, c in enumerate(row):
            width[i] = max(width[i], max(len(line) for line in c))
    rule = [["-" * w] for w in width]
    out = []
    for row in [head, rule, *body]:
        for k in range(max(len(c) for c in row)):
            parts = []
            for i, c in enumerate(row):
                text = c[k] if k < len(c) else ""
                right = i < len(align) and align[i] == "r"
                parts.append(text.rjust(width[i]) if right else text.ljust(width[i]))
            out.append("  ".join(parts).rstrip())
    return "\n".join(out)


def jsonable(value: Any) -> Any:
    """Numpy scalars and arrays, tuples and sets as plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """``json.dumps`` that also accepts numpy values."""
    return json.dumps(obj, default=jsonable, indent=indent)
