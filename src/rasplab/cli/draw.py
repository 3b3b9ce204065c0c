"""``rasplab draw`` and ``rasplab report``: pictures of a program, written to a file.

The format follows the output's suffix (.svg, .html, .png). Without
``--input`` only the program graph can be drawn. With ``--compiled`` the
program is compiled (``--vocab``, ``--max-len``) and the picture is the
model's residual stream on the input, by named direction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..programs import Program, resolve
from . import render
from .compile import parse_vocab
from .run import parse_input

__all__ = ["add_parser", "draw_command", "report_command"]

KINDS = ("graph", "execution", "values", "residual")


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
    p.add_argument(
        "--compiled",
        action="store_true",
        help="compile the program and draw its residual stream on the input (kind residual)",
    )
    p.add_argument(
        "--vocab", help="with --compiled: tokens, a,b,c or a JSON list (default: the library's)"
    )
    p.add_argument(
        "--max-len", type=int, help="with --compiled: longest input (default: the input's length)"
    )
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
    if args.compiled or args.kind == "residual":
        return _draw_compiled(args, program, xs)
    if args.vocab is not None or args.max_len is not None:
        raise InputError("--vocab and --max-len go with --compiled")
    kind = args.kind or ("graph" if xs is None else "execution")
    save(args.output, program.sop, xs, kind=kind)
    return _done(args, kind)


def _vocab(args: argparse.Namespace, program: Program) -> list[Any]:
    """``--vocab``, else the library entry's vocabulary."""
    if args.vocab is not None:
        return parse_vocab(args.vocab)
    if program.entry is not None:
        return list(program.entry.vocab)
    raise InputError("give the tokens with --vocab (for example --vocab a,b,c)")


def _draw_compiled(args: argparse.Namespace, program: Program, xs: Any) -> int:
    """Compile the program and draw the model's residual stream on the input."""
    from ..compiler import compile_program
    from ..viz import draw_residual, format_of

    if xs is None:
        raise InputError("--compiled draws the model on an input: give one with --input")
    if args.kind not in (None, "residual"):
        raise InputError(f"--compiled draws the residual stream, not the {args.kind} view")
    fmt = format_of(args.output)
    entry = program.entry if args.vocab is None else None
    sample = entry.sample if entry is not None else None
    max_len = args.max_len if args.max_len is not None else len(xs)
    model = compile_program(program.sop, _vocab(args, program), max_len, sample=sample)
    picture = draw_residual(model, xs, format=fmt)
    if isinstance(picture, bytes):
        args.output.write_bytes(picture)
    else:
        args.output.write_text(picture, encoding="utf-8")
    return _done(args, "residual")


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report."""
    from ..viz import report

    program = resolve(args.program)
    xs = None if args.input is None else program.read(parse_input(args.input))
    args.output.write_text(report(program.sop, xs), encoding="utf-8")
    return _done(args, "report")
