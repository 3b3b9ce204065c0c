"""A solution that loops forever fails its own puzzle after the time limit; the others still run."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from rasplab import map as rasp_map
from rasplab import tokens
from rasplab.puzzles import check
from rasplab.puzzles.deadline import can_limit_time
from rasplab.puzzles.progress import check_dir, table

SOLUTIONS = Path(__file__).parent / "puzzle_solutions"

LOOPING_MAP = """
from rasplab import aggregate, indices, length, map, select, tokens


def loop_forever():
    while True:
        pass


spun = map(lambda x: loop_forever(), tokens)
reverse = aggregate(select(indices, length - indices - 1, "=="), spun)
"""

pytestmark = pytest.mark.skipif(not can_limit_time(), reason="needs SIGALRM (Unix)")


def test_a_looping_map_times_out_and_the_other_puzzles_still_run(tmp_path) -> None:
    shutil.copy(SOLUTIONS / "03_length.py", tmp_path / "03_length.py")
    (tmp_path / "04_reverse.py").write_text(LOOPING_MAP)
    shutil.copy(SOLUTIONS / "05_histogram.py", tmp_path / "05_histogram.py")
    start = time.perf_counter()
    results = check_dir(
        tmp_path, ["length", "reverse", "histogram"], time_limit=2, use_hypothesis=False
    )
    assert time.perf_counter() - start < 20
    by_name = {r.puzzle.name: r for r in results}
    assert by_name["length"].solved and by_name["histogram"].solved
    timed_out = by_name["reverse"]
    assert timed_out.status == "error"
    assert "time limit of 2 s" in timed_out.problems[0]
    assert "time_limit=" in timed_out.problems[0]
    assert "solved 2 of 3" in table(results)


def test_a_file_that_loops_while_loading_times_out(tmp_path) -> None:
    (tmp_path / "03_length.py").write_text("while True:\n    pass\n")
    [result] = check_dir(tmp_path, ["length"], time_limit=0.5, use_hypothesis=False)
    assert result.status == "error" and "time limit of 0.5 s" in result.problems[0]


def test_check_of_an_sop_has_a_time_limit_too() -> None:
    spin = rasp_map(lambda x: _spin(), tokens)
    start = time.perf_counter()
    result = check("histogram", spin, time_limit=0.5, use_hypothesis=False)
    assert result.status == "error" and "time limit" in result.problems[0]
    assert time.perf_counter() - start < 10


def _spin():
    while True:
        pass


def test_off_the_main_thread_the_check_runs_without_a_limit(tmp_path) -> None:
    shutil.copy(SOLUTIONS / "03_length.py", tmp_path / "03_length.py")
    found = []
    worker = threading.Thread(target=lambda: found.extend(check_dir(tmp_path, ["length"])))
    worker.start()
    worker.join(60)
    assert found and found[0].solved
    assert any("without a time limit" in note for note in found[0].notes)


def test_the_limit_costs_little_on_a_normal_check() -> None:
    source = (SOLUTIONS / "04_reverse.py").read_text()
    namespace: dict = {}
    exec(compile(source, "04_reverse.py", "exec"), namespace)
    timings = {}
    for limit in (None, 10.0, None, 10.0):
        start = time.perf_counter()
        assert check("reverse", namespace["reverse"], time_limit=limit).solved
        timings[limit] = time.perf_counter() - start
    assert timings[10.0] < 2 * timings[None] + 0.05, timings
