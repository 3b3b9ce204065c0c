"""More random inputs after the certificate, where it leaves float32 open
(rasplab.compiler.wider): none for a proved model, counted in the report, and an input
they get wrong stops the compile as a failed first check would."""

from __future__ import annotations

from dataclasses import replace

import pytest

import rasplab.compiler.wider as wider
from rasplab.compiler import compile_program
from rasplab.compiler.verify import Mismatch
from rasplab.errors import CompileError
from rasplab.library import ralign, reverse


def test_a_proved_model_gets_no_more_inputs():
    model = compile_program(reverse(), "abc", 6, verify=20)
    assert model.info.certificate.status == "proved"
    assert model.info.verified.n_inputs == 20


def test_a_model_left_open_is_checked_on_more_inputs():
    # ralign's select is not shown to pick one key: the certificate stays open
    model = compile_program(ralign(), "ab-", 5, verify=10, prove_limit=0)
    assert model.info.certificate.status != "proved"
    checked = model.info.verified
    assert checked.n_inputs + checked.n_rejected == 10 + wider.WIDER_INPUTS
    assert checked.exact


def test_a_wrong_input_among_them_stops_the_compile(monkeypatch):
    real = wider.compare

    def one_wrong(job, model, inputs):  # the model's answers, the first one changed
        found = real(job, model, inputs)
        bad = Mismatch(list(inputs[0]), ["?"] * len(inputs[0]), ["!"] * len(inputs[0]))
        return replace(found, n_exact=found.n_inputs - 1, mismatches=(bad,))

    monkeypatch.setattr(wider, "compare", one_wrong)
    with pytest.raises(CompileError) as err:
        compile_program(ralign(), "ab-", 5, verify=10, prove_limit=0)
    assert "found by the check after the certificate" in str(err.value)
