"""``rasplab lab`` on the command line: its help, its start message, its errors, a real start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rasplab.cli.lab import start_message
from rasplab.cli.main import main
from rasplab.lab.limits import LabLimits

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_the_flags_and_examples(capsys):
    assert main(["lab", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--port", "--host", "--open", "--workers", "--max-seconds"):
        assert flag in out
    assert "examples:" in out and "127.0.0.1" in out


def test_start_message_says_who_can_reach_the_server():
    limits = LabLimits()
    local = start_message("http://127.0.0.1:8000/", "127.0.0.1", limits)
    assert "only this machine can open it" in local and "64 tokens" in local
    shared = start_message("http://0.0.0.0:8000/", "0.0.0.0", limits)
    assert "anyone who can reach this machine" in shared


def test_a_port_in_use_is_a_usage_error(capsys):
    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["lab", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot listen on 127.0.0.1:" in err and "Traceback" not in err


def test_bad_flags_are_usage_errors(capsys):
    assert main(["lab", "--port", "70000"]) == 2
    assert main(["lab", "--max-seconds", "0"]) == 2
    assert "must be more than 0 seconds" in capsys.readouterr().err


def test_without_the_lab_extra_rasplab_imports_and_names_the_extra():
    script = (
        "import sys\n"
        "sys.modules['starlette'] = None\n"
        "sys.modules['uvicorn'] = None\n"
        "import rasplab, rasplab.lab\n"
        "from rasplab.cli.main import main\n"
        "sys.exit(main(['lab', '--port', '0']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "pip install 'rasplab[lab]'" in done.stderr and "Traceback" not in done.stderr


def test_docs_describe_the_lab_command():
    text = (ROOT / "docs" / "cli.md").read_text()
    assert "### rasplab lab" in text and "127.0.0.1" in text


@pytest.mark.slow
def test_rasplab_lab_serves_the_page_and_stops_on_ctrl_c():
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    command = [sys.executable, "-m", "rasplab", "lab", "--port", "0", "--workers", "2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert server.stdout is not None
        first = server.stdout.readline().decode()
        assert first.startswith("rasplab lab: http://127.0.0.1:")
        url = first.split(": ", 1)[1].strip()
        page = httpx.get(url, timeout=30)
        answer = httpx.post(url + "api/run", json={"program": "y = tokens;", "input": "ok"})
        assert page.status_code == 200 and answer.json()["output"] == ["o", "k"]
    finally:
        server.send_signal(signal.SIGINT)
        started = time.monotonic()
        code = server.wait(timeout=30)
    assert code == 0 and time.monotonic() - started < 15
