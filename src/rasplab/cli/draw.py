"""``rasplab draw`` and ``rasplab report``: pictures of a program, written to a file.

The format follows the output's suffix (.svg, .html, .png). Without
``--input`` only the program graph can be drawn.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import render
from .programs import resolve
from .run import parse_input

__all__ = ["add_parser", "draw_command", "report_command"]

KINDS = ("graph", "execution", "values")


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``draw`` and ``report``."""
    p = subparsers.add_parser(
        "draw",
        parents=[common],
        help="draw a program graph, execution view or value table",
        description="Draw PROGRAM to a .svg, .html or .png file.",
    )
    p.add_argument("program", help="lib:NAME, NAME or path/to/file.py:ATTR")
    p.add_argument("--input", "-i", help="a string (one token per character) or a JSON list")
    p.add_argument("--kind", "-k", choices=KINDS, help="default: execution given an input")
    p.add_argument("-o", "--output", type=Path, required=True, help="out.svg, out.html or out.png")
    p.set_defaults(func=draw_command)

    r = subparsers.add_parser(
        "report",
        parents=[common],
        help="one self-contained HTML page: analysis, graph, execution view, values",
    )
    r.add_argument("program", help="lib:NAME, NAME or path/to/file.py:ATTR")
    r.add_argument("--input", "-i", help="a string (one token per character) or a JSON list")
    r.add_argument("-o", "--output", type=Path, required=True, help="report.html")
    r.set_defaults(func=report_command)


def _done(args: argparse.Namespace, kind: str) -> int:
    size = args.output.stat().st_size
    if args.json:
        print(render.dumps({"output": str(args.output), "kind": kind, "bytes": size}))
    else:
        print(f"wrote {args.output} ({kind}, {size:,} bytes)")
    return 0


def draw_command(args: argparse.Namespace) -> int:
    """Draw one picture; the kind defaults to the execution view when there is an input."""
    from ..viz import save

    program = resolve(args.program)
    xs = None if args.input is None else program.read(parse_input(args.input))
    kind = args.kind or ("graph" if xs is None else "execution")
    save(args.output, program.sop, xs, kind=kind)
    return _done(args, kind)


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report."""
    from ..viz import report

    program = resolve(args.program)
    xs = None if args.input is None else program.read(parse_input(args.input))
    args.output.write_text(report(program.sop, xs), encoding="utf-8")
    return _done(args, "report")
