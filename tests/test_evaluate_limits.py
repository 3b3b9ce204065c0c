"""Memory limits and the NaN rule of the evaluator, as a user meets them."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rasplab import aggregate, evaluate, evaluate_batch, indices, select, selector_width, tokens
from rasplab.errors import AggregateError, EvaluationError, InputError, ResourceLimitError
from rasplab.evaluate import engine
from rasplab.evaluate.naive import naive_evaluate
from rasplab.lang.nodes import Map, ZipMap
from rasplab.library import PROGRAMS


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Make every input of a few dozen tokens 'long': attention then runs in blocks."""
    monkeypatch.setattr(engine, "CHUNK_ELEMENTS", 64)


@pytest.mark.parametrize("name", ["hist", "sort", "most_freq", "reverse", "dyck2", "add"])
def test_attention_in_blocks_gives_the_same_values(tiny_blocks, name) -> None:
    program = PROGRAMS[name].build()
    inputs = {"dyck2": "({)}(()[]){" * 3, "add": "4521+9876"}
    xs = inputs.get(name, "the quick brown fox jumps over the lazy dog")
    assert evaluate(program, xs) == naive_evaluate(program, xs)


@pytest.mark.parametrize("mode", ["mean", "sum", "max", "min"])
def test_every_aggregate_mode_in_blocks(tiny_blocks, mode) -> None:
    upto = aggregate(select(indices, indices, "<="), tokens, mode=mode)
    xs = [3, 1.5, -2, 7, 0, 2.25, 9, -1] * 5
    assert evaluate(upto, xs) == naive_evaluate(upto, xs)


def test_an_error_in_a_later_block_names_its_position(tiny_blocks) -> None:
    grab = aggregate(select(indices, indices, "<="), tokens)  # query 34 first mixes a and x
    xs = "a" * 34 + "xy"
    with pytest.raises(AggregateError, match="position 34 of input"):
        evaluate(grab, xs)


def test_a_whole_selector_too_big_is_refused_with_the_limit_and_how_to_raise_it() -> None:
    same = select(tokens, tokens, "==")
    with pytest.raises(ResourceLimitError) as info:
        evaluate(same, "ab" * 1500, max_bytes=10**7)
    message = str(info.value)
    assert "memory limit of 9.5 MiB" in message
    assert "max_bytes=" in message and "--max-memory" in message
    assert len(evaluate(same, "ab" * 100, max_bytes=10**7)) == 200  # small ones still work


def test_a_huge_input_is_refused_before_anything_is_allocated() -> None:
    hist = PROGRAMS["hist"].build()
    with pytest.raises(ResourceLimitError, match="on an input of 300000 tokens needs about"):
        evaluate(hist, "a" * 300_000, max_bytes=10**6)


def test_a_trace_of_a_long_input_keeps_selectors_until_asked(tiny_blocks) -> None:
    same = select(tokens, tokens, "==").named("same")
    hist = selector_width(same).named("hist")
    trace = evaluate(hist, "abcab" * 20, trace=True, max_bytes=9000)
    assert trace["hist"][:5] == [40, 40, 20, 40, 40]
    with pytest.raises(ResourceLimitError, match="max_bytes="):
        trace["same"]
    small = evaluate(hist, "abcab" * 4, trace=True)
    assert small.array("same").shape == (20, 20)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_hist_on_a_long_input_uses_bounded_memory() -> None:
    """30,000 tokens: whole selectors would be 900 MB; in blocks the run stays small."""
    script = textwrap.dedent(
        """
        from rasplab import evaluate
        from rasplab.library import PROGRAMS
        out = evaluate(PROGRAMS["hist"].build(), "abcdefghij" * 3000)
        assert out[:3] == [3000, 3000, 3000], out[:3]
        # VmHWM, this process's own peak: getrusage's maxrss also counts the pages
        # the child shared with its parent between fork and exec
        status = open("/proc/self/status").read().split("VmHWM:")[1]
        print(int(status.split()[0]) // 1024)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 300, f"peak {done.stdout.strip()} MB"


# ---------------------------------------------------------------- NaN and infinities


def test_nan_is_not_a_token() -> None:
    sort = PROGRAMS["sort"].build()
    with pytest.raises(InputError, match="position 0 of input .* is NaN"):
        evaluate(sort, [math.nan, 1.0, 0.5])
    with pytest.raises(InputError, match="position 1"):
        evaluate_batch(sort, [[1.0], [2, math.nan]])
    with pytest.raises(InputError, match="NaN"):
        naive_evaluate(sort, [0.5, math.nan])


def test_infinities_are_ordinary_numbers() -> None:
    sort = PROGRAMS["sort"].build()
    xs = [math.inf, 1.0, -math.inf, 0.5]
    assert evaluate(sort, xs) == [-math.inf, 0.5, 1.0, math.inf]
    for mode, want in [("max", math.inf), ("min", -math.inf)]:
        best = aggregate(select(indices, indices, "true"), tokens, mode=mode)
        assert evaluate(best, xs) == [want] * 4
    mean = aggregate(select(indices, 1, "<="), tokens)
    assert evaluate(mean, [math.inf, 1.0]) == [math.inf, math.inf]
    below = select(tokens, tokens, "<")  # sel[q][k]: key k below query q
    assert evaluate(below, [math.inf, 0.0]) == [[False, True], [False, False]]


def test_a_map_that_makes_nan_is_an_error_naming_it() -> None:
    diff = Map(lambda x: x - x, tokens).named("diff")
    for run in (evaluate, naive_evaluate):
        with pytest.raises(EvaluationError, match="map diff .* returned nan at position 1"):
            run(diff, [1.0, math.inf])
    pair = ZipMap(lambda a, b: a + b, tokens, Map(lambda x: -x, tokens)).named("pair")
    with pytest.raises(EvaluationError, match="pair"):
        evaluate(pair, [2.0, math.inf])


@pytest.mark.parametrize("mode", ["mean", "sum"])
def test_an_aggregate_of_both_infinities_is_an_error(mode) -> None:
    both = aggregate(select(indices, indices, "true"), tokens, mode=mode).named("both")
    for run in (evaluate, naive_evaluate):
        with pytest.raises(AggregateError, match="result is NaN"):
            run(both, [math.inf, -math.inf])
