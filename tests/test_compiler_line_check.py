"""The check along a line by sorted breakpoints gives what evaluating every unit on every
point gives: the outputs (within the rounding bound it reports), and the verdict."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from rasplab.compiler.checking import TOLERANCE, _check_points, _matrices, _shared_line, check
from rasplab.compiler.line_check import _evaluate, along_line
from rasplab.compiler.mlp import synthesize
from rasplab.compiler.units import Leaf, Problem, Target, Unit


def _direct(codes, parts, bias, w_out) -> np.ndarray:
    pre = bias + sum(part[codes[:, k]] for k, part in enumerate(parts))  # [points, units]
    return np.maximum(pre, 0.0) @ w_out


def _gated_count(n: int) -> Problem:
    """A flag, a one-hot count and a scalar share (as dyck2's counts decoded from
    attention): the output is the share's count where the flag is set."""
    shares = [1.0 / (w + 1) for w in range(n + 1)]
    leaves = [
        Leaf.categorical("flag", "xy"),
        Leaf.categorical("width", list(range(n + 1))),
        Leaf.numerical("share", shares),
    ]
    codes = np.array(list(itertools.product(range(2), range(n + 1), range(n + 1))))
    out = np.array([float(s) if f else 0.0 for f, _, s in codes])
    return Problem(leaves, codes, Target.numerical("count"), out)


def _random_units(rng: random.Random, problem: Problem, n_units: int) -> list[Unit]:
    """Units reading the share (the line), the width and the flag at random."""
    units = []
    for _ in range(n_units):
        w_in = {"share": rng.uniform(-50, 50), "__one__": rng.uniform(-20, 20)}
        for d in rng.sample([f"width:{w}" for w in range(9)], 3) + ["flag:y"]:
            w_in[d] = rng.uniform(-5, 5)
        units.append(Unit(w_in, {"count": rng.uniform(-2, 2)}))
    return units


@pytest.mark.parametrize("seed", range(4))
def test_outputs_by_prefix_sums_are_every_unit_on_every_point(seed):
    rng = random.Random(seed)
    p = _gated_count(8)
    parts, bias, w_out = _matrices(p, _random_units(rng, p, 40))
    line = _shared_line(parts)
    assert line is not None and 2 in line[0]  # the share is on the line
    got, bound = _evaluate(p.codes, parts, bias, w_out, line)
    diff = np.abs(got - _direct(p.codes, parts, bias, w_out)).max(axis=1)
    assert np.all(diff <= bound) and bound.max() < 1e-9


def test_the_verdict_is_the_row_by_row_check_and_is_given():
    p = _gated_count(40)
    spec = synthesize(p.leaves, p.codes, p.target, p.out)
    assert spec is not None and check(p, spec.units)
    rng, decided, answers = random.Random(1), 0, set()
    for trial in range(40):
        units = list(spec.units)
        u = rng.randrange(len(units))
        w_out = {
            d: w * (1 + rng.choice([1e-12, 1e-8, 1e-5, 1e-2])) for d, w in units[u].w_out.items()
        }
        units[u] = Unit(units[u].w_in, w_out)
        parts, bias, w = _matrices(p, units)
        tol = TOLERANCE * max(1.0, float(np.abs(p.out).max()))
        want = _check_points(p.codes, p.out, True, parts, bias, w, tol)
        verdict = along_line(p.codes, p.out, True, parts, bias, w, _shared_line(parts), tol)
        if verdict is not None:
            decided += 1
            assert verdict == want, trial
        answers.add(want)
    assert decided >= 30 and answers == {True, False}  # both kinds, nearly all decided here


def test_no_line_or_too_many_outputs_leaves_it_to_the_row_by_row_check():
    p = _gated_count(4)
    parts, bias, w_out = _matrices(p, _random_units(random.Random(0), p, 6))
    wide = np.repeat(w_out, 9, axis=1)  # nine outputs
    out = np.zeros(len(p.codes), dtype=np.int64)
    assert along_line(p.codes, out, False, parts, bias, wide, _shared_line(parts), 1e-6) is None
    assert along_line(p.codes, p.out, True, parts, bias, w_out, None, 1e-6) is None
