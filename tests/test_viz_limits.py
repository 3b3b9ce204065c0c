"""Per-position pictures are refused past a number of positions, before anything is drawn."""

from __future__ import annotations

import time

import pytest

from rasplab import evaluate
from rasplab.library import PROGRAMS
from rasplab.viz import MAX_POSITIONS, DrawError, draw, report, save, text_view
from rasplab.viz.execution import execution_svg
from rasplab.viz.table import values_svg

SORT = PROGRAMS["sort"].build()


@pytest.mark.parametrize("kind", ["execution", "values"])
def test_a_long_input_is_refused_quickly_with_the_limit_and_how_to_raise_it(kind) -> None:
    start = time.perf_counter()
    with pytest.raises(DrawError) as info:
        draw(SORT, "ab" * 1000, kind=kind)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert "2000 positions" in message and f"limit of {MAX_POSITIONS} positions" in message
    assert "max_positions=" in message and "--max-positions" in message
    assert "MiB" in message  # the estimated size of what was asked for


def test_save_writes_nothing_when_it_refuses(tmp_path) -> None:
    path = tmp_path / "big.svg"
    with pytest.raises(DrawError):
        save(path, SORT, "x" * 500, kind="execution")
    assert not path.exists()
    save(path, SORT, "x" * 50, kind="execution", max_positions=None)
    assert path.stat().st_size > 0


def test_the_limit_can_be_raised_or_lowered() -> None:
    svg = draw(SORT, "cab" * 100, kind="execution", max_positions=300)
    assert svg.startswith("<svg") and svg.count('class="head"') == 2
    with pytest.raises(DrawError, match="limit of 5 positions"):
        draw(SORT, "banana", kind="values", max_positions=5)


def test_a_trace_already_made_is_checked_too() -> None:
    trace = evaluate(SORT, "ba" * 200, trace=True)
    for picture in (execution_svg, values_svg):
        with pytest.raises(DrawError, match="400 positions"):
            picture(trace)
    with pytest.raises(DrawError, match="the text view"):
        text_view(trace)
    with pytest.raises(DrawError, match="the report"):
        report(SORT, "ba" * 200)
    assert "sort" in report(SORT, "ba" * 200, max_positions=None)[:2000]


def test_the_graph_needs_no_input_and_no_limit() -> None:
    assert draw(SORT, kind="graph", max_positions=1).startswith("<svg")
