"""What a count compares, read through an exact copy (compiler/copies.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from test_compiler_bounds import every_input

from rasplab.compiler import compile_program, driver, verify
from rasplab.compiler.certify import certify, compare, reference_outputs
from rasplab.compiler.copies import copied_counts, copies_help
from rasplab.compiler.job import make_job
from rasplab.library import get
from rasplab.library.catalog import PROGRAMS


def test_the_copies_keep_every_value_of_the_program():
    rng = np.random.default_rng(0)
    for name in ("most_freq", "double_hist"):
        entry = get(name)
        program = entry.build()
        found = copied_counts(program, "test")
        assert found is not None and copies_help(program)
        for _ in range(30):
            text = [entry.vocab[i] for i in rng.integers(0, len(entry.vocab), 9)]
            assert found.program(text) == program(text)


def test_programs_whose_counts_compare_only_tokens_and_positions_are_left_alone():
    for name in ("hist", "sort", "reverse", "dyck1"):
        program = get(name).build()
        assert not copies_help(program) and copied_counts(program, "test") is None
    helped = [name for name in PROGRAMS if copies_help(get(name).build())]
    assert "most_freq" in helped and "double_hist" in helped and "hist" not in helped


def test_most_freq_built_with_copies_is_proved_in_float32_and_exact_on_every_input():
    entry = get("most_freq")
    job = make_job(entry.build(), list(entry.vocab)[:3], 5, False, 0, None, 0, None, None)
    for copies in (None, "test"):
        model, _, blueprint = driver._build(replace(job, copies=copies), evidence=[])
        proof = certify(model, job.program, blueprint=blueprint, method="bounds")
        assert proof.dtype == ("float32" if copies else "float64")
    rows = every_input(model.vocab, model.max_seq_len)
    for dtype in (np.float32, np.float64):
        result = compare(model, rows, reference_outputs(model, job.program, rows), dtype)
        assert result.n_inputs == 363 and result.exact


def test_most_freq_at_64_is_rebuilt_with_copies_and_proved_in_float32():
    entry = get("most_freq")
    model = compile_program(entry.build(), list(entry.vocab), 64, sample=entry.sample)
    proof = model.info.certificate
    assert proof is not None and proof.proved and proof.dtype == "float32"
    assert any("read by a count through an exact copy" in note for note in model.info.notes)
    checked = verify(model, entry.build(), 200, sample=entry.sample)  # float32
    assert checked.exact and checked.n_inputs == 200
