"""The compiler's shortcuts at long lengths give what the plain computations give.

Each shortcut (ramps placed only where an MLP's output changes, products that lie
inside another left out of a domain's union, a count map tried on a few positions
first, a domain kept for a rebuild) is compared here with the computation it
stands for, on inputs small enough to run both.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rasplab import aggregate, indices, select, tokens
from rasplab.compiler import compile_program
from rasplab.compiler.counts import count_nodes
from rasplab.compiler.domains import _union_of_products
from rasplab.compiler.input_errors import room, room_at
from rasplab.compiler.value_sets import infer
from rasplab.lang.nodes import Map, SOp, ZipMap
from rasplab.library import PROGRAMS
from rasplab.library.helpers import indicator


def _room_loop(z: np.ndarray, error: np.ndarray) -> list[tuple[float, float]]:
    """``room`` as one Python step per pair of neighbours."""
    lows = np.maximum.accumulate(z + error)
    highs = np.minimum.accumulate((z - error)[::-1])[::-1]
    out = []
    for i in range(len(z) - 1):
        lo, hi = float(lows[i]), float(highs[i + 1])
        if hi <= lo:
            lo, hi = float(z[i]), float(z[i + 1])
        out.append(((lo + hi) / 2, hi - lo))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_room_at_some_pairs_is_room_there(seed):
    rng = np.random.default_rng(seed)
    z = np.sort(rng.choice(1000, 60, replace=False) / 7.0)
    error = rng.random(60) * rng.choice([0.0, 0.1, 1.0])
    assert room(z, error) == _room_loop(z, error)
    pairs = np.sort(rng.choice(59, 11, replace=False))
    full = _room_loop(z, error)
    assert room_at(z, error, pairs) == [full[i] for i in pairs.tolist()]
    assert room(z[:1], error[:1]) == [] and room(z[:0], error[:0]) == []


def _union_plain(groups: list[tuple], sizes: list[int]) -> np.ndarray:
    rows = {combo for sets in groups for combo in itertools.product(*map(list, sets))}
    return np.array(sorted(rows), dtype=np.int64).reshape(-1, len(sizes))


@pytest.mark.parametrize("seed", range(6))
def test_union_of_products_leaving_out_products_inside_others(seed):
    rng = np.random.default_rng(seed)
    sizes = [7, 5, 4][: 1 + seed % 3]
    groups = []
    for g in range(12):
        if g % 3 == 0:  # growing prefixes: each inside the next
            sets = tuple(np.arange(min(s, 1 + g // 3)) for s in sizes)
        else:
            sets = tuple(
                np.sort(rng.choice(s, rng.integers(0, s + 1), replace=False)) for s in sizes
            )
        groups.append(tuple(np.asarray(x, dtype=np.int64) for x in sets))
    found = _union_of_products(groups, sizes)
    assert found is not None
    assert np.array_equal(found, _union_plain(groups, sizes))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [3, 20, 60, 10_000])
def test_union_of_products_refused_past_the_limit_only(seed, limit, monkeypatch):
    # one group (its product is the union) or several; None exactly where the union
    # holds more than DOMAIN_LIMIT rows, refused from the largest product where it can
    from rasplab.compiler import domains

    monkeypatch.setattr(domains, "DOMAIN_LIMIT", limit)
    rng = np.random.default_rng(seed)
    sizes = [7, 5, 4][: 1 + seed % 3]
    groups = [
        tuple(np.sort(rng.choice(s, rng.integers(1, s + 1), replace=False)) for s in sizes)
        for _ in range(1 + 3 * (seed % 2))
    ]
    want = _union_plain(groups, sizes)
    found = _union_of_products(groups, sizes)
    if len(want) > limit:
        assert found is None
    else:
        assert found is not None and np.array_equal(found, want)


def _count_maps() -> tuple[SOp, list[SOp]]:
    """A program over maps of ``(i + 1) * mean(prefix, flag)``: the first one a count."""
    mean = aggregate(select(indices, indices, "<="), indicator(tokens == "a"))
    scaled = (indices + 1) * mean
    maps = [
        Map(round, scaled),  # the count
        scaled,  # a float: no count
        Map(lambda x: round(x / 2), scaled),  # an int, not the count
        Map(lambda x: round(x) if x < 30 else -1, scaled),  # the count up to 30 only
    ]
    return ZipMap(lambda *xs: xs, *maps), maps


@pytest.mark.parametrize("n", [5, 40])
def test_count_maps_tried_on_a_few_positions_first(n):
    program, (counted, scaled, halved, early) = _count_maps()
    vs = infer(program, "ab", n, lambda *a: "mean")
    found = count_nodes(program, vs)
    assert counted.id in found
    assert scaled.id not in found and halved.id not in found
    assert (early.id in found) == (n <= 30)


@pytest.mark.parametrize("n", [64, 130])
def test_dyck1_causal_weights_and_certificate_as_before(n):
    """Two builds (the float32 rebuild reads the first build's kept domains) give the
    model the certificate proves, with the parameters and margin it had before."""
    entry = PROGRAMS["dyck1"]
    model = compile_program(entry.build(), entry.vocab, n, causal=True, sample=entry.sample)
    proof = model.info.certificate
    assert proof is not None and proof.status == "proved" and proof.dtype == "float32"
    plain = compile_program(
        entry.build(), entry.vocab, n, causal=True, sample=entry.sample, verify=0
    )
    assert plain.n_params == model.n_params


@pytest.mark.parametrize("seed", range(12))
def test_unique_inverse_is_numpy_s(seed):
    # ints of a small span ranked by a table, others by numpy: the same either way
    from rasplab.compiler.combine import unique_inverse

    rng = np.random.default_rng(seed)
    size = int(rng.integers(0, 300))
    span = [3, 50, 10**6, 2**40][seed % 4]
    values = rng.integers(-span, span, size)
    if seed % 3 == 0:
        values = values.astype(np.int32)
    if seed % 5 == 4:
        values = values / 7.0  # floats: numpy's own path
    found, where = unique_inverse(values)
    want, want_where = np.unique(values, return_inverse=True)
    assert found.dtype == want.dtype and np.array_equal(found, want)
    assert np.array_equal(where, want_where.reshape(-1))


@pytest.mark.parametrize("seed", range(12))
def test_distinct_is_numpy_s(seed):
    from rasplab.compiler.combine import distinct

    rng = np.random.default_rng(seed)
    span = [3, 50, 10**6, 2**40][seed % 4]
    values = rng.integers(-span, span, (int(rng.integers(0, 40)), 3))
    if seed % 3 == 0:
        values = values.astype(np.int16 if span < 2**15 else np.int64)
    if seed % 5 == 4:
        values = values / 3.0
    found, want = distinct(values), np.unique(values)
    assert found.dtype == want.dtype and np.array_equal(found, want)


def test_narrow_ints_spanning_their_type_are_not_wrapped():
    from rasplab.compiler.combine import distinct, unique_inverse

    values = np.array([-30000, 30000, 0, -30000], dtype=np.int16)
    assert distinct(values).tolist() == [-30000, 0, 30000]
    found, where = unique_inverse(values)
    assert found.tolist() == [-30000, 0, 30000] and where.tolist() == [0, 2, 1, 0]


@pytest.mark.parametrize(
    "values",
    [
        [3.0, -1.0, 3.0, 0.0, -0.0, 7.0],  # whole numbers: a table; -0.0 is 0.0
        [0.5, 1.0, 0.5],
        [1.0, float("nan"), 1.0, float("nan")],
        [1.0, float("inf"), -float("inf"), 1.0],
        [2.0**60, 1.0, 2.0**60],
        [1.0] * 70 + [1.5],  # whole for the first 64 only
    ],
)
def test_ids_of_floats_are_numpy_s_ranks(values):
    from rasplab.compiler.units import _ids

    array = np.array(values)
    want = np.unique(array, return_inverse=True)[1].reshape(-1)
    assert np.array_equal(_ids(array), want)
