"""Progress bars: drawn on a terminal, silent in a pipe, under --quiet and under --json."""

from __future__ import annotations

import io
import sys
import time

import pytest

from rasplab import progress


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as stderr is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal():
    screen = Terminal()
    assert list(progress.bar(range(3), desc="steps", stream=screen)) == [0, 1, 2]
    assert "steps:" in screen.getvalue() and "/3 [" in screen.getvalue()


@pytest.mark.parametrize("where", ["pipe", "quiet"])
def test_no_bar_in_a_pipe_or_when_quiet(where):
    screen = io.StringIO() if where == "pipe" else Terminal()
    steps = progress.bar(range(3), desc="steps", stream=screen, quiet=where == "quiet")
    assert list(steps) == [0, 1, 2]  # still iterates
    assert screen.getvalue() == ""


def test_a_long_call_ticks_and_a_quick_one_prints_nothing(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with progress.waiting("quick", after=0.5):
        pass
    assert screen.getvalue() == ""
    with progress.waiting("compiling", after=0.1):
        time.sleep(0.8)
    assert "compiling: 00:0" in screen.getvalue()
    screen.truncate(0)
    with progress.waiting("compiling", after=0.1, quiet=True):
        time.sleep(0.3)
    assert screen.getvalue() == ""


torch = pytest.importorskip("torch")

from rasplab.cli.main import main  # noqa: E402


def _train(tmp_path, *flags):
    argv = ["train", "lib:hist", "--vocab", "ab", "--max-len", "4", "--steps", "12"]
    argv += ["--eval-every", "4", "--n-train", "100", "--n-val", "20", "--n-test", "20"]
    argv += ["--threads", "1", "--force", "-o", str(tmp_path / "run"), *flags]
    return main(argv)


@pytest.mark.parametrize(
    ("flags", "drawn"), [((), True), (("--json",), False), (("--quiet",), False)]
)
def test_train_draws_its_bar_only_for_someone_watching(tmp_path, monkeypatch, flags, drawn):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert _train(tmp_path, *flags) == 0
    assert ("train:" in screen.getvalue()) is drawn, screen.getvalue()[-300:]
    if not drawn:
        assert screen.getvalue() == ""


def test_train_writes_no_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    assert _train(tmp_path) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "train:" not in err
    assert "val seq" in err  # the validation lines are still logged, plainly
