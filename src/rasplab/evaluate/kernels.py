"""Vectorised kernels for maps and selects, over a bucket of equal-length inputs.

Shapes: s-op columns are ``[batch, pos]``; selectors are boolean
``[batch, query, key]``. Maps and selects call Python only once per
*distinct* value (or value pair), never once per position. Attention
(aggregate, selector width) is in ``attention.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import EvaluationError, RaspTypeError, ResourceLimitError
from ..lang.enums import NUMPY_COMPARE
from ..lang.nodes import (
    Comparison,
    Map,
    Select,
    ZipMap,
    is_atom,
)
from .columns import Column, holds_nan
from .memory import DEFAULT_MAX_BYTES, format_bytes

__all__ = [
    "Bucket",
    "QueryRows",
    "map_column",
    "zipmap_column",
    "select_matrix",
    "select_rows",
]


@dataclass(frozen=True)
class Bucket:
    """The raw inputs of one chunk (all of length ``n``), for error messages."""

    inputs: list[list[Any]]
    n: int
    token_types: frozenset[type] | None = None  # exact types of all the tokens, if known
    flat_tokens: list[Any] | None = None  # all the tokens, row after row, if at hand
    max_bytes: int = DEFAULT_MAX_BYTES
    query_offset: int = 0  # where a block of queries starts (attention in blocks)

    def where(self, b: int, p: int) -> str:
        """Query (or position) ``p`` of input ``b``, for messages; ``p`` counts within the block."""
        shown = self.inputs[b]
        text = repr(shown) if len(shown) <= 40 else repr(shown[:40])[:-1] + ", ...]"
        return f"position {p + self.query_offset} of input {text}"

    def shifted(self, q0: int) -> Bucket:
        """The same bucket, for a block of queries starting at ``q0``."""
        return replace(self, query_offset=q0)


def is_value(value: Any) -> bool:
    """Atoms, None, and tuples of values (composite keys, as tracr's n-ary maps make)."""
    if value is None or is_atom(value):
        return True
    return isinstance(value, tuple) and all(is_value(v) for v in value)


_PLAIN_OUTPUTS = frozenset({int, float, str, bool, type(None)})


def _check_outputs(node: Any, outputs: list[Any], first_pos: Any, bucket: Bucket) -> None:
    kinds = set(map(type, outputs))
    if kinds <= _PLAIN_OUTPUTS:  # the common case, settled at C speed
        if float in kinds and any(v != v for v in outputs):  # only NaN differs from itself
            i = next(i for i, v in enumerate(outputs) if v != v)
            raise _made_nan(node, outputs[i], bucket.where(*first_pos(i)))
        return
    for i, value in enumerate(outputs):
        if holds_nan(value):
            raise _made_nan(node, value, bucket.where(*first_pos(i)))
        if not is_value(value):
            b, p = first_pos(i)
            raise RaspTypeError(
                f"{node.kind} {node.label} ({node.describe()}) returned {value!r} "
                f"({type(value).__name__}) at {bucket.where(b, p)}; s-op values must be "
                "int, float, str, bool, None or a tuple of those"
            )


def _made_nan(node: Any, value: Any, where: str) -> EvaluationError:
    return EvaluationError(
        f"{node.kind} {node.label} ({node.describe()}) returned {value!r} at {where}; "
        "NaN is not a value (an input token, a map's result or an aggregate's)"
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
            where = bucket.where(*col.first_position(i))
            raise _call_failed(node, f"value {value!r}", where, err) from err
    _check_outputs(node, outputs, col.first_position, bucket)
    return Column.build(col.codes, outputs)


def zipmap_column(node: ZipMap, cols: list[Column], bucket: Bucket) -> Column:
    """Apply ``node.f`` once per distinct tuple of input values (in order of the tuple's codes)."""
    key, span, packed = cols[0].codes, len(cols[0].table), True
    for col in cols[1:]:
        size = len(col.table)
        if span * size >= 2**62:  # keep the mixed-radix key in int64
            key = np.unique(key, return_inverse=True)[1].reshape(key.shape)
            span, packed = int(key.max()) + 1, False
        key = key * size + col.codes
        span *= size
    flat = key.ravel()
    if packed and span <= max(4 * flat.size, 1 << 12):
        # Few possible tuples: find the distinct ones with a lookup table, no sort.
        present = np.zeros(span, dtype=bool)
        present[flat] = True
        distinct = np.flatnonzero(present)  # sorted, as np.unique would give them
        lookup = np.zeros(span, dtype=np.int64)
        lookup[distinct] = np.arange(len(distinct))
        inverse = lookup[flat]
        digits, rest = [], distinct
        for col in reversed(cols[1:]):
            rest, digit = np.divmod(rest, len(col.table))
            digits.append(digit)
        digits.append(rest)
        arg_lists = [[col.table[c] for c in d] for col, d in zip(cols, digits[::-1], strict=True)]

        def first_at(u: int) -> int:
            return int(np.argmax(inverse == u))

    else:
        _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
        arg_lists = [[col.table[c] for c in col.codes.ravel()[first]] for col in cols]

        def first_at(u: int) -> int:
            return int(first[u])

    n = bucket.n
    outputs = []
    for u, args in enumerate(zip(*arg_lists, strict=True)):
        try:
            outputs.append(node.f(*args))
        except Exception as err:  # user code: report with the position
            shown = ", ".join(repr(a) for a in args)
            where = bucket.where(*divmod(first_at(u), n))
            raise _call_failed(node, f"values ({shown})", where, err) from err
    _check_outputs(node, outputs, lambda u: divmod(first_at(u), n), bucket)
    return Column.build(inverse.reshape(key.shape), outputs)


def _small_ints(values: np.ndarray, size: int) -> np.ndarray:
    """``values`` (all in ``0..size-1``) in the narrowest integer type: comparisons run faster."""
    for dtype in (np.int8, np.int16, np.int32):
        if size <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values.astype(np.int64)


def _numeric_ranks(kv: np.ndarray, qv: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Dense ranks of two float arrays on one scale (equal values, equal ranks); None if NaN."""
    both = np.concatenate([kv, qv])
    if np.isnan(both).any():
        return None
    uniq, inverse = np.unique(both, return_inverse=True)
    ranks = _small_ints(inverse.ravel(), len(uniq))
    return ranks[: len(kv)], ranks[len(kv) :]


def _python_ranks(values: list[Any]) -> np.ndarray | None:
    """Dense ranks under Python's ``<``; None if the values have no common order."""
    try:
        order = sorted(range(len(values)), key=values.__getitem__)
        ranks = np.zeros(len(values), dtype=np.int64)
        rank = 0
        for before, after in zip(order, order[1:], strict=False):
            rank += bool(values[before] < values[after])
            ranks[after] = rank
    except Exception:
        return None
    return _small_ints(ranks, len(values))


def _compare_all(
    compare: Any, rk: np.ndarray, key_codes: np.ndarray, rq: np.ndarray, query_codes: np.ndarray
) -> np.ndarray:
    """``compare(rk[key_codes][:, None, :], rq[query_codes][:, :, None])``, ``[batch, query, key]``.

    With few distinct queries, each input's row of keys is compared once per
    query value and the rows are then gathered per query position: long
    contiguous loops instead of one short broadcast loop per query.
    """
    batch, n = key_codes.shape
    m = query_codes.shape[1]
    keyed = rk[key_codes]  # [batch, key]
    if n < 16 or 4 * len(rq) > m:
        return compare(keyed[:, None, :], rq[query_codes][:, :, None])
    rows = compare(keyed[:, None, :], rq[None, :, None])  # [batch, query value, key]
    picks = np.arange(batch, dtype=np.intp)[:, None] * len(rq) + query_codes
    return rows.reshape(-1, n).take(picks.ravel(), axis=0).reshape(batch, m, n)


def _predicate_table(
    node: Select, keys: Column, queries: Column
) -> tuple[np.ndarray, dict[tuple[int, int], Exception]]:
    """``P[query value, key value]`` over the two tables, and the pairs that failed.

    The tables hold the values of the whole bucket, so a failing pair may
    combine values of two different inputs; only the caller knows whether
    some input really meets it.
    """
    pred = node.predicate
    table = np.zeros((len(queries.table), len(keys.table)), dtype=bool)  # size checked by caller
    failed: dict[tuple[int, int], Exception] = {}
    for qi, q in enumerate(queries.table):
        for ki, k in enumerate(keys.table):
            try:
                table[qi, ki] = bool(pred(k, q))
            except Exception as err:
                failed[qi, ki] = err
    return table, failed


QueryRows = Callable[[int, int], np.ndarray]


def select_matrix(node: Select, keys: Column, queries: Column, bucket: Bucket) -> np.ndarray:
    """The selector ``[batch, query, key]`` (see ``select_rows``)."""
    return select_rows(node, keys, queries, bucket)(0, queries.shape[1])


def select_rows(node: Select, keys: Column, queries: Column, bucket: Bucket) -> QueryRows:
    """A function ``(q0, q1) -> selector[:, q0:q1, :]``: the select, a block of queries at a time.

    The work that looks at every value (ranks, the predicate table) is done
    once here; each block then costs only its own comparisons, so a long
    input can be attended to in blocks of bounded memory.

    Numbers (ints, floats, bools) are compared in numpy through their dense
    ranks. Other values go through a table of ``predicate(key value, query
    value)`` over the distinct values; when a built-in comparison agrees with
    that table on ranks, the ranks are compared instead of looking the table
    up per element.
    """
    batch, n = keys.shape
    pred = node.predicate
    if pred is Comparison.TRUE or pred is Comparison.FALSE:
        fill = np.ones if pred is Comparison.TRUE else np.zeros
        return lambda q0, q1: fill((batch, q1 - q0, n), dtype=bool)
    compare = NUMPY_COMPARE.get(pred) if isinstance(pred, Comparison) else None
    kn, qn = keys.numeric(), queries.numeric()
    if compare is not None and bool(
        np.all(kn.is_int | kn.is_number) and np.all(qn.is_int | qn.is_number)
    ):
        ranks = _numeric_ranks(kn.values, qn.values)
        rk, rq = ranks if ranks is not None else (kn.values, qn.values)
        return _rank_rows(compare, rk, keys, rq, queries)
    _check_table_size(node, keys, queries, bucket)
    table, failed = _predicate_table(node, keys, queries)
    if not failed and compare is not None:
        table_ranks = _python_ranks(list(keys.table) + list(queries.table))
        if table_ranks is not None:
            rk, rq = table_ranks[: len(keys.table)], table_ranks[len(keys.table) :]
            if np.array_equal(compare(rk[None, :], rq[:, None]), table):
                return _rank_rows(compare, rk, keys, rq, queries)
    broken = None
    if failed:  # an error counts only where one input holds both values
        broken = np.zeros(table.shape, dtype=bool)
        broken[tuple(np.array(list(failed)).T)] = True
    flat_table = table.ravel()

    def rows(q0: int, q1: int) -> np.ndarray:
        query_codes = queries.codes[:, q0:q1, None]
        if broken is not None:
            hits = broken[query_codes, keys.codes[:, None, :]]  # [batch, query, key]
            if hits.any():
                b, qp, kp = (int(x) for x in np.argwhere(hits)[0])
                raise _cannot_compare(node, keys, queries, bucket, failed, (b, q0 + qp, kp))
        return flat_table[query_codes * len(keys.table) + keys.codes[:, None, :]]

    return rows


def _rank_rows(compare, rk: np.ndarray, keys: Column, rq: np.ndarray, queries: Column) -> QueryRows:
    return lambda q0, q1: _compare_all(compare, rk, keys.codes, rq, queries.codes[:, q0:q1])


def _check_table_size(node: Select, keys: Column, queries: Column, bucket: Bucket) -> None:
    """A predicate called on every pair of distinct values must not outgrow the memory limit."""
    size = len(keys.table) * len(queries.table)
    if size > bucket.max_bytes:
        raise ResourceLimitError(
            f"select {node.label} ({node.describe()}) would call its predicate on "
            f"{len(keys.table)} x {len(queries.table)} pairs of distinct values, a table of "
            f"{format_bytes(size)}, over the memory limit of {format_bytes(bucket.max_bytes)}; "
            f"raise it with max_bytes= (command line: --max-memory)"
        )


def _cannot_compare(node, keys, queries, bucket, failed, where) -> RaspTypeError:
    b, qp, kp = where
    qi, ki = int(queries.codes[b, qp]), int(keys.codes[b, kp])
    return RaspTypeError(
        f"select {node.label} ({node.describe()}) cannot compare key "
        f"{keys.table[ki]!r} {node.predicate_name} query {queries.table[qi]!r} "
        f"(query at {bucket.where(b, qp)}): {failed[qi, ki]}"
    )
