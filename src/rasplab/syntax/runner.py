"""Running a ``.rasp`` file on inputs: what ``rasplab run FILE.rasp`` does.

The output s-op is ``--output NAME``, else the name in a ``# output: NAME``
comment line, else the last s-op the file assigns at top level. A plain
``--input`` string is one token per character for a program that reads
``tokens_str``; for other token types it may also be a JSON list. With
``--inputs FILE.jsonl`` each line is one JSON input: a string (one token per
character) or a list of tokens. Every token is read through the program's
``tokens`` type.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError, RaspError
from ..evaluate import evaluate_batch
from .display import format_atom, format_sequence
from .errors import RaspLoadError
from .program import RaspProgram, load

__all__ = [
    "RunResult",
    "read_cli_input",
    "read_json_input",
    "run_inputs",
    "run_program",
    "run_file",
]


@dataclass(frozen=True)
class RunResult:
    """One input's outcome: ``output`` values, or the ``error`` message."""

    input: Any
    output: list[Any] | None = None
    error: str | None = None

    def to_json(self) -> str:
        record = {"input": self.input}
        record.update({"error": self.error} if self.error is not None else {"output": self.output})
        try:
            return json.dumps(record, ensure_ascii=False)
        except (TypeError, ValueError) as err:
            failed = {"input": repr(self.input), "error": f"cannot write the result as JSON: {err}"}
            return json.dumps(failed, ensure_ascii=False)


def read_cli_input(text: str, token_type: str) -> Any:
    """A ``--input`` string as a raw input (see the module docstring).

    >>> read_cli_input("[1,2]", "str"), read_cli_input("[1,2]", "int")
    ('[1,2]', [1, 2])
    """
    if token_type == "str":
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, list | str) else text


def read_json_input(line: str) -> Any:
    """One ``--inputs`` line: a JSON string or a JSON list."""
    try:
        value = json.loads(line)
    except ValueError as err:
        raise InputError(f"not JSON: {err}") from None
    if not isinstance(value, list | str):
        raise InputError(f"an input is a JSON string or list, got {line.strip()}")
    return value


def run_inputs(program: RaspProgram, raws: Iterable[Any], output: str | None = None):
    """Evaluate the output s-op on each raw input; errors stay with their input."""
    sop = program.sop(output)
    raw_list = list(raws)
    results: list[RunResult | None] = []
    ready: list[tuple[int, list[Any]]] = []
    for raw in raw_list:
        try:
            ready.append((len(results), program.read_input(raw)))
            results.append(None)
        except RaspError as err:
            results.append(RunResult(raw, error=str(err)))
    try:
        values = evaluate_batch(sop, [tokens for _, tokens in ready])
    except RaspError:  # find which inputs fail, one at a time
        values = [_one(sop, tokens) for _, tokens in ready]
    for (slot, _), value in zip(ready, values, strict=True):
        raw = raw_list[slot]
        if isinstance(value, RaspError):
            results[slot] = RunResult(raw, error=str(value))
        else:
            results[slot] = RunResult(raw, output=value)
    return results


def _one(sop, tokens: list[Any]):
    try:
        return evaluate_batch(sop, [tokens])[0]
    except RaspError as err:
        return err


def run_program(
    program: RaspProgram,
    *,
    output: str | None = None,
    input: str | None = None,
    inputs: Iterable[str] | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    """Print one result per input; returns 0 if every input ran, else 1.

    ``input`` is one ``--input`` string; ``inputs`` are ``--inputs`` lines.
    """
    out = out if out is not None else sys.stdout
    raws: list[Any] = []
    early: dict[int, RunResult] = {}
    if input is not None:
        raws.append(read_cli_input(input, program.token_type))
    for line in inputs or ():
        if not line.strip():
            continue
        try:
            raws.append(read_json_input(line))
        except InputError as err:
            early[len(raws)] = RunResult(line.strip(), error=str(err))
            raws.append(None)
    good = [r for i, r in enumerate(raws) if i not in early]
    ran = iter(run_inputs(program, good, output))
    results = [early[i] if i in early else next(ran) for i in range(len(raws))]
    name = output or program.output_name
    for result in results:
        print(result.to_json() if as_json else _human(name, result), file=out)
    return 0 if all(r.error is None for r in results) else 1


def _human(name: str | None, result: RunResult) -> str:
    shown = f"{name}({format_atom(result.input)})"
    if result.error is not None:
        return f"{shown} fails: {result.error}"
    return f"{shown} = {format_sequence(result.output)}"


def run_file(
    path: str | Path,
    *,
    output: str | None = None,
    input: str | None = None,
    inputs: str | Path | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``rasplab run FILE.rasp``: 0 all inputs ran, 1 some input failed, 2 the program failed.

    ``inputs`` is the path of a JSONL file (``-`` for standard input).
    """
    err = err if err is not None else sys.stderr
    try:
        program = load(path)
        program.sop(output)  # a missing or non-s-op output fails before any input
        lines = _lines(inputs)
    except RaspError as failure:
        print(f"error: {failure}", file=err)
        return 2
    if input is None and lines is None:
        if program.example is None:
            print("error: give an input (--input TEXT or --inputs FILE.jsonl)", file=err)
            return 2
        input = program.example if isinstance(program.example, str) else None
        lines = None if input is not None else [json.dumps(program.example)]
    return run_program(program, output=output, input=input, inputs=lines, as_json=as_json, out=out)


def _lines(inputs: str | Path | None) -> list[str] | None:
    if inputs is None:
        return None
    if str(inputs) == "-":
        return sys.stdin.read().splitlines()
    try:
        return Path(inputs).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as failure:
        raise RaspLoadError(f"cannot read inputs from {inputs}: {failure}") from None
