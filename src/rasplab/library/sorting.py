"""Sorting programs."""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, select, selector_width, tokens
from ..lang.nodes import SOp
from .helpers import where

__all__ = ["sort", "sort_unique", "most_freq"]


def sort_unique(vals: SOp = tokens, keys: SOp | None = None) -> SOp:
    """``vals`` ordered by ``keys``, which must all differ (2 layers, [1, 1]).

    >>> sort_unique()("cab")
    ['a', 'b', 'c']
    """
    keys = vals if keys is None else keys
    smaller = select(keys, keys, "<").named("smaller")
    target = selector_width(smaller).named("target_pos")
    return aggregate(select(target, indices, "==").named("sel_new"), vals).named("sort_unique")


def sort(vals: SOp = tokens, keys: SOp | None = None) -> SOp:
    """``vals`` stably ordered by ``keys`` (ties keep input order) (2 layers, [1, 1]).

    >>> sort()("banana")
    ['a', 'a', 'a', 'b', 'n', 'n']

    Infinities sort as numbers; NaN is not a token (``InputError`` names its position):

    >>> sort()([float("inf"), 1.0, float("-inf"), 1])
    [-inf, 1.0, 1, inf]
    """
    keys = vals if keys is None else keys
    earlier = select(keys, keys, "<") | (select(keys, keys, "==") & select(indices, indices, "<"))
    target = selector_width(earlier.named("earlier_in_sorted")).named("target_pos")
    return aggregate(select(target, indices, "==").named("sel_new"), vals).named("sort")


def most_freq(sop: SOp = tokens, filler: Any = "-") -> SOp:
    """Distinct tokens, most frequent first (ties: first seen first), then ``filler``.

    The paper's sort-by-most-frequent: 3 layers, [2, 1, 1].

    >>> most_freq()("abbccc")
    ['c', 'b', 'a', '-', '-', '-']
    """
    counts = selector_width(select(sop, sop, "==")).named("hist")
    earlier_copy = select(sop, sop, "==") & select(indices, indices, "<")
    has_earlier = (selector_width(earlier_copy) > 0).named("has_earlier")
    # Firsts sort by descending count (key -count < 0); repeats go last (key 0).
    key = where(has_earlier, 0, -counts).named("freq_key")
    shown = where(has_earlier, filler, sop).named("first_instances")
    return sort(shown, key).named("most_freq")
