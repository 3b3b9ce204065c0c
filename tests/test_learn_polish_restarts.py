"""The discrete search goes on from the next restart where the best one stays unsolved.

A longer training can settle in a structure the search cannot leave while a
restart that trained worse is a few moves from the answer. Programs stand in
as strings here; the search and the solved test are replaced by tables.
"""

import math

from rasplab.learn import fit as fitting
from rasplab.learn.config import LearnConfig
from rasplab.learn.fit import FitResult, Score

# what the search makes of each program, and which programs solve the training data
SEARCH = {"deep but wrong": ("deep but wrong", 0.96), "shallow": ("right", 1.0)}
SOLVED = {"right"}


def _result(program: str, acc: float, restart: int) -> FitResult:
    return FitResult(program, Score(acc, acc, 0), 0, restart, 100, 0.0)  # type: ignore[arg-type]


def _fake_search(monkeypatch, calls: list[str]) -> None:
    def polish(run, train, val, config, deadline, log, restart):
        calls.append(run.best)
        program, acc = SEARCH.get(run.best, (run.best, run.val.token_acc))
        run.best, run.val = program, Score(acc, acc, 0)
        log.append(dict(restart=restart))

    monkeypatch.setattr(fitting, "_polish", polish)
    monkeypatch.setattr(fitting, "_solved", lambda result, train: result.program in SOLVED)


def test_a_worse_restart_the_search_solves_is_kept(monkeypatch):
    calls: list[str] = []
    _fake_search(monkeypatch, calls)
    found = [_result("shallow", 0.81, 0), _result("deep but wrong", 0.95, 1)]
    best = fitting._polished(found, None, None, LearnConfig(), math.inf, [])
    assert calls == ["deep but wrong", "shallow"]  # the best on validation first
    assert (best.program, best.restart, best.val.token_acc) == ("right", 0, 1.0)


def test_the_search_stops_once_a_restart_is_solved(monkeypatch):
    calls: list[str] = []
    _fake_search(monkeypatch, calls)
    found = [_result("deep but wrong", 0.9, 0), _result("shallow", 0.95, 1)]
    best = fitting._polished(found, None, None, LearnConfig(), math.inf, [])
    assert calls == ["shallow"] and best.program == "right"


def test_past_the_deadline_only_the_best_restart_is_searched(monkeypatch):
    calls: list[str] = []
    _fake_search(monkeypatch, calls)
    found = [_result("shallow", 0.81, 0), _result("deep but wrong", 0.95, 1)]
    best = fitting._polished(found, None, None, LearnConfig(), 0.0, [])  # deadline passed
    assert calls == ["deep but wrong"] and best.program == "deep but wrong"
    assert best.val.token_acc == 0.96
