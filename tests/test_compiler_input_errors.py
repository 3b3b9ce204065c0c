"""Ramps that leave room for their inputs' float32 errors (compiler/input_errors.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rasplab.compiler.axis import axis
from rasplab.compiler.input_errors import leaf_errors, room
from rasplab.compiler.units import ONE, Leaf, Problem, Target
from rasplab.library import dyck1

B = 64  # a count head's weight is B / (B + w): off by an amount in proportion to itself
WEIGHTS = [B / (B + w) for w in range(B + 1)]
RELATIVE = 1e-3  # each weight may be off by this much of itself


def _more_closers() -> Problem:
    """The flag "more closers than openers" from the two counts' weights, as dyck1 reads
    them: every pair of counts up to B."""
    leaves = [Leaf.numerical("opens", WEIGHTS), Leaf.numerical("closes", WEIGHTS)]
    codes = np.array(list(itertools.product(range(B + 1), repeat=2)))
    flag = (codes[:, 1] > codes[:, 0]).astype(np.int64)
    return Problem(leaves, codes, Target.categorical(["flag:0", "flag:1"]), flag)


def _worst_miss(p: Problem, units) -> float:
    """The largest distance from the exact one-hot output when each input moves by up to
    its relative error, either way (the corners of the box are the extremes of a ReLU
    network that is saturated there, and where it is not they show it)."""
    worst = 0.0
    for signs in itertools.product((-1.0, 1.0), repeat=2):
        values = {
            leaf.name: np.asarray(leaf.coords)[p.codes[:, k]] * (1 + s * RELATIVE)
            for k, (leaf, s) in enumerate(zip(p.leaves, signs, strict=True))
        }
        values[ONE] = np.ones(len(p.codes))
        out = np.zeros((len(p.codes), 2))
        for u in units:
            pre = sum(w * values[d] for d, w in u.w_in.items())
            for d, w in u.w_out.items():
                out[:, int(d.split(":")[1])] += w * np.maximum(pre, 0.0)
        exact = np.eye(2)[p.out]
        worst = max(worst, float(np.abs(out - exact).max()))
    return worst


def test_room_is_the_midpoint_without_errors():
    z = np.array([0.0, 0.25, 1.0])
    assert room(z, np.zeros(3)) == [(0.125, 0.25), (0.625, 0.75)]


def test_room_counts_errors_of_points_further_away():
    # the first point's error reaches past the second point: the second pair's room shrinks
    z = np.array([0.0, 1.0, 2.0])
    assert room(z, np.array([1.5, 0.0, 0.0])) == [(0.5, 1.0), (1.75, 0.5)]


def test_leaf_errors_grow_with_the_value_for_relative_errors():
    leaf = Leaf.numerical("w", [0.5, 1.0])
    assert leaf_errors(leaf, {"w": (0.01, 0.1)}).tolist() == pytest.approx([0.06, 0.11])
    assert leaf_errors(leaf, {}).tolist() == [0.0, 0.0]


def test_ramps_built_for_exact_inputs_are_crossed_by_relative_errors():
    p = _more_closers()
    units = axis(p)
    assert units is not None
    assert _worst_miss(p, units) > 0.5  # both counts 0: their weights move the most


def test_ramps_placed_for_the_errors_keep_every_point():
    plain = _more_closers()
    p = Problem(
        plain.leaves,
        plain.codes,
        plain.target,
        plain.out,
        errors={
            "opens": (0.0, RELATIVE),
            "closes": (0.0, RELATIVE),
        },
    )
    units = axis(p)
    assert units is not None
    assert len(units) == len(axis(plain))  # the same construction, its thresholds moved
    assert _worst_miss(p, units) < 1e-9


@pytest.mark.slow
def test_causal_dyck1_at_1024_is_proved_in_float32_by_the_rebuild():
    from rasplab.compiler import compile_program

    model = compile_program(dyck1(), "()", 1024, causal=True, verify=16)
    proof = model.info.certificate
    assert proof is not None and proof.status == "proved" and proof.dtype == "float32"
    assert model.n_params < 20_000
    assert any("leave room for the float32 errors" in n for n in model.info.notes)


def test_errors_that_close_a_ramps_room_are_counted():
    from rasplab.compiler.mlp import synthesize

    plain = _more_closers()
    near = {"opens": (0.0, RELATIVE), "closes": (0.0, RELATIVE)}
    far = {"opens": (0.05, 0.0), "closes": (0.05, 0.0)}  # past the gap between weights
    spec = synthesize(plain.leaves, plain.codes, plain.target, plain.out, near)
    assert spec is not None and spec.crossed == 0
    spec = synthesize(plain.leaves, plain.codes, plain.target, plain.out, far)
    assert spec is not None and spec.crossed > 0


def test_a_rebuild_placed_for_errors_that_leave_no_room_is_still_judged_by_its_bounds():
    # errors from another build may be stale: ramps they leave no room keep the plain
    # midpoint, and the rebuild's own bounds decide (here its real errors are tiny)
    from dataclasses import replace

    import rasplab.compiler.driver as driver
    import rasplab.compiler.float32_rebuilds as rebuilds
    from rasplab.compiler.job import make_job

    job = make_job(dyck1(), "()", 16, True, 8, None, 0, None, None)
    fronts: dict = {}  # the rebuild starts from the same front: the same direction names
    model, _, _ = driver._build(job, [], fronts)
    errors = {d: (0.45, 0.0) for d in model.directions if ".attn" in d}  # counts' weights
    stale = replace(job, input_errors=errors)
    _, _, placed = driver._build(stale, [], fronts)
    assert any(m.spec.crossed for m in placed.layout.mlps)
    stages = rebuilds.Stages(driver._build, driver._verified)
    found = rebuilds.rebuilt(stages, stale, fronts, (0, 10.0))
    assert found.proved is not None and found.spent > 0
    assert found.proved.info.certificate.dtype == "float32"


def test_a_problem_built_again_for_other_errors_shares_only_what_they_do_not_change():
    # a rebuild's MLP is the same problem with other errors: what does not depend on
    # them is shared (rasplab.compiler.mlp_jobs), and the result is what a fresh one gives
    from rasplab.compiler.mlp import synthesize

    plain = _more_closers()
    args = (plain.leaves, plain.codes, plain.target, plain.out)
    errors = [None, {"opens": (0.0, RELATIVE), "closes": (0.0, RELATIVE)}, {"opens": (0.01, 0.0)}]
    shared: dict = {}
    for e in errors:
        found = synthesize(*args, e, False, shared)
        alone = synthesize(*args, e)
        assert found is not None and alone is not None
        assert found == alone
    assert shared  # something was shared
