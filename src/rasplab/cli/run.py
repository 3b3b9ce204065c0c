"""``rasplab run``: evaluate a program and show its named s-ops position by position.

``--input`` follows the one token rule of :func:`~rasplab.cli.common.parse_tokens`;
each line of an ``--inputs`` file is a JSON string (one token per character)
or a JSON list.

>>> parse_line('"cab"'), parse_line("[3, 1, 2]")
(['c', 'a', 'b'], [3, 1, 2])
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InputError, RaspError, ResourceLimitError
from ..evaluate import Trace, coerce_input, evaluate, evaluate_batch
from ..lang.nodes import SOp, Tokens
from ..programs import Program, resolve
from . import render
from .common import (
    ANY_TOKENS_HELP,
    INPUT_HELP,
    PROGRAM_HELP,
    add_limit_flags,
    check_vocabulary,
    evaluator_limits,
    parse_tokens,
    read_input_file,
    subcommand,
)

__all__ = ["add_parser", "command", "parse_line", "trace_rows"]

EXAMPLES = """
  rasplab run lib:sort --input cab                  one token per character
  rasplab run lib:sort_unique --input 3,1,2 --json  number tokens, as JSON
  rasplab run lib:sort --input '["b","a"]' --view   a JSON list; every head as a grid
  rasplab run lib:hist --inputs inputs.jsonl        one JSON string or list per line
  cat inputs.jsonl | rasplab run lib:hist --inputs -
  rasplab run examples/sort.rasp --input hello      a .rasp file (its output s-op)
  rasplab run examples/sort.rasp:sorted_tokens --input 3,1,2   an s-op named by the file
  rasplab run prog.py:make_rev --input abc          an s-op (or a function) of a .py file
  rasplab run lib:dyck1 --input '(a)' --any-tokens   tokens dyck1 gives no meaning
"""


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``run`` and its options."""
    p = subcommand(
        subparsers,
        "run",
        common,
        help="evaluate a program on one input or a file of inputs",
        description="Evaluate PROGRAM and print every named s-op, one column per position.",
        examples=EXAMPLES,
    )
    p.add_argument("program", help=PROGRAM_HELP)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", "-i", help=INPUT_HELP)
    source.add_argument(
        "--inputs", metavar="FILE.jsonl", help="one JSON string or list per line; - reads stdin"
    )
    p.add_argument(
        "--sop", metavar="NAME", help="for .rasp files: the s-op to show (default: its output)"
    )
    p.add_argument("--all", action="store_true", help="show unnamed s-ops too")
    p.add_argument(
        "--view", action="store_true", help="also show every head as a #/. grid, layer by layer"
    )
    p.add_argument("--any-tokens", action="store_true", help=ANY_TOKENS_HELP)
    add_limit_flags(p, input_file=True)
    p.set_defaults(func=command)


def parse_line(line: str) -> list[Any]:
    """One line of an inputs file: a JSON string (one token per character) or JSON list."""
    try:
        value = json.loads(line)
    except ValueError as err:
        raise InputError(f"not JSON: {err}") from None
    if isinstance(value, str):
        return list(value)
    if isinstance(value, list):
        return value
    raise InputError(f"a line holds a JSON string or list, got {type(value).__name__}")


def trace_rows(trace: Trace, show_all: bool = False) -> list[tuple[str, list[Any]]]:
    """``(label, values)`` for the named s-ops (all s-ops with ``show_all``), output last."""
    rows = []
    seen: dict[str, int] = {}
    for node in trace.nodes:
        if not isinstance(node, SOp) or (isinstance(node, Tokens) and node is not trace.program):
            continue
        if node.name is None and not show_all and node is not trace.program:
            continue
        count = seen[node.label] = seen.get(node.label, 0) + 1
        label = node.label if count == 1 else f"{node.label}#{count}"
        rows.append((label, trace[node]))
    return rows


def _run_one(program: Program, text: str, args: argparse.Namespace) -> int:
    """Evaluate one input with a trace; print the table or the JSON object."""
    name, sop = program.name, program.sop
    tokens = program.read(parse_tokens(text))
    check_vocabulary(program, tokens, args.any_tokens)
    trace = evaluate(sop, tokens, trace=True, **evaluator_limits(args))
    rows = trace_rows(trace, args.all)
    if args.json:
        data = {"program": name, "input": trace.input, "output": trace.output}
        print(render.dumps({**data, "values": dict(rows)}))
        return 0
    header = ["tokens", *(render.cell(t) for t in trace.input)]
    body = [[label, *(render.cell(v) for v in values)] for label, values in rows]
    print(render.table(header, body, align="l" + "r" * len(trace.input)))
    if args.view:
        from ..viz import text_view

        print()
        print(text_view(trace))
    return 0


def _parse_all(
    lines: list[str], program: Program, any_tokens: bool
) -> list[tuple[Any, list[Any] | None, str | None]]:
    """``(input as written, tokens or None, error or None)`` per line."""
    parsed: list[tuple[Any, list[Any] | None, str | None]] = []
    for line in lines:
        try:
            shown: Any = json.loads(line)
        except ValueError:
            shown = line
        try:
            tokens = coerce_input(program.read(parse_line(line)))
            check_vocabulary(program, tokens, any_tokens)
            parsed.append((shown, tokens, None))
        except RaspError as err:
            parsed.append((shown, None, str(err)))
    return parsed


def _evaluate_each(
    sop: SOp, inputs: list[list[Any]], limits: dict[str, Any]
) -> list[tuple[Any, str | None]]:
    """``(output, error)`` per input: one batch, or one by one if the batch fails.

    A limit (memory) stops the whole run: every smaller batch would meet it too.
    """
    try:
        return [(out, None) for out in evaluate_batch(sop, inputs, **limits)]
    except ResourceLimitError:
        raise
    except RaspError:
        pass
    results: list[tuple[Any, str | None]] = []
    for xs in inputs:
        try:
            results.append((evaluate(sop, xs, **limits), None))
        except ResourceLimitError:
            raise
        except RaspError as err:
            results.append((None, str(err)))
    return results


def _run_many(program: Program, args: argparse.Namespace) -> int:
    """One result per line of an inputs file; bad lines report an error and the rest go on."""
    text = read_input_file(args.inputs, args.max_input_bytes)
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = _parse_all(lines, program, args.any_tokens)
    good = [tokens for _, tokens, _ in parsed if tokens is not None]  # the lines without an error
    outcomes = iter(_evaluate_each(program.sop, good, evaluator_limits(args)))
    failed = 0
    as_json = args.json
    for shown, _, error in parsed:
        output: Any = None  # what the program made of the line (a list), if it ran
        if error is None:
            output, error = next(outcomes)
        failed += error is not None
        if as_json:
            result = {"output": output} if error is None else {"error": error}
            print(render.dumps({"input": shown, **result}))
        else:
            shown_text = render.sequence(shown) if isinstance(shown, list) else render.cell(shown)
            result_text = render.sequence(output) if error is None else f"error: {error}"
            print(f"{shown_text} -> {result_text}")
    return 1 if failed else 0


def _run_rasp(args: argparse.Namespace) -> int:
    """A ``.rasp`` file: its own runner reads inputs by the program's token type."""
    from .rasp_file import run_file

    path, sep, name = args.program.rpartition(":")
    if not sep:
        path, name = args.program, ""
    return run_file(
        path,
        sop=args.sop or name or None,
        input=args.input,
        inputs=args.inputs,
        as_json=args.json,
        max_input_bytes=args.max_input_bytes,
        evaluate_options=evaluator_limits(args),
    )


def command(args: argparse.Namespace) -> int:
    """Run ``rasplab run``; exit code 1 if any input of an inputs file failed."""
    if args.program.partition(":")[0].endswith(".rasp") and not args.view and not args.all:
        return _run_rasp(args)
    if args.sop is not None:
        spec = args.program
        if not spec.partition(":")[0].endswith(".rasp"):
            raise InputError(f"--sop names an s-op of a .rasp file; {spec!r} is not one")
        args.program = f"{spec.rpartition(':')[0] if ':' in spec else spec}:{args.sop}"
    program = resolve(args.program)
    if args.inputs is not None:
        return _run_many(program, args)
    return _run_one(program, args.input, args)
