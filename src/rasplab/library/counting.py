"""Counting programs: histograms, token counts and running fractions."""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, numerical, select, selector_width, tokens
from ..lang.nodes import SOp
from .helpers import indicator

__all__ = ["hist", "double_hist", "count", "frac_prevs", "pair_balance"]


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


def count(sop: SOp = tokens, token: Any = "a") -> SOp:
    """How many times ``token`` occurs in the whole input, at every position (1 layer, 1 head).

    Every query selects the keys holding ``token``; the selector width is
    the count, so no division and no ``length`` are needed.

    >>> count()("banana")
    [3, 3, 3, 3, 3, 3]
    """
    holds_token = select(sop, token, "==").named(f"is_{token}")
    return selector_width(holds_token).named("count")


def frac_prevs(sop: SOp = tokens, token: Any = "x") -> SOp:
    """Fraction of positions ``0..i`` whose token is ``token`` (numerical; 1 layer, 1 head).

    tracr's ``make_frac_prevs``: the mean of a 0/1 flag over the prefix.
    Position 0 averages one value, so it holds the int flag itself.

    >>> frac_prevs()("xaxb")
    [1, 0.5, 0.6666666666666666, 0.5]
    """
    flag = numerical(indicator(sop == token).named(f"is_{token}"))
    prefix = select(indices, indices, "<=").named("prefix")
    return numerical(aggregate(prefix, flag, 0).named("frac_prevs"))


def pair_balance(sop: SOp = tokens, open: Any = "(", close: Any = ")") -> SOp:
    """(openers - closers) / (i + 1) over the prefix ``0..i`` (numerical; 1 layer, 1 head).

    tracr's ``make_pair_balance``: two running fractions through one
    shared prefix head, subtracted in the MLP.

    >>> pair_balance()("(()")
    [1, 1.0, 0.3333333333333333]
    """
    opens = frac_prevs(sop, open)
    closes = frac_prevs(sop, close)
    return numerical((opens - closes).named("pair_balance"))
