"""The paper's primitives as plain functions: the public Python DSL.

>>> from rasplab import tokens, indices, length, select, aggregate, evaluate
>>> flip = select(indices, length - indices - 1, "==")
>>> evaluate(aggregate(flip, tokens), "abc")
['c', 'b', 'a']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .nodes import (
    Aggregate,
    Comparison,
    Encoding,
    Indices,
    Length,
    Map,
    Select,
    Selector,
    SelectorWidth,
    SOp,
    Tokens,
    ZipMap,
    _as_sop,
    _require_sop,
)

__all__ = [
    "tokens",
    "indices",
    "length",
    "select",
    "aggregate",
    "selector_width",
    "map",
    "zipmap",
    "numerical",
    "categorical",
    "full",
]

tokens = Tokens()
indices = Indices()
length = Length()


def select(keys: Any, queries: Any, predicate: Comparison | str) -> Select:
    """``sel[q][k] = predicate(keys[k], queries[q])``; either side may be an atom.

    >>> from rasplab import evaluate
    >>> evaluate(select(indices, indices, "<"), "abc")
    [[False, False, False], [True, False, False], [True, True, False]]
    """
    return Select(keys, queries, predicate)


def aggregate(selector: Selector, sop: Any, default: Any = 0, *, mode: str = "mean") -> Aggregate:
    """Average (or sum/max/min) the selected values per query; ``default`` where none.

    >>> from rasplab import evaluate
    >>> evaluate(aggregate(select(indices, indices, "<="), indices), [5, 6, 7])
    [0, 0.5, 1.0]
    """
    return Aggregate(selector, sop, default=default, mode=mode)


def selector_width(selector: Selector) -> SelectorWidth:
    """How many keys each query selects.

    >>> from rasplab import evaluate
    >>> evaluate(selector_width(select(tokens, tokens, "==")), "abca")
    [2, 1, 1, 2]
    """
    return SelectorWidth(selector)


def map(f: Callable[[Any], Any], sop: SOp, *, name: str | None = None) -> Map:  # noqa: A001
    """Apply ``f`` to the value at every position.

    >>> from rasplab import evaluate
    >>> evaluate(map(str.upper, tokens), "ab")
    ['A', 'B']
    """
    return Map(f, _require_sop(sop, "map"), name=name)


def zipmap(f: Callable[..., Any], *sops: Any, name: str | None = None) -> ZipMap:
    """Apply ``f`` to the values of several s-ops (any arity) at every position.

    >>> from rasplab import evaluate
    >>> evaluate(zipmap(lambda t, i: t * i, tokens, indices), "abc")
    ['', 'b', 'cc']
    """
    return ZipMap(f, *sops, name=name)


def full(value: Any) -> SOp:
    """The atom ``value`` at every position."""
    return _as_sop(value, "full")


def numerical(sop: SOp) -> SOp:
    """Mark ``sop`` as numerically encoded (one scalar direction when compiled)."""
    return _require_sop(sop, "numerical").annotated(encoding=Encoding.NUMERICAL)


def categorical(sop: SOp) -> SOp:
    """Mark ``sop`` as categorically encoded (one-hot per value when compiled)."""
    return _require_sop(sop, "categorical").annotated(encoding=Encoding.CATEGORICAL)
