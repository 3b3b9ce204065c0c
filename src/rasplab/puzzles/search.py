"""Looking for a counterexample: a batch over many inputs, then hypothesis, then shrinking.

``Probe`` runs one program on inputs and says whether each input fails
(a wrong output, or an error while evaluating). ``search`` returns the
smallest failing input it can find, or ``None``.

>>> from rasplab import tokens
>>> from rasplab.puzzles import get
>>> puzzle = get("reverse")
>>> probe = Probe(puzzle, tokens, {})
>>> search(probe, [list("aab"), list("abc")], puzzle.domain, use_hypothesis=False)
['a', 'b']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import RaspError
from ..evaluate import Trace, evaluate, evaluate_batch
from ..lang.nodes import SOp
from .domains import Domain, hypothesis_strategy, shrink
from .puzzle import Puzzle

__all__ = [
    "Probe",
    "Outcome",
    "same_output",
    "same_value",
    "search",
    "has_hypothesis",
    "HYPOTHESIS_EXAMPLES",
]

HYPOTHESIS_EXAMPLES = 120
CHUNK = 64


def has_hypothesis() -> bool:
    """Whether the ``puzzles`` extra (hypothesis) is installed."""
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        return False
    return True


def same_value(a: Any, b: Any) -> bool:
    """Equal values; numbers up to rounding; a bool equals only a bool."""
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers) and isinstance(b, numbers):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def same_output(actual: Any, expected: Sequence[Any]) -> bool:
    """Position by position equal; numbers up to rounding, ``2.0`` matches ``2``.

    >>> same_output([1.0, "a"], [1, "a"]), same_output(["1"], [1]), same_output([True], [1])
    (True, False, False)
    """
    return (
        isinstance(actual, list)
        and len(actual) == len(expected)
        and all(same_value(a, b) for a, b in zip(actual, expected, strict=True))
    )


def _failure(err: BaseException) -> str:
    if isinstance(err, RaspError):
        return f"{type(err).__name__}: {err}"
    return f"{type(err).__name__}: {err} (while evaluating)"


@dataclass(frozen=True)
class Outcome:
    """What the program did on one input."""

    input: list[Any]
    expected: list[Any]
    actual: list[Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and same_output(self.actual, self.expected)


@dataclass
class Probe:
    """One program with one parameter set, against the puzzle's spec."""

    puzzle: Puzzle
    program: SOp
    params: dict[str, Any]
    calls: int = field(default=0)

    def run(self, xs: list[Any]) -> Outcome:
        self.calls += 1
        expected = self.puzzle.expected(xs, self.params)
        try:
            actual = evaluate(self.program, xs)
        except Exception as err:  # any failure is an answer about this input
            return Outcome(list(xs), expected, error=_failure(err))
        return Outcome(list(xs), expected, actual)

    def fails(self, xs: list[Any]) -> bool:
        return not self.run(xs).ok

    def batch(self, inputs: list[list[Any]]) -> tuple[list[Trace], list[Any] | None]:
        """Traces of every input, shortest first, and the first failing input (if any)."""
        traces: list[Trace] = []
        ordered = sorted(inputs, key=len)
        for start in range(0, len(ordered), CHUNK):
            part = ordered[start : start + CHUNK]
            self.calls += len(part)
            try:
                got = evaluate_batch(self.program, part, trace=True)
            except Exception:  # find which input broke it, one at a time
                return traces, next((xs for xs in part if self.fails(xs)), part[0])
            for xs, trace in zip(part, got, strict=True):
                if not same_output(trace.output, self.puzzle.expected(xs, self.params)):
                    return traces, xs
                traces.append(trace)
        return traces, None


def _hypothesis_find(probe: Probe, domain: Domain, examples: int) -> list[Any] | None:
    try:
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample, Unsatisfiable
    except ImportError:
        raise ImportError(
            "generated inputs need hypothesis: install the `puzzles` extra (rasplab[puzzles])"
        ) from None

    config = settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        return find(hypothesis_strategy(domain), probe.fails, settings=config)
    except (NoSuchExample, Unsatisfiable):
        return None


def search(
    probe: Probe,
    inputs: list[list[Any]],
    domain: Domain,
    *,
    use_hypothesis: bool | None = None,
    examples: int = HYPOTHESIS_EXAMPLES,
    traces: list[Trace] | None = None,
) -> list[Any] | None:
    """The smallest failing input found: the batch first, then hypothesis; shrunk.

    Traces of the inputs that passed are appended to ``traces`` when given.
    """
    done, failing = probe.batch(inputs)
    if traces is not None:
        traces.extend(done)
    if failing is None and (has_hypothesis() if use_hypothesis is None else use_hypothesis):
        failing = _hypothesis_find(probe, domain, examples)
    if failing is None:
        return None
    return shrink(list(failing), probe.fails, domain) if domain.accepts(failing) else failing
