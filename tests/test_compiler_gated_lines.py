"""A count's weight read through a line, gated by a flag, and the float32 bounds of both.

most_freq's key, ``where(has_earlier, 0, -count)``, reads a count's weight
``B / (B + w)`` and a flag ``any earlier copy?``. Built as steps (two units per
value of the count), its float32 bound at 256 positions was 2.31, from the sum
of hundreds of terms that cancel in pairs; as the line through every point
(:mod:`.axis_lines`) it is 0.13, and 0.013 once the flag is bounded apart
where it is 0 (off by next to nothing) and where it is 1 (off by ``gamma(n)``):
a head whose outputs each read values of one sign. And a one-hot copy of many
values is bounded by its activation patterns, in which each ramp's two units
cancel.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from rasplab import indices, select, selector_width, tokens
from rasplab.compiler import bounds_mlps, compile_program
from rasplab.compiler.axis import axis_candidates
from rasplab.compiler.axis_lines import LINE_POINTS, bent
from rasplab.compiler.bounds import propagate
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.mlp import threshold_copy
from rasplab.compiler.units import ONE, Leaf, Problem, Target
from rasplab.library import PROGRAMS
from rasplab.library.helpers import where


def _key():
    counts = selector_width(select(tokens, tokens, "==")).named("hist")
    earlier = select(tokens, tokens, "==") & select(indices, indices, "<")
    flag = (selector_width(earlier) > 0).named("has_earlier")
    return where(flag, 0, -counts).named("freq_key")


def test_a_gated_count_is_read_through_a_line_and_rounds_little_in_float32():
    model, blueprint = compile_with_blueprint(_key(), list("abcde"), 256)
    (plan,) = [m for m in blueprint.layout.mlps if m.output.name == "freq_key"]
    assert plan.spec.strategy == "axis" and len(plan.spec.units) <= 257  # steps: 511
    found = propagate(model, blueprint, float32=True)
    assert not found.open
    delta, relative = found.errors["freq_key"]
    assert delta + 256 * relative < 0.05  # 2.31 as steps


def test_a_flag_that_is_zero_is_nearly_exact_in_float32():
    model, blueprint = compile_with_blueprint(_key(), list("abcde"), 256)
    found = propagate(model, blueprint, float32=True)
    (flag,) = [d for d in found.errors if d.endswith(">0")]
    delta, relative = found.errors[flag]
    assert delta < 1e-8  # where no earlier copy exists (it was 3.1e-5 at every value)
    assert 1e-6 < relative < 1e-3  # where one does: gamma(n) of the keys' weights


def _dense(units, rows, columns):
    w_in = np.array([[u.w_in.get(d, 0.0) for u in units] for d in rows])
    b_in = np.array([u.w_in.get(ONE, 0.0) for u in units])
    w_out = np.array([[u.w_out.get(d, 0.0) for d in columns] for u in units])
    return w_in, b_in, w_out


def test_a_one_hot_copy_of_many_values_is_bounded_by_its_activation_patterns():
    n = 129  # 129 patterns of 258 units: counted at every unit, past LINEAR_BUDGET
    leaf = Leaf.categorical("k", list(range(n)))
    outs = [f"c:{v}" for v in range(n)]
    p = Problem([leaf], [[v] for v in range(n)], Target.categorical(outs), list(range(n)))
    w_in, b_in, w_out = _dense(threshold_copy(p), [f"k:{v}" for v in range(n)], outs)
    x = np.eye(n)  # every value, exactly
    z = x @ w_in + b_in
    delta = np.full((n, n), 0.002)  # each direction may be off by this much
    rounded = np.zeros_like(z)
    err = bounds_mlps._moved(delta, rounded, z, w_in, w_out)
    assert err.max() < 1e-12  # each ramp is on at both units, or off: its errors cancel
    unit_by_unit = ((z > 0) * (delta @ np.abs(w_in))) @ np.abs(w_out)
    assert unit_by_unit.max() > 0.01  # what the bound was before: 2 units x 4 x 0.002


def _gated_line(points: int) -> Problem:
    f = Leaf.numerical("f", [w / points for w in range(points)])
    flag = Leaf.categorical("g", [0, 1])
    codes = [[w, g] for w in range(points) for g in (0, 1)]
    return Problem([f, flag], codes, Target.numerical("y"), [0 if g else w for w, g in codes])


def test_a_line_through_more_points_than_it_may_take_is_not_tried():
    # choosing a line's side takes points^2 cells: past LINE_POINTS it is not a candidate
    def lines(p):
        return [c for c in axis_candidates(p) if getattr(c[2], "func", None) is bent]

    assert lines(_gated_line(LINE_POINTS))
    assert not lines(_gated_line(LINE_POINTS + 1))


@pytest.mark.slow
def test_most_freq_at_512_is_proved_in_float32():
    # float64 only before: its key was bounded at 20 in float32, past the half unit its
    # digits leave
    entry = PROGRAMS["most_freq"]
    model = compile_program(entry.build(), list(entry.vocab), 512, sample=entry.sample)
    proof = model.info.certificate
    assert proof.status == "proved" and proof.dtype == "float32", proof.open
    assert proof.worst_margin_float32 > 0.5
    rng = random.Random(7)
    inputs = [entry.sample(rng, 512) for _ in range(4)]
    assert model.run(inputs) == [entry.build()(xs) for xs in inputs]  # float32
