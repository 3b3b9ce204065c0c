"""A separable sum of parts of one sign keeps its error in proportion to its value
(compiler/bounds_summed.py): sound on every combination of the parts' values,
tighter than the parts' errors added up, and what proves most_freq at 1,024 in
float32."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from numbers_first import numbers_first

from rasplab.compiler import bounds_mlps, compile_program
from rasplab.compiler.bounds import propagate
from rasplab.compiler.bounds_summed import Part, _hull_slopes, summed_errors
from rasplab.compiler.certify import certify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.verify import verify
from rasplab.lang import indices, numerical, select, selector_width, tokens
from rasplab.library import PROGRAMS


def _part(values: np.ndarray, errors: np.ndarray, plan: object = "plan") -> Part:
    """A part writing direction 0: ``errors`` at ``values`` (the first value is 0)."""
    one = lambda v: np.array([float(v)])  # noqa: E731
    nonzero = values != 0
    return Part(
        plan,
        one(errors[~nonzero].max(initial=0.0)),
        one(0.0),  # the relative error mlp_bound makes absolute for a number
        one(np.abs(values).max()),
        one(errors.max()),
        one(1.0 if (values >= 0).all() else -1.0 if (values <= 0).all() else 0.0),
        {0: (np.abs(values[nonzero]), errors[nonzero])},
    )


def test_hull_slopes_are_the_upper_hull_edges() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 1.5, 2.0])
    y = np.array([0.0, 1.0, 1.5, 1.6, 0.2, 1.0])
    assert _hull_slopes(x, y).tolist() == pytest.approx([1.0, 0.5, 0.1])


@pytest.mark.parametrize("seed", range(30))
def test_the_bound_holds_at_every_combination_of_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parts, tables = [], []
    for _ in range(int(rng.integers(2, 4))):
        values = np.concatenate([[0.0], np.sort(rng.choice(50, size=6, replace=False) + 1.0)])
        errors = rng.uniform(0, 1, size=len(values)) * (1 + rng.uniform(0, 0.2) * values)
        parts.append(_part(values, errors))
        tables.append(list(zip(values.tolist(), errors.tolist(), strict=True)))
    largest = float(sum(max(v for v, _ in t) for t in tables))
    [(d, (delta, relative))] = summed_errors(parts, np.array([largest])).items()
    assert d == 0 and relative >= 0
    for combo in itertools.product(*tables):
        value, error = sum(v for v, _ in combo), sum(e for _, e in combo)
        assert error <= delta + relative * value + 1e-12
    assert delta + relative * largest <= sum(float(p.whole[0]) for p in parts) + 1e-12


def test_parts_of_both_signs_or_shared_directions_stay_absolute() -> None:
    up = _part(np.array([0.0, 4.0]), np.array([0.1, 0.3]))
    down = _part(np.array([0.0, -4.0]), np.array([0.1, 0.3]))
    assert summed_errors([up, down], np.array([8.0])) == {}
    other = _part(np.array([0.0, 4.0]), np.array([0.1, 0.3]), plan="another plan")
    assert summed_errors([up, up, other], np.array([8.0])) == {}


def test_most_freq_at_300_adds_its_counts_in_proportion(monkeypatch: pytest.MonkeyPatch) -> None:
    """most_freq at 300 adds the counts of a comparison over digits, which never reach
    their largest values together: in proportion, each sum's float32 bound at its
    largest value is smaller than the parts' bounds added up."""
    entry = PROGRAMS["most_freq"]
    with numbers_first():  # its comparison as numbers, as the proportion was measured on
        model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 300)
    sums = [p for p in blueprint.layout.mlps if p.spec.parts and p.output.kind.name == "SCALAR"]
    assert sums
    new = propagate(model, blueprint, True)
    monkeypatch.setattr(bounds_mlps, "summed_errors", lambda *_: {})
    old = propagate(model, blueprint, True)
    for plan in sums:
        d = plan.output.directions[0]
        largest = max(abs(w.get(d, 0.0)) for w in plan.output.writes)
        delta, relative = new.errors[d]
        assert relative > 0
        assert delta + relative * largest < 0.75 * old.errors[d][0]
    assert new.margin >= old.margin


def _two_counts():
    same = selector_width(select(tokens, tokens, "==")).named("same")
    before = selector_width(select(indices, indices, "<")).named("before")
    return numerical((same + before).named("total"))


@pytest.fixture
def in_proportion(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sum's bound in proportion wherever it may be: its largest value taken as 0."""
    monkeypatch.setattr(bounds_mlps, "_largest", lambda stream, _: np.zeros(len(stream.index)))


@pytest.mark.usefixtures("in_proportion")
def test_a_sum_of_two_counts_proved_by_bounds_is_exact_on_every_input() -> None:
    """Two counts added by a separable MLP (at 6 positions over 3 tokens: 1,092 inputs),
    proved by the bounds alone with the sum's error in proportion, and every input
    agrees."""
    program = _two_counts()
    model, blueprint = compile_with_blueprint(program, list("abc"), 6)
    [plan] = [p for p in blueprint.layout.mlps if p.spec.parts]
    assert propagate(model, blueprint, True).errors[plan.output.directions[0]][1] > 0
    model = compile_program(program, list("abc"), 6, prove_limit=0)
    proof = model.info.certificate
    assert proof is not None and (proof.status, proof.method) == ("proved", "bounds")
    result = verify(model, program, exhaustive=True)
    assert result.exhaustive and result.exact and result.n_inputs == 1092


@pytest.mark.usefixtures("in_proportion")
def test_an_edited_part_of_the_sum_loses_the_proof() -> None:
    program = _two_counts()
    model, blueprint = compile_with_blueprint(program, list("abc"), 6)
    assert certify(model, program, blueprint=blueprint, method="bounds").proved
    block = next(p.block for p in blueprint.layout.mlps if p.spec.parts)
    mlp = model.blocks[block].mlp
    unit, column = np.argwhere(mlp.W_out != 0)[0]
    w_out = mlp.W_out.copy()
    w_out[unit, column] += 0.6
    blocks = list(model.blocks)
    blocks[block] = replace(blocks[block], mlp=replace(mlp, W_out=w_out))
    edited = replace(model, blocks=tuple(blocks))
    broken = certify(edited, program, blueprint=blueprint, method="bounds")
    assert not broken.proved
    assert "MLP writing total (the part reading" in " ".join(broken.open)
    assert not verify(edited, program, exhaustive=True).exact  # the edit breaks it


@pytest.mark.slow
def test_most_freq_at_1024_is_proved_in_float32() -> None:
    entry = PROGRAMS["most_freq"]
    model = compile_program(entry.build(), list(entry.vocab), 1024, verify=8)
    proof = model.info.certificate
    assert proof is not None and (proof.status, proof.dtype) == ("proved", "float32")
    assert model.n_params < 20 * 200_000  # 4.2x its count at 64 before; at most 20x
