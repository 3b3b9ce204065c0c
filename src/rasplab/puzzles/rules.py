"""Which operations a puzzle allows, checked by walking the program's DAG.

Static rules (an allow-list of node kinds, the aggregation modes, custom
select predicates) come first; then a dynamic one: every map, zipmap and
custom predicate must read s-ops with a *small finite* set of values, as
an MLP lookup table would. Only an aggregate can make values multiply
(a mean of numbers), so only s-ops with an aggregate below them are measured.

>>> from rasplab import tokens, indices, select, aggregate
>>> top = aggregate(select(tokens, tokens, "<="), indices, mode="max")
>>> violations(top, Rules())[0]  # doctest: +ELLIPSIS
"aggregate aggregate_... uses mode='max'; this puzzle allows mean aggregation only"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..evaluate import Trace
from ..lang.graph import topological_order
from ..lang.nodes import (
    Aggregate,
    Comparison,
    Constant,
    Indices,
    Length,
    Map,
    Node,
    Select,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    SOp,
    Tokens,
    ZipMap,
)

__all__ = ["Rules", "KINDS", "violations", "value_cap", "map_inputs", "unbounded_maps"]

_CLASSES = (
    Tokens, Indices, Length, Constant, Map, ZipMap,
    Select, SelectorAnd, SelectorOr, SelectorNot, Aggregate, SelectorWidth,
)  # fmt: skip
KINDS: tuple[str, ...] = tuple(c.kind for c in _CLASSES)
_SHOWN = {"full": "constants", "select_and": "&", "select_or": "|", "select_not": "~"}
MAX_REPORTED = 4
_COMBINERS = ("select_and", "select_or", "select_not")


@dataclass(frozen=True)
class Rules:
    """The operations a solution may use.

    ``forbidden``: node kinds (see :data:`KINDS`) the puzzle rules out;
    ``modes``: the aggregation modes allowed; ``custom_predicates``: whether
    ``select`` may take a Python function; ``map_values``: the most distinct
    values a map may read (``None``: derived from the vocabulary and length).
    """

    forbidden: frozenset[str] = frozenset()
    modes: frozenset[str] = frozenset({"mean"})
    custom_predicates: bool = True
    map_values: int | None = None

    def allowed(self) -> list[str]:
        """The allowed node kinds, in the order of :data:`KINDS`."""
        return [k for k in KINDS if k not in self.forbidden]

    def describe(self) -> str:
        """One line for a puzzle statement.

        >>> text = Rules(forbidden=frozenset({"length"})).describe()
        >>> text.split(", ")[:3], "aggregate (mean only)" in text, "length" in text
        (['tokens', 'indices', 'constants'], True, False)
        """
        modes = "/".join(m for m in ("mean", "sum", "max", "min") if m in self.modes)
        modes += " only" if len(self.modes) == 1 else ""
        shown = []
        for kind in self.allowed():
            if kind == "aggregate":
                shown.append(f"aggregate ({modes})")
            elif kind == "select":
                ops = " ".join(_SHOWN[k] for k in _COMBINERS if k not in self.forbidden)
                shown.append(f"select (combine with {ops})" if ops else "select")
            elif kind not in _COMBINERS:
                shown.append(_SHOWN.get(kind, kind))
        return ", ".join(shown)


def _node_problem(node: Node, rules: Rules) -> str | None:
    if not isinstance(node, _CLASSES):
        return f"{node.label} is a {type(node).__name__}, which is not a RASP operation"
    if node.kind in rules.forbidden:
        where = "" if node.label == node.kind else f" ({node.label})"
        shown = _SHOWN.get(node.kind, node.kind)
        return f"the program uses `{shown}`{where}, which this puzzle forbids"
    if isinstance(node, Aggregate) and node.mode.value not in rules.modes:
        allowed = ", ".join(sorted(rules.modes))
        return (
            f"aggregate {node.label} uses mode={node.mode.value!r}; "
            f"this puzzle allows {allowed} aggregation only"
        )
    custom = isinstance(node, Select) and not isinstance(node.predicate, Comparison)
    if isinstance(node, Select) and custom and not rules.custom_predicates:
        return (
            f"select {node.label} uses the custom predicate {node.predicate_name}; "
            "this puzzle allows the comparisons == != < <= > >= true false only"
        )
    return None


def violations(program: Node, rules: Rules) -> list[str]:
    """What in ``program`` breaks the static rules (at most a few messages)."""
    found: list[str] = []
    for node in topological_order(program):
        problem = _node_problem(node, rules)
        if problem and problem not in found:
            found.append(problem)
    if len(found) > MAX_REPORTED:
        found[MAX_REPORTED:] = [f"... and {len(found) - MAX_REPORTED} more"]
    return found


def value_cap(rules: Rules, vocab_size: int, max_len: int) -> int:
    """How many distinct values a map may read: ``max(vocab, 4) * (max_len + 1)**2``.

    Generous for honest programs (counts, positions, running fractions), far
    below what packing a whole input into one number needs.

    >>> value_cap(Rules(), 5, 8)
    405
    """
    if rules.map_values is not None:
        return rules.map_values
    return max(vocab_size, 4) * (max_len + 1) ** 2


def map_inputs(program: Node) -> list[tuple[Node, SOp]]:
    """``(reader, s-op)`` pairs to measure: what maps, zipmaps and custom predicates read,
    where that s-op has an aggregate at or below it (nothing else can grow)."""
    grows: dict[int, bool] = {}
    pairs: list[tuple[Node, SOp]] = []
    for node in topological_order(program):
        below = any(grows[c.id] for c in node.children)
        grows[node.id] = isinstance(node, Aggregate) or (
            below and not isinstance(node, SelectorWidth)
        )
        if isinstance(node, Map | ZipMap):
            read: Iterable[Node] = node.children
        elif isinstance(node, Select) and not isinstance(node.predicate, Comparison):
            read = node.children
        else:
            read = ()
        pairs.extend((node, s) for s in read if isinstance(s, SOp) and grows[s.id])
    return pairs


def unbounded_maps(program: Node, traces: list[Trace], cap: int) -> list[str]:
    """Messages for every map input that took more than ``cap`` distinct values."""
    found: list[str] = []
    seen: dict[int, set[Any]] = {}
    for reader, sop in map_inputs(program):
        if sop.id not in seen:
            values: set[Any] = set()
            for trace in traces:
                values.update(repr(v) for v in trace[sop])
            seen[sop.id] = values
        count = len(seen[sop.id])
        if count > cap:
            found.append(
                f"{reader.kind} {reader.label} reads {sop.label} ({sop.describe()}), which took "
                f"{count} distinct values on {len(traces)} test inputs, more than the {cap} "
                "allowed here: a map is a finite lookup table, so it must read a small finite "
                "set of values (do not pack the whole input into one number)"
            )
    return found[:MAX_REPORTED]
