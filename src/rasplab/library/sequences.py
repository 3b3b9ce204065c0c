"""Programs that move tokens around: length, reverse, shift, index."""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, length, select, tokens
from ..lang.nodes import SOp
from .helpers import shift_by

__all__ = ["make_length", "reverse", "shift", "index"]


def make_length() -> SOp:
    """The input length at every position (1 layer, 1 select-all head).

    >>> make_length()("abcd")
    [4, 4, 4, 4]
    """
    return length.named("length")


def reverse(sop: SOp = tokens) -> SOp:
    """The input backwards (2 layers, [1, 1]: length, then the flip).

    >>> reverse()("abc")
    ['c', 'b', 'a']
    """
    opp = (length - indices - 1).named("opp_index")
    flip = select(indices, opp, "==").named("flip")
    return aggregate(flip, sop).named("reverse")


def shift(sop: SOp = tokens, offset: int = 1, default: Any = "_") -> SOp:
    """``out[i] = sop[i - offset]``, ``default`` where that is out of range (1 layer, 1 head).

    A positive ``offset`` moves tokens right, a negative one left.

    >>> shift()("abcd")
    ['_', 'a', 'b', 'c']
    >>> shift(offset=-2)("abcd")
    ['c', 'd', '_', '_']
    """
    return shift_by(sop, offset, default).named("shift")


def index(i: int = 0, sop: SOp = tokens, default: Any = "_") -> SOp:
    """The token at position ``i``, at every position; ``default`` if out of range.

    For ``i >= 0`` every query selects key ``i`` (1 layer, 1 head). A
    negative ``i`` counts from the end, as in Python, and needs ``length``
    first (2 layers, [1, 1]).

    >>> index(1)("hello")
    ['e', 'e', 'e', 'e', 'e']
    >>> index(-1)("abc"), index(5)("abc")
    (['c', 'c', 'c'], ['_', '_', '_'])
    """
    position = (length + i).named(f"pos_{i}") if i < 0 else i
    at_i = select(indices, position, "==").named(f"at_{i}")
    return aggregate(at_i, sop, default).named("index")
