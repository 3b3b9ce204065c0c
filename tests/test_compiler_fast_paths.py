"""The compiler's fast paths give what the plain computation gives.

Each vectorised, sampled-first or reduced computation is compared with a
straightforward reference on the same data: checks of MLP units, truth
tables of literals, positional values, arithmetic on value tables, the
observation of averaging aggregates, and the per-axis groups of the ``axis``
construction.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import defaultdict

import numpy as np
import pytest

from rasplab import aggregate, indices, length, numerical, select, selector_width, tokens
from rasplab.compiler import compile_program
from rasplab.compiler.checking import _matrices, check
from rasplab.compiler.mlp import synthesize
from rasplab.compiler.storage import Storage
from rasplab.compiler.units import Leaf, Problem, Target, Unit, _classes, _out_ids
from rasplab.evaluate import evaluate_batch
from rasplab.lang.graph import topological_order
from rasplab.lang.nodes import Aggregate, Constant, Indices, Map, Select, ZipMap

# ---------------------------------------------------------------- checking units


def _check_every_point(p: Problem, units) -> bool:
    """The reference: every unit on every domain point, densely (the weights laid
    out as the compiler lays them out; the check itself is the plain one)."""
    contributions, bias, w_out = _matrices(p, units)  # per leaf: [values, units]
    pre = bias + sum(t[p.codes[:, k]] for k, t in enumerate(contributions))
    got = np.maximum(pre, 0.0) @ w_out
    outs = p.target.directions
    if p.target.kind is Storage.ONE_HOT:
        want, scale = np.eye(len(outs))[p.out], 1.0
    else:
        want, scale = p.out[:, None], max(1.0, float(np.abs(p.out).max()))
    return bool(np.abs(got - want).max() <= 1e-6 * scale)


def _axis_problem(n: int) -> Problem:
    """Two counts and a gate: the output is a step function of their difference."""
    coords = [n * n / (n * n + w) for w in range(n + 1)]
    leaves = [Leaf.numerical("a", coords), Leaf.numerical("b", coords), Leaf.categorical("g", "xy")]
    codes = np.array(list(itertools.product(range(n + 1), range(n + 1), range(2))))
    out = [int(np.clip(a - b, -2, 2)) + 2 if g else 0 for a, b, g in codes]
    return Problem(leaves, codes, Target.categorical([f"o:{k}" for k in range(5)]), out)


def _perturbed(units, rng: random.Random) -> list[Unit]:
    units = list(units)
    u = rng.randrange(len(units))
    w_in, w_out = dict(units[u].w_in), dict(units[u].w_out)
    d = rng.choice(list(w_in))
    w_in[d] = w_in[d] * (1 + rng.choice([1e-12, 1e-9, 1e-3, 0.05, 0.5]))
    w_in[d] += rng.choice([0.0, 0.0, 1e-8, 1e-2])
    if rng.random() < 0.3:
        o = rng.choice(list(w_out))
        w_out[o] *= 1 + rng.choice([1e-9, 1e-7, 1e-4, 0.1])
    units[u] = Unit(w_in, w_out)
    return units


def test_the_reduced_check_decides_as_checking_every_point():
    p = _axis_problem(60)
    spec = synthesize(p.leaves, p.codes, p.target, p.out)
    assert spec is not None and spec.strategy == "axis"
    assert check(p, spec.units) and _check_every_point(p, spec.units)
    rng = random.Random(0)
    outcomes = []
    for _ in range(60):
        units = _perturbed(spec.units, rng)
        fresh = Problem(p.leaves, p.codes, p.target, p.out)
        outcomes.append(_check_every_point(fresh, units))
        assert check(fresh, units) == outcomes[-1]
    assert any(outcomes) and not all(outcomes)  # both kinds of answer were compared


# ---------------------------------------------------------------- truth tables


_VALUES = [
    [0, 1, 2, 3, -1],
    [0.5, 1.0, 2, True, False],
    ["a", "b", "ab", "", "B"],
    [None, 1, "a", 2.5],
    [(1, 2), (1,), (0, 3)],
]


@pytest.mark.parametrize("values", _VALUES)
@pytest.mark.parametrize("predicate", ["==", "!=", "<", "<=", ">", ">="])
def test_truth_tables_match_the_literal_pair_by_pair(values, predicate):
    from rasplab.compiler.selectors import formula, truth_table

    keys = Map(lambda x: x, tokens).named("k")
    queries = Map(lambda x: x, tokens).named("q")
    selectors = [
        select(keys, queries, predicate),
        ~select(keys, queries, predicate),
        select(keys, queries, predicate) & ~select(keys, queries, "=="),
        select(keys, 1, predicate),
        select("a", queries, predicate),
    ]
    for sel in selectors:
        lit = formula(sel)
        kv = values if lit.key is not None else [None]
        qv = values if lit.query is not None else [None]
        want = [[lit.holds(k, q) for k in kv] for q in qv]
        assert truth_table(lit, kv, qv).tolist() == want


def test_wildcard_literals_accept_the_wildcard_and_otherwise_test_as_before():
    from rasplab.compiler.lower import WILD
    from rasplab.compiler.selectors import LiteralTest, formula, truth_table

    inner = formula(select(indices, indices, "<"))
    lit = formula(Select(indices, indices, LiteralTest(inner, wildcard=WILD)))
    keys, queries = [0, WILD, 2, 3], [1, 2, 3]
    want = [[k is WILD or inner.holds(k, q) for k in keys] for q in queries]
    assert truth_table(lit, keys, queries).tolist() == want


# ---------------------------------------------------------------- positional values


def _per_length(program, token, n):
    from rasplab.compiler import positional as P

    found = [
        x
        for x in topological_order(program)
        if x.id in P.positional_nodes(program) and not isinstance(x, Indices | Constant)
    ]
    values, widths = {}, {}
    inputs = [[token] * k for k in range(1, n + 1)]
    P._evaluate(found, inputs, lambda ns, ts: P._collect(ns, ts, n), values, widths, set())
    return values, widths


@pytest.mark.parametrize(
    "program",
    [
        selector_width(select(indices, indices, ">")),
        aggregate(select(indices, indices.map(lambda i: 10 // (i - 3)), "=="), tokens),
        aggregate(select(indices, length - indices - 1, "==") & select(indices, 2, "!="), tokens),
        aggregate(Select(indices, indices, lambda k, q: k < q if k != 2 else 1 / 0), tokens),
        aggregate(~select(indices.map(lambda i: i % 3), indices.map(lambda i: i % 2), "<"), tokens),
    ],
)
def test_positional_values_from_one_input_match_every_length(program):
    from rasplab.compiler.positional import exact_positional, positional_nodes

    for n in (1, 4, 9):
        values, widths = exact_positional(program, positional_nodes(program), "a", n)
        want_values, want_widths = _per_length(program, "a", n)
        assert values == want_values and widths.keys() == want_widths.keys()
        assert all(np.array_equal(widths[k], want_widths[k]) for k in widths)


# ---------------------------------------------------------------- arithmetic


def test_arithmetic_on_value_tables_matches_calling_the_function():
    from rasplab.compiler import domains

    a, b = Map(lambda x: x, tokens), Map(lambda x: x, tokens)
    tables = [[0, 1, 2.5, -3, 7], [1, 0.5, 2, -0.0, 4]]
    codes = np.array(list(itertools.product(range(5), range(5))))
    for total in (a + b, a - b, a * b):
        fast = domains.evaluate_fused(total, [a, b], tables, codes)
        table, which, ok = fast
        want = [total.f(tables[0][i], tables[1][j]) for i, j in codes]
        got = [table[w] for w in which]
        assert ok.all() and [(type(v), v) for v in got] == [(type(v), v) for v in want]


def test_value_sets_hold_the_same_values_with_arithmetic_per_position(monkeypatch):
    from rasplab.compiler import value_maps
    from rasplab.compiler.value_sets import infer

    prefix = select(indices, indices, "<=")
    opens = numerical(aggregate(prefix, (tokens == "a") * 1))
    closes = numerical(aggregate(prefix, (tokens == "b") * 1))
    program = (opens - closes) * (indices + 1)
    normal = infer(program, "ab", 7)
    monkeypatch.setattr(value_maps, "ARRAY_LIMIT", 1)  # products "too big": per position
    small = infer(program, "ab", 7)
    for node in topological_order(program):
        if node.id in normal.sets:  # both may add k next to k.0 where ints meet floats
            pairs = zip(normal.sets[node.id], small.sets[node.id], strict=True)
            assert all(a <= b or b <= a for a, b in pairs), node.label
            numbers = all(isinstance(v, int | float) for v in normal.union(node))
            same = (lambda vs: {float(v) for v in vs}) if numbers else set
            assert same(normal.union(node)) == same(small.union(node)), node.label


# ---------------------------------------------------------------- observing averages


def _old_observation(program, inputs):
    """Every aggregate, on every input the whole program runs on (the former way)."""
    from rasplab.compiler.encodings import _averages

    found, traces = set(), []
    for xs in inputs:
        try:
            traces += evaluate_batch(program, [xs], trace=True)
        except Exception:
            continue
    for trace in traces:
        for agg in (n for n in topological_order(program) if isinstance(n, Aggregate)):
            if _averages(trace, agg):
                found.add(agg.id)
    return found


def test_observing_only_what_an_aggregate_reads_decides_as_the_whole_program():
    from rasplab.compiler.encodings import AggregatePolicy, sample_inputs

    flag = (tokens == "a") * 1
    mean = aggregate(select(tokens, tokens, "==") | select(indices, 0, "=="), flag)
    picky = aggregate(select(tokens, "a", "=="), indices)  # several keys when "a" repeats
    # rejects every input with a "c": what happens there is no evidence
    strict = ZipMap(lambda m, t: 1 / 0 if t == "c" else m, mean, tokens)
    for program in (mean + picky, strict, ZipMap(lambda a, b: a, strict, picky)):
        policy = AggregatePolicy(program, "abc", 6)
        inputs = sample_inputs("abc", 6, policy.n_samples, policy.seed)
        want = _old_observation(program, inputs)
        for agg in (n for n in topological_order(program) if isinstance(n, Aggregate)):
            assert policy.averages(agg.id) == (agg.id in want)


# ---------------------------------------------------------------- axis groups and classes


def _old_groups(p, z, table):
    """Groups by table value: sorted distinct (z, state); None if z leaves outputs ambiguous."""
    zr = np.round(z, 9)
    seen, groups = {}, defaultdict(list)
    for n in sorted(range(len(z)), key=lambda n: (table[n], zr[n], n)):
        key = (int(table[n]), float(zr[n]))
        if key in seen:
            if seen[key] != _out_ids(p)[n]:
                return None
            continue
        seen[key] = _out_ids(p)[n]
        state = int(p.out[n]) if p.target.kind is Storage.ONE_HOT else round(float(p.out[n]), 12)
        groups[((), key[0])].append((key[1], state))
    return dict(groups)


def test_axis_lines_hold_the_groups_the_constructions_used_to_build():
    from rasplab.compiler.lines import Line

    rng = np.random.default_rng(1)
    for kind in ("cat", "num"):
        codes = rng.integers(0, 6, size=(400, 2))
        z = codes[:, 0] * 0.5 - (codes[:, 0] > 3)
        out = (z > 0.7).astype(int) + 2 * codes[:, 1] % 3
        target = Target.categorical(list("abc")) if kind == "cat" else Target.numerical("y")
        p = Problem([Leaf.numerical("x", range(6)), Leaf.categorical("t", "uvwxyz")], codes,
                    target, out if kind == "cat" else out * 0.25)  # fmt: skip
        line = Line.build(p, z, np.zeros((400, 0), dtype=np.int64), codes[:, 1])
        want = _old_groups(p, z, codes[:, 1])
        assert (line is None) == (want is None)
        assert line is None or line.as_dict() == want


def _old_classes(p, k):
    others = [tuple(r) for r in np.delete(p.codes, k, axis=1)]
    sig = defaultdict(set)
    for v, o, y in zip(p.codes[:, k], others, _out_ids(p), strict=True):
        sig[int(v)].add((o, int(y)))
    ids, out = {}, []
    for v in range(p.leaves[k].size):
        key = frozenset(sig[v]) if v in sig else ("missing", v)
        out.append(ids.setdefault(key, len(ids)))
    return out


def test_value_classes_group_values_the_function_treats_alike():
    rng = np.random.default_rng(2)
    leaves = [Leaf.categorical("a", "abcdefg"), Leaf.categorical("b", "xyz")]
    codes = np.unique(rng.integers(0, [7, 3], size=(15, 2)), axis=0)
    p = Problem(leaves, codes, Target.categorical(["o:0", "o:1"]), codes[:, 0] % 2)
    for k in range(2):
        got, want = _classes(p, k).tolist(), _old_classes(p, k)
        # the same partition of the values (ids may be numbered differently)
        assert len(set(zip(got, want, strict=True))) == len(set(got)) == len(set(want))


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
@pytest.mark.parametrize("name", ["add", "dyck2"])
def test_library_programs_compile_quickly_at_length_128(name):
    from rasplab.library import PROGRAMS

    entry = PROGRAMS[name]
    rng = random.Random(0)
    seen = [t for _ in range(50) for t in entry.sample(rng, 128)]
    vocab = list(dict.fromkeys([*entry.vocab, *seen]))
    start = time.perf_counter()
    model = compile_program(entry.build(), vocab, 128, verify=20, sample=entry.sample)
    assert time.perf_counter() - start < 60.0  # a minute for add alone before
    assert model.info.verified.n_exact == model.info.verified.n_inputs >= 20


def test_dyck1_says_why_it_has_a_head_more_than_the_analysis():
    from rasplab.analysis import analyse
    from rasplab.library import PROGRAMS

    entry = PROGRAMS["dyck1"]
    model = compile_program(entry.build(), entry.vocab, 8, verify=10)
    assert model.heads_per_layer[0] == analyse(entry.build()).heads_per_layer[0] + 1
    assert any("the analysis gives" in note for note in model.info.notes)


# ---------------------------------------------------------------- unions of width sets


def test_per_position_unions_built_on_the_previous_position_are_the_plain_unions():
    from rasplab.compiler.value_maps import ValueTable
    from rasplab.compiler.value_sets import _unions

    rng = random.Random(3)
    per_width = {w: frozenset(rng.sample(range(200), 5)) for w in range(40)}
    grow = [frozenset(range(i + 1)) for i in range(30)]  # a prefix select: nested
    jumble = [frozenset(rng.sample(range(40), rng.randint(1, 8))) for _ in range(30)]
    shared = frozenset({1, 2})
    for widths in (grow, jumble, grow[::-1], [shared, shared, frozenset({3}), shared]):
        got = _unions(ValueTable(), tuple(widths), per_width)
        assert [set(s) for s in got] == [set().union(*(per_width[w] for w in ws)) for ws in widths]


# ---------------------------------------------------------------- runs along a line


def _runs_per_group(z: np.ndarray, y: np.ndarray, group: np.ndarray) -> int:
    """The reference: the greedy walk of ``runs`` on each group's points, in Python."""
    from rasplab.compiler.lines import runs

    rows_of = np.split(np.arange(len(z)), np.flatnonzero(np.diff(group)) + 1)
    return sum(len(runs(list(zip(z[r].tolist(), y[r].tolist(), strict=True)))) for r in rows_of)


def _random_line(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of points sorted by z: steps, lines with kinks, noise and long straight runs."""
    sizes = rng.integers(1, 90, size=rng.integers(1, 6))
    zs, ys = [], []
    for size in sizes:
        z = np.sort(rng.choice(400, size, replace=False)) * rng.choice([1.0, 0.5, 1e-3, 7.3])
        shape = rng.integers(0, 4)
        if shape == 0:
            y = rng.integers(0, 3, size).astype(float)
        elif shape == 1:
            y = np.floor(z / rng.integers(1, 9))
        elif shape == 2:
            y = 2 * z + (rng.random(size) < 0.1)
        else:  # off a line by about its tolerance (1e-7 of the size), either side of it
            y = np.abs(z - 50)
            y += rng.uniform(0.5, 2.0, size) * 1e-7 * np.maximum(1.0, y) * (rng.random(size) < 0.3)
        zs.append(z)
        ys.append(y)
    group = np.repeat(np.arange(len(sizes)), sizes)
    return np.concatenate(zs), np.concatenate(ys), group


def test_run_count_is_the_greedy_walk_of_runs():
    from rasplab.compiler.lines import run_count

    rng = np.random.default_rng(7)
    for _ in range(400):
        z, y, group = _random_line(rng)
        assert run_count(z, y, group) == _runs_per_group(z, y, group)
