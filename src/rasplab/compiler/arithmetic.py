"""``+ - *`` of the language's own operators over columns of coded values, in numpy.

Value sets and bounds evaluate maps over many rows at once: each row holds, per
argument, a code into that argument's table of distinct values. A user's
function must run once per distinct argument tuple (it may branch, raise or
return anything), but the language's own ``+``, ``-`` and ``*`` are plain
arithmetic, so on numbers they can run on whole columns. That matters for
``length - indices`` at long lengths: every (position, length) pair is a
distinct tuple, 525,000 of them at 1,024.

Only tables of one number type each qualify, with magnitudes far inside the
range where int64 and float64 arithmetic equal Python's (so the array result is
the per-value result, with the type Python would give).

>>> import numpy as np
>>> from rasplab import indices, length
>>> f = (length - indices).f
>>> codes, table = by_arithmetic(f, [(np.array([0, 1, 1]), [3, 4]), (np.array([0, 0, 1]), [0, 2])])
>>> [table[c] for c in codes.tolist()]
[3, 4, 2]
>>> by_arithmetic(f, [(np.array([0]), [True]), (np.array([0]), [1])]) is None  # a bool
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..lang.operators import _BINARY
from .combine import unique_inverse

__all__ = ["ARITHMETIC", "arithmetic_op", "by_arithmetic", "width_sum_limit"]

# The functions the language builds for ``+ - *`` of two s-ops: pure arithmetic, no
# branches, so an array result is the per-value result.
ARITHMETIC = frozenset(_BINARY[op] for op in ("+", "-", "*"))


def arithmetic_op(f: Callable[..., Any]) -> Callable[..., Any] | None:
    """The language's ``+ - *`` that ``f`` is (one of :data:`ARITHMETIC`), or that it
    computes on every int and float: a wrapper naming it in ``numbers_as``, which gives
    ``None`` where an argument is ``None`` (tracr's maps, :mod:`rasplab.compat.tracr`)
    and so is called per value where a table holds anything but numbers. None otherwise.

    >>> from rasplab import indices, length
    >>> arithmetic_op((length - indices).f) is (length - indices).f
    True
    >>> arithmetic_op(lambda x, y: x - y) is None  # a user's function: called per value
    True
    """
    if f in ARITHMETIC:
        return f
    named = getattr(f, "numbers_as", None)
    return named if named in ARITHMETIC else None


_LARGEST = 2**26  # |value| bound: products stay exact in int64 and in float64's 53 bits

Coded = tuple[np.ndarray, list[Any]]  # a code per row (-1: no value), the distinct values


def width_sum_limit(f: Callable[..., Any]) -> int | None:
    """The length a sum of disjoint widths cannot pass (:class:`.split_widths.WidthSum`:
    ``a + b``, raising above it), or None for any other function."""
    return getattr(f, "limit", None) if getattr(f, "stands_for_width", False) else None


def by_arithmetic(f: Callable[..., Any], args: list[Coded]) -> Coded | None:
    """``f`` of two coded columns, row by row, as codes into its distinct results; None
    where ``f`` is not the language's ``+ - *`` (or a sum of two widths) or a table is
    not plain ints or plain floats of moderate size (the caller then calls ``f`` per
    distinct tuple). Rows where an argument's code is -1, or where ``f`` raises, get -1."""
    limit = width_sum_limit(f)
    if (arithmetic_op(f) is None and limit is None) or len(args) != 2:
        return None
    arrays = [_numbers(table) for _, table in args]
    if arrays[0] is None or arrays[1] is None:
        return None
    (a_codes, _), (b_codes, _) = args
    missing = (a_codes < 0) | (b_codes < 0)
    a = arrays[0][np.where(missing, 0, a_codes)]
    b = arrays[1][np.where(missing, 0, b_codes)]
    if limit is not None:
        if a.dtype.kind != "i" or b.dtype.kind != "i":
            return None  # widths are ints
        result = a + b  # the sum of two counts
        missing = missing | (result > limit)  # where WidthSum raises
    else:
        result = f(a, b)  # [rows]: int64 where both are ints, as Python gives an int
    distinct, inverse = unique_inverse(result[~missing])
    codes = np.full(len(result), -1, dtype=np.int64)
    codes[~missing] = inverse.reshape(-1)
    return codes, distinct.tolist()


def _numbers(table: list[Any]) -> np.ndarray | None:
    kinds = {type(v) for v in table}
    if kinds not in ({int}, {float}):
        return None  # bools, strings or a mix: Python's result types differ by row
    array = np.asarray(table, dtype=np.int64 if kinds == {int} else np.float64)
    if array.size == 0 or not np.all(np.isfinite(array)):
        return None
    return array if float(np.abs(array).max()) <= _LARGEST else None
