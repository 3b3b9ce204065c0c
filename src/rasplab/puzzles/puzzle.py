"""One puzzle: what to compute, on which inputs, in how many layers and heads.

>>> from rasplab.puzzles import get
>>> p = get("shift")
>>> p.signature, p.budget
('shift(i, default)', '1 layer, 1 head per layer')
>>> p.expected(list("abc"), {"i": 1, "default": "_"})
['_', 'a', 'b']
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .domains import Domain
from .rules import Rules, value_cap

__all__ = ["Puzzle", "show_input", "call_text"]


def show_input(xs: Any) -> str:
    """An input as a string literal when every token is one character, else as a list.

    >>> show_input(list("abc")), show_input([3, 1, 2])
    ("'abc'", '[3, 1, 2]')
    """
    tokens = list(xs)
    if tokens and all(isinstance(t, str) and len(t) == 1 for t in tokens):
        return repr("".join(tokens))
    return repr(tokens)


def call_text(name: str, params: Mapping[str, Any]) -> str:
    """``name(i=1, default='_')``, or ``name`` without parameters."""
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, eq=False)
class Puzzle:
    """A puzzle of the set; ``spec(xs, **params)`` is the answer key."""

    number: int
    name: str
    title: str
    statement: str
    spec: Callable[..., list[Any]]
    domain: Domain
    layers: int
    heads: int
    params: tuple[dict[str, Any], ...] = ({},)
    rules: Rules = field(default_factory=Rules)
    examples: tuple[Any, ...] = ()
    hints: tuple[str, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the solution function's parameters."""
        return tuple(self.params[0])

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.parameters)})"

    @property
    def budget(self) -> str:
        return f"{_plural(self.layers, 'layer')}, {_plural(self.heads, 'head')} per layer"

    @property
    def map_cap(self) -> int:
        """The most distinct values a map in a solution may read."""
        return value_cap(self.rules, len(set(self.domain.vocab)), self.domain.max_len)

    def expected(self, xs: list[Any], params: Mapping[str, Any]) -> list[Any]:
        """The correct output for ``xs`` with parameters ``params``."""
        return self.spec(list(xs), **params)

    def example_lines(self) -> list[str]:
        """``shift(i=1, default='_') on 'abc' -> ['_', 'a', 'b']``, one per example."""
        lines: list[str] = []
        for xs in self.examples:
            params = self.params[len(lines) % len(self.params)]
            shown = call_text(self.name, params)
            lines.append(f"{shown} on {show_input(xs)} -> {self.expected(list(xs), params)!r}")
        return lines

    def describe(self) -> str:
        """The full text shown to a player: statement, budget, operations, examples."""
        parts = [
            f"Puzzle {self.number}: {self.title}",
            "",
            textwrap.dedent(self.statement).strip(),
            "",
            f"Budget: {self.budget}.",
            f"Allowed: {self.rules.describe()}.",
            *self._forbidden_lines(),
            "Maps and zipmaps may run any Python function, on small finite sets of values.",
            f"Inputs: {self._inputs_text()}.",
            "",
            "Examples:",
            *(f"    {line}" for line in self.example_lines()),
        ]
        return "\n".join(parts)

    def _forbidden_lines(self) -> list[str]:
        if not self.rules.forbidden:
            return []
        return [f"Forbidden: {', '.join(sorted(self.rules.forbidden))}."]

    def _inputs_text(self) -> str:
        vocab = "".join(dict.fromkeys(str(t) for t in self.domain.vocab))
        d = self.domain
        return f"tokens from {vocab!r}, length {d.min_len} to {d.max_len}"
