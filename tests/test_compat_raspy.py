"""raspy's programs on rasplab: the sum rule, recorded raspy outputs, a differential check."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raspy_programs import programs

from rasplab import evaluate, indices, select, tokens
from rasplab.compat import raspy
from rasplab.compat.raspy import key, query
from rasplab.errors import RaspError
from rasplab.evaluate.naive import naive_evaluate
from rasplab.lang.nodes import Aggregate

# ---------------------------------------------------------------- the aggregation rule

SUM_CASES = {
    # input, selector predicate (indices vs indices), expected (typed)
    "none selected gives the default": ([1, 2], "false", ["-", "-"]),
    "one bool stays a bool": ([True, False, True], "<", ["-", True, 1]),
    "several bools sum as ints": ([True, True, True], "true", [3, 3, 3]),
    "one string is returned": (["a", "b"], "==", ["a", "b"]),
    "ints and floats sum as Python does": ([1, 2.5, 3], "<=", [1, 3.5, 6.5]),
}


@pytest.mark.parametrize("label", sorted(SUM_CASES))
def test_sum_mode_is_raspys_rule(label: str) -> None:
    xs, predicate, want = SUM_CASES[label]
    program = Aggregate(select(indices, indices, predicate), tokens, default="-", mode="sum")
    for got in (evaluate(program, xs), naive_evaluate(program, xs)):
        assert [(type(v), v) for v in got] == [(type(v), v) for v in want], label


# ---------------------------------------------------------------- recorded raspy outputs

FIXTURE = Path(__file__).parent / "fixtures" / "raspy" / "blog_programs.json"


def typed(value: Any) -> Any:
    """A value with its type, lists item by item (``1``, ``1.0`` and ``True`` differ)."""
    if isinstance(value, list | tuple):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def test_blog_programs_agree_with_recorded_raspy_outputs() -> None:
    recorded = json.loads(FIXTURE.read_text(encoding="utf-8"))["programs"]
    built = programs(raspy)
    assert set(built) == set(recorded), "fixtures and programs name the same programs"
    compared, disagreements = 0, []
    for name, (program, _) in built.items():
        for case in recorded[name]["cases"]:
            assert "output" in case, f"raspy itself failed on {name}: {case}"
            got = program(case["input"])
            got = got.val if isinstance(got, raspy.Sel) else list(got)
            compared += 1
            if typed(got) != typed(case["output"]):
                disagreements.append((name, case["input"], got, case["output"]))
    assert not disagreements, disagreements[:5]
    assert compared == sum(len(p["cases"]) for p in recorded.values()) >= 35 * 30


# ---------------------------------------------------------------- random programs vs a reference
# A program is drawn twice over: as compat s-ops, and as a plain-Python function that follows
# raspy's rasp.py (Python's operators on the values; aggregate: default / the value / the sum).

Ref = Callable[[list[int]], list[Any]]

_BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "&": operator.and_,
    "|": operator.or_,
    "==": operator.eq,
    "<": operator.lt,
    ">=": operator.ge,
}
_SELECT = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le}


def _reference_aggregate(
    sel: Callable[[list[int]], list[list[bool]]], val: Ref, default: int
) -> Ref:
    def run(xs: list[int]) -> list[Any]:
        matrix, values = sel(xs), val(xs)
        out = []
        for row in matrix:
            picked = [v for v, on in zip(values, row, strict=True) if on]
            out.append(default if not picked else picked[0] if len(picked) == 1 else sum(picked))
        return out

    return run


@st.composite
def selectors(draw: st.DrawFn, depth: int) -> tuple[Any, Callable[[list[int]], list[list[bool]]]]:
    (k, kref), (q, qref) = draw(sops(depth)), draw(sops(depth))
    symbol = draw(st.sampled_from(sorted(_SELECT)))
    pred = _SELECT[symbol]
    built = {"==": key(k) == query(q), "!=": key(k) != query(q)}
    built |= {"<": key(k) < query(q), "<=": key(k) <= query(q)}

    def ref(xs: list[int]) -> list[list[bool]]:
        ks, qs = kref(xs), qref(xs)
        return [[bool(pred(kv, qv)) for kv in ks] for qv in qs]

    return built[symbol], ref


@st.composite
def sops(draw: st.DrawFn, depth: int = 3) -> tuple[Any, Ref]:
    leaves: list[tuple[Any, Ref]] = [
        (raspy.tokens, list),
        (raspy.indices, lambda xs: list(range(len(xs)))),
        (raspy.length, lambda xs: [len(xs)] * len(xs)),
    ]
    kind = draw(st.sampled_from(["leaf", "const"] + (["op", "where", "agg"] if depth else [])))
    if kind == "leaf":
        return draw(st.sampled_from(leaves))
    if kind == "const":
        c = draw(st.integers(-2, 3))
        return raspy.repeat(c), lambda xs: [c] * len(xs)
    if kind == "op":
        symbol = draw(st.sampled_from(sorted(_BINARY)))
        (a, aref), fn = draw(sops(depth - 1)), _BINARY[symbol]
        if draw(st.booleans()):
            c = draw(st.integers(-2, 3))
            return _BINARY[symbol](a, c), lambda xs: [fn(v, c) for v in aref(xs)]
        b, bref = draw(sops(depth - 1))
        return fn(a, b), lambda xs: [fn(u, v) for u, v in zip(aref(xs), bref(xs), strict=True)]
    if kind == "where":
        (p, pref), (a, aref), (b, bref) = (draw(sops(depth - 1)) for _ in range(3))
        return raspy.where(p, a, b), lambda xs: [
            t if c else f for c, t, f in zip(pref(xs), aref(xs), bref(xs), strict=True)
        ]
    sel, sref = draw(selectors(depth - 1))
    if draw(st.booleans()):
        other, oref = draw(selectors(depth - 1))
        both = draw(st.booleans())
        sel = sel & other if both else sel | other
        first = sref
        sref = lambda xs: [  # noqa: E731
            [(a and b) if both else (a or b) for a, b in zip(r1, r2, strict=True)]
            for r1, r2 in zip(first(xs), oref(xs), strict=True)
        ]
    (val, vref), default = draw(sops(depth - 1)), draw(st.integers(-1, 2))
    return sel.value(val, default), _reference_aggregate(sref, vref, default)


TALLY = {"compared": 0, "both rejected": 0}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    program=sops(),
    inputs=st.lists(st.lists(st.integers(-3, 4), min_size=1, max_size=6), min_size=1, max_size=4),
)
def test_random_programs_follow_raspys_rules(
    program: tuple[Any, Ref], inputs: list[list[int]]
) -> None:
    sop, ref = program
    for xs in inputs:
        try:
            want: Any = ref(xs)
        except (TypeError, ValueError, ZeroDivisionError) as err:
            want = err
        try:
            got: Any = list(sop(xs))
        except RaspError as err:
            got = err
        if isinstance(want, Exception) or isinstance(got, RaspError):
            assert isinstance(want, Exception) and isinstance(got, RaspError), (xs, want, got)
            TALLY["both rejected"] += 1
            continue
        assert typed(got) == typed(want), (sop, xs)
        TALLY["compared"] += 1


def test_random_programs_compared_values() -> None:
    """Runs after the property (file order): most drawn inputs ran on both sides."""
    if TALLY["compared"] == 0:
        test_random_programs_follow_raspys_rules()
    assert TALLY["compared"] >= 50, TALLY
    assert TALLY["both rejected"] <= TALLY["compared"], TALLY


# ---------------------------------------------------------------- wrong kinds of argument

BAD_CALLS: dict[str, tuple[Callable[[], Any], str]] = {
    "select": (lambda: raspy.select(raspy.indices, raspy.indices, 3), r"select\(.*function"),
    "select keys": (lambda: raspy.select({1}, raspy.indices, operator.eq), r"select\(.*s-op"),
    "aggregate": (lambda: raspy.aggregate(raspy.tokens, 1), r"aggregate\(.*selector"),
    "aggregate default": (
        lambda: raspy.aggregate(key(1) == query(1), 1, default=[0]),
        r"aggregate\(.*one value",
    ),
    "key vs atom": (lambda: key(raspy.tokens) == 3, r"key\(x\) == expects query"),
    "query vs query": (lambda: query(1) < query(2), r"query\(x\) < expects key"),
    "key plus query": (lambda: key(1) + query(1), r"key\(x\) \+ .*compares"),
    "raw": (lambda: raspy.raw(5), r"raw\(xs\) expects a list"),
    "repeat": (lambda: raspy.repeat([1]), r"repeat\(v\) expects one value"),
    "wrap": (lambda: raspy.wrap(None), r"wrap expects an s-op"),
    "where": (lambda: raspy.where(raspy.tokens, {}, 0), r"where\(pred, t, f\) expects"),
    "map": (lambda: raspy.tokens.map(3), r"\.map\(f\) expects a function"),
    "has": (lambda: raspy.tokens.has(3), r"\.has\(v\) expects a collection"),
    "name": (lambda: raspy.tokens.name(3), r"\.name\(name\) expects a non-empty string"),
    "input": (lambda: raspy.indices.input(5), r"indices\(input\) expects an input list"),
    "selector and": (lambda: (key(1) == query(1)) & 3, r"selector & selector expects"),
    "selector invert": (lambda: ~(key(1) == query(1)), r"~selector .* selects every key"),
    "zip": (lambda: raspy.SOp.zip(3, raspy.tokens), r"SOp\.zip\(f, \*sops\) expects"),
}


@pytest.mark.parametrize("label", sorted(BAD_CALLS))
def test_wrong_arguments_raise_a_rasp_error_naming_the_raspy_function(label: str) -> None:
    call, message = BAD_CALLS[label]
    with pytest.raises(RaspError, match=r"raspy .*" + message):
        call()


# ---------------------------------------------------------------- the API itself


def test_names_display_and_nodes() -> None:
    from rasplab import analyse
    from rasplab.lang.nodes import Node

    named = (raspy.tokens + 1).name("plus")
    assert named.name == "plus" and named.label == "plus" and not (raspy.tokens + 1).name
    assert raspy.tokens.label == "tokens" and raspy.identity is raspy.tokens
    out = named.input([1, 2])
    assert out == [2, 3] and out.val == [2, 3] and out.bind == [1, 2]
    assert out._repr_svg_().startswith("<svg")
    assert repr(raspy.indices) == "[0, 1, 2, 3, 4]"  # raspy shows an s-op on "hello"
    assert isinstance(raspy.length, Node) and analyse(raspy.length).n_layers == 1
    assert raspy.length([7, 7, 7]) == [3, 3, 3]
    assert "<svg" in (key(raspy.indices) < query(raspy.indices))._repr_html_()
    assert "query" in query(raspy.tokens)._repr_html_()


def test_values_follow_pythons_operators_as_raspy_does() -> None:
    t = raspy.tokens
    assert typed(list((~(t == 1))([1, 2]))) == typed([-2, -1])  # ~True is -2
    assert typed(list(((t == 1) & 3)([1, 2]))) == typed([1, 0])  # bitwise &
    assert list((1 - raspy.indices)("abc")) == [1, 0, -1]  # reflected operators work too
    assert list(raspy.SOp.zip(max, t, raspy.indices)([0, 5, 1])) == [0, 5, 2]
    assert list(t.round()([0.4, 2.6])) == [0, 3]


def test_plus_minus_times_of_two_sops_are_the_language_s_on_numbers():
    # the compiler computes those on whole arrays; with a constant, or another operator,
    # raspy's own function is called per value
    from rasplab.compat import raspy
    from rasplab.compiler.arithmetic import arithmetic_op

    t, i = raspy.tokens, raspy.indices
    for made in (t + i, t - i, t * i, i - t):
        assert arithmetic_op(made.f) is not None
    for made in (t / i, t - 1, 2 * t, t % i):
        assert arithmetic_op(made.f) is None
    assert (i - t)([5, 1]) == [-5, 0] and (t * i)(["a", "b"]) == ["", "b"]


@pytest.mark.parametrize("n", [4, 30])
def test_value_sets_of_raspy_arithmetic_are_those_found_value_by_value(n, monkeypatch):
    from rasplab.compat import raspy
    from rasplab.compiler import arithmetic, domains, value_bulk, value_maps
    from rasplab.compiler.value_sets import infer

    length = raspy.length
    program = (length - raspy.indices) * (raspy.indices + length)
    fast = infer(program, [0, 1], n)
    for module in (arithmetic, domains, value_bulk, value_maps):  # every shortcut off
        monkeypatch.setattr(module, "arithmetic_op", lambda f: None)
    slow = infer(program, [0, 1], n)
    assert [fast.at(program, k) for k in range(n)] == [slow.at(program, k) for k in range(n)]
