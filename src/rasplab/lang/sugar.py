"""raspy-style selector sugar: ``key(x) < query(y)`` builds ``select(x, y, "<")``.

>>> from rasplab import tokens, indices, evaluate
>>> before = key(indices) < query(indices)
>>> evaluate(before.value(tokens, default="-"), [3, 1, 2])
['-', 3, 2.0]
>>> evaluate((key(tokens) == query("a")).width(), "abca")
[2, 2, 2, 2]
"""

from __future__ import annotations

from typing import Any

from ..errors import RaspTypeError
from .nodes import Comparison, Select, _as_sop

__all__ = ["key", "query"]

# query OP key  ==  key MIRROR(OP) query
_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _Side:
    def __init__(self, sop: Any) -> None:
        self.sop = _as_sop(sop, type(self).__name__.lower())

    def __bool__(self) -> bool:
        raise RaspTypeError("key(...)/query(...) only make sense inside a comparison")

    __hash__ = object.__hash__


def _comparisons(cls: type) -> type:
    """Give a side class ``== != < <= > >=``, each building a Select through ``_select``."""
    for op, dunder in _DUNDERS.items():
        setattr(cls, dunder, lambda self, other, op=op: self._select(other, op))
    return cls


_DUNDERS = {
    "==": "__eq__",
    "!=": "__ne__",
    "<": "__lt__",
    "<=": "__le__",
    ">": "__gt__",
    ">=": "__ge__",
}


@_comparisons
class Key(_Side):
    """The key side of a selector comparison."""

    def _select(self, other: Any, op: str) -> Select:
        if not isinstance(other, Query):
            raise RaspTypeError(f"key(...) {op} needs query(...) on the other side, got {other!r}")
        return Select(self.sop, other.sop, Comparison.parse(op))


@_comparisons
class Query(_Side):
    """The query side of a selector comparison."""

    def _select(self, other: Any, op: str) -> Select:
        if not isinstance(other, Key):
            raise RaspTypeError(f"query(...) {op} needs key(...) on the other side, got {other!r}")
        return Select(other.sop, self.sop, Comparison.parse(_MIRROR[op]))


def key(sop: Any) -> Key:
    """Mark ``sop`` (or an atom) as the key side of a comparison."""
    return Key(sop)


def query(sop: Any) -> Query:
    """Mark ``sop`` (or an atom) as the query side of a comparison."""
    return Query(sop)
