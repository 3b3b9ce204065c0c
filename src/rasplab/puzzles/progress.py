"""Checking a directory of solutions and the progress table.

>>> import tempfile
>>> from rasplab.puzzles import PUZZLES
>>> with tempfile.TemporaryDirectory() as d:
...     results = check_dir(d, ["index"])
>>> print(table(results))
 #  puzzle            solved  layers  heads  status
 1  index             no      -/1     -/1    missing
solved 0 of 1
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ResourceLimitError
from .catalog import PUZZLES, get
from .checker import CheckResult, check
from .deadline import DEFAULT_TIME_LIMIT
from .deadline import time_limit as limited_time
from .exercises import solution_path
from .solutions import SolutionError, load_file

__all__ = ["check_dir", "check_file", "table", "summary", "to_json"]


def check_file(
    path: Path, name: str, *, time_limit: float | None = DEFAULT_TIME_LIMIT, **options: Any
) -> CheckResult:
    """Load puzzle ``name``'s solution from ``path`` and check it, within ``time_limit`` seconds.

    The limit covers loading the file too (its code may loop); a timeout is
    this puzzle's failure, with a message naming the limit.
    """
    puzzle = get(name)
    source = Path(path).name
    try:
        with limited_time(time_limit, f"checking {puzzle.name} ({source})"):
            solution = load_file(path, puzzle)
            return check(puzzle, solution, source=source, time_limit=time_limit, **options)
    except SolutionError as err:
        return CheckResult(puzzle, "error", [str(err)], source=source)
    except ResourceLimitError as err:
        return CheckResult(puzzle, "error", [str(err)], source=source)


def check_dir(
    directory: Path | str, names: list[str] | None = None, **options: Any
) -> list[CheckResult]:
    """Check the solutions in ``directory`` (every puzzle, or those ``names``).

    ``options`` go to :func:`check` (``seed``, ``use_hypothesis``, ``time_limit``:
    seconds per puzzle, 10 by default; a puzzle that runs past it fails and
    the others are still checked).
    """
    puzzles = [get(n) for n in names] if names else list(PUZZLES.values())
    results = []
    for puzzle in puzzles:
        path = solution_path(directory, puzzle)
        if path is None:
            hint = f"no solution file (`rasplab puzzles start {directory}` writes the stubs)"
            results.append(CheckResult(puzzle, "missing", [hint]))
        else:
            results.append(check_file(path, puzzle.name, **options))
    return results


def _used(result: CheckResult, attr: str, budget: int) -> str:
    used = getattr(result.usage, attr) if result.usage else "-"
    return f"{used}/{budget}"


def table(results: list[CheckResult]) -> str:
    """One row per puzzle: status, layers and heads per layer used against the budget."""
    lines = [f"{'#':>2}  {'puzzle':<17} {'solved':<7} {'layers':<7} {'heads':<6} status"]
    for r in results:
        p = r.puzzle
        layers, heads = _used(r, "layers", p.layers), _used(r, "heads", p.heads)
        solved = "yes" if r.solved else "no"
        lines.append(f"{p.number:>2}  {p.name:<17} {solved:<7} {layers:<7} {heads:<6} {r.status}")
    lines.append(summary(results))
    return "\n".join(lines)


def summary(results: list[CheckResult]) -> str:
    solved = sum(r.solved for r in results)
    return f"solved {solved} of {len(results)}"


def to_json(results: list[CheckResult], hints: bool = False) -> dict[str, Any]:
    """Every result as a dictionary, plus the totals."""
    rows = []
    for r in results:
        row = r.to_dict()
        if hints:
            row["hints"] = list(r.puzzle.hints)
        rows.append(row)
    solved = sum(r.solved for r in results)
    return {
        "puzzles": rows,
        "solved": solved,
        "total": len(results),
        "all_solved": solved == len(results),
    }
