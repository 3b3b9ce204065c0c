"""Causal (decoder) compilation: exact against the causal reference, refuses the rest."""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import aggregate, indices, numerical, select, selector_width, tokens
from rasplab.compiler import compile_program, verify
from rasplab.compiler.verify import causal_reference
from rasplab.errors import CompileError
from rasplab.library import PROGRAMS

PREFIX = select(indices, indices, "<=")


def test_prefix_programs_compile_causally():
    seen_a = numerical(aggregate(PREFIX, numerical(tokens.map(lambda t: t == "a"))))
    model = compile_program(seen_a, "ab", 10, causal=True)
    assert model.causal
    for dtype in (np.float32, np.float64):
        assert verify(model, seen_a, 60, dtype=dtype).exact


def test_causal_counts_and_library_programs():
    running = selector_width(PREFIX & select(tokens, tokens, "=="))
    model = compile_program(running, "abc", 12, causal=True)
    assert verify(model, running, 60).exact
    entry = PROGRAMS["dyck1"]
    model = compile_program(entry.build(), entry.vocab, 10, causal=True, sample=entry.sample)
    assert verify(model, entry.build(), 60, sample=entry.sample).exact


def test_causal_reference_runs_each_prefix():
    hist = selector_width(select(tokens, tokens, "=="))
    assert causal_reference(hist, [list("abab")]) == [[1, 1, 2, 2]]


@pytest.mark.parametrize("name", ["reverse", "hist", "sort", "length"])
def test_programs_that_look_ahead_are_refused(name):
    entry = PROGRAMS[name]
    with pytest.raises(CompileError, match="blocker"):
        compile_program(entry.build(), entry.vocab, 6, causal=True)
