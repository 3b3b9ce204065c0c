"""The checker: spec, budget and allowed operations, with a clean report on failure.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> from rasplab.puzzles import check
>>> good = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> check("reverse", good).status
'solved'
>>> bad = check("reverse", tokens, use_hypothesis=False)
>>> bad.status, bad.counterexample.input, bad.counterexample.actual
('wrong', ['a', 'b'], ['a', 'b'])
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..analysis import analyse
from ..errors import RaspError, ResourceLimitError
from ..evaluate import Trace
from ..lang.nodes import SOp
from .catalog import get
from .deadline import DEFAULT_TIME_LIMIT, can_limit_time
from .deadline import time_limit as limited_time
from .domains import Domain
from .puzzle import Puzzle, call_text
from .report import Counterexample, Usage, render
from .rules import unbounded_maps, violations
from .search import Probe, search
from .solutions import NotStarted, Solution, SolutionError, as_solution
from .view import text_view

__all__ = ["check", "CheckResult", "Counterexample", "STATUSES", "checked_inputs"]

STATUSES = ("solved", "wrong", "over budget", "forbidden", "error", "todo", "missing")
EXHAUSTIVE_LIMIT = 1500
MIN_RANDOM = 300


@dataclass
class CheckResult:
    """The verdict on one solution of one puzzle (``str()`` gives the report)."""

    puzzle: Puzzle
    status: str
    problems: list[str] = field(default_factory=list)
    usage: Usage | None = None
    counterexample: Counterexample | None = None
    checked: int = 0
    source: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        return self.status == "solved"

    def report(self, hints: bool = False) -> str:
        """The full text: verdict, problems, counterexample and its execution view."""
        return render(self, hints)

    __str__ = report

    def _repr_html_(self) -> str:
        from .report import render_html

        return render_html(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        p = self.puzzle
        return {
            "number": p.number,
            "puzzle": p.name,
            "status": self.status,
            "solved": self.solved,
            "budget": {"layers": p.layers, "heads": p.heads},
            "layers": self.usage.layers if self.usage else None,
            "heads": self.usage.heads if self.usage else None,
            "heads_per_layer": list(self.usage.heads_per_layer) if self.usage else None,
            "problems": list(self.problems),
            "counterexample": self.counterexample.to_dict() if self.counterexample else None,
            "checked_inputs": self.checked,
            "source": self.source,
            "notes": list(self.notes),
        }


def checked_inputs(puzzle: Puzzle, seed: int = 0) -> list[list[Any]]:
    """The fixed inputs checked first: examples, every small input, then random ones.

    Enough distinct inputs to make the map-value cap meaningful (twice the cap).

    >>> from rasplab.puzzles import get
    >>> inputs = checked_inputs(get("dyck1"))
    >>> len(inputs) > 600, min(map(len, inputs)), max(map(len, inputs))
    (True, 1, 10)
    """
    domain: Domain = puzzle.domain
    seen: dict[tuple, list[Any]] = {}
    for xs in [list(x) for x in puzzle.examples] + list(domain.exhaustive(EXHAUSTIVE_LIMIT)):
        seen.setdefault(tuple(xs), xs)
    want = len(seen) + max(MIN_RANDOM, 2 * puzzle.map_cap - len(seen))
    rng = random.Random(seed)
    for _ in range(3):  # small domains run out of new inputs: stop trying then
        for xs in domain.sample(rng, want - len(seen)):
            seen.setdefault(tuple(xs), xs)
        if len(seen) >= want:
            break
    return list(seen.values())


def _build(solution: Solution) -> list[tuple[dict[str, Any], SOp]]:
    return [(dict(params), solution.build(params)) for params in solution.parameter_sets()]


def _usage(puzzle: Puzzle, programs: list[tuple[dict[str, Any], SOp]]) -> tuple[Usage, list[str]]:
    """The widest usage (an over-budget one first) and one problem per over-budget call."""
    usages = []
    for params, program in programs:
        a = analyse(program)
        heads = max(a.heads_per_layer, default=0)
        usages.append(
            Usage(a.n_layers, heads, a.heads_per_layer, str(a), call_text(puzzle.name, params))
        )
    over = [u for u in usages if u.layers > puzzle.layers or u.heads > puzzle.heads]
    worst = max(over or usages, key=lambda u: (u.layers, u.heads))
    return worst, [f"{u.call} needs {u.text}; the budget is {puzzle.budget}" for u in over]


def _counterexample(probe: Probe, xs: list[Any]) -> Counterexample:
    outcome = probe.run(xs)
    view = text_view(probe.program, xs)
    call = call_text(probe.puzzle.name, probe.params)
    return Counterexample(call, probe.params, outcome, view, probe.program)


def _correctness(puzzle, programs, seed, use_hypothesis):
    """Counterexample (or None), unbounded-map problems, number of inputs checked."""
    inputs = checked_inputs(puzzle, seed)
    checked = 0
    map_problems: list[str] = []
    for params, program in programs:
        probe = Probe(puzzle, program, params)
        traces: list[Trace] = []
        failing = search(probe, inputs, puzzle.domain, use_hypothesis=use_hypothesis, traces=traces)
        checked += probe.calls
        if failing is not None:
            return _counterexample(probe, failing), map_problems, checked
        map_problems += unbounded_maps(program, traces, puzzle.map_cap)
    return None, map_problems, checked


def _verdict(result: CheckResult, kinds: list[str]) -> CheckResult:
    order = ("error", "forbidden", "wrong", "over budget")
    result.status = next((k for k in order if k in kinds), "solved")
    return result


def check(
    puzzle: Puzzle | str,
    solution: Any,
    *,
    seed: int = 0,
    use_hypothesis: bool | None = None,
    source: str | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> CheckResult:
    """Check ``solution`` (an s-op, a function of the puzzle's parameters, or a
    :class:`Solution`) against the spec, the budget and the allowed operations.

    A check that runs past ``time_limit`` seconds (a map that loops forever,
    say) stops and fails with a message naming the limit; None: no limit.
    """
    puzzle = get(puzzle) if isinstance(puzzle, str) else puzzle
    try:
        with limited_time(time_limit, f"checking {puzzle.name}"):
            result = _check(puzzle, solution, seed, use_hypothesis, source)
    except ResourceLimitError as err:
        return CheckResult(puzzle, "error", [str(err)], source=source)
    if time_limit is not None and not can_limit_time():
        result.notes.append("checked without a time limit (that needs Unix and the main thread)")
    return result


def _check(puzzle: Puzzle, solution: Any, seed, use_hypothesis, source) -> CheckResult:
    result = CheckResult(puzzle, "error", source=source)
    try:
        solution = as_solution(solution, puzzle, source or "<python>")
        result.source = source or solution.source
        programs = _build(solution)
    except NotStarted as err:
        result.status, result.problems = "todo", [str(err)]
        return result
    except SolutionError as err:
        result.problems = [str(err)]
        return result
    if solution.note:
        result.notes.append(solution.note)
    return _judge(result, programs, seed, use_hypothesis)


def _static(result: CheckResult, programs: list[tuple[dict[str, Any], SOp]]) -> list[str]:
    """Forbidden operations, then the layers and heads used; the kinds of problem found."""
    kinds = []
    for _, program in programs:
        for problem in violations(program, result.puzzle.rules):
            if problem not in result.problems:
                result.problems.append(problem)
                kinds.append("forbidden")
    try:
        result.usage, over_budget = _usage(result.puzzle, programs)
    except RaspError as err:  # e.g. a node type the analysis does not know
        result.problems.append(f"cannot analyse the program: {err}")
        return kinds + ["error"]
    result.problems += over_budget
    return kinds + ["over budget"] * len(over_budget)


def _judge(result: CheckResult, programs, seed, use_hypothesis) -> CheckResult:
    kinds = _static(result, programs)
    if "error" in kinds:
        return _verdict(result, kinds)
    example, map_problems, result.checked = _correctness(
        result.puzzle, programs, seed, use_hypothesis
    )
    if example is not None:
        result.counterexample = example
        result.problems.append(example.summary())
        kinds.append("wrong")
    result.problems += map_problems
    kinds += ["forbidden"] * len(map_problems)
    return _verdict(result, kinds)
