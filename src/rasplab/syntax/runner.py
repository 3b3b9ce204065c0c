"""Running a ``.rasp`` program on raw inputs, each input's error kept with it.

A raw input is a string (one token per character) or a list of tokens; each
is read through the program's ``tokens`` type. The command line around this
(``rasplab run FILE.rasp``) lives in :mod:`rasplab.cli.rasp_file`.

>>> from rasplab.syntax import parse
>>> prog = parse("tokens = tokens_int; half = 10 / tokens;")
>>> good, bad = run_inputs(prog, ["25", [0]])
>>> good.output, "division by zero" in bad.error
([5.0, 2.0], True)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import RaspError, ResourceLimitError
from ..evaluate import evaluate_batch
from .program import RaspProgram

__all__ = ["RunResult", "run_inputs"]


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


def run_inputs(
    program: RaspProgram, raws: Iterable[Any], output: str | None = None, **evaluate_options: Any
) -> list[RunResult]:
    """Evaluate the output s-op on each raw input; errors stay with their input.

    ``evaluate_options`` go to :func:`~rasplab.evaluate.evaluate_batch` (e.g. a
    memory budget); a limit it reports is raised, not kept with an input.
    """
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
        values = evaluate_batch(sop, [tokens for _, tokens in ready], **evaluate_options)
    except RaspError as err:  # find which inputs fail, one at a time
        if _is_limit(err):
            raise
        values = [_one(sop, tokens, evaluate_options) for _, tokens in ready]
    for (slot, _), value in zip(ready, values, strict=True):
        raw = raw_list[slot]
        if isinstance(value, RaspError):
            results[slot] = RunResult(raw, error=str(value))
        else:
            results[slot] = RunResult(raw, output=value)
    return [r for r in results if r is not None]


def _is_limit(err: RaspError) -> bool:
    """A limit (memory, size) stops the whole run: every input would hit it again."""
    return isinstance(err, ResourceLimitError)


def _one(sop, tokens: list[Any], evaluate_options: dict[str, Any]):
    try:
        return evaluate_batch(sop, [tokens], **evaluate_options)[0]
    except RaspError as err:
        if _is_limit(err):
            raise
        return err
