"""Sums that float arithmetic computes exactly although their inputs carry errors
(compiler/exact_sums.py), checked against exact rational arithmetic."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from rasplab.compiler import bounds_mlps, driver, verify
from rasplab.compiler.bounds import propagate
from rasplab.compiler.exact_sums import exact_outputs, exact_units
from rasplab.compiler.job import make_job
from rasplab.library import get

U32 = 2.0**-24


def _float32_sums(terms: list[np.float32]) -> set[Fraction]:
    """Every value float32 addition gives for ``terms`` (rounded products), in every order."""
    found = set()
    for order in itertools.permutations(terms):
        total = np.float32(0.0)
        for t in order:
            total = np.float32(total + t)
        found.add(Fraction(float(total)))
    return found


def _within(x: float, error: float, rng: np.random.Generator, n: int) -> list[np.float32]:
    """float32 values within ``error`` of ``x``: both ends, 1 and ``x`` itself, and random."""
    lo, hi = np.float32(x - error), np.float32(x + error)
    picks = [lo, hi, np.float32(x)] + [np.float32(v) for v in rng.uniform(lo, hi, n)]
    picks += [np.nextafter(np.float32(1.0), np.float32(0.0)), np.float32(1.0)]
    return [p for p in picks if x - error <= float(p) <= x + error]


def _exact_everywhere(x, error, w, b, rng) -> bool:
    """Whether float32 computes ``x @ w + b`` exactly for every sampled input and order."""
    columns = []
    for i, (xi, ei) in enumerate(zip(x, error, strict=True)):
        columns.append(_within(xi, ei, rng, 40) if ei else [np.float32(xi)])
        assert columns[i], "no float32 value within the error"
    for values in itertools.product(*columns):
        terms = [
            np.float32(np.float32(v) * np.float32(wi)) for v, wi in zip(values, w, strict=True)
        ]
        exact = sum(
            (Fraction(float(v)) * Fraction(float(wi)) for v, wi in zip(values, w, strict=True)),
            Fraction(b),
        )
        if _float32_sums([*terms, np.float32(b)]) != {exact}:
            return False
    return True


def test_a_power_of_two_copy_near_1_is_exact_across_the_binade():
    # x in [0.97, 1.03] crosses 1, where float32's grid doubles: 4 x - 1.5 is exact on both
    # sides, and the bound says so; 3 x - 1 rounds for some x and the bound says not exact
    rng = np.random.default_rng(0)
    x, error = np.array([[1.0, 1.0, 0.0]]), np.array([[0.03, 0.0, 0.0]])
    w = np.array([[4.0, 3.0], [-1.5, -1.0], [-0.001, -0.001]])
    cols, exact, grid = exact_units(x, error, w, np.zeros(2), U32)
    assert cols.tolist() == [0] and exact.tolist() == [[True]]  # 3 x is not even tried
    assert _exact_everywhere([1.0, 1.0, 0.0], [0.03, 0.0, 0.0], w[:, 0], 0.0, rng)
    assert not _exact_everywhere([1.0, 1.0, 0.0], [0.03, 0.0, 0.0], w[:, 1], 0.0, rng)
    assert grid[0, 0] == 2.0**-22  # 4 x below 1: a multiple of 4 * 2^-24


def test_units_the_bound_calls_exact_are_exact_for_random_dyadic_sums():
    # oracle: exact rational arithmetic over float32 inputs within their errors, in every
    # summation order; the bound's "exact" must never be wrong, and must say it sometimes
    rng = np.random.default_rng(1)
    said = 0
    for _ in range(200):
        dims = int(rng.integers(1, 4))
        x = rng.choice([0.0, 1.0, 0.5, 3.0, 0.75, 1.25], dims)
        noisy = int(rng.integers(0, dims))
        error = np.zeros(dims)
        error[noisy] = float(rng.choice([0.0, 0.01, 0.1, 0.3]))
        w = rng.choice([1.0, -2.0, 4.0, 0.5, 3.0, -1.5, 0.0], (dims, 1))
        # weights as a float32 model holds them
        b = np.array([float(np.float32(rng.choice([0.0, -0.5, -1.5, 0.25, 1e-3])))])
        cols, exact, _ = exact_units(x[None], error[None], w, b, U32)
        if len(cols) and exact[0, 0]:
            said += 1
            assert _exact_everywhere(list(x), list(error), w[:, 0], b[0], rng), (x, error, w, b)
    assert said >= 40


def test_a_sum_past_the_grid_or_with_two_noisy_inputs_is_not_called_exact():
    x = np.array([[1.0, 1.0]])
    w = np.array([[4.0], [2.0**24]])
    big = exact_units(x, np.array([[0.01, 0.0]]), w, np.zeros(1), U32)
    assert not big[1][0, 0]  # 2^24 beside 4 x (a grid of 2^-22): partial sums round
    both = exact_units(x, np.array([[0.01, 0.01]]), np.array([[4.0], [2.0]]), np.zeros(1), U32)
    assert not both[1][0, 0]
    reaching_zero = exact_units(
        x, np.array([[1.5, 0.0]]), np.array([[4.0], [1.0]]), np.zeros(1), U32
    )
    assert not reaching_zero[1][0, 0]


def test_an_output_is_summed_exactly_only_from_exact_or_silent_units():
    # units 0 and 1 are exact (on a grid of 2^-22), unit 2 was not tried
    exact = (np.array([0, 1]), np.array([[True, True]]), np.full((1, 2), 2.0**-22))
    hidden = np.array([[2.5, 1.5, 3.0]])
    w_out = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    off = np.array([[False, False, False]])
    assert exact_outputs(exact, off, hidden, w_out, U32).tolist() == [[True, False]]
    silent = np.array([[False, False, True]])  # the third unit is off: it adds an exact 0
    assert exact_outputs(exact, silent, hidden, w_out, U32).tolist() == [[True, True]]
    huge = np.array([[2.0**23, 1.5, 0.0]])  # past 2^24 times the grid: the sum may round
    assert exact_outputs(exact, silent, huge, w_out, U32).tolist() == [[False, True]]


@pytest.mark.slow
def test_causal_dyck2_at_512_is_proved_in_float32_through_its_exact_copies(monkeypatch):
    # built with level's equality in digits: the count head that numbers the positions of
    # a level reads the digits' copies, and any error there (2.75e-6 of a copied 1, as
    # rounding was bounded before) spreads its scores past what its count allows
    entry = get("dyck2")
    job = make_job(entry.build(), list(entry.vocab), 512, True, 0, None, 0, None, None)
    model, _, blueprint = driver._build(replace(job, all_digits="digits"), evidence=[])
    proof = propagate(model, blueprint, float32=True)
    assert proof.open == () and proof.margin is not None and proof.margin > 0.9
    copies = [d for d in model.directions if d.startswith(("level.high:", "level.low:"))]
    assert len(copies) == 65 and not any(d in proof.errors for d in copies)  # exactly 0
    monkeypatch.setattr(bounds_mlps, "exact_units", lambda x, *a: _none(len(x)))
    rounded = propagate(model, replace(blueprint, memo={}), float32=True)
    assert rounded.open and rounded.margin is not None and rounded.margin < 0
    checked = verify(model, entry.build(), 100, sample=entry.sample)  # float32
    assert checked.exact and checked.n_inputs == 100


def _none(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`exact_units` finding no unit worth a try."""
    return np.zeros(0, dtype=np.int64), np.zeros((rows, 0), dtype=bool), np.zeros((rows, 0))
