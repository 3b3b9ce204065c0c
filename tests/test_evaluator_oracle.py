"""Differential tests: the batched evaluator against the naive per-position oracle.

Random programs (DAGs of maps, zipmaps, selects, selector algebra, aggregates
in every mode and selector widths) run on random batches of mixed-length
inputs. The batched results must equal the oracle's exactly, value *and*
type (``1``, ``1.0`` and ``True`` differ); floats are compared with a
relative tolerance of 1e-9. Errors must agree in class, results must not
depend on which other inputs share the batch, and traces must hold the
oracle's value for every node.
"""

from __future__ import annotations

import math
import operator
import random
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasplab import (
    aggregate,
    evaluate,
    evaluate_batch,
    indices,
    length,
    numerical,
    select,
    selector_width,
)
from rasplab import tokens as tokens_sop
from rasplab.errors import AggregateError, RaspError
from rasplab.evaluate import coerce_input, engine
from rasplab.evaluate.naive import naive_evaluate, naive_values
from rasplab.lang.graph import value_key
from rasplab.lang.nodes import Constant, Map, Node, Selector, ZipMap
from rasplab.library import PROGRAMS


def examples(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


PREDICATES = ["==", "!=", "<", "<=", ">", ">=", "true", "false"]


# ---------------------------------------------------------------- comparing results


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, recursively; floats within a relative 1e-9."""
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def typed(value: Any) -> Any:
    """``(type, value)`` pairs all the way down, for readable failure messages."""
    if isinstance(value, list | tuple):
        return type(value)(typed(v) for v in value)
    return (type(value).__name__, value)


def oracle(program: Node, xs: Any) -> tuple[str, Any]:
    """``("ok", values)`` or ``("error", RaspError subclass)`` from the naive evaluator."""
    try:
        return "ok", naive_evaluate(program, xs)
    except RaspError as err:
        return "error", type(err)


# ---------------------------------------------------------------- random programs

# Each function's name becomes its node's description, so that failures print readably.
MAPS_NUMERIC = {
    "plus1": lambda x: x + 1,
    "times2": lambda x: x * 2,
    "mod3": lambda x: x % 3,
    "odd_to_float": lambda x: float(x) if x % 2 else x,  # equal values of two types
}
MAPS_NUMERIC_TO_BOOL = {"eq1": lambda x: x == 1, "lt2": lambda x: x < 2}
MAPS_STR = {"suffix": lambda s: s + "z", "first": lambda s: s[:1]}
MAPS_STR_TO_BOOL = {"is_a": lambda s: s == "a", "before_c": lambda s: s < "c"}
ZIPS_NUMERIC = {"add": operator.add, "sub": operator.sub, "max": max}
ZIPS_ANY = {"max": max, "eq": operator.eq}


class Pools:
    """Nodes built so far, grouped by the kind of value they hold.

    ``floats`` holds means of ints and maps of those: both evaluators compute
    them bit for bit alike, so comparing them downstream is safe. Means of
    arbitrary floats are not generated (summation order may differ).
    """

    def __init__(self, token_kind: str) -> None:
        self.families: dict[str, list[Node]] = {
            "ints": [indices, length, Constant(0), Constant(2)],
            "floats": [],
            "bools": [Constant(True)],
            "strs": [Constant("b")],
        }
        self.families["ints" if token_kind == "int" else "strs"].append(tokens_sop)
        self.selectors: list[Selector] = []
        self.single: list[Selector] = []  # select at most one key per query
        self.every: list[Node] = []  # every s-op made, for ill-typed ("wild") operands

    def family_of(self, node: Node) -> str | None:
        for name, members in self.families.items():
            if any(m is node for m in members):
                return name
        return None

    def numeric(self) -> list[Node]:
        return self.families["ints"] + self.families["floats"]

    def is_single(self, sel: Selector) -> bool:
        return any(s is sel for s in self.single)


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, Node]:
    """A random program and the kind of tokens (``int`` or ``str``) it expects."""
    kind = draw(st.sampled_from(["int", "str"]))
    p = Pools(kind)
    fam = p.families
    made: list[Node] = []

    def pick(pool: list[Any]) -> Any:  # newest first, so that programs grow deep
        return pool[-1 - draw(st.integers(0, len(pool) - 1))]

    def operand(pool: list[Node], wild: bool) -> Node:
        if wild:
            return pick(p.every + [n for members in fam.values() for n in members])
        return pick(pool)

    def numeric_result(*xs: Node) -> str:
        return "floats" if any(p.family_of(x) == "floats" for x in xs) else "ints"

    for step in range(draw(st.integers(3, 14))):
        wild = draw(st.integers(0, 9)) == 0  # ill-typed operands: both must fail alike
        op = "select" if step == 0 else draw(st.sampled_from(OPS))
        node: Node
        family: str | None  # where the result goes (None: only reachable as a wild operand)
        if op == "map_num":
            x = operand(p.numeric(), wild)
            name = draw(st.sampled_from(sorted(MAPS_NUMERIC) + sorted(MAPS_NUMERIC_TO_BOOL)))
            if name in MAPS_NUMERIC:
                node = Map(MAPS_NUMERIC[name], x, desc=name + "({0})")
                family = "floats" if name == "odd_to_float" else numeric_result(x)
            else:
                node, family = Map(MAPS_NUMERIC_TO_BOOL[name], x, desc=name + "({0})"), "bools"
        elif op == "map_str":
            x = operand(fam["strs"], wild)
            name = draw(st.sampled_from(sorted(MAPS_STR) + sorted(MAPS_STR_TO_BOOL)))
            if name in MAPS_STR:
                node, family = Map(MAPS_STR[name], x, desc=name + "({0})"), "strs"
            else:
                node, family = Map(MAPS_STR_TO_BOOL[name], x, desc=name + "({0})"), "bools"
        elif op == "map_bool":
            x = operand(fam["bools"], wild)
            if draw(st.booleans()):
                node, family = ~x, "bools"
            else:
                node, family = Map(_indicator, x, desc="indicator({0})"), "ints"
        elif op == "zip_num":
            a, b = operand(p.numeric(), wild), operand(p.numeric(), wild)
            name = draw(st.sampled_from(sorted(ZIPS_NUMERIC)))
            node = ZipMap(ZIPS_NUMERIC[name], a, b, desc=name + "({0}, {1})")
            family = numeric_result(a, b)
        elif op == "zip_any":
            of = draw(st.sampled_from(["numeric", "strs", "bools"]))
            pool = p.numeric() if of == "numeric" else fam[of]
            a, b = operand(pool, wild), operand(pool, wild)
            name = draw(st.sampled_from(sorted(ZIPS_ANY)))
            node = ZipMap(ZIPS_ANY[name], a, b, desc=name + "({0}, {1})")
            family = of if of != "numeric" else numeric_result(a, b)
            family = "bools" if name == "eq" else family
        elif op == "select":
            of = draw(st.sampled_from(["numeric", "strs", "bools"]))
            pool = p.numeric() if of == "numeric" else fam[of]
            keys, queries = operand(pool, wild), operand(pool, wild)
            if draw(st.integers(0, 4)) == 0:  # an atom on one side
                queries = {"numeric": 1, "strs": "b", "bools": True}[of]
            node, family = select(keys, queries, draw(st.sampled_from(PREDICATES))), None
            p.selectors.append(node)
        elif op == "select_single":  # distinct keys (indices) under == pick at most one
            node, family = select(indices, pick(p.numeric()), "=="), None
            p.selectors.append(node)
            p.single.append(node)
        elif op == "combine":
            if not p.selectors:
                continue
            how = draw(st.sampled_from(["and", "or", "not"]))
            a, family = pick(p.selectors), None
            if how == "not":
                node = ~a
            else:
                b = pick(p.selectors)
                node = a & b if how == "and" else a | b
                if how == "and" and (p.is_single(a) or p.is_single(b)):
                    p.single.append(node)
            p.selectors.append(node)
        elif op == "width":
            if not p.selectors:
                continue
            node, family = selector_width(pick(p.selectors)), "ints"
        elif op == "mean":  # numeric mean over ints, or over bools marked numerical (0/1)
            if not p.selectors:
                continue
            if draw(st.integers(0, 3)) == 0:
                values = numerical(operand(fam["bools"], wild))
            else:
                values = operand(fam["ints"], wild)
            default = draw(st.sampled_from([0, 1, -1]))
            node, family = aggregate(pick(p.selectors), values, default), "floats"
        elif op == "sum":
            if not p.selectors:
                continue
            values = operand(fam["ints"] + fam["bools"], wild)
            default = draw(st.sampled_from([0, 5]))
            node, family = aggregate(pick(p.selectors), values, default, mode="sum"), "ints"
        elif op in ("extreme", "categorical"):
            sels = p.selectors if op == "extreme" else p.single
            if not sels:
                continue
            family = draw(st.sampled_from(sorted(f for f in fam if fam[f])))
            values = operand(fam[family], wild and op == "extreme")
            default: Any = {"ints": -1, "floats": 0, "strs": "-", "bools": False}[family]
            if op == "categorical" and draw(st.integers(0, 19)) == 0:
                default, family = None, None
            mode = "mean" if op == "categorical" else draw(st.sampled_from(["max", "min"]))
            node = aggregate(pick(sels), values, default, mode=mode)
        else:  # pragma: no cover
            raise AssertionError(op)
        if family is not None and not wild and not isinstance(node, Selector):
            fam[family].append(node)
        if not isinstance(node, Selector):
            p.every.append(node)
        made.append(node)
    sops = [node for node in made if not isinstance(node, Selector)]
    how = draw(st.sampled_from(["tuple", "last", "any"]))
    if how == "tuple" and len(sops) > 1:  # several results at once, as a tuple per position
        return kind, ZipMap(_as_tuple, *sops[-4:], desc="tuple")
    return kind, made[-1] if how == "last" else pick(made)


def _as_tuple(*values: Any) -> tuple[Any, ...]:
    return values


def _indicator(b: Any) -> int:
    return 1 if b else 0


OPS = [
    "map_num",
    "map_str",
    "map_bool",
    "zip_num",
    "zip_any",
    "select",
    "select_single",
    "combine",
    "width",
    "mean",
    "sum",
    "extreme",
    "categorical",
]


INT_TOKEN = st.integers(-3, 6)
STR_TOKEN = st.sampled_from(["a", "b", "c", "d", "ab"])


def inputs_of(kind: str, min_len: int = 1, max_len: int = 7) -> st.SearchStrategy[list[Any]]:
    token = INT_TOKEN if kind == "int" else STR_TOKEN
    return st.lists(token, min_size=min_len, max_size=max_len)


@st.composite
def cases(draw: st.DrawFn, max_batch: int = 6) -> tuple[Node, list[list[Any]]]:
    kind, program = draw(programs())
    batch = draw(st.lists(inputs_of(kind), min_size=1, max_size=max_batch))
    return program, batch


# ---------------------------------------------------------------- the properties


def check_batch(program: Node, batch: list[list[Any]]) -> None:
    expected = [oracle(program, xs) for xs in batch]
    failed = {err for status, err in expected if status == "error"}
    for xs, (status, want) in zip(batch, expected, strict=True):
        if status == "error":  # the same error class, input by input
            with pytest.raises(want):
                evaluate(program, xs)
    if failed:  # one failing input fails the whole batch, with one of the oracle's classes
        with pytest.raises(RaspError) as info:
            evaluate_batch(program, batch)
        assert type(info.value) in failed, (info.value, failed)
        return
    got = evaluate_batch(program, batch)
    for xs, fast, (_, slow) in zip(batch, got, expected, strict=True):
        assert same(fast, slow), (program, xs, typed(fast), typed(slow))


@examples(1200)
@given(cases())
def test_batched_evaluator_matches_oracle(case: tuple[Node, list[list[Any]]]) -> None:
    check_batch(*case)


@examples(600)
@given(programs(), st.data())
def test_results_do_not_depend_on_batch_composition(kind_program, data) -> None:
    kind, program = kind_program
    other = "str" if kind == "int" else "int"
    lengths = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    mine = [data.draw(inputs_of(kind, n, n)) for n in lengths]
    theirs = [data.draw(inputs_of(other, n, n)) for n in lengths]  # other token type, same lengths
    usable = [xs for xs in mine + theirs if oracle(program, xs)[0] == "ok"]
    if not usable:
        return
    alone = [evaluate(program, xs) for xs in usable]
    crowd = data.draw(st.permutations(usable + usable[:2]))
    small_chunks = data.draw(st.sampled_from([engine.CHUNK_ELEMENTS, 20]))
    with mock.patch.object(engine, "CHUNK_ELEMENTS", small_chunks):
        together = evaluate_batch(program, crowd)
    for xs, result in zip(crowd, together, strict=True):
        want = alone[usable.index(xs)]
        assert same(result, want), (program, xs, typed(result), typed(want))
        assert same(result, naive_evaluate(program, xs))


@examples(500)
@given(cases(max_batch=3))
def test_traces_hold_the_oracle_value_of_every_node(case) -> None:
    program, batch = case
    usable = []
    for xs in batch:
        try:
            usable.append((xs, naive_values(program, xs)))
        except RaspError:
            continue
    if not usable:
        return
    traces = evaluate_batch(program, [xs for xs, _ in usable] * 2, trace=True)
    check_columns(traces[0])
    for (xs, slow), trace in zip(usable, traces, strict=False):
        assert trace.input == list(xs)
        assert set(slow) == {node.id for node in trace.nodes}
        for node in trace.nodes:
            assert same(trace[node], slow[node.id]), (node, xs, typed(trace[node]))


def check_columns(trace: Any) -> None:
    """Every encoded s-op is canonical: distinct table values, each one used."""
    for node in trace.nodes:
        column = trace._values[node.id]  # the evaluator's working representation
        if isinstance(node, Selector):
            continue
        keys = [value_key(v) for v in column.table]
        assert len(set(keys)) == len(keys), (node, column.table)
        assert sorted(set(column.codes.ravel().tolist())) == list(range(len(keys))), node


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(PROGRAMS)), st.data())
def test_library_programs_match_oracle(name, data) -> None:
    entry = PROGRAMS[name]
    program = entry.build()
    lengths = data.draw(st.lists(st.integers(max(1, entry.min_len), 12), min_size=1, max_size=5))
    rng = data.draw(st.randoms(use_true_random=False))
    batch = [entry.sample(rng, n) for n in lengths]
    check_batch(program, batch)


# ---------------------------------------------------------------- cases found the hard way


def test_select_only_compares_values_of_the_same_input() -> None:
    # "a" < 1 is a TypeError, but those two tokens never meet in one input.
    width = selector_width(select(tokens_sop, tokens_sop, "<"))
    assert evaluate_batch(width, ["ab", [1, 2]]) == [[0, 1], [0, 1]]
    with pytest.raises(RaspError):
        evaluate(width, ["a", 1])  # mixed input is refused
    nullable = Map(_none_for_n, tokens_sop, desc="none_for_n({0})")
    later = selector_width(select(nullable, nullable, "<"))
    assert evaluate_batch(later, ["ab", "ba"]) == [[0, 1], [1, 0]]
    with pytest.raises(RaspError) as info:
        evaluate_batch(later, ["ab", "an"])  # "a" < None inside the second input
    assert type(info.value) is naive_error(later, "an")


def _none_for_n(token: str) -> Any:
    return None if token == "n" else token


def naive_error(program: Node, xs: Any) -> type:
    status, err = oracle(program, xs)
    assert status == "error"
    return err


@pytest.mark.parametrize("mode", ["max", "min"])
def test_extreme_only_orders_values_of_the_same_input(mode) -> None:
    best = aggregate(select(indices, indices, "<="), tokens_sop, mode=mode)
    got = evaluate_batch(best, ["ba", [2, 1], [2.5, 1]])
    assert got == [naive_evaluate(best, xs) for xs in ["ba", [2, 1], [2.5, 1]]]
    infinite = [[math.inf, 1.0, -math.inf], [1.0, -math.inf, 0.5]]  # ordinary numbers
    for xs, fast in zip(infinite, evaluate_batch(best, infinite), strict=True):
        assert same(fast, naive_evaluate(best, xs)), (xs, fast)
    with pytest.raises(AggregateError):
        upto = select(indices, indices, "<=")
        evaluate(aggregate(upto, Map(_none_after_0, indices), mode=mode), [1, 2])


def _none_after_0(i: int) -> Any:
    return None if i else "x"


@pytest.mark.parametrize("mode", ["max", "min"])
def test_extreme_ties_go_to_the_first_selected_key(mode) -> None:
    # 1, 1.0 and True compare equal; like Python's max/min, the first selected one wins.
    values = ZipMap(lambda i, t: [1, 1.0, True][(i + t) % 3], indices, tokens_sop, desc="pick")
    best = aggregate(select(indices, indices, "<="), values, mode=mode)
    batch = [[0, 0, 0], [1, 1, 1], [2, 2, 2]]
    got = evaluate_batch(best, batch)
    for xs, fast in zip(batch, got, strict=True):
        assert same(fast, naive_evaluate(best, xs)), typed(fast)


@pytest.mark.parametrize("mode", ["mean", "sum"])
def test_infinities_elsewhere_in_the_row_do_not_leak(mode) -> None:
    upto = aggregate(select(indices, indices, "<="), tokens_sop, mode=mode)
    for xs in ([1.0, 2.0, math.inf], [1.0, 2.0, -math.inf, 3.0], [math.inf, 1.0], [-math.inf, 2]):
        assert same(evaluate(upto, xs), naive_evaluate(upto, xs)), (xs, evaluate(upto, xs))


def test_value_types_survive_aggregation() -> None:
    cases_ = {
        "one int": ([5, 6], select(indices, 0, "=="), [5, 5]),
        "mean of equal ints is a float": ([4, 4], select(indices, indices, "true"), [4.0, 4.0]),
        "one bool": ([True, False], select(indices, 1, "=="), [False, False]),
        "equal strings": (["a", "a"], select(indices, indices, "true"), ["a", "a"]),
    }
    for label, (xs, sel, want) in cases_.items():
        program = aggregate(sel, tokens_sop)
        assert typed(evaluate(program, xs)) == typed(want), label
        assert typed(naive_evaluate(program, xs)) == typed(want), label


def test_oracle_is_not_exported_from_the_package() -> None:
    import rasplab

    assert not hasattr(rasplab, "naive_evaluate")
    assert "naive_evaluate" not in rasplab.__all__


# ---------------------------------------------------------------- long inputs and odd tokens
# The property tests use short inputs; these reach the kernels' other code paths
# (more than 63, 127 and 255 positions; large value tables; wide integer sums).


def _long_programs() -> dict[str, Node]:
    upto = select(indices, indices, "<=")
    flip = select(indices, length - indices - 1, "==")
    big = Map(lambda t: t * 1000 - 7, tokens_sop, desc="big({0})")
    return {
        "reverse": aggregate(flip, tokens_sop),
        "width": selector_width(select(tokens_sop, tokens_sop, "<=")),
        "prefix_mean_01": aggregate(upto, Map(lambda t: t % 2, tokens_sop, desc="odd({0})")),
        "prefix_mean_wide": aggregate(upto, big),
        "prefix_mean_huge": aggregate(upto, big * 100_000),
        "prefix_mean_float": aggregate(upto, Map(lambda t: t / 4, tokens_sop, desc="q({0})")),
        "prefix_sum": aggregate(upto, big, mode="sum"),
        "prefix_max": aggregate(upto, tokens_sop * 2, mode="max"),
        "many_ranks": selector_width(select(indices * 3, indices + tokens_sop, "<")),
        "pairs": ZipMap(lambda i, t: i * 1000 + t, indices, tokens_sop, desc="pair({0}, {1})"),
        "mean_of_means": aggregate(upto, aggregate(upto, tokens_sop) + 0.5),
    }


@pytest.mark.parametrize("n", [70, 130, 260])
@pytest.mark.parametrize("name", sorted(_long_programs()))
def test_long_inputs_match_oracle(name: str, n: int) -> None:
    program = _long_programs()[name]
    rng = random.Random(f"{name}:{n}")
    batch = [[rng.randrange(-50, 50) for _ in range(n)] for _ in range(2)]
    batch.append([rng.randrange(3) for _ in range(n)])
    for xs, fast in zip(batch, evaluate_batch(program, batch), strict=True):
        assert same(fast, naive_evaluate(program, xs)), (name, n)


@pytest.mark.parametrize(
    "batch",
    [
        ["ab", ["", "ab"]],  # as many characters as tokens, yet not one each
        [["a", "b"], ["ab", "c"]],
        ["\U0001f600a", "ab"],  # beyond the 16-bit code points
        [["\ud800", "a"]],  # a lone surrogate
        [[1, 2], [2, 1]],
        [[True, False], [False, False]],
        [[0.5, float("inf")], [float("-inf"), 0.5]],
    ],
)
def test_token_interning_matches_oracle(batch: list[Any]) -> None:
    hist = selector_width(select(tokens_sop, tokens_sop, "=="))
    first = aggregate(select(indices, 0, "=="), tokens_sop)
    for program in (hist, first, tokens_sop):
        got = evaluate_batch(program, batch)
        for xs, fast in zip(batch, got, strict=True):
            assert same(fast, naive_evaluate(program, xs)), (xs, typed(fast))


@pytest.mark.parametrize(
    "batch",
    [
        [],
        ["ab", ""],
        ["ab", [1, "a"]],
        [[1, 2], [1, None]],
        [[1, 2.5], (3, 4)],
        [["a", "b"], 7],
        [[1, [2]], ""],
        [[True, 1]],
        [np.array([1, 2]), [3, 4]],
        [[1] * 40_000, [2] * 40_000, [3, True]],  # the odd token is past the first block
        [[1] * 70_000, ["a"]],
        [[1] * 600_000, [2.5] * 600_000],  # too many tokens for one flat list
    ],
    ids=lambda batch: f"{len(batch)} inputs",
)
def test_batch_input_checks_match_one_by_one(batch: list[Any]) -> None:
    try:
        want: Any = [coerce_input(xs) for xs in batch]
    except RaspError as err:
        want = (type(err), str(err))
    try:
        got: Any = evaluate_batch(tokens_sop, batch)
    except RaspError as err:
        got = (type(err), str(err))
    assert got == want


def test_inputs_are_neither_changed_nor_shared() -> None:
    inputs = [[1, 2], [3, 4]]
    outputs = evaluate_batch(tokens_sop, inputs)
    traces = evaluate_batch(tokens_sop + 1, inputs, trace=True)
    inputs[0].append(5)
    assert outputs == [[1, 2], [3, 4]] and outputs[1] is not inputs[1]
    assert [t.input for t in traces] == [[1, 2], [3, 4]]
