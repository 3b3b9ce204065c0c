"""``rasplab run FILE.rasp``: a RASP source file on one input or a file of inputs.

The s-op shown is ``--sop NAME`` (or ``FILE.rasp:NAME``), else the name in a
``# output: NAME`` comment line, else the last s-op the file assigns. An
``--input`` follows the command line's one token rule
(:func:`~rasplab.cli.common.parse_tokens`); each line of an ``--inputs``
file is a JSON string (one token per character) or a JSON list. Every token
is read through the program's ``tokens`` type.

>>> import io
>>> from rasplab.syntax import parse
>>> out = io.StringIO()
>>> prog = parse("tokens = tokens_int; double = 2 * tokens;")
>>> run_program(prog, inputs=['[1, 2]', '"34"', '[true]'], as_json=True, out=out)
0
>>> print(out.getvalue().strip())
{"input": [1, 2], "output": [2, 4]}
{"input": "34", "output": [6, 8]}
{"input": [true], "output": [2]}
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError, RaspError
from ..syntax import RaspProgram, load
from ..syntax.display import format_atom, format_sequence
from ..syntax.runner import RunResult, run_inputs
from .common import DEFAULT_MAX_INPUT_BYTES, parse_tokens, read_input_file

__all__ = ["read_cli_input", "read_json_input", "run_program", "run_file"]


def read_cli_input(text: str) -> Any:
    """An ``--input`` as a raw input: the text itself when it is one token per
    character (so it is shown as written), else the token list.

    >>> read_cli_input("ab"), read_cli_input("1,2"), read_cli_input("[1, 2]")
    ('ab', [1, 2], [1, 2])
    """
    tokens = parse_tokens(text)
    return text if tokens == list(text) else tokens


def read_json_input(line: str) -> Any:
    """One ``--inputs`` line: a JSON string or a JSON list."""
    try:
        value = json.loads(line)
    except ValueError as err:
        raise InputError(f"not JSON: {err}") from None
    if not isinstance(value, list | str):
        raise InputError(f"an input is a JSON string or list, got {line.strip()}")
    return value


def run_program(
    program: RaspProgram,
    *,
    sop: str | None = None,
    input: str | None = None,
    inputs: Iterable[str] | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    evaluate_options: dict[str, Any] | None = None,
) -> int:
    """Print one result per input; 0 if every input ran, else 1.

    ``input`` is one ``--input`` string; ``inputs`` are ``--inputs`` lines.
    """
    out = out if out is not None else sys.stdout
    raws: list[Any] = []
    early: dict[int, RunResult] = {}
    if input is not None:
        raws.append(read_cli_input(input))
    for line in inputs or ():
        if not line.strip():
            continue
        try:
            raws.append(read_json_input(line))
        except InputError as err:
            early[len(raws)] = RunResult(line.strip(), error=str(err))
            raws.append(None)
    good = [r for i, r in enumerate(raws) if i not in early]
    ran = iter(run_inputs(program, good, sop, **(evaluate_options or {})))
    results = [early[i] if i in early else next(ran) for i in range(len(raws))]
    name = sop or program.output_name
    for result in results:
        print(result.to_json() if as_json else _human(name, result), file=out)
    return 0 if all(r.error is None for r in results) else 1


def _human(name: str | None, result: RunResult) -> str:
    shown = f"{name}({format_atom(result.input)})"
    if result.error is not None or result.output is None:  # a result holds one of the two
        return f"{shown} fails: {result.error}"
    return f"{shown} = {format_sequence(result.output)}"


def run_file(
    path: str | Path,
    *,
    sop: str | None = None,
    input: str | None = None,
    inputs: str | Path | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    evaluate_options: dict[str, Any] | None = None,
) -> int:
    """``rasplab run FILE.rasp``: 0 all inputs ran, 1 some input failed, 2 the
    program, an input or the inputs file could not be read.

    ``inputs`` is the path of a JSONL file (``-`` for standard input).
    """
    err = err if err is not None else sys.stderr
    try:
        program = load(path)
        program.sop(sop)  # a missing or non-s-op output fails before any input
        lines = None if inputs is None else read_input_file(inputs, max_input_bytes).splitlines()
        if input is not None:
            read_cli_input(input)  # a malformed --input is a usage error, not a failed run
    except RaspError as failure:
        print(f"error: {failure}", file=err)
        return 2
    if input is None and lines is None:
        if program.example is None:
            print("error: give an input (--input TEXT or --inputs FILE.jsonl)", file=err)
            return 2
        lines = [json.dumps(program.example)]  # a string example is one token per character
    return run_program(
        program,
        sop=sop,
        input=input,
        inputs=lines,
        as_json=as_json,
        out=out,
        evaluate_options=evaluate_options,
    )
