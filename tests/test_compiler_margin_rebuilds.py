"""After the certificate: a model the bounds leave unproved even in float64, built again with
its wide equalities as digits (compiler/margin_rebuilds.py).

most_freq needs this at 1,024 positions only (a minute to compile); here its first
build at 80 is made to fail the same way: its certificate is replaced by the one the
bounds give at 1,024 (no output margin in float64).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rasplab.compiler import compile_program, driver, verify
from rasplab.compiler.margin_rebuilds import DIGITS_AFTER_CERTIFICATE, NO_MARGIN, digit_tests
from rasplab.library import get

NO_MARGIN_AT_1024 = f"{NO_MARGIN}: its margin may fall to -1 (errors on the way: head most_freq)"


def _first_build_unproved(monkeypatch, *also: str) -> list:
    """``driver.with_certificate`` whose certificate of a model without digit tests keeps no
    margin in float64 (and lists ``also``); the models it certified."""
    real, seen = driver.with_certificate, []

    def certified(model, *args, **kwargs):
        model = real(model, *args, **kwargs)
        seen.append(model)
        if digit_tests(model):
            return model
        proof = replace(
            model.info.certificate,
            status="sampled",
            dtype=None,
            worst_margin=None,
            worst_margin_float32=None,
            open=(NO_MARGIN_AT_1024, *also),
        )
        return replace(model, info=replace(model.info, certificate=proof))

    monkeypatch.setattr(driver, "with_certificate", certified)
    return seen


def _most_freq_at_80(**kw):
    entry = get("most_freq")
    return compile_program(entry.build(), list(entry.vocab), 80, sample=entry.sample, **kw)


def test_a_model_without_a_margin_in_float64_is_rebuilt_with_digits(monkeypatch):
    _first_build_unproved(monkeypatch)
    model = _most_freq_at_80()
    assert any(DIGITS_AFTER_CERTIFICATE in note for note in model.info.notes)
    proof = model.info.certificate
    assert proof is not None and proof.dtype in ("float64", "float32"), proof.open
    entry = get("most_freq")
    checked = verify(model, entry.build(), 100, sample=entry.sample)
    assert checked.exact and checked.n_inputs == 100


@pytest.mark.parametrize(
    "other",
    [
        "head target_pos.part3.attn: 1,081,344 combinations of values over the limit",
        "head most_freq: not bounded within the bounds' time budget of 30 s",
    ],
)
def test_anything_else_open_leaves_the_first_model(monkeypatch, other):
    seen = _first_build_unproved(monkeypatch, other)
    model = _most_freq_at_80()
    assert not any(DIGITS_AFTER_CERTIFICATE in note for note in model.info.notes)
    assert model.info.certificate.dtype is None
    assert not any(digit_tests(m) for m in seen)  # no rebuild was certified


def test_no_bounds_time_left_leaves_the_first_model(monkeypatch):
    _first_build_unproved(monkeypatch)
    model = _most_freq_at_80(bounds_seconds=0.5)
    assert not any(DIGITS_AFTER_CERTIFICATE in note for note in model.info.notes)
