"""np_rasp's eager style (functions called on arrays) on rasplab, import line changed.

``fixtures/raspl/eager_examples.py`` is written against ``from np_rasp import *``
and ``np_rasp_eager_outputs.json`` holds np_rasp's outputs on it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from raspl_fixtures import FIXTURES, load_fixture

from rasplab.compat import raspl
from rasplab.errors import RaspTypeError
from rasplab.evaluate import evaluate

# ---------------------------------------------------------------- eager: arrays in, arrays out


T = raspl.tokens

EAGER_RECORDED = json.loads((FIXTURES / "np_rasp_eager_outputs.json").read_text())
EAGER = load_fixture("eager_examples.py")


def _encoded(value: Any) -> dict[str, Any]:
    if isinstance(value, np.ndarray):
        return {"values": value.tolist(), "dtype": str(value.dtype)}
    assert isinstance(value, int) and not isinstance(value, bool), value
    return {"int": value}


@pytest.mark.parametrize("name", sorted(EAGER_RECORDED["runs"]))
def test_eager_examples_agree_with_np_rasp(name: str) -> None:
    cases = EAGER_RECORDED["runs"][name]
    compared = 0
    for case in cases:
        got = EAGER["RUNS"][name](case["input"])
        assert {k: _encoded(v) for k, v in got.items()} == case["output"], case["input"]
        compared += len(got)
    assert compared >= len(cases) >= 28


def test_eager_recorded_totals() -> None:
    runs = EAGER_RECORDED["runs"]
    assert {k: len(v) for k, v in runs.items()} == {
        "addition_step": 60,
        "addition": 28,
        "count_step": 60,
        "count": 28,
        "tour": 50,
    }


def test_eager_checks_of_the_examples_pass() -> None:
    assert EAGER["check_random_additions"](3, 4, seed=7) == 4
    assert EAGER["check_addition"](99999, 1)[-1] == EAGER["EOS"]
    assert EAGER["check_count"](7, 2).tolist() == [-1, 7, 2, 7, 6, 5, 4, 3, 2, -2]


XS = [3, 1, 4, 1, 5, 2, 2, 0]
# One call per function (argmax, argmin, mode fail as np_rasp's do); s is tokens or an array.
EAGER_CALLS: dict[str, Any] = {
    "full": lambda s: raspl.full(s, 2.5),
    "indices": lambda s: raspl.indices(s),
    "tok_map": lambda s: raspl.tok_map(s, lambda t: t * t - 4),
    "seq_map": lambda s: raspl.seq_map(s, raspl.indices(s), lambda a, b: a - b),
    "select": lambda s: raspl.select(s, s, raspl.leq),
    "sel_width": lambda s: raspl.sel_width(raspl.select(s, s, raspl.gt, causal=False)),
    "aggr": lambda s: raspl.aggr(raspl.select(s, s, raspl.lt), s, default=-1, reduction="min"),
    "aggr_mean": lambda s: raspl.aggr_mean(raspl.select(s, s, raspl.geq), s > 1),
    "aggr_max": lambda s: raspl.aggr_max(raspl.select(s, s, raspl.equals), s / 3, default=7),
    "kqv": lambda s: raspl.kqv(s, s, s * 3, raspl.equals),
    "shift_right": lambda s: raspl.shift_right(s, 2, default=-1),
    "cumsum": lambda s: raspl.cumsum(s > 1),
    "where": lambda s: raspl.where(s > 2, s, raspl.full(s, 9)),
    "mask": lambda s: raspl.mask(s, s < 3, mask_val=-5),
    "maximum": lambda s: raspl.maximum(s),
    "minimum": lambda s: raspl.minimum(s - 1),
    "argmax": lambda s: raspl.argmax(s),
    "argmin": lambda s: raspl.argmin(s),
    "num_prev": lambda s: raspl.num_prev(s, raspl.full(s, 1)),
    "has_seen": lambda s: raspl.has_seen(s, s + 1),
    "firsts": lambda s: raspl.firsts(s, s - 1, default=-3),
    "lasts": lambda s: raspl.lasts(s, raspl.full(s, 2)),
    "index_select": lambda s: raspl.index_select(s, s // 2, default=8),
    "first_true": lambda s: raspl.first_true(s == 2),
    "mode": lambda s: raspl.mode(s),
    "binary_mode": lambda s: raspl.binary_mode(s % 2),
    "induct_kqv": lambda s: raspl.induct_kqv(s, s, s * 2, offset=1, default=-1),
    "induct": lambda s: raspl.induct(s, s, offset=1),
    "induct_prev": lambda s: raspl.induct_prev(s, raspl.full(s, 2), offset=-1),
}


def test_every_exported_function_runs_eagerly() -> None:
    from rasplab.compat.raspl import eager

    exported = set(eager.__all__) - {"eager"}
    assert exported == set(EAGER_CALLS) and exported <= set(raspl.__all__)


@pytest.mark.parametrize("name", sorted(EAGER_CALLS))
def test_eager_calls_agree_with_the_lazy_program(name: str) -> None:
    call = EAGER_CALLS[name]
    if name in {"argmax", "argmin", "mode"}:
        for given in (raspl.tokens, np.array(XS)):
            with pytest.raises(RaspTypeError, match="predicate"):
                call(given)
        return
    lazy = call(raspl.tokens)
    want = lazy(XS) if isinstance(lazy, raspl.Seq) else np.array(evaluate(lazy, XS))
    got = call(np.array(XS))
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype
    assert got.tolist() == want.tolist()


def test_eager_calls_take_lists_and_tuples_as_numpy_reads_them() -> None:
    assert raspl.maximum([3, 1, 4]).tolist() == [3, 3, 4]
    assert raspl.kqv((1, 2, 1), [1, 2, 1], (5, 6, 7), raspl.equals).tolist() == [5, 6, 6]
    assert raspl.tok_map([0.5, 2.5], lambda h: h * 3).tolist() == [1, 7]  # floats, truncated


def test_eager_select_is_np_rasps_matrix() -> None:
    got = raspl.select([2, 0, 2], [2, 0, 2], raspl.equals)
    assert got.tolist() == [[True, False, False], [False, True, False], [True, False, True]]
    wide = raspl.select([2, 0, 2], [2, 0, 2], raspl.equals, causal=False)
    assert wide[0].tolist() == [True, False, True]
    assert raspl.sel_width(np.eye(3, dtype=bool)[::-1]).tolist() == [1, 1, 1]


def test_eager_empty_arrays_are_empty_results() -> None:
    empty = np.array([], dtype=int)
    assert raspl.tok_map(empty, abs).shape == (0,)
    assert raspl.shift_right(empty, 1).dtype == np.int64
    assert raspl.select(empty, empty, raspl.equals).shape == (0, 0)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: raspl.seq_map(T, np.array([1, 2]), max), ["seq_map()", "as y", "as x", "tokens"]),
        (lambda: raspl.aggr(raspl.CAUSAL, [1, 2]), ["aggr()", "as v", "as A"]),
        (lambda: np.array([1, 2]) + T, ["'+'", "array([1, 2])"]),
        (lambda: raspl.seq_map([1, 2], [1, 2, 3], max), ["seq_map()", "one length", "y has 3"]),
        (lambda: raspl.tok_map([[1, 2]], abs), ["tok_map()", "1-d", "2 dimensions"]),
        (lambda: raspl.tok_map(["a", "b"], abs), ["tok_map()", "numbers", "<U1"]),
        (lambda: raspl.sel_width(np.ones((2, 2), dtype=int)), ["sel_width()", "boolean", "int64"]),
        (lambda: raspl.sel_width(np.ones((2, 3), dtype=bool)), ["sel_width()", "(2, 3)"]),
        (lambda: raspl.aggr(np.eye(2, dtype=bool), [1, 2, 3]), ["aggr()", "A has 2", "v has 3"]),
        (lambda: raspl.where([True], [1], 0), ["where()", "y_else", "0"]),
        (lambda: raspl.tok_map([1], 3), ["tok_map()", "function", "3"]),
        (lambda: raspl.full([1, 2], None), ["full(x, const)", "None"]),
        (lambda: raspl.shift_right([1], n=1, m=2), ["shift_right()", "'m'"]),
    ],
)
def test_bad_eager_calls_name_the_function_and_the_argument(call, words) -> None:
    with pytest.raises(RaspTypeError) as caught:
        call()
    for word in words:
        assert word in str(caught.value)
