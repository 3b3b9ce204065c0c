"""The terminal view: ``#``/``.`` grids per head and value rows per MLP step."""

import random

import pytest

from rasplab import analyse, evaluate, select, tokens
from rasplab.library import PROGRAMS
from rasplab.viz import grid_text, text_view
from rasplab.viz.labels import cell


def test_grid_text():
    assert grid_text([[True, False], [False, True]]) == "# .\n. #"
    assert grid_text([[1, 0]], on="x", off="-") == "x -"


def test_sort_grid_matches_the_trace():
    program = PROGRAMS["sort"].build()
    trace = evaluate(program, "banana", trace=True)
    text = text_view(trace)
    lines = text.splitlines()
    assert lines[0] == "sort on banana -> aaabnn  (2 layers, heads per layer [1, 1])"
    start = lines.index("  head sel_new: [k.target_pos == q.indices]")
    grid_rows = lines[start + 3 : start + 9]
    sel = trace["sel_new"]
    for q, line in enumerate(grid_rows):
        marks = [c for c in line.split() if c in "#."]
        assert marks == ["#" if x else "." for x in sel[q]]
        assert line.split()[-1] == trace.output[q]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_library_program_has_a_text_view(name):
    entry = PROGRAMS[name]
    xs = entry.examples[0] if entry.examples else entry.sample(random.Random(0), 6)
    program = entry.build()
    text = text_view(program, xs)
    a = analyse(program)
    assert sum(line.startswith("layer ") for line in text.splitlines()) == a.n_layers
    assert sum(line.startswith("  head ") for line in text.splitlines()) == a.n_heads
    for layer in a.layers:
        for sop in layer.mlp:
            assert any(line.split()[1:2] == [sop.label] for line in text.splitlines())


def test_mlp_rows_are_aligned_columns():
    program = PROGRAMS["sort"].build()
    xs = PROGRAMS["sort"].sample(random.Random(1), 32)
    lines = text_view(program, xs).splitlines()
    row = next(line for line in lines if line.strip().startswith("before") and "indices" in line)
    assert row.split()[2:] == [cell(i) for i in range(32)]


def test_a_selector_has_a_text_grid():
    text = text_view(select(tokens, tokens, "==").named("same"), "aba")
    assert text.splitlines()[0].endswith("(0 layers, heads per layer [])")
    assert "  a         # . #" in text.splitlines()
