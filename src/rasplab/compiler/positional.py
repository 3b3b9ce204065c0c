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

from ..lang.base import is_atom
from ..lang.graph import topological_order, value_key
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
    paired = _by_pairs(per_length, n_max) if per_length else None
    if paired is not None:
        values.update(paired[0])
        widths.update(paired[1])
    elif per_length:
        inputs = [[token] * n for n in range(1, n_max + 1)]
        collect = lambda ns, ts: _collect(ns, ts, n_max)  # noqa: E731
        _evaluate(per_length, inputs, collect, values, widths, failed)
    return values, widths


def _by_pairs(nodes: list[Node], n_max: int) -> tuple[dict, dict] | None:
    """Value sets and select widths of maps of ``indices`` and ``length`` alone, at once.

    Such a node's value at position ``i`` of a length-``n`` input is ``f(i, n)``:
    here every pair ``i < n <= n_max`` is one row, and each map runs once per distinct
    value (or tuple) over all rows, instead of one evaluation per length. A select
    over such numbers is counted per length from its sides' values (sorted: ``n log
    n`` a length). None where a node is neither, where a map raises or gives a value
    the evaluator would refuse: the caller then evaluates length by length, and its
    evaluator says which node fails and why.
    """
    selects = [n for n in nodes if isinstance(n, Select)]
    if not all(isinstance(n, Map | ZipMap | Length | Select) for n in nodes):
        return None
    if any(s.predicate not in _SORTED_COUNTS for s in selects):
        return None
    base = n_max + 1
    lengths = np.repeat(np.arange(1, base), np.arange(1, base))  # [pairs]
    starts = np.cumsum(np.arange(n_max))  # [n_max]: where length n's pairs start
    positions = np.arange(len(lengths)) - np.repeat(starts, range(1, base))  # [pairs]
    rows = _PairRows(positions, lengths)
    try:
        columns = {n.id: rows.column(n) for n in nodes if not isinstance(n, Select)}
        sides = {s.id: (rows.column(s.keys), rows.column(s.queries)) for s in selects}
    except _NotHere:
        return None
    values = {k: _per_position(col, positions, n_max) for k, col in columns.items()}
    widths: dict[int, np.ndarray] = {}
    for sel in selects:
        keys, queries = (_numbers(col) for col in sides[sel.id])
        if keys is None or queries is None:
            return None
        widths[sel.id] = _width_grid(sel.predicate, keys, queries, starts, n_max)
    return values, widths


class _NotHere(Exception):
    """A node the pair rows do not evaluate (the caller falls back to the evaluator)."""


Codes = tuple[np.ndarray, list]  # (value index per row [pairs], the distinct values)


class _PairRows:
    """Maps of ``indices`` and ``length`` over every (position, length) pair."""

    def __init__(self, positions: np.ndarray, lengths: np.ndarray) -> None:
        self.positions, self.lengths = positions, lengths
        self.done: dict[int, Codes] = {}

    def column(self, node: Node) -> Codes:
        if node.id not in self.done:
            self.done[node.id] = self._make(node)
        return self.done[node.id]

    def _make(self, node: Node) -> Codes:
        if isinstance(node, Indices):
            return self.positions, list(range(int(self.lengths.max())))
        if isinstance(node, Length):
            return self.lengths - 1, list(range(1, int(self.lengths.max()) + 1))
        if isinstance(node, Constant):
            return np.zeros(len(self.lengths), dtype=np.int64), [node.value]
        if isinstance(node, Map):
            codes, table = self.column(node.inner)
            return _interned(codes, [_call(node.f, v) for v in table])
        if isinstance(node, ZipMap):
            parts = [self.column(k) for k in node.inputs]
            key = np.zeros(len(self.lengths), dtype=np.int64)
            span = 1
            for codes, table in parts:
                span *= len(table)
                if span >= 2**62:  # the mixed-radix key would overflow int64
                    raise _NotHere(node.label)
                key = key * len(table) + codes
            distinct, inverse = np.unique(key, return_inverse=True)
            firsts = np.unique(inverse, return_index=True)[1]  # a row of each tuple
            args = [[table[c] for c in codes[firsts].tolist()] for codes, table in parts]
            outs = [_call(node.f, *xs) for xs in zip(*args, strict=True)]
            return _interned(inverse.reshape(-1), outs)
        raise _NotHere(node.label)


def _call(f, *args):
    try:
        out = f(*args)
    except Exception as err:  # user code: the evaluator reports it, with the position
        raise _NotHere(str(err)) from None
    if not is_atom(out) or (isinstance(out, float) and out != out):
        raise _NotHere("not a value")  # NaN, or no atom: the evaluator's rules decide
    return out


def _interned(codes: np.ndarray, outs: list) -> Codes:
    """Codes into the distinct outputs (``1``, ``1.0`` and ``True`` stay three values)."""
    index: dict = {}
    table: list = []
    remap = np.empty(len(outs), dtype=np.int64)
    for i, v in enumerate(outs):
        k = value_key(v)
        if k not in index:
            index[k] = len(table)
            table.append(v)
        remap[i] = index[k]
    return remap[codes], table


def _per_position(column: Codes, positions: np.ndarray, n_max: int) -> list[set]:
    codes, table = column
    per_pos: list[set] = [set() for _ in range(n_max)]
    seen = np.unique(positions * len(table) + codes)  # distinct (position, value) pairs
    for p, c in zip((seen // len(table)).tolist(), (seen % len(table)).tolist(), strict=True):
        per_pos[p].add(table[c])
    return per_pos


def _numbers(column: Codes) -> np.ndarray | None:
    """The values as float64, if all are ints or floats (the evaluator compares those in
    numpy too); None otherwise."""
    codes, table = column
    if not all(type(v) is int or type(v) is float for v in table):
        return None
    return np.asarray(table, dtype=np.float64)[codes]


# predicate(key, query) -> width from (keys below the query, keys at most the query, n)
_SORTED_COUNTS = {
    Comparison.EQ: lambda lo, hi, n: hi - lo,
    Comparison.NEQ: lambda lo, hi, n: n - (hi - lo),
    Comparison.LT: lambda lo, hi, n: lo,
    Comparison.LEQ: lambda lo, hi, n: hi,
    Comparison.GT: lambda lo, hi, n: n - hi,
    Comparison.GEQ: lambda lo, hi, n: n - lo,
    Comparison.TRUE: lambda lo, hi, n: np.full_like(lo, n),
    Comparison.FALSE: lambda lo, hi, n: np.zeros_like(lo),
}


def _width_grid(pred, keys: np.ndarray, queries: np.ndarray, starts, n_max: int) -> np.ndarray:
    """``grid[i, n - 1]``: how many keys of a length-``n`` input the query at ``i`` selects."""
    grid = np.full((n_max, n_max), -1, dtype=np.int64)  # [position, length - 1]
    for n in range(1, n_max + 1):
        span = slice(int(starts[n - 1]), int(starts[n - 1]) + n)
        ordered = np.sort(keys[span])
        lo = np.searchsorted(ordered, queries[span], side="left")
        hi = np.searchsorted(ordered, queries[span], side="right")
        grid[:n, n - 1] = _SORTED_COUNTS[pred](lo, hi, n)
    return grid


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
