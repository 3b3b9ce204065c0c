"""RASP-L's library (np_rasp's ``lib``): the same names, arguments and results.

Each function returns what np_rasp's returns on every input; some are built
with fewer attention heads where that changes no value (``first_true`` is one
``firsts``; ``where`` and ``mask`` are one map each).

>>> from rasplab.compat.raspl import tokens, shift_right, firsts, full, cumsum, where
>>> shift_right(tokens, 2, default=-1)([5, 6, 7, 8])
array([-1, -1,  5,  6])
>>> firsts(tokens, full(tokens, 3))([1, 3, 2, 3])
array([-1,  1,  1,  1])
>>> cumsum(tokens > 1)([2, 0, 5, 1])
array([1, 1, 2, 2])
>>> where(tokens > 1, tokens, full(tokens, 0))([2, 0, 5, 1])
array([2, 0, 5, 0])
"""

from __future__ import annotations

from typing import Any

from ...lang.nodes import Comparison, ZipMap
from .core import INT, aggr, equals, full, gt, indices, kqv, sel_width, select, seq_map, tok_map
from .values import Seq, as_int, numpy_scalar, require_seq

__all__ = [
    "shift_right",
    "cumsum",
    "where",
    "mask",
    "maximum",
    "minimum",
    "argmax",
    "argmin",
    "num_prev",
    "has_seen",
    "firsts",
    "lasts",
    "index_select",
    "first_true",
    "mode",
    "binary_mode",
    "induct_kqv",
    "induct",
    "induct_prev",
]


def shift_right(x: Any, n: Any, default: Any = 0) -> Seq:
    """``out[i] = x[i - n]`` (``default`` before the start)."""
    (x,) = _check("shift_right", x=x)
    return kqv(indices(x), indices(x) - n, x, equals, default=default)


def cumsum(bool_array: Any) -> Seq:
    """How many truthy values at or before each position."""
    (flags,) = _check("cumsum", bool_array=bool_array)
    truthy = tok_map(flags, bool)
    return sel_width(select(truthy, full(flags, 1), equals))


def _check(function: str, **arguments: Any) -> list[Seq]:
    """Every argument a RASP-L sequence, or an error naming ``function`` and the argument."""
    return [require_seq(value, function, name) for name, value in arguments.items()]


def where(condition: Any, x_if: Any, y_else: Any) -> Seq:
    """``x_if`` where ``condition`` holds, else ``y_else`` (as ints)."""
    seqs = _check("where", condition=condition, x_if=x_if, y_else=y_else)
    dtypes = [s.dtype for s in seqs]

    def choose(c: Any, a: Any, b: Any) -> int:
        cond, yes, no = (numpy_scalar(v, d) for v, d in zip((c, a, b), dtypes, strict=True))
        return as_int(yes if cond else no, "where")

    return Seq(ZipMap(choose, *(s.sop for s in seqs), desc="where({0}, {1}, {2})"), INT)


def mask(x: Any, bool_mask: Any, mask_val: Any = 0) -> Seq:
    """``x`` where ``bool_mask`` holds, else ``mask_val`` (as ints)."""
    x, flags = _check("mask", x=x, bool_mask=bool_mask)
    fill = as_int(mask_val, "mask(x, bool_mask, mask_val)")

    def keep_or_fill(value: Any, flag: Any) -> Any:
        return value if flag else fill

    keep_or_fill.__name__ = f"keep_or_{fill}"
    return seq_map(x, flags, keep_or_fill)


def maximum(x: Any) -> Seq:
    """The largest value so far."""
    (x,) = _check("maximum", x=x)
    return aggr(select(x, x, Comparison.TRUE), x, reduction="max")


def minimum(x: Any) -> Seq:
    """The smallest value so far."""
    (x,) = _check("minimum", x=x)
    return aggr(select(x, x, Comparison.TRUE), x, reduction="min")


def argmax(x: Any) -> Seq:
    """np_rasp's ``argmax`` calls ``kqv`` without a predicate, so it always fails; so does this."""
    _check("argmax", x=x)
    top = maximum(x)
    return kqv(top, x, indices(x), reduction="max")


def argmin(x: Any) -> Seq:
    """``argmax(-x)`` (fails as np_rasp's does)."""
    (x,) = _check("argmin", x=x)
    return argmax(-x)


def num_prev(x: Any, queries: Any) -> Seq:
    """How many values of ``x`` so far equal the query."""
    _check("num_prev", x=x, queries=queries)
    return sel_width(select(x, queries, equals))


def has_seen(x: Any, queries: Any) -> Seq:
    """1 where the query occurs in ``x`` at or before the position, else 0."""
    x, _ = _check("has_seen", x=x, queries=queries)
    return aggr(select(x, queries, equals), full(x, 1), default=0, reduction="max")


def firsts(x: Any, queries: Any, default: Any = -1) -> Seq:
    """The first index (so far) where ``x`` equals the query, else ``default``."""
    x, _ = _check("firsts", x=x, queries=queries)
    return aggr(select(x, queries, equals), indices(x), default=default, reduction="min")


def lasts(x: Any, queries: Any, default: Any = -1) -> Seq:
    """The last index (so far) where ``x`` equals the query, else ``default``."""
    x, _ = _check("lasts", x=x, queries=queries)
    return aggr(select(x, queries, equals), indices(x), default=default, reduction="max")


def index_select(x: Any, idx: Any, default: Any = 0) -> Seq:
    """``x[idx[i]]`` where ``0 <= idx[i] <= i``, else ``default``."""
    x, _ = _check("index_select", x=x, idx=idx)
    return kqv(indices(x), idx, x, equals, default=default)


def first_true(x: Any, default: Any = -1) -> Seq:
    """The first index (so far) where ``x == 1``, else ``default``."""
    (x,) = _check("first_true", x=x)
    return firsts(x, full(x, 1), default=default)


def mode(x: Any) -> Seq:
    """The most frequent value so far (fails as np_rasp's does: it calls ``argmax``)."""
    (x,) = _check("mode", x=x)
    counts = num_prev(x, x)
    return index_select(x, argmax(counts))


def binary_mode(x: Any) -> Seq:
    """1 where, so far, ones outnumber zeros, else 0."""
    (x,) = _check("binary_mode", x=x)
    zeros = num_prev(x, full(x, 0))
    ones = num_prev(x, full(x, 1))
    return seq_map(ones, zeros, gt)


def induct_kqv(k: Any, q: Any, v: Any, offset: Any, default: Any = 0, null_val: Any = -999) -> Seq:
    """``v`` at (first index where ``k`` equals the query) + ``offset``; ``default`` if none.

    The last ``offset`` positions of ``k`` cannot match; ``null_val`` must not occur in
    ``k`` or ``q``.
    """
    k, _, _ = _check("induct_kqv", k=k, q=q, v=v)
    target = firsts(shift_right(k, offset, default=null_val), q, default=null_val)
    return index_select(v, target, default=default)


def induct(k: Any, q: Any, offset: Any, default: Any = 0, null_val: Any = -999) -> Seq:
    """``induct_kqv`` copying from ``k`` itself."""
    _check("induct", k=k, q=q)
    return induct_kqv(k, q, k, offset=offset, default=default, null_val=null_val)


def induct_prev(k: Any, q: Any, offset: Any, default: Any = 0, null_val: Any = -999) -> Seq:
    """``k`` at (first index where ``k`` equals the query) + ``offset``, for offsets <= 0."""
    k, _ = _check("induct_prev", k=k, q=q)
    target = firsts(k, q, default=null_val) + offset
    return index_select(k, target, default=default)
