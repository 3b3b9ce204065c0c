"""Small building blocks shared by the library's programs."""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, select, selector_width, zipmap
from ..lang.nodes import Map, Selector, SOp

__all__ = [
    "indicator",
    "where",
    "selector_width_nobos",
    "shift_by",
    "prefix_count",
    "next_where",
]


def indicator(sop: SOp) -> SOp:
    """1 where ``sop`` is truthy, else 0 (the paper's ``indicator``)."""
    return Map(lambda x: 1 if x else 0, sop, desc="indicator({0})")


def where(cond: SOp, if_true: Any, if_false: Any) -> SOp:
    """``if_true`` where ``cond`` holds, else ``if_false`` (s-ops or atoms)."""
    return zipmap(lambda c, a, b: a if c else b, cond, if_true, if_false)


def selector_width_nobos(sel: Selector) -> SOp:
    """Selector width built from two mean-aggregates, with no BOS token to lean on.

    This is the paper's construction (the reference interpreter's library
    ``selector_width``): one head averages ``indices == 0`` over ``sel | at0``
    to get ``1 / (w' + 1)``; a second head checks whether ``sel`` picks
    position 0 itself. It costs two heads where ``selector_width`` (which a
    compiled model computes with a BOS token) costs one.
    """
    at0 = select(indices, 0, "==")
    inverted = aggregate(sel | at0, indicator(indices == 0))
    at_zero = aggregate(sel & at0, 1, 0)
    return zipmap(lambda inv, z: round(1 / inv - 1 + z), inverted, at_zero)


def shift_by(sop: SOp, offset: int, default: Any = 0) -> SOp:
    """``out[i] = sop[i - offset]``, ``default`` where that is out of range."""
    return aggregate(select(indices, indices - offset, "=="), sop, default)


def prefix_count(flag: SOp) -> SOp:
    """How many positions ``j <= i`` have ``flag[j]`` true (1 layer, 1 head).

    ``flag`` must hold booleans.

    >>> from rasplab import tokens
    >>> prefix_count(tokens == "a")("abaa")
    [1, 1, 2, 3]
    """
    upto = select(flag, True, "==") & select(indices, indices, "<=")
    return selector_width(upto)


def next_where(flag: SOp, values: SOp, default: Any = 0) -> SOp:
    """``values[j]`` for the nearest ``j > i`` with ``flag[j]``; ``default`` if none (2 layers).

    Layer 1 counts the flagged positions up to each position; in layer 2
    every query picks the flagged key whose count is one more than its own,
    which is exactly one key (or none), so the aggregate is categorical.

    >>> from rasplab import tokens
    >>> next_where(tokens != "<", tokens, "?")("a<<b<")
    ['b', 'b', 'b', '?', '?']
    """
    seen = prefix_count(flag)
    nearest_after = select(seen, seen + 1, "==") & select(flag, True, "==")
    return aggregate(nearest_after, values, default)
