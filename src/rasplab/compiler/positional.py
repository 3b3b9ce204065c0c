"""What depends on positions only: exact values per input length, and selections of equal values.

Part of stage 1 (value sets), which asks here for what it can know exactly.

``indices``, ``length``, constants and anything computed from them alone have
the same value on every input of a given length, so the evaluator run once
per length gives their exact values (and exact selector widths) at every
position; what no length or head reaches is run once, at the longest length.

>>> from rasplab import tokens, indices, select
>>> sel = select(indices, indices, "<")
>>> sel.id in positional_nodes(sel), select(tokens, indices, "<").id in positional_nodes(sel)
(True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    Selector,
    SelectorAnd,
    SelectorWidth,
    Tokens,
    ZipMap,
)
from .pairs import by_pairs
from .reference import Rejection, evaluate_all

__all__ = [
    "positional_nodes",
    "length_free_nodes",
    "exact_positional",
    "uniform_selection",
    "primitives_below",
]


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
        if not isinstance(sel, Select) or sel.predicate is not Comparison.EQ:
            continue
        if _only_reads(agg.sop, sel.keys):
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
    """Evaluate the position-only part of the program once per input length.

    Nodes with no head below (maps of ``indices`` and constants, selects over them)
    do not depend on the length: position ``i`` holds the same value, and a query the
    same key row, at every length. One input of length ``max_seq_len`` gives them all
    (it fails exactly when some length fails: it holds every pair a shorter one holds).
    """
    # indices and constants are exact already (i at position i; the constant everywhere)
    nodes = [
        n
        for n in topological_order(program)
        if n.id in positional and not isinstance(n, Indices | Constant)
    ]
    free = length_free_nodes(program)
    values: dict = {}
    widths: dict = {}
    failed: set[int] = set()
    once = [n for n in nodes if n.id in free]
    if once:
        collect = lambda ns, ts: _collect_once(ns, ts[0], n_max)  # noqa: E731
        _evaluate(once, [[token] * n_max], collect, values, widths, failed)
    per_length = [n for n in nodes if n.id not in free]
    paired = by_pairs(per_length, n_max) if per_length else None
    if paired is not None:
        values.update(paired[0])
        widths.update(paired[1])
    elif per_length:
        inputs = [[token] * n for n in range(1, n_max + 1)]
        collect = lambda ns, ts: _collect(ns, ts, n_max)  # noqa: E731
        _evaluate(per_length, inputs, collect, values, widths, failed)
    return values, widths


def length_free_nodes(program: Node) -> set[int]:
    """Ids of nodes with no ``length``, aggregate or selector width below them."""
    found: set[int] = set()
    for n in topological_order(program):
        head = isinstance(n, Length | Aggregate | SelectorWidth)
        if not head and all(c.id in found for c in n.children):
            found.add(n.id)
    return found


def _evaluate(nodes: list[Node], inputs, collect, values, widths, failed: set[int]) -> None:
    """Evaluate ``nodes`` together; if that fails, each half, so that one failing node (a
    map that raises) does not hide the others. A node over a failed one fails too."""
    nodes = [n for n in nodes if not _fails(n, failed)]
    if not nodes:
        return
    traces = _traces(nodes, inputs)
    if traces is not None:
        v, w = collect(nodes, traces)
        values.update(v)
        widths.update(w)
    elif len(nodes) == 1:
        failed.add(nodes[0].id)
    elif len(nodes) <= 4:  # few: one by one, skipping those over a failed one
        for node in nodes:
            _evaluate([node], inputs, collect, values, widths, failed)
    else:
        half = len(nodes) // 2
        _evaluate(nodes[:half], inputs, collect, values, widths, failed)
        _evaluate(nodes[half:], inputs, collect, values, widths, failed)


def _fails(node: Node, failed: set[int]) -> bool:
    if any(c.id in failed for c in node.children):
        failed.add(node.id)  # its evaluation runs the failing child too
    return node.id in failed


def _traces(nodes: list[Node], inputs: list[list[Any]]) -> list | None:
    """Traces of ``nodes`` on every input; None when the evaluator rejects one."""
    wrapped = [SelectorWidth(n) if isinstance(n, Selector) else n for n in nodes]
    traces = evaluate_all(ZipMap(lambda *xs: 0, *wrapped), inputs, trace=True)
    return None if isinstance(traces, Rejection) else traces


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


def _collect_once(nodes: list[Node], trace: Any, n_max: int):
    """What :func:`_collect` finds over every length, from the trace at the longest."""
    values: dict[int, list[set]] = {}
    widths: dict[int, np.ndarray] = {}
    below = np.arange(n_max)[:, None] <= np.arange(n_max)[None, :]  # position < length
    for node in nodes:
        if isinstance(node, Selector):  # width at length n: keys before n in the query's row
            counts = np.cumsum(trace.array(node), axis=-1).astype(np.int64)
            widths[node.id] = np.where(below, counts, -1)  # [position, length - 1]
        else:
            values[node.id] = [{v} for v in trace[node]]
    return values, widths


def primitives_below(program: Node, heads: tuple[type, ...]) -> dict[int, frozenset]:
    """Per node: the kinds of primitives under it (constants aside), with a marker when a
    head (one of ``heads``) is under it, so that ``below[id] <= {Indices}`` says "computed
    from positions alone, no head on the way"."""
    below: dict[int, frozenset] = {}
    for n in topological_order(program):
        if isinstance(n, heads):
            below[n.id] = frozenset({_Head})
        elif not n.children:
            below[n.id] = frozenset() if isinstance(n, Constant) else frozenset({type(n)})
        else:
            below[n.id] = frozenset().union(*(below[c.id] for c in n.children))
    return below


class _Head:
    """Stands for "a head is under this node" among the primitive kinds."""
