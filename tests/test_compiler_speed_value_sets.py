"""Value sets found in bulk (:mod:`rasplab.compiler.value_bulk`) are run_map's, exactly.

Each case builds two identical value tables, runs ``run_map`` on one and
``bulk_map`` on the other, and compares the sets per position, which positions
share one set, and every value the tables keep.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from rasplab import tokens
from rasplab.compiler import value_bulk, value_maps
from rasplab.compiler.combine import ordered, width_cover
from rasplab.compiler.value_bulk import bulk_map
from rasplab.compiler.value_maps import ValueTable, run_map
from rasplab.compiler.value_sets import ordered_numbers
from rasplab.lang.graph import value_key
from rasplab.lang.operators import _BINARY, _binary


def _tables(per_position: list[list[list]]) -> tuple[tuple[ValueTable, list], ...]:
    """Two tables holding the same sets: ``per_position[k][i]`` input k's values at i."""
    out = []
    for _ in range(2):
        table = ValueTable()
        out.append((table, [tuple(table.intern(vs) for vs in sets) for sets in per_position]))
    return tuple(out)


def _same(a: tuple, b: tuple, ta: ValueTable, tb: ValueTable) -> None:
    assert a == b
    shares = lambda sets: [[j for j in range(len(sets)) if sets[j] is s] for s in sets]  # noqa: E731
    assert shares(a) == shares(b)
    assert {k: (type(v), repr(v)) for k, v in ta.objects.items()} == {
        k: (type(v), repr(v)) for k, v in tb.objects.items()
    }


def _prefix(n: int, make) -> list[list]:
    return [[make(j, i) for j in range(i + 2)] for i in range(n)]


def _sets(rng: random.Random, n: int, kind: str) -> list[list]:
    if kind == "prefix":
        return _prefix(n, lambda j, i: j)
    if kind == "means":
        return _prefix(n, lambda j, i: j / (i + 1) if 0 < j < i + 1 else j // (i + 1))
    if kind == "position":
        return [[i + 1] for i in range(n)]
    if kind == "floats":
        return [[rng.choice([0.5, -1.25, 3.0, 2.0]) for _ in range(3)] for _ in range(n)]
    if kind == "big":
        return [[2**40, i] for i in range(n)]
    if kind == "bools":
        return [[True, 0] for _ in range(n)]
    if kind == "zeros":  # -0.0, and a float too small to multiply without underflow
        return [[-0.0, 1.5, i] if i % 2 else [1e-300, i] for i in range(n)]
    if kind == "signed_zeros":  # 0.0 kept first: later sets' keys hold -0.0, its value 0.0
        return [[0.0, 2.5, i] if i % 2 == 0 else [-0.0, 1.5, i] for i in range(n)]
    return [rng.sample(range(-5, 9), rng.randint(0, 4)) for _ in range(n)]


KINDS = ["prefix", "means", "position", "floats", "big", "bools", "zeros", "signed_zeros", "random"]


@pytest.mark.parametrize("op", ["+", "-", "*"])
@pytest.mark.parametrize("limit", [10, 10**9])  # tabled, or per position (a small limit)
@pytest.mark.parametrize("seed", range(4))
def test_arithmetic_as_run_map(op, limit, seed, monkeypatch):
    monkeypatch.setattr(value_maps, "ARRAY_LIMIT", limit)
    monkeypatch.setattr(value_bulk, "ARRAY_LIMIT", limit)
    rng = random.Random(seed)
    for left in KINDS:
        right = rng.choice(KINDS)
        n = rng.randint(1, 30)
        inputs = [_sets(rng, n, left), _sets(rng, n, right)]
        (ta, a), (tb, b) = _tables(inputs)
        want = run_map(ta, _BINARY[op], a)
        got = bulk_map(tb, _BINARY[op], b)
        if got is None:
            got = run_map(tb, _BINARY[op], b)
        _same(want, got, ta, tb)


def test_arithmetic_shortcuts_are_taken():
    (ta, a), (tb, b) = _tables([_prefix(30, lambda j, i: j), _prefix(30, lambda j, i: -j)])
    got = bulk_map(tb, _BINARY["-"], b)
    assert got is not None
    _same(run_map(ta, _BINARY["-"], a), got, ta, tb)


@pytest.mark.parametrize("op", ["+", "-", "*"])
def test_a_few_rows_of_a_big_table_as_run_map(op):
    """``(indices + 1) * mean``: each position's own rows, not the whole table."""
    rng = random.Random(0)
    inputs = [_sets(rng, 40, "position"), _sets(rng, 40, "means")]
    (ta, a), (tb, b) = _tables(inputs)
    got = bulk_map(tb, _BINARY[op], b)
    assert got is not None
    _same(run_map(ta, _BINARY[op], a), got, ta, tb)


def _maybe(x):
    if x == 3:
        raise ValueError("no 3")
    return -0.0 if x == 0 else x % 4 == 1


@pytest.mark.parametrize("f", [round, lambda x: x > 0, _maybe, lambda x: (x, 1.0)])
@pytest.mark.parametrize("kind", ["prefix", "means", "random", "floats"])
def test_one_input_as_run_map(f, kind):
    inputs = [_sets(random.Random(1), 20, kind)]
    (ta, a), (tb, b) = _tables(inputs)
    want = run_map(ta, f, a)
    got = bulk_map(tb, f, b)
    assert got is not None
    _same(want, got, ta, tb)


def test_too_many_and_other_maps_are_left_to_run_map():
    (_, a) = _tables([[[1, 2]] * 3, [[3]] * 3])[0]
    assert bulk_map(ValueTable(), lambda x, y: x, a) is None  # not + - *
    assert bulk_map(ValueTable(), round, [(value_maps.TOO_MANY,) * 3]) is None


@pytest.mark.parametrize("seed", range(6))
def test_ordered_numbers_as_ordered(seed):
    rng = random.Random(seed)
    n = rng.choice([10, 3000])
    pool = [rng.randint(-60, 60) for _ in range(n)]
    pool += [rng.randint(-60, 60) / rng.randint(1, 9) for _ in range(n)]
    pool += [True, False, 2.0**60, -0.0, *(float(k) for k in range(-3, 4))]
    if seed == 5:
        pool += [float("nan"), 2**70]  # left to ordered
    values = list({value_key(v): v for v in pool}.values())  # distinct, as a value set's
    rng.shuffle(values)
    signs = lambda vs: [(type(v), v if v == v else "nan", math.copysign(1, v)) for v in vs]  # noqa: E731
    assert signs(ordered_numbers(values)) == signs(ordered(values))


def _intern_one_by_one(table: ValueTable, values: list) -> frozenset:
    """What ``intern`` does, a value at a time (the oracle of its bulk path)."""
    keys = []
    for v in values:
        k = value_key(v)
        table.objects.setdefault(k, v)
        keys.append(k)
    return table.intern_keys(keys)


@pytest.mark.parametrize("seed", range(20))
def test_intern_keeps_the_first_object_of_each_key(seed):
    rng = random.Random(seed)
    atoms = [0.0, -0.0, 1, True, 1.0, False, 0, "a", 2.5, 10**30]  # keyed in bulk
    others = [*atoms, float("nan"), (1, 2), None]  # keyed one by one
    fast, slow = ValueTable(), ValueTable()
    for _ in range(6):  # later calls meet keys the first ones kept
        pool = rng.choice([atoms, others, [0.0, -0.0, 2.5]])
        values = [rng.choice(pool) for _ in range(rng.randint(0, 8))]
        kind = rng.choice([list, tuple, set, frozenset, iter])
        given = kind(values)
        order = values if kind is iter else list(given)  # a set's own order, as intern reads it
        assert fast.intern(given) == _intern_one_by_one(slow, order)
        assert {k: (type(v), repr(v)) for k, v in fast.objects.items()} == {
            k: (type(v), repr(v)) for k, v in slow.objects.items()
        }


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("shape", ["any", "one least", "one greatest", "exact"])
def test_width_cover_against_every_pair(seed, shape, monkeypatch):
    # one least (a select's [0, length]) or one greatest width everywhere: the nested
    # intervals' fast path; exact widths (lo is hi): one mark per pair. Each against
    # every pair and against the general path
    from rasplab.compiler import combine

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 10))
    lo, hi = rng.integers(0, 9, (n, n)), rng.integers(0, 9, (n, n))
    if shape == "exact":
        hi = lo
    elif shape != "any":
        (lo if shape == "one least" else hi)[:] = int(rng.integers(0, 9))
    valid = rng.random((n, n)) < (0.6 if seed % 5 else 0.05)
    got = width_cover(lo, hi, valid)
    for i in range(n):
        want = {w for j in range(n) if valid[i, j] for w in range(lo[i, j], hi[i, j] + 1)}
        assert set(np.flatnonzero(got[i]).tolist()) == want
    monkeypatch.setattr(combine, "_one_value", lambda a: None)
    assert np.array_equal(got, width_cover(lo, hi.copy(), valid))  # a copy: not exact


COMPARED_KINDS = ["prefix", "means", "floats", "big", "bools", "zeros", "nan", "huge"]


def _compared_sets(kind: str) -> list[list]:
    rng = random.Random(2)
    if kind == "nan":
        return [[0.5, float("nan")] if i % 3 == 0 else [i, 0.25] for i in range(12)]
    if kind == "huge":  # an int float64 cannot hold exactly
        return [[2**60 + 1, i] for i in range(12)]
    return _sets(rng, 12, kind)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
@pytest.mark.parametrize("constant", [0, 1, 0.5, -0.0, 2**60, True])
def test_the_language_s_comparisons_with_a_number_as_run_map(op, constant, monkeypatch):
    """``x > 0`` and ``0 < x`` found on arrays where numpy compares as Python does; where
    it may not (a bool, an int past 2**52, NaN), one call per value as before."""
    taken = []
    real = value_bulk._compared
    monkeypatch.setattr(value_bulk, "_compared", lambda f, k: taken.append(real(f, k)) or taken[-1])
    for kind in COMPARED_KINDS:
        for node in (_binary(tokens, constant, op), _binary(constant, tokens, op)):
            plain = lambda x, f=node.f: f(x)  # noqa: E731 (the same function, unmarked)
            (ta, a), (tb, b) = _tables([_compared_sets(kind)])
            got = bulk_map(tb, node.f, b)
            assert got is not None
            _same(run_map(ta, plain, a), got, ta, tb)
    eligible = type(constant) is not bool and constant != 2**60
    assert any(t is not None for t in taken) == eligible


@pytest.mark.parametrize("name", ["dyck1", "dyck2", "split"])
def test_means_read_only_above_zero_found_on_arrays_as_one_by_one(name, monkeypatch):
    """dyck1's 'was the balance ever negative?' reads its mean through ``> 0``: the
    language's comparison, run on one array, finds what a call per value finds."""
    from rasplab.compiler import anys
    from rasplab.compiler.lower import _Lowering
    from rasplab.compiler.value_sets import infer
    from rasplab.library import PROGRAMS

    entry = PROGRAMS[name]
    program = entry.build()
    values = infer(program, entry.vocab, 24, lambda *a: "mean")
    found = _Lowering(program, values).any_means
    monkeypatch.setattr(anys, "compare_numbers", lambda *a: None)
    assert _Lowering(program, values).any_means == found
    assert found  # (each reads one mean so: dyck's 'ever negative?', split's 'any earlier?')


@pytest.mark.parametrize("name", ["dyck1", "dyck2", "most_freq", "frac_prevs", "hist", "sort"])
def test_aggregates_sharing_their_values_per_width_as_apart(name, monkeypatch):
    """Means that combine the same values over the same widths (dyck's prefix means of
    three flags) take each width's values once; apart, every set is the same."""
    from rasplab.compiler.combine import Combiner
    from rasplab.compiler.value_sets import infer
    from rasplab.library import PROGRAMS

    entry = PROGRAMS[name]
    program = entry.build()
    shared = infer(program, entry.vocab, 10, lambda *a: "mean")
    unique = itertools.count()  # never the same (an id may be reused once one is freed)
    monkeypatch.setattr(Combiner, "key", lambda self: self.__dict__.setdefault("_k", next(unique)))
    apart = infer(program, entry.vocab, 10, lambda *a: "mean")
    assert shared.sets == apart.sets and shared.semantics == apart.semantics
    assert {k: repr(v) for k, v in shared.objects.items()} == {
        k: repr(v) for k, v in apart.objects.items()
    }


@pytest.mark.parametrize("name", ["dyck1", "dyck2", "most_freq"])
def test_a_later_pass_takes_each_width_s_values_from_the_first(name, monkeypatch):
    """The front infers the program again after each rewrite; a mean rebuilt downstream
    of one combines the same values over the same widths, worked out in the first pass
    only. Its sets are those found with nothing shared."""
    from rasplab.compiler import value_sets
    from rasplab.compiler.combine import Combiner
    from rasplab.compiler.front import front_for
    from rasplab.compiler.job import make_job
    from rasplab.library import PROGRAMS

    real, made = value_sets._per_width, []

    def per_width(table, combos, counts):
        made.append((combos.key(), counts))
        return real(table, combos, counts)

    monkeypatch.setattr(value_sets, "_per_width", per_width)
    entry = PROGRAMS[name]
    job = make_job(entry.build(), list(entry.vocab), 12, False, 0, None, 0, None, None)
    shared = _in_order(front_for(job, [], {}))
    assert made and len(made) == len(set(made))
    once = len(made)
    unique = itertools.count()  # never the same (an id may be reused once one is freed)
    monkeypatch.setattr(Combiner, "key", lambda self: self.__dict__.setdefault("_k", next(unique)))
    apart = _in_order(front_for(job, [], {}))
    assert len(made) - once > once  # apart, the later passes work them out again
    assert shared == apart


def _in_order(front) -> list:
    """The lowered program's sets and modes, node by node in order (a front rebuilds its
    nodes anew, with new ids)."""
    from rasplab.lang.graph import topological_order

    values = front.values
    return [
        (values.sets.get(n.id), values.widths.get(n.id), values.semantics.get(n.id))
        for n in topological_order(front.lowered.program)
    ]


@pytest.mark.parametrize("name", ["sort", "dyck1", "most_freq", "hist", "double_hist"])
def test_selectors_with_one_bounds_rule_share_their_widths(name, monkeypatch):
    """Selectors whose width bounds one rule decides (sort's selects of one column by
    another; a select a rewrite rebuilt) share one set of widths, in a pass and across
    passes. The sets, widths and modes are those found with nothing shared."""
    from rasplab.compiler import value_sets
    from rasplab.compiler.front import front_for
    from rasplab.compiler.job import make_job
    from rasplab.library import PROGRAMS

    real, hits = value_sets.width_cover, []
    monkeypatch.setattr(value_sets, "width_cover", lambda *a: hits.append(1) or real(*a))
    entry = PROGRAMS[name]
    job = make_job(entry.build(), list(entry.vocab), 12, False, 0, None, 0, None, None)
    shared, once = _in_order(front_for(job, [], {})), len(hits)
    monkeypatch.setattr(value_sets, "_bounds_key", lambda *a: None)  # nothing shared
    apart = _in_order(front_for(job, [], {}))
    assert shared == apart
    if name == "sort":  # its selects of one column by another: one cover for all
        assert len(hits) - once > once


@pytest.mark.parametrize("seed", range(8))
def test_a_partial_sum_of_widths_holds_every_count_between_its_ends(seed):
    """A partial sum of disjoint widths: at each position every count from the least sum
    of its parts to the greatest, up to the length; positions with the same ends share
    one set (sort's at 1,024: all of them)."""
    from rasplab.compiler.split_widths import WidthSum
    from rasplab.compiler.value_sets import _Found, _sum_ranges
    from rasplab.lang.nodes import ZipMap

    rng = random.Random(seed)
    n = rng.randint(1, 12)
    found = _Found()
    sides = [tokens.map(lambda t: 0), tokens.map(lambda t: 1)]
    for side in sides:  # each position: a run of counts, often the same run
        runs = [(rng.randint(0, 3), rng.randint(3, 9)) for _ in range(2)]
        found.sets[side.id] = tuple(
            found.table.intern(range(lo, hi + 1)) for lo, hi in (rng.choice(runs) for _ in range(n))
        )
    node = ZipMap(WidthSum(10), *sides)
    got = _sum_ranges(found, node)
    assert got is not None
    for i in range(n):
        a, b = (sorted(k[1] for k in found.sets[side.id][i]) for side in sides)
        want = set(range(a[0] + b[0], min(a[-1] + b[-1], 10) + 1))
        assert {k[1] for k in got[i]} == want
        same = [j for j in range(n) if found.sets[sides[0].id][j] is found.sets[sides[0].id][i]]
        assert all(
            got[j] is got[i]
            for j in same
            if found.sets[sides[1].id][j] is found.sets[sides[1].id][i]
        )
