"""What depends on positions only: exact values per input length, and selections of equal values.

``indices``, ``length``, constants and anything computed from them alone have
the same value on every input of a given length, so the evaluator run once
per length gives their exact values (and exact selector widths) at every
position.

>>> from rasplab import tokens, indices, select
>>> sel = select(indices, indices, "<")
>>> sel.id in positional_nodes(sel), select(tokens, indices, "<").id in positional_nodes(sel)
(True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..evaluate import evaluate_batch, topological_order
from ..lang.nodes import (
    Aggregate,
    Comparison,
    Constant,
    Indices,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorWidth,
    Tokens,
    ZipMap,
)

__all__ = ["positional_nodes", "exact_positional", "uniform_selection"]


def _conjuncts(sel: Selector) -> list[Selector]:
    if isinstance(sel, SelectorAnd):
        return _conjuncts(sel.fst) + _conjuncts(sel.snd)
    return [sel]


def _only_reads(sop: Node, source: Node) -> bool:
    """True if ``sop`` is ``source`` or computed from it alone by maps and zipmaps."""
    if sop is source:
        return True
    if isinstance(sop, Constant):
        return True
    if isinstance(sop, Map | ZipMap):
        return all(_only_reads(c, source) for c in sop.children)
    return False


def uniform_selection(agg: Aggregate) -> bool:
    """Every key one query selects holds the same value (``select(k, q, "==")`` on its source).

    >>> from rasplab import tokens, select, aggregate
    >>> uniform_selection(aggregate(select(tokens, tokens, "=="), tokens.map(ord)))
    True
    """
    for sel in _conjuncts(agg.selector):
        equal = isinstance(sel, Select) and sel.predicate is Comparison.EQ
        if equal and _only_reads(agg.sop, sel.keys):
            return True
    return False


def positional_nodes(program: Node) -> frozenset[int]:
    """Ids of nodes that depend on positions only (no tokens below them)."""
    found: set[int] = set()
    for node in topological_order(program):
        if isinstance(node, Tokens):
            continue
        if all(c.id in found for c in node.children):
            found.add(node.id)
    return frozenset(found)


def exact_positional(program: Node, positional: frozenset[int], token: Any, n_max: int):
    """Evaluate the position-only part of the program once per input length."""
    nodes = [n for n in topological_order(program) if n.id in positional]
    if not nodes or all(isinstance(n, Indices | Constant) for n in nodes):
        return {}, {}
    inputs = [[token] * n for n in range(1, n_max + 1)]
    traces = _traces(nodes, inputs)
    if traces is not None:
        return _collect(nodes, traces, n_max)
    values: dict = {}
    widths: dict = {}
    for node in nodes:  # one failing node (a map that raises) must not hide the others
        traces = _traces([node], inputs)
        if traces is not None:
            v, w = _collect([node], traces, n_max)
            values.update(v)
            widths.update(w)
    return values, widths


def _traces(nodes: list[Node], inputs: list[list[Any]]) -> list | None:
    wrapped = [SelectorWidth(n) if isinstance(n, Selector) else n for n in nodes]
    try:
        return evaluate_batch(ZipMap(lambda *xs: 0, *wrapped), inputs, trace=True)
    except Exception:
        return None


def _collect(nodes: list[Node], traces: list, n_max: int):
    values: dict[int, list[set]] = {}
    widths: dict[int, np.ndarray] = {}
    for node in nodes:
        if isinstance(node, Selector):
            grid = np.full((n_max, n_max), -1, dtype=np.int64)  # [position, length - 1]
            for n, t in enumerate(traces, start=1):
                grid[:n, n - 1] = t.array(node).sum(axis=-1)
            widths[node.id] = grid
        else:
            per_pos: list[set] = [set() for _ in range(n_max)]
            for t in traces:
                for i, v in enumerate(t[node]):
                    per_pos[i].add(v)
            values[node.id] = per_pos
    return values, widths
