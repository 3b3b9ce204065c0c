"""``rasplab run``: evaluate a program and show its named s-ops position by position.

>>> parse_input("cab"), parse_input("[3, 1, 2]"), parse_input("[oops")
(['c', 'a', 'b'], [3, 1, 2], ['[', 'o', 'o', 'p', 's'])
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, InputError, RaspError
from ..evaluate import Trace, coerce_input, evaluate, evaluate_batch
from ..lang.nodes import SOp, Tokens
from ..programs import Program, resolve
from . import render

__all__ = ["add_parser", "command", "parse_input", "parse_line", "trace_rows"]


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``run`` and its options."""
    p = subparsers.add_parser(
        "run",
        parents=[common],
        help="evaluate a program on one input or a file of inputs",
        description="Evaluate PROGRAM and print every named s-op, one column per position.",
    )
    p.add_argument("program", help="lib:NAME, NAME or path/to/file.py:ATTR")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--input", "-i", help="a string (one token per character) or a JSON list like [3,1,2]"
    )
    source.add_argument(
        "--inputs", type=Path, metavar="FILE.jsonl", help="one JSON string or list per line"
    )
    p.add_argument(
        "--output", "-O", metavar="NAME", help="for .rasp files: the s-op to show (default: output)"
    )
    p.add_argument("--all", action="store_true", help="show unnamed s-ops too")
    p.add_argument(
        "--view", action="store_true", help="also show every head as a #/. grid, layer by layer"
    )
    p.set_defaults(func=command)


def parse_input(text: str) -> list[Any]:
    """Command-line input: a JSON list if the text is one, else one token per character."""
    try:
        value = json.loads(text)
    except ValueError:
        return list(text)
    return value if isinstance(value, list) else list(text)


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
    trace = evaluate(sop, program.read(parse_input(text)), trace=True)
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


def _read_lines(path: Path) -> list[str]:
    """The non-blank lines of an inputs file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read inputs file {path}: {err}") from None
    return [line for line in text.splitlines() if line.strip()]


def _parse_all(lines: list[str], read: Any) -> list[tuple[Any, list[Any] | None, str | None]]:
    """``(input as written, tokens or None, error or None)`` per line."""
    parsed = []
    for line in lines:
        try:
            shown: Any = json.loads(line)
        except ValueError:
            shown = line
        try:
            parsed.append((shown, coerce_input(read(parse_line(line))), None))
        except RaspError as err:
            parsed.append((shown, None, str(err)))
    return parsed


def _evaluate_each(sop: SOp, inputs: list[list[Any]]) -> list[tuple[Any, str | None]]:
    """``(output, error)`` per input: one batch, or one by one if the batch fails."""
    try:
        return [(out, None) for out in evaluate_batch(sop, inputs)]
    except RaspError:
        pass
    results = []
    for xs in inputs:
        try:
            results.append((evaluate(sop, xs), None))
        except RaspError as err:
            results.append((None, str(err)))
    return results


def _run_many(program: Program, path: Path, as_json: bool) -> int:
    """One result per line of an inputs file; bad lines report an error and the rest go on."""
    sop = program.sop
    parsed = _parse_all(_read_lines(path), program.read)
    good = [tokens for _, tokens, error in parsed if error is None]
    outcomes = iter(_evaluate_each(sop, good))
    failed = 0
    for shown, _, error in parsed:
        output, error = next(outcomes) if error is None else (None, error)
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
    from ..syntax import run_file

    path = args.program.rpartition(":")[0] if ":" in args.program else args.program
    output = args.output or (args.program.rpartition(":")[2] if ":" in args.program else None)
    inputs = None if args.inputs is None else str(args.inputs)
    return run_file(path, output=output, input=args.input, inputs=inputs, as_json=args.json)


def command(args: argparse.Namespace) -> int:
    """Run ``rasplab run``; exit code 1 if any input of an inputs file failed."""
    if args.program.partition(":")[0].endswith(".rasp") and not args.view and not args.all:
        return _run_rasp(args)
    program = resolve(args.program)
    if args.output is not None:
        raise DefinitionError("--output names an s-op of a .rasp file; other programs have one")
    if args.inputs is not None:
        return _run_many(program, args.inputs, args.json)
    return _run_one(program, args.input, args)
