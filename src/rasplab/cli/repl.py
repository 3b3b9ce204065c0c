"""``rasplab repl``: the interactive RASP shell (history and line editing where available)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "command"]


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``repl``."""
    p = subparsers.add_parser(
        "repl",
        help="the interactive RASP shell",
        description="Type RASP statements; each new s-op is shown on the current example.",
    )
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..syntax import run_repl

    return run_repl()
