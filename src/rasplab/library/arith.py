"""Multi-digit addition, raspy's final challenge, with mean aggregation."""

from __future__ import annotations

from ..lang.dsl import aggregate, indices, length, select, tokens
from ..lang.nodes import Map, SOp
from .helpers import indicator, next_where, where

__all__ = ["add"]

_DIGITS = frozenset("0123456789")


def _digit(token: object) -> int:
    return int(token) if token in _DIGITS else 0


def add(sop: SOp = tokens) -> SOp:
    """The digits of ``A + B`` for an input ``"A+B"``, right-aligned, zero-padded (4 layers).

    The input is the decimal digits of ``A``, one ``+``, the digits of
    ``B``; either number may have any number of digits, or none (read as 0),
    and leading zeros are allowed (with no ``+`` at all the input is read
    as ``B`` alone). The output has the input's length ``n``:
    the decimal digits of ``A + B`` as one-character strings, with ``"0"``
    on the left up to ``n`` (the sum always fits: it has at most
    ``max(len(A), len(B)) + 1 <= n`` digits).

    The steps, as in raspy: split at ``+`` and right-align both numbers,
    add digitwise (sums 0..18), then bring in each column's carry. The
    carry into column ``i`` is set iff the nearest column to its right
    whose sum is not 9 has a sum of 10 or more (a run of 9s passes the carry
    on), which :func:`~rasplab.library.helpers.next_where` finds with a
    prefix count and one more head.

    4 layers, [2, 1, 1, 1]: the position of ``+`` and ``length``; the
    right-aligned digits of ``A`` (``B`` is already at the right end);
    the count of non-9 columns up to each column; the carry lookup.

    >>> "".join(add()("683+345"))
    '0001028'
    >>> add()("99+1")
    ['0', '1', '0', '0']
    """
    digit = Map(_digit, sop, desc="digit({0})").named("digit")
    plus_at = aggregate(select(sop, "+", "==").named("the_plus"), indices, -1).named("plus_at")
    b = where(indices > plus_at, digit, 0).named("b_digits")
    source = (indices - length + plus_at).named("a_source")  # A moves right by n - plus_at
    a = aggregate(select(indices, source, "==").named("align_a"), digit, 0).named("a_digits")
    column = (a + b).named("column_sum")
    carry = next_where(column != 9, indicator(column > 9), 0).named("carry_in")
    total = ((column + carry) % 10).named("sum_digit")
    return Map(str, total, desc="str({0})").named("add")
