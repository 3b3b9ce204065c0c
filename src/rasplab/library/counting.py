"""Counting programs: histograms."""

from __future__ import annotations

from ..lang.dsl import indices, select, selector_width, tokens
from ..lang.nodes import SOp

__all__ = ["hist", "double_hist"]


def hist(sop: SOp = tokens) -> SOp:
    """How many times each position's token occurs in the input (1 layer, 1 head).

    >>> hist()("hello")
    [1, 1, 2, 2, 1]
    """
    same = select(sop, sop, "==").named("same_token")
    return selector_width(same).named("hist")


def double_hist(sop: SOp = tokens) -> SOp:
    """For each position: how many distinct tokens occur as often as its own (2 layers, [2, 1]).

    >>> double_hist()("aabcd")
    [1, 1, 3, 3, 3]
    """
    counts = hist(sop)
    earlier_copy = (select(sop, sop, "==") & select(indices, indices, "<")).named("earlier_copy")
    has_prev = (selector_width(earlier_copy) > 0).named("has_prev_copy")
    first_with_count = (select(counts, counts, "==") & select(has_prev, False, "==")).named(
        "first_with_same_count"
    )
    return selector_width(first_with_count).named("double_hist")
