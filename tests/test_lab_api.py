"""The lab's server through Starlette's TestClient: answers, errors, limits and runaway programs."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from rasplab.lab.app import create_app  # noqa: E402
from rasplab.lab.limits import LabLimits  # noqa: E402
from rasplab.library import PROGRAMS  # noqa: E402
from rasplab.model import load  # noqa: E402

# 7 ^ 30000 a million times: far past any limit of seconds, yet within the interpreter's step limit
RUNAWAY = "x = [[7 ^ 30000 for j in range(1000)] for i in range(1000)];\ny = tokens;"
HIST = "same = select(tokens, tokens, ==);\nhist = selector_width(same);"
LIMITS = LabLimits(workers=2, run_seconds=1.5, check_seconds=60, queue_seconds=20)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(LIMITS)) as test_client:
        yield test_client


def test_run_answers_output_analysis_and_pictures(client):
    answer = client.post("/api/run", json={"program": HIST, "input": "hello"}).json()
    assert answer["ok"], answer
    assert answer["output"] == [1, 1, 2, 2, 1]
    assert answer["analysis"]["heads_per_layer"] == [1]
    assert answer["execution_svg"].count('class="head"') == 1
    assert "hist = selector_width" in answer["graph_svg"]
    assert answer["sops"] == ["hist"]


def test_run_picks_the_named_sop(client):
    program = 'a = tokens == "l";\nb = selector_width(select(a, True, ==));'
    answer = client.post("/api/run", json={"program": program, "input": "hello", "name": "a"})
    assert answer.json()["output"] == [False, False, True, True, False]


def test_syntax_error_comes_back_at_its_line_and_column(client):
    program = "x = select(tokens, tokens, ==);\ny = aggregate(x, tokens) + ;"
    answer = client.post("/api/run", json={"program": program, "input": "ab"}).json()
    assert not answer["ok"]
    assert (answer["error"]["line"], answer["error"]["column"]) == (2, 28)
    assert "expected an expression" in answer["error"]["message"]


def test_unknown_name_comes_back_at_its_line_and_column(client):
    answer = client.post("/api/run", json={"program": "x = 1;\ny = foo(tokens);", "input": "a"})
    error = answer.json()["error"]
    assert (error["line"], error["column"]) == (2, 5)
    assert "unknown name 'foo'" in error["message"]


def test_an_evaluation_error_points_at_the_sop_that_failed(client):
    program = "x = 1;\n  y = tokens + 1;"
    error = client.post("/api/run", json={"program": program, "input": "ab"}).json()["error"]
    assert (error["line"], error["column"]) == (2, 3)
    assert error["message"].startswith("map y (tokens + 1) failed on value 'a'")


def test_programs_cannot_read_files(client, tmp_path, monkeypatch):
    (tmp_path / "secret.rasp").write_text("leak = tokens;")
    monkeypatch.chdir(tmp_path)
    answer = client.post("/api/run", json={"program": 'load "secret";\ny = leak;', "input": "a"})
    error = answer.json()["error"]
    assert error["line"] == 1 and "cannot read files" in error["message"]


def test_a_runaway_program_is_stopped_while_another_request_is_answered(client):
    stopped: dict = {}

    def send_runaway() -> None:
        stopped.update(client.post("/api/run", json={"program": RUNAWAY, "input": "ab"}).json())

    runaway = threading.Thread(target=send_runaway)
    started = time.monotonic()
    runaway.start()
    time.sleep(0.3)  # the runaway has its worker by now
    answer = client.post("/api/run", json={"program": HIST, "input": "abca"}).json()
    answered_after = time.monotonic() - started
    runaway.join(timeout=30)
    assert answer["output"] == [2, 1, 1, 2]
    assert answered_after < LIMITS.run_seconds  # not queued behind the runaway
    assert stopped["ok"] is False and stopped["stopped"] is True
    assert "stopped after 1.5 s" in stopped["error"]["message"]
    # the killed worker was replaced: two requests at once still both get answers
    again = client.post("/api/run", json={"program": HIST, "input": "aa"}).json()
    assert again["output"] == [2, 2]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"input": "ab"}', 400, "has no 'program'"),
        (b'{"program": 3}', 400, "'program' must be a string"),
        (b'{"program": "y = tokens;", "name": "a b"}', 400, "name of an s-op"),
        (b"\xff\xfe", 400, "not UTF-8"),
    ],
)
def test_malformed_requests_get_400_with_a_message(client, body, status, words):
    response = client.post("/api/run", content=body)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_oversized_bodies_and_programs_get_413(client):
    big = json.dumps({"program": "#" * (LIMITS.max_body_bytes + 10)})
    response = client.post("/api/run", content=big)
    assert response.status_code == 413 and "at most 262,144" in response.json()["error"]

    def chunks():  # no content-length: the server counts as it reads
        for _ in range(40):
            yield b"x" * 10_000

    response = client.post("/api/run", content=chunks())
    assert response.status_code == 413
    program = "#" * (LIMITS.max_program_chars + 1)
    response = client.post("/api/run", json={"program": program})
    assert response.status_code == 413 and "characters" in response.json()["error"]
    response = client.post("/api/run", json={"program": HIST, "input": "a" * 10_000})
    assert response.status_code == 413


def test_too_many_input_tokens_is_an_answer_not_a_crash(client):
    answer = client.post("/api/run", json={"program": HIST, "input": "a" * 65}).json()
    assert not answer["ok"] and "at most 64" in answer["error"]["message"]


def test_unknown_routes_and_methods_get_json_errors(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and "/api/nothing" in response.json()["error"]
    response = client.get("/api/run")
    assert response.status_code == 405 and "GET" in response.json()["error"]
    assert client.get("/static/nothing.js").status_code == 404


def test_the_page_and_its_files_come_with_strict_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    static = Path(__file__).parents[1] / "src/rasplab/lab/static"
    names = sorted(p.name for p in static.iterdir())
    assert names == ["app.css", "app.js", "editor.js", "index.html", "puzzles.js"]
    for name in names:
        assert client.get(f"/static/{name}").status_code == 200
        text = (static / name).read_text()
        for asset in ("http://", "https://", "//cdn"):  # nothing from the network
            assert asset not in text.replace("http://www.w3.org", ""), (name, asset)


def test_catalog_lists_every_library_program_and_puzzle(client):
    catalog = client.get("/api/catalog").json()
    assert {p["name"] for p in catalog["library"]} == set(PROGRAMS)
    assert len(catalog["puzzles"]) == 16
    assert catalog["limits"]["max_input_tokens"] == LIMITS.max_input_tokens
    assert {p["name"] for p in catalog["examples"]} >= {"sort", "dyck2", "reverse"}


def test_compile_gives_size_report_residual_view_and_a_model_file(client, tmp_path):
    program = (Path(__file__).parents[1] / "examples" / "sort.rasp").read_text()
    request = {"program": program, "input": "cab", "vocab": "abc", "max_len": 4}
    answer = client.post("/api/compile", json=request).json()
    assert answer["ok"], answer
    assert answer["size"]["heads_per_layer"] == [2, 1] and answer["size"]["n_params"] > 0
    assert "verified against the evaluator" in answer["report"]
    # sort over abc up to 4: 120 inputs, every one compared
    assert "exact on: every input" in answer["report"]
    assert "(proved on all 120 inputs by enumeration)" in answer["report"]
    assert answer["residual_svg"].startswith("<svg")
    path = tmp_path / "sort.safetensors"
    path.write_bytes(base64.b64decode(answer["model_b64"]))
    assert load(path).run([list("cab")]) == [["a", "b", "c"]]


def test_a_library_program_compiles_for_the_inputs_its_sampler_draws(client):
    from rasplab.lab.programs import program_source

    request = {"program": program_source("library", "add"), "input": "12+34"}
    request.update(vocab="0123456789+", max_len=7)
    answer = client.post("/api/compile", json=request).json()
    assert answer["ok"], answer
    assert "exact on: inputs drawn by lib:add's sampler" in answer["report"]
    # a sampler's domain is not listed: the report says the model was only sampled
    assert re.search(r"checked on \d+ random inputs(, not proved|; proved)", answer["report"])
    edited = dict(request, program=request["program"] + "\n# edited")
    answer = client.post("/api/compile", json=edited).json()  # not the library's text
    assert "inputs drawn by" not in (answer.get("report") or "")


def test_compile_refuses_lengths_over_the_lab_limit(client):
    request = {"program": HIST, "input": "ab", "vocab": "ab", "max_len": 99}
    answer = client.post("/api/compile", json=request).json()
    assert not answer["ok"] and "over the lab's limit of 10" in answer["error"]["message"]
    response = client.post("/api/compile", json={"program": HIST, "vocab": "ab"})
    assert response.status_code == 400 and "max_len" in response.json()["error"]


def test_puzzle_check_fails_with_a_counterexample_then_passes(client):
    wrong = client.post("/api/puzzle", json={"puzzle": "reverse", "program": "y = tokens;"})
    wrong = wrong.json()
    assert wrong["ok"] and wrong["status"] == "wrong"
    assert wrong["counterexample"]["input"] == ["a", "b"]
    assert wrong["counterexample_svg"].startswith("<svg")
    solution = "def solution() {\n    return aggregate(select(indices, length - indices - 1, ==), tokens);\n}"
    right = client.post("/api/puzzle", json={"puzzle": "reverse", "program": solution}).json()
    assert right["status"] == "solved" and right["solved"], right
    unknown = client.post("/api/puzzle", json={"puzzle": "nope", "program": "y = tokens;"})
    assert "no puzzle named 'nope'" in unknown.json()["error"]["message"]


def test_a_puzzle_with_parameters_is_solved_by_a_rasp_function(client):
    solution = (
        "def solution(i, default) {\n"
        "    return aggregate(select(indices + i, indices, ==), tokens, default);\n}"
    )
    answer = client.post("/api/puzzle", json={"puzzle": "shift", "program": solution}).json()
    assert answer["status"] == "solved", answer
    missing = client.post("/api/puzzle", json={"puzzle": "shift", "program": "y = tokens;"})
    assert "def solution(i, default)" in missing.json()["error"]["message"]


def test_a_busy_lab_answers_503():
    limits = LabLimits(workers=1, run_seconds=2, queue_seconds=0.3)
    with TestClient(create_app(limits)) as client:
        runaway = threading.Thread(
            target=client.post, args=("/api/run",), kwargs={"json": {"program": RUNAWAY}}
        )
        runaway.start()
        time.sleep(0.3)
        response = client.post("/api/run", json={"program": HIST, "input": "ab"})
        runaway.join(timeout=30)
    assert response.status_code == 503 and "busy" in response.json()["error"]
    assert response.headers["retry-after"] == "5"


def test_a_program_past_the_memory_cap_fails_in_its_worker_only():
    limits = LabLimits(workers=1, worker_memory_bytes=700 * 2**20, run_seconds=20)
    hog = 'x = ["ab" * 500000 for i in range(1500)];\ny = tokens;'
    with TestClient(create_app(limits)) as client:
        answer = client.post("/api/run", json={"program": hog, "input": "ab"}).json()
        after = client.post("/api/run", json={"program": HIST, "input": "ab"}).json()
    assert not answer["ok"] and "ran out of memory" in answer["error"]["message"]
    assert after["output"] == [1, 1]
