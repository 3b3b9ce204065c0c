"""Selects of positions compared as numbers: width independent of max_seq_len, exact."""

from __future__ import annotations

import pytest

from rasplab.compiler import compile_program
from rasplab.compiler.quadratic import QUADRATIC_FROM, quadratic_plan
from rasplab.library import PROGRAMS


def _compile(name: str, n: int):
    entry = PROGRAMS[name]
    return compile_program(entry.build(), list(entry.vocab), n, verify=200, sample=entry.sample)


def test_shift_width_does_not_grow_with_length() -> None:
    short, long = _compile("shift", 64), _compile("shift", 256)
    assert short.d_model == long.d_model < 24
    assert long.n_params < 6_000  # one-hot positions took 682,752
    assert any("compared as numbers" in note for note in long.info.notes)


def test_index_at_256_is_exact_and_small() -> None:
    model = _compile("index", 256)  # verify=200 checks it in float32
    assert model.n_params < 5_000


def test_short_lengths_keep_one_hot_positions() -> None:
    model = _compile("shift", QUADRATIC_FROM - 1)
    assert not any("compared as numbers" in note for note in model.info.notes)


def test_scale_leaves_wrong_keys_negligible_and_scores_exact() -> None:
    plan = quadratic_plan(range(1024), range(-1, 1023), 1024)
    assert plan.leakage(1024) < 1e-8
    assert plan.dtype == "float32"
    assert quadratic_plan(range(8192), range(8192), 8192).dtype == "float64"


@pytest.mark.slow
def test_shift_at_1024_is_exact_in_float32() -> None:
    model = _compile("shift", 1024)
    assert model.n_params < 20_000
    assert model.d_model == _compile("shift", 64).d_model
