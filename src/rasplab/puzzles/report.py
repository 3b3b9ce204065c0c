"""How a check result reads: in the terminal (text) and in a notebook (HTML).

>>> used = Usage(2, 1, (1, 1), "")
>>> used.text
'2 layers, heads per layer [1, 1]'
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..lang.nodes import SOp
from .puzzle import show_input
from .search import Outcome, same_value
from .view import html_view

if TYPE_CHECKING:
    from .checker import CheckResult

__all__ = ["Usage", "Counterexample", "render", "render_html", "MARKS"]

MARKS = {
    "solved": "ok",
    "wrong": "FAIL",
    "over budget": "FAIL",
    "forbidden": "FAIL",
    "error": "ERROR",
    "todo": "todo",
    "missing": "--",
}


@dataclass(frozen=True)
class Usage:
    """Layers and heads a solution needs (its widest parameter set)."""

    layers: int
    heads: int
    heads_per_layer: tuple[int, ...]
    analysis: str
    call: str = ""

    @property
    def text(self) -> str:
        layers = f"{self.layers} layer{'' if self.layers == 1 else 's'}"
        return f"{layers}, heads per layer {list(self.heads_per_layer)}"


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing input found, with what was expected and what came out."""

    call: str
    params: dict[str, Any]
    outcome: Outcome
    view: str
    program: SOp

    @property
    def input(self) -> list[Any]:
        return self.outcome.input

    @property
    def expected(self) -> list[Any]:
        return self.outcome.expected

    @property
    def actual(self) -> list[Any] | None:
        return self.outcome.actual

    @property
    def error(self) -> str | None:
        return self.outcome.error

    def summary(self) -> str:
        where = f"{self.call} on {show_input(self.input)}"
        if self.error:
            return f"{where} fails: {self.error}"
        return f"wrong output for {where}"

    def lines(self) -> list[str]:
        rows = [f"{self.call} on {show_input(self.input)}", f"  expected: {self.expected!r}"]
        if self.error:
            rows.append(f"  error:    {self.error}")
        else:
            rows.append(f"  actual:   {self.actual!r}")
            rows += self._differences()
        return rows

    def _differences(self) -> list[str]:
        actual, expected = self.actual or [], self.expected
        if len(actual) != len(expected):
            return [f"  {len(actual)} values for {len(expected)} positions"]
        wrong = [
            str(i)
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            if not same_value(a, e)
        ]
        return [f"  wrong at positions {', '.join(wrong)}"] if wrong else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.call,
            "params": self.params,
            "input": self.input,
            "expected": self.expected,
            "actual": self.actual,
            "error": self.error,
        }


def _headline(result: CheckResult) -> str:
    p, mark = result.puzzle, MARKS[result.status]
    head = f"{mark:<5} {p.number:>2} {p.name}: {result.status}"
    if result.solved and result.usage:
        head += f" in {result.usage.text} (budget {p.budget}); {result.checked} inputs checked"
    return head


def _body(result: CheckResult) -> list[str]:
    shown = result.source not in (None, "<python>")
    lines = [f"source: {result.source}"] if shown else []
    if not result.solved:
        lines += [f"- {problem}".replace("\n", "\n  ") for problem in result.problems]
    lines += [f"note: {note}" for note in result.notes]
    example = result.counterexample
    if example is not None:
        lines.append(f"smallest counterexample found ({result.checked} inputs checked):")
        lines += [f"  {row}" for row in example.lines()]
        lines.append("execution view:")
        lines += [f"  {row}" for row in example.view.splitlines()]
    if result.usage and not result.solved:
        if _over(result):
            lines.append("where the layers and heads go:")
            lines += [f"  {row}" for row in result.usage.analysis.splitlines()]
        else:
            lines.append(f"uses {result.usage.text}; budget {result.puzzle.budget}")
    return lines


def _over(result: CheckResult) -> bool:
    u, p = result.usage, result.puzzle
    return u is not None and (u.layers > p.layers or u.heads > p.heads)


def render(result: CheckResult, hints: bool = False) -> str:
    """The text report of one result; ``hints`` adds the puzzle's hints."""
    lines = [_headline(result)]
    lines += [f"      {row}".replace("\n", "\n      ") for row in _body(result)]
    if hints and not result.solved:
        lines.append("      hints:")
        for i, hint in enumerate(result.puzzle.hints, 1):
            wrapped = textwrap.wrap(hint, 80)
            lines.append(f"        {i}. {wrapped[0]}")
            lines += [f"           {more}" for more in wrapped[1:]]
    return "\n".join(lines)


def render_html(result: CheckResult) -> str:
    """The report for a notebook: the text, plus the visualiser's picture when available."""
    parts = [f"<pre>{html.escape(render(result))}</pre>"]
    example = result.counterexample
    if example is not None:
        picture = html_view(example.program, example.input)
        if picture:
            parts.append(picture)
    return "\n".join(parts)
