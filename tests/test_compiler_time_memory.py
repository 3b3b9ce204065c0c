"""The whole compile's time and memory limits (compiler/limits.py)."""

from __future__ import annotations

import math
import threading

import pytest

from rasplab.cli.main import main
from rasplab.compiler import compile_program, limits
from rasplab.compiler.limits import checkpoint, compile_limits, seconds_left
from rasplab.errors import CompileError, ResourceLimitError
from rasplab.library import get


def test_past_the_time_limit_the_compile_stops_naming_stage_limit_and_flag():
    with pytest.raises(ResourceLimitError) as err:
        compile_program(get("sort").build(), "abc", 8, max_seconds=0)
    text = str(err.value)
    assert "compiling sort at max_seq_len 8 took longer than the time limit of 0 s" in text
    assert "stopped in the value sets (stage 1), at tokens" in text
    assert "max_seconds=" in text and "--time-limit" in text


def test_within_the_limit_the_model_is_the_same():
    program = get("reverse").build()
    free = compile_program(program, "abc", 8, max_seconds=None)
    limited = compile_program(program, "abc", 8, max_seconds=300)
    assert free.n_params == limited.n_params
    assert free.info.certificate is not None and limited.info.certificate is not None
    assert free.info.certificate.status == limited.info.certificate.status == "proved"


def test_memory_grown_past_max_bytes_stops_the_compile(monkeypatch):
    # the process appears to grow 1 GiB between two reads of its memory
    reads = iter(range(0, 100 * 2**30, 2**30))
    monkeypatch.setattr(limits, "_resident_bytes", lambda: next(reads))
    monkeypatch.setattr(limits, "MEMORY_EVERY", 0.0)
    with pytest.raises(ResourceLimitError) as err:
        compile_program(get("hist").build(), "abc", 8, max_bytes=3 * 2**30)
    text = str(err.value)
    assert "compiling hist at max_seq_len 8 used 4.00 GiB, over the memory limit of 3 GiB" in text
    assert "(stopped in the plan (stage 4))" in text and "--max-memory" in text


def test_memory_is_not_read_without_a_limit(monkeypatch):
    def unreadable() -> int:
        raise AssertionError("read the memory with no limit to check")

    with compile_limits("x", 4, seconds=None, max_bytes=None):
        monkeypatch.setattr(limits, "_resident_bytes", unreadable)
        for _ in range(3):
            checkpoint("a stage")


def test_bounds_get_what_is_left_of_the_time():
    assert seconds_left(20.0) == 20.0  # no compile running: its own allowance
    with compile_limits("x", 4, seconds=5.0, max_bytes=None):
        left = seconds_left(20.0)
        assert 4.0 < left <= 5.0
        assert seconds_left(1.0) == 1.0
    with compile_limits("x", 4, seconds=None, max_bytes=None):
        assert seconds_left(20.0) == 20.0


def test_an_inner_compile_keeps_the_outer_limits():
    with (
        compile_limits("outer", 4, seconds=0.0, max_bytes=None),
        compile_limits("inner", 4, seconds=None, max_bytes=None),
        pytest.raises(ResourceLimitError, match="compiling outer"),
    ):
        checkpoint("a stage")


def test_another_thread_is_not_limited_by_this_compile():
    seen: list[BaseException] = []

    def work() -> None:
        try:
            checkpoint("a stage")
        except BaseException as err:  # noqa: BLE001 - reported to the test below
            seen.append(err)

    with compile_limits("x", 4, seconds=0.0, max_bytes=None):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert seen == []


@pytest.mark.parametrize("bad", [-1, math.nan, "10", True])
def test_bad_max_seconds_is_named(bad):
    with pytest.raises(CompileError, match="max_seconds must be a number >= 0"):
        compile_program(get("reverse").build(), "ab", 4, max_seconds=bad)


def test_cli_time_limit(capsys):
    assert main(["compile", "lib:sort", "--max-len", "8", "--time-limit", "0"]) == 2
    assert "a time limit must be more than 0 seconds" in capsys.readouterr().err
    code = main(["compile", "lib:sort", "--max-len", "8", "--time-limit", "1e-9"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: compiling sort at max_seq_len 8 took longer than the time limit")
    assert "--time-limit" in err and "Traceback" not in err
