"""Vectorised attention kernels: aggregate (mean, sum, max, min) and selector width.

A selector is a boolean ``[batch, query, key]`` array; values are a
``Column`` ``[batch, key]``. Each reduction is a masked numpy operation over
the whole bucket; Python runs only per distinct result value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AggregateError
from ..lang.nodes import Aggregate, AggregationMode, Encoding
from .columns import Column, holds_nan
from .kernels import Bucket

__all__ = ["aggregate_column", "width", "count"]


def count(selector: np.ndarray) -> np.ndarray:
    """Selected keys per query, ``[batch, query]`` int64.

    Summed as bytes (einsum keeps the byte type, which holds counts up to
    255): several times faster than summing booleans.
    """
    n = selector.shape[-1]
    if n <= np.iinfo(np.uint8).max:
        counts = np.einsum("bqk->bq", selector.view(np.uint8))
    elif _bitwise_count is not None:  # long rows: 8 booleans per popcount of a 64-bit word
        selector = np.ascontiguousarray(selector)
        whole = n - n % 8
        words = selector[..., :whole].view(np.uint64)
        counts = _bitwise_count(words).sum(axis=-1, dtype=np.int64)
        counts += selector[..., whole:].sum(axis=-1, dtype=np.int64)
    else:
        counts = selector.view(np.uint8).sum(axis=-1, dtype=np.int64)
    return counts.astype(np.int64)


_bitwise_count = getattr(np, "bitwise_count", None)  # numpy 2 and later


def _count_and_key(selector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``count(selector)``, and the selected key wherever exactly one key is selected.

    One key's position is the sum of the selected positions; for short rows a
    float32 product with ``[1, k]`` gives both sums at once (exact: they stay
    far below 2**24); for longer ones two byte-sized einsums are faster.
    """
    n = selector.shape[-1]
    if n < 64:
        weights = np.stack([np.ones(n), np.arange(n)], axis=1).astype(np.float32)
        both = np.matmul(selector.astype(np.float32), weights)  # [batch, query, 2]
        return both[..., 0].astype(np.int64), both[..., 1].astype(np.int64)
    if n <= np.iinfo(np.uint8).max:  # the position sum, mod 256, is right where it is one key
        key = np.einsum("bqk,k->bq", selector.view(np.uint8), np.arange(n, dtype=np.uint8))
        return count(selector), key.astype(np.int64)
    return count(selector), selector.argmax(axis=-1)


def width(selector: np.ndarray) -> Column:
    return Column.build(count(selector), list(range(selector.shape[-1] + 1)))


def aggregate_column(node: Aggregate, sel: np.ndarray, vals: Column, bucket: Bucket) -> Column:
    if holds_nan(node.default):
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) has the default {node.default!r}; "
            "NaN is not a value"
        )
    table = list(vals.table) + [node.default]
    default_code = len(vals.table)
    if node.mode is AggregationMode.MEAN:
        counts, key = _count_and_key(sel)  # [batch, query]
        return _mean(node, sel, counts, key, vals, table, default_code, bucket)
    if node.mode is AggregationMode.SUM:
        counts, key = _count_and_key(sel)
        return _sum(node, sel, counts, key, vals, table, default_code, bucket)
    return _extreme(node, sel, count(sel), vals, table, default_code, bucket)


def _single_picks(count: np.ndarray, key: np.ndarray, vals: Column, out: np.ndarray) -> None:
    """Where exactly one key is selected, the result is that key's value, type and all."""
    one = count == 1
    if one.any():
        picked = np.take_along_axis(vals.codes, np.where(one, key, 0), axis=1)
        out[one] = picked[one]


def _selected_values(sel: np.ndarray, vals: Column, b: int, q: int) -> list[Any]:
    return [vals.table[c] for c in vals.codes[b][sel[b, q]]]


def _averageable(node: Aggregate, view) -> np.ndarray:
    """Numbers average; bools too when the aggregate is numerical (0/1, as tracr does)."""
    if Encoding.NUMERICAL in (node.encoding, node.sop.encoding):
        return view.is_number | view.is_int
    return view.is_number


def _mean(node, sel, count, key, vals: Column, table, default_code, bucket) -> Column:
    out = np.full(count.shape, default_code, dtype=np.int64)  # [batch, query]
    _single_picks(count, key, vals, out)
    multi = count > 1
    if not multi.any():
        return Column.build(out, table)
    view = vals.numeric()
    averageable = _averageable(node, view)
    if averageable.all():
        symbolic = np.zeros_like(multi)
    else:
        non_number = ~averageable[vals.codes]  # [batch, key]
        symbolic = multi & (sel & non_number[:, None, :]).any(axis=-1)
    if symbolic.any():  # several non-numbers: allowed only if they are all the same value
        masked = np.where(sel, vals.codes[:, None, :], -1)  # [batch, query, key]
        hi = masked.max(axis=-1)
        lo = np.where(sel, vals.codes[:, None, :], len(vals.table)).min(axis=-1)
        bad = symbolic & (hi != lo)
        if bad.any():
            b, q = (int(x) for x in np.argwhere(bad)[0])
            raise AggregateError(
                f"aggregate {node.label} ({node.describe()}) cannot average the "
                f"non-numeric values {_selected_values(sel, vals, b, q)!r} selected at "
                f"{bucket.where(b, q)}; a categorical aggregate must select one value per query"
            )
        out[symbolic] = hi[symbolic]
    numeric_rows = multi & ~symbolic
    if numeric_rows.any():
        numbers = np.where(averageable, view.values, 0.0)[vals.codes]  # [batch, key]
        sums = _masked_sums(sel, numbers)  # [batch, query]
        if sums.dtype.kind in "iu":  # exact integer sums: distinct (sum, count) pairs first
            uniq, inverse = _distinct_ratios(sums[numeric_rows], count[numeric_rows], sel.shape[-1])
        else:
            ratios = sums / np.maximum(count, 1)
            _refuse_nan(node, ratios, numeric_rows, sel, vals, bucket)
            uniq, inverse = np.unique(ratios[numeric_rows], return_inverse=True)
        out[numeric_rows] = len(table) + inverse
        return Column.build_with_floats(out, table, uniq)
    return Column.build(out, table)


def _masked_sums(sel: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """``sums[b, q]`` = sum of ``numbers[b, k]`` over the selected keys.

    Small whole numbers are summed exactly in a narrow integer type (the
    result is then an integer array). Other finite numbers go through a
    float64 matrix product; with inf or NaN present, an explicit masked sum
    is used instead, since ``0 * inf`` would leak unselected values.
    """
    if not np.isfinite(numbers).all():
        with np.errstate(invalid="ignore"):  # inf + -inf: the caller reports the NaN
            return np.where(sel, numbers[:, None, :], 0.0).sum(axis=-1)
    dtype = _exact_int_type(numbers, sel.shape[-1])
    if dtype is not None:  # small whole numbers: an integer sum is exact and much faster
        return np.einsum("bqk,bk->bq", sel.view(np.uint8), numbers.astype(dtype))
    return np.matmul(sel.astype(np.float64), numbers[:, :, None])[..., 0]


def _distinct_ratios(sums: np.ndarray, counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(sums / counts, return_inverse=True)`` for integer sums and counts 1..n.

    Divides once per distinct (sum, count) pair, found with a lookup table
    instead of sorting one float per position.
    """
    low = int(sums.min())
    key = (sums.astype(np.int64) - low) * (n + 1) + counts
    span = (int(sums.max()) - low + 1) * (n + 1)
    if span > max(4 * key.size, 1 << 12):
        return np.unique(sums / counts, return_inverse=True)
    present = np.zeros(span, dtype=bool)
    present[key] = True
    pairs = np.flatnonzero(present)
    lookup = np.zeros(span, dtype=np.int64)
    lookup[pairs] = np.arange(len(pairs))
    ratios = (pairs // (n + 1) + low) / (pairs % (n + 1))  # the same float64 division
    uniq, merged = np.unique(ratios, return_inverse=True)
    return uniq, merged[lookup[key]]


def _exact_int_type(numbers: np.ndarray, n: int) -> type | None:
    """An integer type that holds any sum of ``n`` of these numbers exactly, if they are whole."""
    if numbers.size == 0 or not bool((numbers == np.floor(numbers)).all()):
        return None
    low, high = float(numbers.min()), float(numbers.max())
    bound = n * max(abs(low), abs(high))
    if low >= 0 and bound <= np.iinfo(np.uint8).max:
        return np.uint8
    for dtype in (np.int16, np.int32):
        if bound <= np.iinfo(dtype).max:
            return dtype
    return None


def _refuse_nan(node, results: np.ndarray, rows: np.ndarray, sel, vals: Column, bucket) -> None:
    """NaN is not a value: numbers that make one (``inf + -inf``) are an error, named."""
    bad = rows & np.isnan(results)
    if bad.any():
        b, q = (int(x) for x in np.argwhere(bad)[0])
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) cannot {node.mode.value} the values "
            f"{_selected_values(sel, vals, b, q)!r} selected at {bucket.where(b, q)}: "
            "the result is NaN, which is not a value"
        )


def _require_numbers(node, sel, vals: Column, ok: np.ndarray, bucket) -> None:
    bad = (sel & ~ok[vals.codes][:, None, :]).any(axis=-1)
    if bad.any():
        b, q = (int(x) for x in np.argwhere(bad)[0])
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) can only {node.mode.value} numbers, "
            f"got {_selected_values(sel, vals, b, q)!r} at {bucket.where(b, q)}"
        )


def _sum(node, sel, count, key, vals: Column, table, default_code, bucket) -> Column:
    """raspy's rule: the default if none is selected, the value itself (any type) if one
    is, Python's ``sum`` (bools as 0/1, ints stay ints) if several are."""
    out = np.full(count.shape, default_code, dtype=np.int64)
    _single_picks(count, key, vals, out)
    multi = count > 1
    if not multi.any():
        return Column.build(out, table)
    sel = sel & multi[..., None]  # only rows of several values are summed
    view = vals.numeric()
    _require_numbers(node, sel, vals, view.is_number | view.is_int, bucket)
    has_float = (sel & ~view.is_int[vals.codes][:, None, :]).any(axis=-1)  # [batch, query]
    numbers = np.where(view.is_number | view.is_int, view.values, 0.0)[vals.codes]  # [batch, key]
    sums = _masked_sums(sel, numbers).astype(np.float64)
    _refuse_nan(node, sums, has_float & multi, sel, vals, bucket)
    int_values = np.where(view.is_int, view.values, 0).astype(np.int64)[vals.codes]
    int_sums = np.einsum("bqk,bk->bq", sel.astype(np.int64), int_values)
    extra: list[Any] = []
    for mask, values, cast in ((~has_float, int_sums, int), (has_float, sums, float)):
        rows = mask & multi
        if rows.any():
            uniq, inverse = np.unique(values[rows], return_inverse=True)
            out[rows] = len(table) + len(extra) + inverse
            extra.extend(cast(x) for x in uniq)
    return Column.build(out, table + extra)


def _extreme(node, sel, count, vals: Column, table, default_code, bucket) -> Column:
    """max / min with Python's semantics: ties go to the first selected key.

    The bucket's whole table is ranked once; when it cannot be (values of
    different inputs that do not compare, or NaN, which has no place in an
    order) each query row is done on its own in Python.
    """
    values = vals.table
    if any(isinstance(v, float) and v != v for v in values):
        return _extreme_rows(node, sel, count, vals, table, default_code, bucket)
    try:
        order = sorted(range(len(values)), key=values.__getitem__)
    except TypeError:
        return _extreme_rows(node, sel, count, vals, table, default_code, bucket)
    # dense rank: values that compare equal (1, 1.0, True) share one rank
    dense = np.zeros(len(order), dtype=np.int64)
    for i in range(1, len(order)):
        dense[i] = dense[i - 1] + (values[order[i - 1]] < values[order[i]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = dense
    ranks = np.where(sel, rank[vals.codes][:, None, :], -1)  # [batch, query, key]
    if node.mode is AggregationMode.MAX:
        best = ranks.max(axis=-1)
    else:
        best = np.where(sel, ranks, len(order)).min(axis=-1)
    if dense[-1] == len(order) - 1:  # no ties: the rank names the value
        by_rank = np.asarray(order, dtype=np.int64)
        out = np.where(count > 0, by_rank[np.clip(best, 0, len(order) - 1)], default_code)
        return Column.build(out, table)
    first = (sel & (ranks == best[..., None])).argmax(axis=-1)  # first selected key of that rank
    picked = np.take_along_axis(vals.codes, first, axis=1)
    return Column.build(np.where(count > 0, picked, default_code), table)


def _extreme_rows(node, sel, count, vals: Column, table, default_code, bucket) -> Column:
    """max / min one query row at a time (the fallback when the table has no order)."""
    pick = max if node.mode is AggregationMode.MAX else min
    out = np.full(count.shape, default_code, dtype=np.int64)
    for b, q in np.argwhere(count > 0):
        codes = vals.codes[b][sel[b, q]]
        try:
            best = pick(range(len(codes)), key=lambda i: vals.table[codes[i]])
        except TypeError:
            raise AggregateError(
                f"aggregate {node.label} ({node.describe()}) cannot order the values "
                f"{_selected_values(sel, vals, b, q)!r} selected at {bucket.where(b, q)} "
                f"to take their {node.mode.value}"
            ) from None
        out[b, q] = codes[best]
    return Column.build(out, table)
