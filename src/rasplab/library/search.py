"""Programs that find one value and broadcast it: minimum, first occurrence."""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, select, selector_width, tokens
from ..lang.nodes import SOp

__all__ = ["minimum", "first"]


def minimum(sop: SOp = tokens) -> SOp:
    """The smallest token, at every position (2 layers, [1, 1]).

    Layer 1 gives each position its rank in a stable sort (how many tokens
    are smaller, or equal and earlier); exactly one position has rank 0,
    the first copy of the minimum, and layer 2 reads it from every query.
    Selecting exactly one key keeps the aggregate categorical, so strings
    and ints come back unchanged.

    >>> minimum()("hello")
    ['e', 'e', 'e', 'e', 'e']
    >>> minimum()([5, 3, 2, 5, 2])
    [2, 2, 2, 2, 2]
    """
    before = select(sop, sop, "<") | (select(sop, sop, "==") & select(indices, indices, "<"))
    rank = selector_width(before.named("ranks_before")).named("rank")
    at_min = select(rank, 0, "==").named("first_minimum")
    return aggregate(at_min, sop).named("minimum")


def first(sop: SOp = tokens, token: Any = "a", default: Any = -1) -> SOp:
    """Index of the first occurrence of ``token``, at every position; ``default`` if absent.

    2 layers, [1, 1]: layer 1 counts the copies of ``token`` strictly
    before each position, so the first copy is the one copy with none
    before it; layer 2 reads that copy's index from every query.

    >>> first(token="l")("hello")
    [2, 2, 2, 2, 2]
    >>> first(token="z")("abc")
    [-1, -1, -1]
    """
    is_token = (sop == token).named(f"is_{token}")
    copies_before = select(is_token, True, "==") & select(indices, indices, "<")
    n_before = selector_width(copies_before.named("copies_before")).named("n_before")
    is_first = (is_token & (n_before == 0)).named("is_first")
    return aggregate(select(is_first, True, "==").named("the_first"), indices, default).named(
        "first"
    )
