"""np_rasp's eager calls: arrays in, arrays out, computed by rasplab.

np_rasp's functions take numpy arrays and return numpy arrays at once, and
its examples lean on that (``len(x)``, ``x[-1]``, loops that generate token
by token). The functions ``rasplab.compat.raspl`` exports do the same when
they get concrete values (numpy arrays, lists or tuples) where np_rasp takes
a sequence or a selector matrix: each value becomes a leaf of rasplab IR (a
lookup by position), the lazy function builds its operation over the
leaves, and rasplab's evaluator runs it. There is one implementation of
RASP-L's rules, the lazy one, so both modes agree by construction. Given
RASP-L sequences (``tokens`` and what is built from it) the same functions
build a program, as before.

>>> import numpy as np
>>> from rasplab.compat.raspl import kqv, select, sel_width, aggr, equals, indices
>>> x = np.array([3, 1, 3, 3])
>>> sel_width(select(x, x, equals))
array([1, 1, 2, 3])
>>> select(x[:3], x[:3], equals)  # np_rasp's matrix: row = query, column = key
array([[ True, False, False],
       [False,  True, False],
       [ True, False,  True]])
>>> aggr(select(x, x, equals), indices(x), reduction="max")
array([0, 1, 2, 3])
>>> kqv([4, 1, 2, 9], [4, 1, 2, 9], [4, 1, 2, 9], lambda k, q: True)
array([4, 2, 2, 4])
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import RaspTypeError
from ...evaluate import evaluate
from ...lang import dsl
from ...lang.nodes import Map, Select, Selector, Tokens
from . import core, lib
from .values import Seq

__all__ = [
    "eager",
    # the core's functions of sequences and selectors (tokens, predicates: nothing to run)
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
    *lib.__all__,
]

CONCRETE = (np.ndarray, list, tuple)
"""What counts as a concrete sequence (or, for ``A``, a selector matrix)."""

SELECTOR_PARAMETER = "A"  # np_rasp's name for a selector matrix in sel_width and aggr*


def eager(function: Callable[..., Any], *sequences: str) -> Callable[..., Any]:
    """``function`` (a lazy RASP-L builder) that also runs at once on concrete values.

    ``sequences`` names its parameters that take a sequence (or ``A``, a selector).
    """
    signature = inspect.signature(function)
    name = function.__name__

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        # The common lazy call costs one scan: no argument is an array or a list.
        if not any(isinstance(a, CONCRETE) for a in (*args, *kwargs.values())):
            return function(*args, **kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise RaspTypeError(f"{name}(): {err}") from None
        given = {p: bound.arguments[p] for p in sequences if p in bound.arguments}
        concrete = {p: v for p, v in given.items() if isinstance(v, CONCRETE)}
        if not concrete:  # a list somewhere else (a default, say): the lazy function reports it
            return function(*args, **kwargs)
        _refuse_mixed(name, given, concrete)
        row, leaves = _leaves(name, concrete)
        bound.arguments.update(leaves)
        return _run(function(*bound.args, **bound.kwargs), row)

    return call


def _refuse_mixed(name: str, given: dict[str, Any], concrete: dict[str, Any]) -> None:
    lazy = [p for p, v in given.items() if isinstance(v, Seq | Selector)]
    if lazy:
        raise RaspTypeError(
            f"{name}() got concrete values as {', '.join(concrete)} and RASP-L sequences "
            f"or selectors (built from tokens) as {', '.join(lazy)}; pass arrays throughout "
            "(np_rasp's way: it runs at once) or sequences built from tokens throughout "
            "(a program, run later as prog(xs))"
        )


def _leaves(name: str, concrete: dict[str, Any]) -> tuple[list[Any], dict[str, Seq | Selector]]:
    """The input to evaluate on, and one IR leaf per concrete argument.

    The first int sequence is the input itself (``tokens``: one map fewer to run in
    every call); every other argument is a lookup by position.
    """
    arrays = {p: _as_array(name, p, v) for p, v in concrete.items()}
    if len({len(a) for a in arrays.values()}) > 1:
        shown = ", ".join(f"{p} has {len(a)}" for p, a in arrays.items())
        raise RaspTypeError(f"{name}() expected sequences of one length, got: {shown}")
    row: list[Any] = list(range(len(next(iter(arrays.values())))))
    leaves: dict[str, Seq | Selector] = {}
    for parameter, array in arrays.items():
        if parameter == SELECTOR_PARAMETER:
            leaves[parameter] = _matrix_leaf(name, array)
        elif array.dtype.kind in "iu" and not any(isinstance(x, Seq) for x in leaves.values()):
            row = array.tolist()
            leaves[parameter] = Seq(Tokens(name=parameter), array.dtype)  # named for errors
        else:
            leaves[parameter] = _sequence_leaf(parameter, array)
    return row, leaves


def _as_array(name: str, parameter: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError as err:  # ragged lists
        raise RaspTypeError(
            f"{name}() expected a sequence of numbers as {parameter}: {err}"
        ) from None
    want = 2 if parameter == SELECTOR_PARAMETER else 1
    if array.ndim != want or array.dtype.kind not in "biuf":
        what = "a square boolean matrix" if want == 2 else "a 1-d sequence of numbers"
        raise RaspTypeError(
            f"{name}() expected {what} as {parameter}, got {value!r} "
            f"(numpy dtype {array.dtype}, {array.ndim} dimensions)"
        )
    return array


def _sequence_leaf(parameter: str, array: np.ndarray) -> Seq:
    values = array.tolist()  # Python atoms, as IR values are; the Seq keeps the numpy type

    def value_at(position: int) -> Any:
        return values[position]

    value_at.__name__ = parameter
    return Seq(Map(value_at, dsl.indices, desc=f"{parameter}[{{0}}]"), array.dtype)


def _matrix_leaf(name: str, matrix: np.ndarray) -> Selector:
    # np_rasp's selectors are bool matrices from select(); np.dot on an int matrix would
    # weigh values instead of selecting them, which no RASP-L selector does.
    if matrix.dtype.kind != "b" or matrix.shape[0] != matrix.shape[1]:
        raise RaspTypeError(
            f"{name}() expected a square boolean matrix as A (what select() returns on "
            f"arrays), got numpy dtype {matrix.dtype} and shape {matrix.shape}"
        )
    rows = matrix.tolist()

    def chosen(key: int, query: int) -> bool:
        return rows[query][key]  # np_rasp's A[query, key]

    chosen.__name__ = "A"
    return Select(dsl.indices, dsl.indices, chosen)


def _run(result: Any, row: list[Any]) -> np.ndarray:
    """``result`` (a lazy sequence or selector) evaluated on the input ``row``."""
    if isinstance(result, Seq):
        if not row:  # np_rasp makes empty arrays; rasplab's evaluator wants a token
            return np.zeros(0, dtype=result.dtype)
        return np.array(evaluate(result.sop, row), dtype=result.dtype)
    if isinstance(result, Selector):
        if not row:
            return np.zeros((0, 0), dtype=bool)
        return np.array(evaluate(result, row), dtype=bool)
    raise RaspTypeError(f"internal: a RASP-L function made {result!r}")  # pragma: no cover


# Every exported function, with its parameters that take sequences (A: a selector matrix).
full = eager(core.full, "x")
indices = eager(core.indices, "x")
tok_map = eager(core.tok_map, "x")
seq_map = eager(core.seq_map, "x", "y")
select = eager(core.select, "k", "q")
sel_width = eager(core.sel_width, "A")
aggr = eager(core.aggr, "A", "v")
aggr_mean = eager(core.aggr_mean, "A", "v")
aggr_max = eager(core.aggr_max, "A", "v")
kqv = eager(core.kqv, "k", "q", "v")
shift_right = eager(lib.shift_right, "x")
cumsum = eager(lib.cumsum, "bool_array")
where = eager(lib.where, "condition", "x_if", "y_else")
mask = eager(lib.mask, "x", "bool_mask")
maximum = eager(lib.maximum, "x")
minimum = eager(lib.minimum, "x")
argmax = eager(lib.argmax, "x")
argmin = eager(lib.argmin, "x")
num_prev = eager(lib.num_prev, "x", "queries")
has_seen = eager(lib.has_seen, "x", "queries")
firsts = eager(lib.firsts, "x", "queries")
lasts = eager(lib.lasts, "x", "queries")
index_select = eager(lib.index_select, "x", "idx")
first_true = eager(lib.first_true, "x")
mode = eager(lib.mode, "x")
binary_mode = eager(lib.binary_mode, "x")
induct_kqv = eager(lib.induct_kqv, "k", "q", "v")
induct = eager(lib.induct, "k", "q")
induct_prev = eager(lib.induct_prev, "k", "q")
