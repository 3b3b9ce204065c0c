"""One vectorised kernel per IR operation, over a bucket of equal-length inputs.

Shapes: s-op columns are ``[batch, pos]``; selectors are boolean
``[batch, query, key]``. Maps and selects call Python only once per
*distinct* value (or value pair), never once per position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AggregateError, EvaluationError, RaspTypeError
from ..lang.nodes import (
    Aggregate,
    AggregationMode,
    Comparison,
    Encoding,
    Map,
    Select,
    ZipMap,
    is_atom,
)
from .columns import Column

__all__ = ["Bucket", "map_column", "zipmap_column", "select_matrix", "aggregate_column", "width"]

_NUMPY_COMPARE = {
    Comparison.EQ: np.equal,
    Comparison.NEQ: np.not_equal,
    Comparison.LT: np.less,
    Comparison.LEQ: np.less_equal,
    Comparison.GT: np.greater,
    Comparison.GEQ: np.greater_equal,
}


@dataclass(frozen=True)
class Bucket:
    """The raw inputs of one chunk (all of length ``n``), for error messages."""

    inputs: list[list[Any]]
    n: int

    def where(self, b: int, p: int) -> str:
        shown = self.inputs[b]
        text = repr(shown) if len(shown) <= 40 else repr(shown[:40])[:-1] + ", ...]"
        return f"position {p} of input {text}"


def is_value(value: Any) -> bool:
    """Atoms, None, and tuples of values (composite keys, as tracr's n-ary maps make)."""
    if value is None or is_atom(value):
        return True
    return isinstance(value, tuple) and all(is_value(v) for v in value)


def _check_outputs(node: Any, outputs: list[Any], first_pos: Any, bucket: Bucket) -> None:
    for i, value in enumerate(outputs):
        if not is_value(value):
            b, p = first_pos(i)
            raise RaspTypeError(
                f"{node.kind} {node.label} ({node.describe()}) returned {value!r} "
                f"({type(value).__name__}) at {bucket.where(b, p)}; s-op values must be "
                "int, float, str, bool, None or a tuple of those"
            )


def _call_failed(node: Any, args: str, where: str, err: Exception) -> EvaluationError:
    return EvaluationError(
        f"{node.kind} {node.label} ({node.describe()}) failed on {args} at {where}: "
        f"{type(err).__name__}: {err}"
    )


def map_column(node: Map, col: Column, bucket: Bucket) -> Column:
    """Apply ``node.f`` once per distinct value of ``col``."""
    outputs = []
    for i, value in enumerate(col.table):
        try:
            outputs.append(node.f(value))
        except Exception as err:  # user code: report with the position
            raise _call_failed(node, f"value {value!r}", bucket.where(*col.first_position(i)), err)
    _check_outputs(node, outputs, col.first_position, bucket)
    return Column.build(col.codes, outputs)


def zipmap_column(node: ZipMap, cols: list[Column], bucket: Bucket) -> Column:
    """Apply ``node.f`` once per distinct tuple of input values."""
    key = cols[0].codes
    for col in cols[1:]:
        size = len(col.table)
        if (int(key.max()) + 1) * size >= 2**62:  # keep the mixed-radix key in int64
            key = np.unique(key, return_inverse=True)[1].reshape(key.shape)
        key = key * size + col.codes
    _, first, inverse = np.unique(key.ravel(), return_index=True, return_inverse=True)
    arg_lists = [[col.table[c] for c in col.codes.ravel()[first]] for col in cols]
    n = bucket.n
    outputs = []
    for u, args in enumerate(zip(*arg_lists, strict=True)):
        try:
            outputs.append(node.f(*args))
        except Exception as err:  # user code: report with the position
            shown = ", ".join(repr(a) for a in args)
            raise _call_failed(node, f"values ({shown})", bucket.where(*divmod(first[u], n)), err)
    _check_outputs(node, outputs, lambda u: divmod(int(first[u]), n), bucket)
    return Column.build(inverse.reshape(key.shape), outputs)


def _predicate_table(node: Select, keys: Column, queries: Column, bucket: Bucket) -> np.ndarray:
    """``P[query value, key value]`` over the two tables."""
    pred = node.predicate
    kn, qn = keys.numeric(), queries.numeric()
    numeric = pred in _NUMPY_COMPARE and bool(
        np.all(kn.is_int | kn.is_number) and np.all(qn.is_int | qn.is_number)
    )
    if numeric:
        return _NUMPY_COMPARE[pred](kn.values[None, :], qn.values[:, None])
    table = np.zeros((len(queries.table), len(keys.table)), dtype=bool)
    for qi, q in enumerate(queries.table):
        for ki, k in enumerate(keys.table):
            try:
                table[qi, ki] = bool(pred(k, q))
            except Exception as err:
                b, p = queries.first_position(qi)
                raise RaspTypeError(
                    f"select {node.label} ({node.describe()}) cannot compare key {k!r} "
                    f"{node.predicate_name} query {q!r} (query at {bucket.where(b, p)}): {err}"
                ) from None
    return table


def select_matrix(node: Select, keys: Column, queries: Column, bucket: Bucket) -> np.ndarray:
    batch, n = keys.shape
    if node.predicate is Comparison.TRUE:
        return np.ones((batch, n, n), dtype=bool)  # [batch, query, key]
    if node.predicate is Comparison.FALSE:
        return np.zeros((batch, n, n), dtype=bool)
    table = _predicate_table(node, keys, queries, bucket)
    return table[queries.codes[:, :, None], keys.codes[:, None, :]]  # [batch, query, key]


def width(selector: np.ndarray) -> Column:
    counts = selector.sum(axis=-1)  # [batch, query]
    return Column.build(counts, list(range(selector.shape[-1] + 1)))


def aggregate_column(node: Aggregate, sel: np.ndarray, vals: Column, bucket: Bucket) -> Column:
    count = sel.sum(axis=-1)  # [batch, query]
    table = list(vals.table) + [node.default]
    default_code = len(vals.table)
    if node.mode is AggregationMode.MEAN:
        return _mean(node, sel, count, vals, table, default_code, bucket)
    if node.mode is AggregationMode.SUM:
        return _sum(node, sel, count, vals, table, default_code, bucket)
    return _extreme(node, sel, count, vals, table, default_code, bucket)


def _selected_values(sel: np.ndarray, vals: Column, b: int, q: int) -> list[Any]:
    return [vals.table[c] for c in vals.codes[b][sel[b, q]]]


def _averageable(node: Aggregate, view) -> np.ndarray:
    """Numbers average; bools too when the aggregate is numerical (0/1, as tracr does)."""
    if Encoding.NUMERICAL in (node.encoding, node.sop.encoding):
        return view.is_number | view.is_int
    return view.is_number


def _mean(node, sel, count, vals: Column, table, default_code, bucket) -> Column:
    out = np.full(count.shape, default_code, dtype=np.int64)  # [batch, query]
    one = count == 1
    if one.any():
        picked = np.take_along_axis(vals.codes, sel.argmax(axis=-1), axis=1)
        out[one] = picked[one]
    multi = count > 1
    if not multi.any():
        return Column.build(out, table)
    view = vals.numeric()
    averageable = _averageable(node, view)
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
        sums = np.matmul(sel.astype(np.float64), numbers[:, :, None])[..., 0]  # [batch, query]
        means = sums[numeric_rows] / count[numeric_rows]
        uniq, inverse = np.unique(means, return_inverse=True)
        out[numeric_rows] = len(table) + inverse
        table = table + [float(x) for x in uniq]
    return Column.build(out, table)


def _require_numbers(node, sel, vals: Column, ok: np.ndarray, bucket) -> None:
    bad = (sel & ~ok[vals.codes][:, None, :]).any(axis=-1)
    if bad.any():
        b, q = (int(x) for x in np.argwhere(bad)[0])
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) can only {node.mode.value} numbers, "
            f"got {_selected_values(sel, vals, b, q)!r} at {bucket.where(b, q)}"
        )


def _sum(node, sel, count, vals: Column, table, default_code, bucket) -> Column:
    view = vals.numeric()
    _require_numbers(node, sel, vals, view.is_number | view.is_int, bucket)
    has_float = (sel & ~view.is_int[vals.codes][:, None, :]).any(axis=-1)  # [batch, query]
    numbers = np.nan_to_num(view.values)[vals.codes]  # [batch, key]
    sums = np.matmul(sel.astype(np.float64), numbers[:, :, None])[..., 0]
    int_values = np.where(view.is_int, view.values, 0).astype(np.int64)[vals.codes]
    int_sums = np.einsum("bqk,bk->bq", sel.astype(np.int64), int_values)
    out = np.full(count.shape, default_code, dtype=np.int64)
    extra: list[Any] = []
    for mask, values, cast in ((~has_float, int_sums, int), (has_float, sums, float)):
        rows = mask & (count > 0)
        if rows.any():
            uniq, inverse = np.unique(values[rows], return_inverse=True)
            out[rows] = len(table) + len(extra) + inverse
            extra.extend(cast(x) for x in uniq)
    return Column.build(out, table + extra)


def _extreme(node, sel, count, vals: Column, table, default_code, bucket) -> Column:
    try:
        order = sorted(range(len(vals.table)), key=lambda i: vals.table[i])
    except TypeError:
        _require_numbers(node, sel, vals, vals.numeric().is_number, bucket)
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) cannot order the values "
            f"{list(vals.table)!r} to take their {node.mode.value}"
        ) from None
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    ranks = np.where(sel, rank[vals.codes][:, None, :], -1)  # [batch, query, key]
    if node.mode is AggregationMode.MAX:
        best = ranks.max(axis=-1)
    else:
        best = np.where(sel, ranks, len(order)).min(axis=-1)
    by_rank = np.asarray(order, dtype=np.int64)
    out = np.where(count > 0, by_rank[np.clip(best, 0, len(order) - 1)], default_code)
    return Column.build(out, table)

