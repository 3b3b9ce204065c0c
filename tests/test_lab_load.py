"""A bounded load test on 127.0.0.1: normal requests are answered while runaway ones are stopped."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rasplab.lab.limits import LabLimits

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

RUNAWAY = "x = [[7 ^ 30000 for j in range(1000)] for i in range(1000)];\ny = tokens;"
HIST = "hist = selector_width(select(tokens, tokens, ==));"
NORMAL, RUNAWAYS, AT_ONCE = 60, 4, 12  # requests, of which runaway, sent at a time


@pytest.fixture(scope="module")
def lab_url():
    from rasplab.lab.server import LabServer

    server = LabServer("127.0.0.1", 0, LabLimits(workers=2, run_seconds=1.0, queue_seconds=30))
    yield server.start()
    server.stop()


def _send(url: str, program: str, text: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = httpx.post(url + "api/run", json={"program": program, "input": text}, timeout=60)
    return response.status_code, response.json(), time.monotonic() - started


@pytest.mark.slow
def test_normal_requests_are_answered_while_runaways_are_stopped(lab_url):
    words = ["abcab", "hello", "aaa", "xyzzy"]
    jobs = [(HIST, words[i % len(words)]) for i in range(NORMAL)]
    for k in range(RUNAWAYS):  # spread through the stream, not all at the start
        jobs.insert(k * NORMAL // RUNAWAYS, (RUNAWAY, "ab"))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        results = list(pool.map(lambda job: _send(lab_url, *job), jobs))
    elapsed = time.monotonic() - started
    stopped = [answer for status, answer, _ in results if answer.get("stopped")]
    normal = [(status, answer) for status, answer, _ in results if not answer.get("stopped")]
    assert len(stopped) == RUNAWAYS
    assert all("stopped after 1 s" in answer["error"]["message"] for answer in stopped)
    assert len(normal) == NORMAL
    for status, answer in normal:
        assert status == 200 and answer["ok"], answer
        tokens = answer["input"]
        assert answer["output"] == [tokens.count(t) for t in tokens]
    # two workers, four runaways of one second each: the stream is slowed, never stuck
    assert elapsed < 20, elapsed


@pytest.mark.slow
def test_the_server_still_answers_after_the_load(lab_url):
    status, answer, seconds = _send(lab_url, HIST, "abba")
    assert status == 200 and answer["output"] == [2, 2, 2, 2]
    assert seconds < 5
