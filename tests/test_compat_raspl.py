"""RASP-L programs (np_rasp's API) run on rasplab with the import line changed.

``fixtures/raspl/programs.py`` is written against ``from np_rasp import *``;
``np_rasp_outputs.json`` holds np_rasp's outputs on it (recorded beside
rasplab, with np_rasp 1.0 and numpy 2.4). Here the same file runs with
``from rasplab.compat.raspl import *`` and must agree on every recorded input.
``eager_examples.py`` and ``np_rasp_eager_outputs.json`` do the same for code
in np_rasp's eager style (functions called on arrays, generation token by token).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from raspl_fixtures import FIXTURES, load_fixture

from rasplab import analyse
from rasplab.compat import raspl
from rasplab.compiler import compile_program
from rasplab.errors import CompileError, DefinitionError, InputError, RaspError, RaspTypeError
from rasplab.lang.nodes import SOp

RECORDED = json.loads((FIXTURES / "np_rasp_outputs.json").read_text())


PROGRAMS = load_fixture("programs.py")


def _build(name: str) -> raspl.Seq | RaspError:
    function = PROGRAMS["PROGRAMS"][name][0]
    try:
        return function(raspl.tokens)
    except RaspError as err:
        return err


@pytest.mark.parametrize("name", sorted(RECORDED["programs"]))
def test_recorded_outputs_agree(name: str) -> None:
    cases = RECORDED["programs"][name]["cases"]
    program = _build(name)
    ran = [c for c in cases if "error" not in c]
    refused = [c for c in cases if "error" in c]
    if refused:  # np_rasp failed: so must we, with the same kind of error (counted apart)
        assert not ran and isinstance(program, RaspTypeError), program
        assert {c["error"] for c in refused} == {"TypeError"}
        return
    assert isinstance(program, raspl.Seq), program
    outputs = program.run_batch([c["input"] for c in ran])
    compared = 0
    for case, out in zip(ran, outputs, strict=True):
        assert out.tolist() == case["output"], case["input"]
        assert str(out.dtype) == case["dtype"]
        compared += 1
    assert compared == len(ran) >= 40


def test_recorded_totals() -> None:
    cases = [c for p in RECORDED["programs"].values() for c in p["cases"]]
    assert len(RECORDED["programs"]) == 35
    assert sum("error" not in c for c in cases) == 1400
    assert sum("error" in c for c in cases) == 120  # argmax, argmin, mode: 40 each


@pytest.mark.parametrize("record", RECORDED["generations"], ids=lambda g: g["program"])
def test_autoregressive_generation_agrees(record: dict[str, Any]) -> None:
    step = _build(record["program"])
    assert isinstance(step, raspl.Seq)
    seq = list(record["prompt"])
    while seq[-1] != record["stop"] and len(seq) < 30:
        seq.append(int(step(seq)[-1]))
    assert seq == record["generated"]


def test_addition_generates_the_sum() -> None:
    step = _build("add_next")
    assert isinstance(step, raspl.Seq)
    for a, b in [(95, 7), (99, 99), (0, 0), (123, 877)]:
        n = 3
        digits = [(a // 10**i) % 10 for i in range(n)] + [10]
        digits += [(b // 10**i) % 10 for i in range(n)] + [11]
        while digits[-1] != 12:
            digits.append(int(step(digits)[-1]))
        answer = digits[2 * n + 2 : -1]
        assert sum(d * 10**i for i, d in enumerate(answer)) == a + b


def test_programs_are_ordinary_ir() -> None:
    program = _build("lib_induct")
    assert isinstance(program, raspl.Seq) and isinstance(program.sop, SOp)
    analysis = analyse(program.sop)
    assert analysis.n_layers == 3
    assert "causal" in {n.label for n in _nodes(program.sop)}


def _nodes(root: Any) -> list[Any]:
    seen, todo = [], [root]
    while todo:
        node = todo.pop()
        seen.append(node)
        todo.extend(node.children)
    return seen


# ---------------------------------------------------------------- compiling causally

# program -> (layers, heads per layer) at max_seq_len 8 (compile times are in the report)
COMPILES = {
    "core_trunc_mean": (1, [1]),
    "core_custom_width": (1, [1]),
    "core_mean_default": (1, [1]),
    "core_mean_of_bools": (1, [2]),
    "core_max_of_bools": (1, [1]),
    "core_min_float_default": (1, [1]),
    "core_float_values": (1, [1]),
    "core_operators": (0, []),
    "core_int_bitwise": (1, [0]),
    "core_full_and_map": (0, []),
    "lib_shift_right": (1, [1]),
    "lib_shift_left": (1, [1]),
    "lib_cumsum": (1, [1]),
    "lib_where": (0, []),
    "lib_mask": (0, []),
    "lib_maximum": (1, [1]),
    "lib_minimum": (1, [1]),
    "lib_num_prev": (1, [1]),
    "lib_has_seen": (1, [1]),
    "lib_firsts": (1, [1]),
    "lib_lasts": (1, [1]),
    "lib_index_select": (1, [1]),
    "lib_first_true": (1, [1]),
    "lib_first_true_ints": (1, [1]),
    "lib_binary_mode": (1, [2]),
    "lib_induct": (3, [1, 1, 1]),
    "lib_induct_kqv": (3, [2, 1, 1]),
    "lib_induct_prev": (2, [1, 1]),
    "induction_next": (3, [1, 1, 1]),
}


def _compile_and_check(name: str, max_seq_len: int = 8) -> Any:
    program = _build(name)
    assert isinstance(program, raspl.Seq)
    vocab = PROGRAMS["PROGRAMS"][name][1]
    model = compile_program(program.sop, vocab=vocab, max_seq_len=max_seq_len, causal=True)
    assert model.info.verified.exact and model.info.domain.kind == "all"
    inputs = [c["input"] for c in RECORDED["programs"][name]["cases"]]
    inputs = [xs for xs in inputs if len(xs) <= max_seq_len]
    expected = program.run_batch(inputs)
    for xs, want in zip(inputs, expected, strict=True):
        assert model(xs) == want.tolist(), xs
    assert len(inputs) >= 10
    return model


@pytest.mark.parametrize("name", sorted(COMPILES))
def test_compiles_causally_and_exactly(name: str) -> None:
    model = _compile_and_check(name)
    layers, heads = COMPILES[name]
    assert (model.n_layers, list(model.heads_per_layer)) == (layers, heads)


@pytest.mark.slow
def test_count_compiles_causally() -> None:  # about 11 s: a big fused MLP
    model = _compile_and_check("count_next")
    assert model.n_layers == 2


def test_noncausal_select_is_refused_by_a_causal_compile() -> None:
    program = _build("core_noncausal_width")
    assert isinstance(program, raspl.Seq)
    with pytest.raises(CompileError, match="may pick keys after the query"):
        compile_program(program.sop, vocab=range(5), max_seq_len=6, causal=True)


# ---------------------------------------------------------------- random programs


def _trunc_mean(values: list[int]) -> int:
    return int(sum(values) / len(values))


PREDICATES = {
    "equals": (raspl.equals, lambda k, q: k == q),
    "leq": (raspl.leq, lambda k, q: k <= q),
    "lt": (raspl.lt, lambda k, q: k < q),
    "gt": (raspl.gt, lambda k, q: k > q),
    "parity": (lambda k, q: (k + q) % 2 == 0, lambda k, q: (k + q) % 2 == 0),
    "true": (lambda k, q: True, lambda k, q: True),
}
REDUCE = {"mean": _trunc_mean, "max": max, "min": min}


def _reference_kqv(k, q, v, test, default, reduction):
    out = []
    for i in range(len(q)):  # RASP-L is causal: keys 0..i only
        picked = [v[j] for j in range(i + 1) if test(k[j], q[i])]
        out.append(REDUCE[reduction](picked) if picked else default)
    return out


def _step(draw, pool):
    """One new (compat sequence, plain-Python reference values) from earlier ones."""
    kind = draw(st.sampled_from(["map", "zip", "kqv", "width", "shift", "where"]))
    pick = st.sampled_from(range(len(pool)))
    (a, ra), (b, rb), (c, rc) = (pool[draw(pick)] for _ in range(3))
    if kind == "map":
        n = draw(st.integers(-3, 3))
        return raspl.tok_map(a, lambda t: t * n - 1), [t * n - 1 for t in ra]
    if kind == "zip":
        return raspl.seq_map(a, b, lambda s, t: s - 2 * t), [
            s - 2 * t for s, t in zip(ra, rb, strict=True)
        ]
    if kind == "width":
        name = draw(st.sampled_from(sorted(PREDICATES)))
        ours, test = PREDICATES[name]
        widths = [sum(test(ra[j], rb[i]) for j in range(i + 1)) for i in range(len(ra))]
        return raspl.sel_width(raspl.select(a, b, ours)), widths
    if kind == "shift":
        n = draw(st.integers(0, 3))
        return raspl.shift_right(a, n, default=-1), [
            ra[i - n] if i >= n else -1 for i in range(len(ra))
        ]
    if kind == "where":
        return raspl.where(a > b, c, a), [
            z if x > y else x for x, y, z in zip(ra, rb, rc, strict=True)
        ]
    name = draw(st.sampled_from(sorted(PREDICATES)))
    reduction = draw(st.sampled_from(sorted(REDUCE)))
    default = draw(st.integers(-2, 2))
    ours, test = PREDICATES[name]
    built = raspl.kqv(a, b, c, ours, default=default, reduction=reduction)
    return built, _reference_kqv(ra, rb, rc, test, default, reduction)


@st.composite
def programs_and_inputs(draw, eager):
    xs = draw(st.lists(st.integers(-3, 4), min_size=1, max_size=8))
    start = np.array(xs) if eager else raspl.tokens  # eager: every step runs at once
    pool = [(start, xs), (raspl.indices(start), list(range(len(xs))))]
    for _ in range(draw(st.integers(1, 5))):
        pool.append(_step(draw, pool))
    return pool[-1], xs


@pytest.mark.parametrize("eager", [False, True], ids=["lazy", "eager"])
def test_random_programs_match_a_plain_python_reference(eager: bool) -> None:
    compared = []

    @settings(max_examples=60, deadline=None)
    @given(programs_and_inputs(eager))
    def check(case) -> None:
        (program, expected), xs = case
        out = program if eager else program(xs)
        assert isinstance(out, np.ndarray) and out.dtype == np.int64
        assert out.tolist() == expected
        compared.append(len(xs))

    check()
    assert len(compared) >= 30  # a check that compared nothing has failed


# ---------------------------------------------------------------- bad input

T = raspl.tokens


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: raspl.tok_map(T, 3), RaspTypeError, ["tok_map()", "function", "3"]),
        (lambda: raspl.seq_map(T, 2, max), RaspTypeError, ["seq_map()", "y", "2"]),
        (lambda: raspl.select(T, T, "=="), RaspTypeError, ["select()", "predicate", "'=='"]),
        (lambda: raspl.select(T, 3, raspl.equals), RaspTypeError, ["select()", "q", "3"]),
        (lambda: raspl.aggr(T, T), RaspTypeError, ["aggr_mean()", "selector", "A"]),
        (lambda: raspl.sel_width(T), RaspTypeError, ["sel_width()", "selector"]),
        (
            lambda: raspl.aggr(raspl.CAUSAL, T, reduction="sum"),
            DefinitionError,
            ["aggr()", "'sum'"],
        ),
        (
            lambda: raspl.aggr(raspl.CAUSAL, T, default="x", reduction="max"),
            RaspTypeError,
            ["aggr_max()", "'x'"],
        ),
        (
            lambda: raspl.aggr(raspl.CAUSAL, T > 1, reduction="min"),
            RaspTypeError,
            ["reduction='min'", "bool"],
        ),
        (lambda: raspl.full(T, None), RaspTypeError, ["full(x, const)", "None"]),
        (lambda: raspl.kqv(T, T, T), RaspTypeError, ["kqv()", "predicate"]),
        (lambda: raspl.shift_right(3, 1), RaspTypeError, ["shift_right()", "3"]),
        (lambda: raspl.where(T > 1, T, 0), RaspTypeError, ["where()", "y_else", "0"]),
        (lambda: raspl.induct(T, "abc", 1), RaspTypeError, ["induct()", "q", "'abc'"]),
        (lambda: raspl.mode(T), RaspTypeError, ["kqv()", "predicate"]),
        (lambda: T + "a", RaspTypeError, ["'+'", "'a'"]),
        (lambda: -(T > 1), RaspTypeError, ["'-'", "bool"]),
        (lambda: bool(T), RaspTypeError, ["truth value", "tokens"]),
        (lambda: T([1.5, 2.0]), InputError, ["ints", "[1.5, 2.0]"]),
        (lambda: raspl.run(lambda x: 3, [1]), RaspTypeError, ["run()", "3"]),
    ],
)
def test_bad_input_names_the_function_and_the_argument(call, error, words) -> None:
    with pytest.raises(error) as caught:
        call()
    for word in words:
        assert word in str(caught.value)


def test_map_results_that_are_not_numbers_are_reported() -> None:
    with pytest.raises(RaspError, match="tok_map"):
        raspl.tok_map(T, lambda t: None)([1, 2])
