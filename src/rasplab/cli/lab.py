"""``rasplab lab``: the whole laboratory in a browser tab, served from this machine.

The page needs nothing from the network. The server binds 127.0.0.1 unless
``--host`` says otherwise, runs only RASP's surface language (never Python,
never a file), and every request has limits on size, time and memory.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import webbrowser
from typing import Any

from .common import positive_int, subcommand

__all__ = ["add_parser", "command", "start_message"]

EXAMPLES = """
  rasplab lab                          serve on http://127.0.0.1:8000/ (this machine only)
  rasplab lab --open                   and open it in the default browser
  rasplab lab --port 0                 any free port (the URL is printed)
  rasplab lab --host 0.0.0.0 --workers 4    serve a class on this network
"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value}")
    return value


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``lab``."""
    from ..lab.limits import LabLimits, default_workers

    defaults = LabLimits()
    p = subcommand(
        subparsers,
        "lab",
        None,
        help="the browser lab: edit, run, draw, compile and solve puzzles in one page",
        description="Serve the lab: a page where a RASP program runs as you type, with every "
        "head and MLP drawn, its compiled model and the puzzles. Needs the lab extra "
        "(pip install 'rasplab[lab]').",
        examples=EXAMPLES,
    )
    p.add_argument("--port", type=_port, default=8000, help="port to serve on (default 8000)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0: every network)",
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=default_workers(),
        metavar="N",
        help="worker processes, so N requests run at once (default: two per core, 4 to 16)",
    )
    p.add_argument(
        "--max-seconds",
        type=_seconds,
        default=defaults.run_seconds,
        metavar="S",
        help=f"time one run may take before it is stopped (default {defaults.run_seconds:g})",
    )
    p.set_defaults(func=command)


def start_message(url: str, host: str, limits: Any) -> str:
    """What ``rasplab lab`` prints when it is listening: where, who can reach it, the limits."""
    from ..lab.server import is_loopback

    if is_loopback(host):
        reach = f"bound to {host}: only this machine can open it (--host 0.0.0.0 to serve others)"
    else:
        reach = (
            f"bound to {host}: anyone who can reach this machine can open it; programs run "
            "only as RASP, under these limits"
        )
    return (
        f"rasplab lab: {url}\n{reach}\nlimits per request:\n{limits.describe()}\n"
        "press Ctrl-C to stop"
    )


def command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..lab.limits import LabLimits
    from ..lab.server import LabServer

    limits = replace(LabLimits(), workers=args.workers, run_seconds=args.max_seconds)
    server = LabServer(args.host, args.port, limits)
    print(start_message(server.url, args.host, limits), flush=True)
    if args.open:
        threading.Timer(1.0, webbrowser.open, args=(server.url,)).start()
    # uvicorn shuts down cleanly on Ctrl-C, then passes it on: stopping is the normal end
    with contextlib.suppress(KeyboardInterrupt):
        server.serve()
    print("rasplab lab: stopped")
    return 0
