"""The evaluator as the compiler's reference: outputs per input, rejections kept apart.

Stages 1-2 (value sets, the aggregate policy) observe the program through it,
and stage 6 (verify) compares the model with it.

The evaluator wraps every failure of user code (a map that divides by zero, an
aggregate that cannot average strings) in an ``EvaluationError``, so a
:class:`~rasplab.errors.RaspError` means "the program rejects this input".
Any other exception is a bug and propagates: it is never mistaken for a
rejected input. Nor is a ``ResourceLimitError``: a limit reached says nothing
about the input, so it propagates too.

>>> from rasplab import tokens, map
>>> inverse = map(lambda x: 1 / x, tokens)
>>> first, second = evaluate_each(inverse, [[1, 2], [0, 1]])
>>> first
[1.0, 0.5]
>>> second.input, type(second.error).__name__
([0, 1], 'EvaluationError')
>>> isinstance(evaluate_all(inverse, [[1, 2], [0, 1]]), Rejection)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import RaspError, ResourceLimitError
from ..evaluate import evaluate_batch
from ..lang.nodes import Node

__all__ = ["Rejection", "evaluate_each", "evaluate_all"]


@dataclass(frozen=True)
class Rejection:
    """An input the evaluator refused, and why."""

    input: list[Any]
    error: RaspError

    def __str__(self) -> str:
        return f"{self.input!r}: {type(self.error).__name__}: {self.error}"


def evaluate_each(
    program: Node, inputs: Sequence[Sequence[Any]], *, trace: bool = False
) -> list[Any]:
    """One result per input, in order: the output (or trace), or a :class:`Rejection`.

    The whole batch runs at once; when some input is rejected, the batch is
    split in halves until each rejected input stands alone, so one bad input
    costs a few extra runs, not one run per input.
    """
    rows = [list(xs) for xs in inputs]
    if not rows:
        return []
    try:
        return evaluate_batch(program, rows, trace=trace)
    except ResourceLimitError:
        raise
    except RaspError as err:
        if len(rows) == 1:
            return [Rejection(rows[0], err)]
    half = len(rows) // 2
    return evaluate_each(program, rows[:half], trace=trace) + evaluate_each(
        program, rows[half:], trace=trace
    )


def evaluate_all(
    program: Node, inputs: Sequence[Sequence[Any]], *, trace: bool = False
) -> list[Any] | Rejection:
    """Every input's result, or the rejection that stopped the batch (for callers that
    need the program to run on all of them, and would discard a partial answer)."""
    rows = [list(xs) for xs in inputs]
    try:
        return evaluate_batch(program, rows, trace=trace)
    except ResourceLimitError:
        raise
    except RaspError as err:
        return Rejection(rows[0] if len(rows) == 1 else rows, err)
