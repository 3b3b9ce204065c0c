"""The puzzles in the lab: their cards for the page, and checking a solution written in RASP.

A solution is RASP source that defines a function named after the puzzle or
``solution`` (the standard library reserves some puzzle names, like
``sort``), or, for a puzzle without parameters, just computes the answer as
its last s-op.

>>> from rasplab.lab.limits import LabLimits
>>> card = puzzle_cards()[3]
>>> card["name"], card["budget"]["layers"], card["template"].splitlines()[0]
('reverse', 2, 'def solution() {')
>>> wrong = check_solution({"puzzle": "reverse", "program": "y = tokens;"}, LabLimits())
>>> wrong["status"], wrong["counterexample"]["input"]
('wrong', ['a', 'b'])
"""

from __future__ import annotations

import textwrap
from typing import Any

from ..errors import InputError, RaspError
from ..evaluate import evaluate
from ..puzzles import PUZZLES, Puzzle, check
from ..puzzles.solutions import Solution, SolutionError, as_solution
from ..syntax import RaspProgram
from ..viz import execution_svg
from .jobs import _plain, guarded
from .limits import LabLimits
from .source import read_program

__all__ = ["puzzle_cards", "check_solution"]

LAB_SOURCE = "your solution"


def _template(puzzle: Puzzle) -> str:
    params = ", ".join(puzzle.parameters)
    return f"def solution({params}) {{\n    return tokens;\n}}\n"


def puzzle_cards() -> list[dict[str, Any]]:
    """Every puzzle as the page shows it: statement, budget, parameters, a starting point."""
    return [
        {
            "number": p.number,
            "name": p.name,
            "title": p.title,
            "statement": textwrap.dedent(p.statement).strip(),
            "signature": p.signature,
            "budget": {"layers": p.layers, "heads": p.heads, "text": p.budget},
            "examples": [_plain(list(x)) for x in p.examples],
            "template": _template(p),
        }
        for p in PUZZLES.values()
    ]


def _solution(program: RaspProgram, puzzle: Puzzle) -> Solution:
    """The program's ``NAME`` or ``solution``; without parameters, its output s-op."""
    own = program.names
    for key in (puzzle.name, "solution"):
        if key in own:
            return as_solution(own[key], puzzle, LAB_SOURCE)
    if not puzzle.parameters:
        return as_solution(program.output, puzzle, LAB_SOURCE)
    raise SolutionError(f"define `def solution({', '.join(puzzle.parameters)}) {{ ... }}`")


def _puzzle(name: Any) -> Puzzle:
    if not isinstance(name, str) or name not in PUZZLES:
        raise InputError(f"no puzzle named {name!r}; the puzzles are {', '.join(PUZZLES)}")
    return PUZZLES[name]


@guarded
def check_solution(request: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """The checker's verdict, with the counterexample's execution view when it fails."""
    puzzle = _puzzle(request.get("puzzle"))
    program = read_program(request["program"])
    solution = _solution(program, puzzle)
    # the worker's own clock stops the job a little later; this one gives the nicer message
    result = check(puzzle, solution, source=LAB_SOURCE, time_limit=limits.check_seconds * 0.9)
    answer = result.to_dict()
    answer["report"] = result.report()
    example = result.counterexample
    answer["counterexample_svg"] = None
    if example is not None and example.error is None:
        try:
            trace = evaluate(example.program, example.input, trace=True)
            answer["counterexample_svg"] = execution_svg(trace, max_positions=64)
        except RaspError:
            pass  # the report above already says what went wrong on this input
    return _plain_answer(answer)


def _plain_answer(answer: dict[str, Any]) -> dict[str, Any]:
    example = answer.get("counterexample")
    if example:
        for key in ("input", "expected", "actual"):
            example[key] = _plain(example[key])
        example["params"] = {k: _plain(v) for k, v in example["params"].items()}
    return answer
