"""Small building blocks shared by the library's programs."""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, select, zipmap
from ..lang.nodes import Map, SOp, Selector

__all__ = ["indicator", "where", "selector_width_nobos", "shift_by"]


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
