"""After the certificate: a model proved in float64 only, built again another way
(compiler/float32_rebuilds.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest

from rasplab.compiler import compile_program, verify
from rasplab.compiler import float32_rebuilds as rebuilds
from rasplab.compiler.bounds import certificate_by_bounds
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.library import get
from rasplab.model.info import ModelInfo


def test_sort_at_96_is_proved_in_float32_with_its_counts_read_apart():
    # up to about 100 positions sort's two counts are summed near-linearly (B = 2 n^2);
    # at 96 that is at float32's edge and no rebuild of it is proved: with B = n each
    # count is read on its own, and that model's one-hot rebuild is proved
    entry = get("sort")
    first, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 96)
    assert max(h.count_scale or 0 for h in blueprint.layout.heads) == 2 * 96**2
    model = compile_program(entry.build(), list(entry.vocab), 96, sample=entry.sample)
    proof = model.info.certificate
    assert proof is not None and proof.proved and proof.dtype == "float32"
    assert any("are read each with B = n" in note for note in model.info.notes)
    assert model.n_params <= 4 * first.n_params
    checked = verify(model, entry.build(), 200, sample=entry.sample)  # float32
    assert checked.exact and checked.n_inputs == 200


def test_a_model_proved_in_float32_as_first_built_is_not_rebuilt():
    entry = get("hist")
    model = compile_program(entry.build(), list(entry.vocab), 64, sample=entry.sample)
    assert model.info.certificate.dtype == "float32"
    assert not any("chosen after the certificate" in note for note in model.info.notes)


@dataclass(frozen=True)
class _StandIn:
    """What the rebuilds read of a model: its size and its info."""

    n_params: int
    info: ModelInfo = ModelInfo()


def _stand_in(n_params: int) -> Any:
    return _StandIn(n_params)


@dataclass(frozen=True)
class _Info:
    certificate: Any = None


@dataclass(frozen=True)
class _Blueprint:
    float64_too: bool = False


def _candidate(n_params: int) -> Any:
    blueprint: Any = _Blueprint()
    return rebuilds.Candidate(SimpleNamespace(program=None), _stand_in(n_params), None, blueprint)


def test_rebuilds_smaller_than_the_first_model_wait_for_their_float64_pass(monkeypatch):
    # four rebuilds, none proved in float32: the second (900) and the fourth (700) are
    # smaller than the first model (1,000) and come back as candidates, not yet bounded
    # in float64; every try is asked to beat the first model
    outcomes = [
        rebuilds.Rebuilt(None, 1.0, None),
        rebuilds.Rebuilt(None, 1.0, None, _candidate(900)),
        rebuilds.Rebuilt(None, 1.0, None),
        rebuilds.Rebuilt(None, 1.0, None, _candidate(700)),
    ]
    caps = []

    def scripted(stages, retry, fronts, proving, smaller_than=None):
        caps.append(smaller_than)
        return outcomes[len(caps) - 1]

    monkeypatch.setattr(rebuilds, "rebuilt", scripted)
    jobs = [SimpleNamespace(input_errors=None) for _ in outcomes]
    found, left, smaller = rebuilds._first_proved(None, jobs, {}, (0, 10.0), 1000)
    assert found is None and left == 6.0
    assert [c.model.n_params for c in smaller] == [900, 700]
    assert caps == [1000] * 4


def test_the_smallest_candidate_proved_in_float64_is_kept(monkeypatch):
    # the 700 one is not proved even in float64, the 900 one is: it is checked and kept,
    # and the 950 one is never bounded
    proved = {700: None, 900: "float64", 950: "float64"}
    bounded = []

    def certified(model, program, limit, blueprint, seconds):
        bounded.append(model.n_params)
        proof = SimpleNamespace(dtype=proved[model.n_params], seconds=1.0)
        return replace(model, info=_Info(proof))

    monkeypatch.setattr(rebuilds, "with_certificate", certified)
    stages = rebuilds.Stages(None, lambda job, model, policy, found, fronts: (model, policy, found))
    candidates = [_candidate(950), _candidate(700), _candidate(900)]
    kept = rebuilds._smallest_in_float64(stages, candidates, {}, (0, 10.0))
    assert kept.n_params == 900 and kept.info.certificate.dtype == "float64"
    assert bounded == [700, 900]
    assert rebuilds._smallest_in_float64(stages, candidates, {}, (0, 0.5)) is None  # no time
    noted = rebuilds._smaller_kept(_stand_in(900), _stand_in(1000))
    assert "kept over the first build (1,000 parameters)" in noted.info.notes[-1]


def test_a_rebuild_proved_in_float32_wins_over_a_smaller_one_in_float64(monkeypatch):
    small, proved = _candidate(500), _stand_in(2000)
    outcomes = [rebuilds.Rebuilt(None, 1.0, None, small), rebuilds.Rebuilt(proved, 1.0, None)]
    calls = iter(outcomes)
    monkeypatch.setattr(rebuilds, "rebuilt", lambda *a, **k: next(calls))
    jobs = [SimpleNamespace(input_errors=None) for _ in outcomes]
    found, _, smaller = rebuilds._first_proved(None, jobs, {}, (0, 10.0), 1000)
    assert found is proved and smaller == [small]


def test_a_rebuild_asked_to_be_smaller_is_also_bounded_in_float64():
    # most_freq at 8 is proved in float64 only: a rebuild's float32-first pass stops at
    # float32's failure, unless it may be kept for its size
    entry = get("most_freq")
    model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 8)
    first = replace(blueprint, float32_first=True, memo={})
    too = replace(blueprint, float32_first=True, float64_too=True, memo={})
    stopped = certificate_by_bounds(model, first, None, 0)
    assert stopped.dtype is None and stopped.worst_margin is None
    both = certificate_by_bounds(model, too, None, 0)
    assert both.dtype == "float64" and both.worst_margin is not None and both.worst_margin > 0
    assert all(item.startswith("float32: ") for item in both.open)


def test_a_one_hot_rebuild_places_its_ramps_for_the_errors_its_bounds_kept():
    inf = float("inf")
    errors = {"level": (0.2, 0.0), "matched_opener:(": (inf, 0.0), "bad:1": (1e308 * 10, 0.0)}
    one_hot = SimpleNamespace(one_hot="exact scores")
    numbers = SimpleNamespace(one_hot=None)
    assert rebuilds._placeable(one_hot, errors) == {"level": (0.2, 0.0)}
    assert rebuilds._placeable(numbers, errors) is None  # a numbers head may stay open
    assert rebuilds._placeable(numbers, {"level": (0.2, 0.0)}) == {"level": (0.2, 0.0)}
    assert rebuilds._placeable(one_hot, {"x": (inf, 0.0)}) is None


@pytest.mark.slow
def test_counts_at_their_smallest_scale_round_less_in_float32():
    # causal dyck2's level adds two counts (as digits and one-hot, the last rebuild): with
    # B as small as a line still decodes (128 at 512 positions, 512 at 1,024), each
    # count's float32 rounding shrinks with B + width; the plan is the same (its lines
    # through fewer points, level being read by steps alone, bend in other places)
    from rasplab.compiler import driver
    from rasplab.compiler.bounds import propagate
    from rasplab.compiler.job import make_job
    from rasplab.compiler.mlp import decodable_scale

    entry = get("dyck2")
    job = make_job(entry.build(), list(entry.vocab), 512, True, 0, None, 0, None, None)
    job = replace(job, all_digits="digits", one_hot="one-hot")
    plain, _, first = driver._build(job, [])
    model, _, found = driver._build(replace(job, tight_counts="for the test"), [])
    assert first.layout.count_scale == 512.0
    assert found.layout.count_scale == decodable_scale(512) == 128.0
    assert (model.d_model, model.heads_per_layer) == (plain.d_model, plain.heads_per_layer)
    assert any("B = 128: for the test" in note for note in model.info.notes)
    wide = propagate(plain, first, float32=True).errors["level"][0]
    tight = propagate(model, found, float32=True).errors["level"][0]
    assert tight < 0.9 * wide < 0.1  # 0.085 against 0.099 (0.105 against 0.128 read exactly)
    checked = verify(model, entry.build(), 50, sample=entry.sample)  # float32
    assert checked.exact and checked.n_inputs == 50
