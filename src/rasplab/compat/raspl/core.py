"""RASP-L's core operations as rasplab IR: maps, causal selects, aggregates.

Every select is causal, as in RASP-L: the IR says so explicitly, as the
user's select ``&`` a ``select(indices, indices, "<=")``, so
``compile_program(..., causal=True)`` accepts it. Every result is an int
sequence, as np_rasp casts everything with ``astype(int)``: a mean is
truncated towards zero, a default is cast like the values.

>>> from rasplab.compat.raspl import tokens, kqv, sel_width, select, indices, equals
>>> running_mean = kqv(tokens, tokens, tokens, lambda k, q: True)
>>> running_mean([4, 1, 2, 9])
array([4, 2, 2, 4])
>>> sel_width(select(tokens, tokens, equals))([3, 1, 3, 3])
array([1, 1, 2, 3])
>>> kqv(indices(tokens) + 1, indices(tokens), tokens, equals, default=-1)([7, 8, 9])
array([-1,  7,  8])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import DefinitionError, RaspTypeError
from ...lang import dsl
from ...lang.nodes import (
    Aggregate,
    AggregationMode,
    Comparison,
    Map,
    Select,
    Selector,
    SelectorAnd,
    SelectorWidth,
    ZipMap,
)
from .values import Seq, as_int, constant, numpy_scalar, require_seq

__all__ = [
    "tokens",
    "full",
    "indices",
    "tok_map",
    "seq_map",
    "select",
    "sel_width",
    "aggr",
    "aggr_mean",
    "aggr_max",
    "kqv",
    "equals",
    "leq",
    "lt",
    "geq",
    "gt",
    "CAUSAL",
]

INT = np.dtype(int)
tokens = Seq(dsl.tokens, INT)
"""The input sequence (RASP-L programs run on ints)."""

CAUSAL = Select(dsl.indices, dsl.indices, Comparison.LEQ).named("causal")
"""``key index <= query index``: the mask every RASP-L select carries."""


def equals(x: Any, y: Any) -> Any:
    return x == y


def leq(x: Any, y: Any) -> Any:
    return x <= y


def lt(x: Any, y: Any) -> Any:
    return x < y


def geq(x: Any, y: Any) -> Any:
    return x >= y


def gt(x: Any, y: Any) -> Any:
    return x > y


# np_rasp's predicates are pred(key, query), as rasplab's comparisons are.
_NAMED_PREDICATES = {
    equals: Comparison.EQ,
    leq: Comparison.LEQ,
    lt: Comparison.LT,
    geq: Comparison.GEQ,
    gt: Comparison.GT,
}


def full(x: Any, const: Any) -> Seq:
    """``const`` at every position of ``x``, cast to int as ``np.full_like(..., dtype=int)``."""
    require_seq(x, "full", "x")
    return constant(as_int(const, "full(x, const)"), INT)


def indices(x: Any) -> Seq:
    """``0, 1, ..., len(x) - 1``."""
    require_seq(x, "indices", "x")
    return Seq(dsl.indices, INT)


def _function_name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _user_function(func: Any, seqs: list[Seq], what: str) -> Callable[..., int]:
    """``func`` as np_rasp calls it (numpy scalars in) with its result cast to int."""
    if not callable(func):
        raise RaspTypeError(f"{what}() expected a function as func, got {func!r}")
    dtypes = [s.dtype for s in seqs]
    label = f"{what}({_function_name(func)})"

    def apply(*values: Any) -> int:
        args = [numpy_scalar(v, d) for v, d in zip(values, dtypes, strict=True)]
        return as_int(func(*args), label)

    apply.__name__ = _function_name(func)
    return apply


def tok_map(x: Any, func: Any) -> Seq:
    """``func`` at every position of ``x``, cast to int."""
    x = require_seq(x, "tok_map", "x")
    return Seq(Map(_user_function(func, [x], "tok_map"), x.sop), INT)


def seq_map(x: Any, y: Any, func: Any) -> Seq:
    """``func(x[i], y[i])`` at every position, cast to int."""
    x, y = require_seq(x, "seq_map", "x"), require_seq(y, "seq_map", "y")
    return Seq(ZipMap(_user_function(func, [x, y], "seq_map"), x.sop, y.sop), INT)


def _predicate(pred: Any, k: Seq, q: Seq) -> Comparison | Callable[[Any, Any], bool]:
    if isinstance(pred, Comparison):
        return pred
    known = _NAMED_PREDICATES.get(pred) if callable(pred) else None
    if known is not None:
        return known
    if not callable(pred):
        raise RaspTypeError(
            f"select() expected a predicate pred(key, query) such as equals or "
            f"lambda k, q: k < q, got {pred!r} ({type(pred).__name__})"
        )
    kd, qd = k.dtype, q.dtype

    def test(key: Any, query: Any) -> bool:
        return bool(pred(numpy_scalar(key, kd), numpy_scalar(query, qd)))

    test.__name__ = _function_name(pred)
    return test


def select(k: Any, q: Any, pred: Any, causal: bool = True) -> Selector:
    """Query ``i`` selects key ``j`` where ``pred(k[j], q[i])`` (and ``j <= i`` when causal)."""
    k, q = require_seq(k, "select", "k"), require_seq(q, "select", "q")
    if not isinstance(causal, bool | np.bool_):
        raise RaspTypeError(f"select() expected causal=True or False, got {causal!r}")
    predicate = _predicate(pred, k, q)
    if causal and predicate is Comparison.TRUE:
        return CAUSAL  # the mask alone is that matrix: one select fewer to compile
    chosen = Select(k.sop, q.sop, predicate)
    return SelectorAnd(chosen, CAUSAL) if causal else chosen


def _require_selector(A: Any, function: str) -> Selector:
    if isinstance(A, Selector):
        return A
    raise RaspTypeError(
        f"{function}() expected a selector as A (what select(k, q, pred) returns), "
        f"got {A!r} ({type(A).__name__})"
    )


def sel_width(A: Any) -> Seq:
    """How many keys each query selects."""
    return Seq(SelectorWidth(_require_selector(A, "sel_width")), INT)


def _truncate(value: Any) -> int:
    return int(value)  # a mean or a float max: numpy's astype(int) truncates towards zero


def _cast_default(default: Any, dtype: np.dtype, function: str) -> Any:
    """``default`` as numpy stores it in an array of ``dtype`` (``np.full_like``)."""
    try:
        with np.errstate(all="ignore"):
            return np.full(1, default, dtype=dtype)[0]
    except (TypeError, ValueError, OverflowError):
        raise RaspTypeError(
            f"{function}() expected a number as default, got {default!r} ({type(default).__name__})"
        ) from None


def aggr_mean(A: Any, v: Any, default: Any = 0) -> Seq:
    """The mean of the selected values, truncated to int; ``default`` where none is selected."""
    A, v = _require_selector(A, "aggr_mean"), require_seq(v, "aggr_mean", "v")
    empty = as_int(_cast_default(default, np.dtype(float), "aggr_mean"), "aggr_mean")
    if v.dtype.kind == "b":
        return _mean_of_bools(A, v, empty)
    mean = Aggregate(A, v.sop, default=empty, mode=AggregationMode.MEAN)
    return Seq(Map(_truncate, mean, desc="int({0})"), INT)


def _mean_of_bools(A: Selector, v: Seq, empty: int) -> Seq:
    # np.dot of a boolean matrix and boolean values is a logical "any", not a sum: np_rasp's
    # mean of bools is any/width, i.e. 1 only where one key is selected and it holds True.
    ones = Map(int, v.sop, desc="int({0})")
    any_true = Aggregate(A, ones, default=0, mode=AggregationMode.MAX)

    def any_over_width(hit: int, width: int) -> int:
        return empty if width == 0 else int(hit / width)

    return Seq(ZipMap(any_over_width, any_true, SelectorWidth(A)), INT)


def aggr_max(A: Any, v: Any, default: Any = 0) -> Seq:
    """The largest selected value; ``default`` (cast like ``v``) where none is selected."""
    A, v = _require_selector(A, "aggr_max"), require_seq(v, "aggr_max", "v")
    empty = as_int(_cast_default(default, v.dtype, "aggr_max"), "aggr_max")
    return _extreme(A, v, empty, AggregationMode.MAX)


def _aggr_min(A: Selector, v: Seq, default: Any) -> Seq:
    # np_rasp's min is -max(-v) with default -default: bools cannot be negated.
    if v.dtype.kind == "b":
        raise RaspTypeError(
            f"aggr() with reduction='min' negates the values, and numpy cannot negate the "
            f"bool sequence {v.sop.label}; convert it first, e.g. tok_map(v, int)"
        )
    try:
        negated = -default
    except TypeError:
        raise RaspTypeError(f"aggr() expected a number as default, got {default!r}") from None
    empty = -as_int(_cast_default(negated, v.dtype, "aggr"), "aggr")
    return _extreme(A, v, empty, AggregationMode.MIN)


def _extreme(A: Selector, v: Seq, empty: int, mode: AggregationMode) -> Seq:
    best = Aggregate(A, v.sop, default=empty, mode=mode)
    if v.dtype.kind in "iu":
        return Seq(best, INT)  # ints in, ints out: no cast to build
    return Seq(Map(_truncate, best, desc="int({0})"), INT)


def aggr(A: Any, v: Any, default: Any = 0, reduction: Any = "mean") -> Seq:
    """Combine the selected values of ``v`` by ``reduction``: 'mean', 'max' or 'min'."""
    if reduction == "mean":
        return aggr_mean(A, v, default)
    if reduction == "max":
        return aggr_max(A, v, default)
    if reduction == "min":
        A, v = _require_selector(A, "aggr"), require_seq(v, "aggr", "v")
        return _aggr_min(A, v, default)
    raise DefinitionError(f"aggr() expected reduction 'mean', 'max' or 'min', got {reduction!r}")


_NO_PREDICATE: Any = object()


def kqv(
    k: Any, q: Any, v: Any, pred: Any = _NO_PREDICATE, default: Any = 0, reduction: Any = "mean"
) -> Seq:
    """``aggr(select(k, q, pred), v, default, reduction)``: one attention head."""
    if pred is _NO_PREDICATE:
        # np_rasp requires it too (its argmax, argmin and mode call kqv without one and fail).
        raise RaspTypeError("kqv() expected a predicate pred(key, query), e.g. equals; got none")
    return aggr(select(k, q, pred), v, default=default, reduction=reduction)
