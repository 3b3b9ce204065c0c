"""Selects of positions compared as numbers: width independent of max_seq_len, exact."""

from __future__ import annotations

import pytest
from numbers_first import numbers_first

from rasplab.compiler import compile_program
from rasplab.compiler.quadratic import quadratic_blocker, quadratic_plan
from rasplab.library import PROGRAMS


def _compile(name: str, n: int, **options):
    entry = PROGRAMS[name]
    return compile_program(
        entry.build(), list(entry.vocab), n, verify=200, sample=entry.sample, **options
    )


def test_shift_width_does_not_grow_with_length() -> None:
    short, long = _compile("shift", 64), _compile("shift", 256)
    assert short.d_model == long.d_model < 24
    assert long.n_params < 6_000  # one-hot positions took 682,752
    assert any("compared as numbers" in note for note in long.info.notes)


def test_reverse_at_256_is_exact_and_its_width_does_not_grow() -> None:
    short, long = _compile("reverse", 64), _compile("reverse", 256)  # verify=200, float32
    assert short.d_model == long.d_model < 24
    assert long.n_params < 6_000  # one-hot positions took 1,222,440
    (note,) = [n for n in long.info.notes if "compared as numbers" in n]
    assert "computed query" in note and "float32" in note


def test_index_at_256_is_exact_and_small() -> None:
    model = _compile("index", 256)  # verify=200 checks it in float32
    assert model.n_params < 5_000


def test_a_computed_key_gets_its_square_from_the_mlp_that_computes_it() -> None:
    # sort selects `target_pos == indices`, target_pos a count: the MLP decoding the
    # count writes the number and its square; verify=200 checks the model in float32.
    # Without the bounds' certificate (which proves it in float64 only: below) it stays so
    model = _compile("sort", 64, bounds_seconds=0)
    assert {"target_pos", "target_pos^2"} <= set(model.directions)
    assert not any(d.startswith("target_pos:") for d in model.directions)
    assert model.n_params < 120_000  # target_pos one-hot took 167,935


def test_a_model_proved_in_float64_only_is_rebuilt_where_float32_is_proved() -> None:
    # sort's target_pos adds two counts: read together from attention their float32
    # roundings add up; decoded one at a time first, each stays within its own gap
    model = _compile("sort", 16)
    proof = model.info.certificate
    assert proof.status == "proved" and proof.dtype == "float32"
    (note,) = [n for n in model.info.notes if "after the certificate" in n]
    assert note.startswith("counts decoded to numbers before they are combined: chosen")
    assert "float64 only (12,563 parameters)" in note
    assert any("decoded to a number by an MLP of its own" in n for n in model.info.notes)
    assert model.n_params == 12_193 and "target_pos^2" in model.directions  # still numbers
    # at 64 decoding is not enough: the positions go one-hot
    wide = _compile("sort", 64)
    assert wide.info.certificate.dtype == "float32"
    (note,) = [n for n in wide.info.notes if "after the certificate" in n]
    assert note.startswith("sort: one-hot: chosen after the certificate")
    # past ONE_HOT_GROWTH times the parameters, or max_params, the float64 proof stands
    capped = _compile("sort", 64, max_params=100_000)
    assert capped.n_params == 97_709 and capped.info.certificate.dtype == "float64"
    assert not any("after the certificate" in n for n in capped.info.notes)
    # within 120,000: its counts read apart, its target tested as digits, whose cuts
    # alone read the sum of counts (within a slack: :mod:`.slack`)
    digits = _compile("sort", 64, max_params=120_000)
    assert digits.n_params == 117_807 and digits.info.certificate.dtype == "float32"
    proved = _compile("reverse", 64)  # proved in float32 as numbers: nothing to change
    assert not any("after the certificate" in n for n in proved.info.notes)


def test_the_cost_model_says_what_it_chose_and_its_reason() -> None:
    model = _compile("shift", 8)  # numbers are smaller even at 8 positions
    (note,) = [n for n in model.info.notes if "cost model" in n]
    assert "numbers chosen" in note and "one-hot)" in note
    assert any("compared as numbers" in n for n in model.info.notes)


def test_a_long_program_is_not_planned_one_hot_where_estimates_rule_it_out() -> None:
    entry = PROGRAMS["sort"]  # one-hot at 128 positions: a plan of seconds, not milliseconds
    with numbers_first():  # (by default its target is compared as digits at 128)
        model = compile_program(entry.build(), list(entry.vocab), 128, verify=8, bounds_seconds=0)
    (note,) = [n for n in model.info.notes if n.startswith("sort:") and "cost model" in n]
    assert "numbers chosen" in note and "an estimated" in note


def test_scale_leaves_wrong_keys_negligible_and_scores_exact() -> None:
    plan = quadratic_plan(range(1024), range(-1, 1023), 1024)
    assert plan.leakage(1024) < 1e-8
    assert plan.dtype == "float32"
    assert quadratic_plan(range(8192), range(8192), 8192).dtype == "float64"


def test_a_computed_query_past_float32_is_refused_naming_the_head_and_length() -> None:
    fits = quadratic_plan(range(1024), range(1024), 1024, computed=True)
    assert fits.dtype == "float32" and quadratic_blocker("flip", fits, 1024) is None
    fails = quadratic_plan(range(1200), range(1200), 1200, computed=True)
    assert fails.dtype == "float64"
    blocker = quadratic_blocker("flip", fails, 1200)
    assert blocker is not None and "flip" in blocker and "max_seq_len 1200" in blocker


@pytest.mark.slow
def test_reverse_at_1024_is_small_and_exact_in_float32() -> None:
    model = _compile("reverse", 1024)
    assert model.n_params < 100_000


@pytest.mark.slow
def test_shift_at_1024_is_exact_in_float32() -> None:
    model = _compile("shift", 1024)
    assert model.n_params < 20_000
    assert model.d_model == _compile("shift", 64).d_model


@pytest.mark.slow
def test_reverse_past_float32_is_refused_naming_the_head_the_length_and_the_one_hot_size():
    from rasplab.errors import CompileError

    entry = PROGRAMS["reverse"]
    with pytest.raises(CompileError) as err:
        compile_program(entry.build(), list(entry.vocab), 1200, verify=8)
    (blocker,) = err.value.blockers
    assert blocker.startswith("reverse: selecting positions as numbers is not exact in float32")
    assert "max_seq_len 1200" in blocker and "more than max_params=20,000,000" in blocker
