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


# A rank within a class: the positions up to each position holding its token.
SAME = select(tokens, tokens, "==")
RANK = selector_width(SAME & PREFIX)


def test_dyck2_compiles_causally_its_opener_found_by_a_rank_one_less():
    entry = PROGRAMS["dyck2"]
    model = compile_program(entry.build(), entry.vocab, 6, causal=True)
    certificate = model.info.certificate
    assert certificate.status == "proved" and certificate.n_enumerated == 5460


@pytest.mark.parametrize("offset", [1, 2])
def test_a_rank_of_the_class_compared_with_a_smaller_one_looks_back(offset):
    earlier = aggregate(SAME & select(RANK, RANK - offset, "=="), indices, default=-1)
    model = compile_program(earlier, "ab", 6, causal=True, prove_limit=200)
    assert model.info.certificate.status == "proved"


@pytest.mark.parametrize(
    "selector",
    [
        SAME & select(RANK, RANK + 1, "=="),  # the next copy: after the query
        select(RANK, RANK - 1, "=="),  # a rank of another token's class: anywhere
        select(tokens, "a", "==") & select(RANK, RANK - 1, "=="),  # not the rank's class
    ],
)
def test_rank_comparisons_that_may_look_ahead_are_refused(selector):
    with pytest.raises(CompileError, match="may pick keys after the query"):
        compile_program(aggregate(selector, indices, default=-1), "ab", 6, causal=True)


def test_a_kept_class_needs_a_smaller_rank():
    kept = select(tokens, "a", "==")
    count = selector_width(kept & PREFIX)  # the a's up to each position
    previous_a = aggregate(kept & select(count, count - 1, "=="), indices, default=-1)
    model = compile_program(previous_a, "ab", 6, causal=True, prove_limit=200)
    assert model.info.certificate.status == "proved"
    with pytest.raises(CompileError, match="may pick keys after the query"):
        compile_program(
            aggregate(kept & select(count, count + 1, "=="), indices, -1), "ab", 6, causal=True
        )
