"""``rasplab repl``: the interactive RASP shell (history and line editing where available)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import subcommand

__all__ = ["add_parser", "command"]


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``repl``."""
    p = subcommand(
        subparsers,
        "repl",
        None,
        help="the interactive RASP shell",
        description="Type RASP statements; each new s-op is shown on the current example.",
        examples="  rasplab repl\n  echo 'x = tokens == \"a\";' | rasplab repl",
    )
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..syntax import run_repl

    return run_repl()
