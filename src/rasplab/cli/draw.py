"""``rasplab draw`` and ``rasplab report``: pictures of a program, written to a file.

The format follows the output's suffix (.svg, .html, .png). Without
``--input`` only the program graph can be drawn. With ``--compiled`` the
program is compiled (``--vocab``, ``--max-len``) and the picture is the
model's residual stream on the input, by named direction.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..evaluate import evaluate
from ..programs import Program, resolve
from ..viz.limits import MAX_POSITIONS
from . import render
from .common import (
    ANY_TOKENS_HELP,
    INPUT_HELP,
    PROGRAM_HELP,
    VOCAB_HELP,
    add_limit_flags,
    check_output,
    check_vocabulary,
    evaluator_limits,
    parse_tokens,
    positive_int,
    subcommand,
    write_guard,
)

__all__ = ["add_parser", "draw_command", "report_command", "DRAW_SUFFIXES", "REPORT_SUFFIXES"]

KINDS = ("graph", "execution", "values", "residual")
DRAW_SUFFIXES = (".svg", ".html", ".png")
REPORT_SUFFIXES = (".html",)
DRAW_EXAMPLES = """
  rasplab draw lib:dyck2 -o dyck2.html                   the program graph, by layer
  rasplab draw lib:add --input 683+345 -o add.svg        every head as a grid, on an input
  rasplab draw lib:sort --input cab --kind values -o v.png
  rasplab draw lib:sort --input cab --compiled -o residual.svg   the compiled residual stream
  rasplab draw examples/reverse.rasp --input abc -o rev.svg
"""
REPORT_EXAMPLES = """
  rasplab report lib:sort --input banana --any-tokens -o report.html
  rasplab report lib:dyck2 -o dyck2.html                 analysis and graph, no input
"""


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``draw`` and ``report``."""
    p = subcommand(
        subparsers,
        "draw",
        common,
        help="draw a program graph, execution view or value table",
        description="Draw PROGRAM to a .svg, .html or .png file (the suffix picks the format).",
        examples=DRAW_EXAMPLES,
    )
    p.add_argument("program", help=PROGRAM_HELP)
    p.add_argument("--input", "-i", help=INPUT_HELP)
    p.add_argument("--kind", "-k", choices=KINDS, help="default: execution given an input")
    p.add_argument(
        "--compiled",
        action="store_true",
        help="compile the program and draw its residual stream on the input (kind residual)",
    )
    p.add_argument("--vocab", help="with --compiled: " + VOCAB_HELP + " (default: the library's)")
    p.add_argument(
        "--max-len",
        type=positive_int,
        help="with --compiled: longest input (default: the input's length)",
    )
    p.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="FILE.svg, .html or .png"
    )
    _shared_flags(p)
    p.set_defaults(func=draw_command)

    r = subcommand(
        subparsers,
        "report",
        common,
        help="one self-contained HTML page: analysis, graph, execution view, values",
        description="Write one HTML page about PROGRAM: its analysis, its graph and, given "
        "an input, its execution view and values.",
        examples=REPORT_EXAMPLES,
    )
    r.add_argument("program", help=PROGRAM_HELP)
    r.add_argument("--input", "-i", help=INPUT_HELP)
    r.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="FILE.html")
    _shared_flags(r)
    r.set_defaults(func=report_command)


def _shared_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--any-tokens", action="store_true", help=ANY_TOKENS_HELP)
    p.add_argument(
        "--max-positions",
        type=int,
        default=MAX_POSITIONS,
        metavar="N",
        help=f"refuse to draw inputs longer than N positions (default {MAX_POSITIONS}; "
        "pictures grow with the square of the length)",
    )
    add_limit_flags(p)


def _picture_options(args: argparse.Namespace, drawing: Any) -> dict[str, Any]:
    """``max_positions=`` for a drawing function that takes a size cap."""
    cap = getattr(args, "max_positions", None)
    if cap is None or "max_positions" not in inspect.signature(drawing).parameters:
        return {}
    return {"max_positions": cap}


def _done(args: argparse.Namespace, kind: str) -> int:
    size = args.output.stat().st_size
    if args.json:
        print(render.dumps({"output": str(args.output), "kind": kind, "bytes": size}))
    else:
        print(f"wrote {args.output} ({kind}, {size:,} bytes)")
    return 0


def _input(args: argparse.Namespace, program: Program) -> list[Any] | None:
    """``--input`` as the program's tokens, checked against a library vocabulary."""
    if args.input is None:
        return None
    tokens = program.read(parse_tokens(args.input))
    check_vocabulary(program, tokens, args.any_tokens)
    return tokens


def _write(path: Path, picture: str | bytes) -> None:
    if isinstance(picture, bytes):
        write_guard(path, lambda: path.write_bytes(picture))
    else:
        write_guard(path, lambda: path.write_text(picture, encoding="utf-8"))


def draw_command(args: argparse.Namespace) -> int:
    """Draw one picture; the kind defaults to the execution view when there is an input."""
    from ..viz import draw, format_of

    check_output(args.output, DRAW_SUFFIXES, "draw")
    program = resolve(args.program)
    xs = _input(args, program)
    if args.compiled or args.kind == "residual":
        return _draw_compiled(args, program, xs)
    if args.vocab is not None or args.max_len is not None:
        raise InputError("--vocab and --max-len go with --compiled")
    kind = args.kind or ("graph" if xs is None else "execution")
    if kind == "graph":
        subject: Any = program.sop
    elif xs is None:
        raise InputError(f"the {kind} view shows a run of the program: give one with --input")
    else:
        subject = evaluate(program.sop, xs, trace=True, **evaluator_limits(args))
    options = _picture_options(args, draw)
    picture = draw(subject, kind=kind, format=format_of(args.output), **options)
    _write(args.output, picture)
    return _done(args, kind)


def _vocab(args: argparse.Namespace, program: Program) -> list[Any]:
    """``--vocab``, else the library entry's vocabulary."""
    if args.vocab is not None:
        return parse_tokens(args.vocab, "--vocab")
    if program.entry is not None:
        return list(program.entry.vocab)
    raise InputError(
        f"{args.program!r} declares no vocabulary: give the tokens with --vocab "
        "(for example --vocab abc or --vocab 1,2,3)"
    )


def _draw_compiled(args: argparse.Namespace, program: Program, xs: Any) -> int:
    """Compile the program and draw the model's residual stream on the input."""
    from ..compiler import compile_program
    from ..viz import draw_residual, format_of

    if xs is None:
        raise InputError("--compiled draws the model on an input: give one with --input")
    if args.kind not in (None, "residual"):
        raise InputError(f"--compiled draws the residual stream, not the {args.kind} view")
    entry = program.entry if args.vocab is None else None
    sample = entry.sample if entry is not None else None
    max_len = args.max_len if args.max_len is not None else len(xs)
    model = compile_program(program.sop, _vocab(args, program), max_len, sample=sample)
    _write(args.output, draw_residual(model, xs, format=format_of(args.output)))
    return _done(args, "residual")


def report_command(args: argparse.Namespace) -> int:
    """Write the HTML report."""
    from ..viz import report

    check_output(args.output, REPORT_SUFFIXES, "report")
    program = resolve(args.program)
    xs = _input(args, program)
    subject: Any = program.sop
    if xs is not None:
        subject = evaluate(program.sop, xs, trace=True, **evaluator_limits(args))
    _write(args.output, report(subject, **_picture_options(args, report)))
    return _done(args, "report")
