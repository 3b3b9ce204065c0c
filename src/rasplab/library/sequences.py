"""Programs that move tokens around: length, reverse."""

from __future__ import annotations

from ..lang.dsl import aggregate, indices, length, select, tokens
from ..lang.nodes import SOp

__all__ = ["make_length", "reverse"]


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
