"""Stage 1: the exact set of values every s-op can hold, position by position.

A compiled model needs one direction per value of a categorical s-op and a
finite set of inputs on which every MLP must be exact, so the compiler
first works out, for every position ``i < max_seq_len``, which values each
s-op can take there. Maps and zipmaps are *run* on those finite sets (no
interval or type over-approximation); positions keep correlations that a
single global set would lose: ``length - indices - 1`` at position ``i``
takes the values ``0 .. max_seq_len - i - 1`` only, and a mean over
``select(indices, indices, "<=")`` at position ``i`` is some ``k / (i + 1)``.

S-ops that depend on positions only (``indices``, ``length``, constants and
what is computed from them) are evaluated exactly, once per input length.
Selector widths are bounded per position by interval rules elsewhere.

>>> from rasplab import tokens, indices, length
>>> vs = infer(length - indices - 1, ("a", "b"), 4)
>>> [sorted(vs.at(vs.program, i)) for i in range(4)]
[[0, 1, 2, 3], [0, 1, 2], [0, 1], [0]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..lang.graph import topological_order, value_key
from ..lang.nodes import (
    Aggregate,
    AggregationMode,
    Comparison,
    Constant,
    Indices,
    Length,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorWidth,
    SOp,
    Tokens,
    ZipMap,
)
from .combine import PLAIN, Combiner, is_number, ordered, width_cover
from .positional import exact_positional, positional_nodes, uniform_selection
from .value_maps import TOO_MANY, MapRunner

__all__ = [
    "ValueSets",
    "infer",
    "ordered",
    "is_number",
    "TOO_MANY",
    "positional_nodes",
    "uniform_selection",
]

VSet = frozenset  # of value keys
Decide = Callable[[Aggregate, list[Any], tuple[frozenset[int], ...]], str]


@dataclass(frozen=True, eq=False)
class ValueSets:
    """Per node id: one frozenset of value keys per position; plus selector widths."""

    program: Node
    max_seq_len: int
    sets: Mapping[int, tuple[VSet, ...]]
    widths: Mapping[int, tuple[frozenset[int], ...]]
    objects: Mapping[tuple, Any]
    semantics: Mapping[int, str]  # aggregate id -> select | mean | sum | max | min
    bounds: Mapping[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # node id -> union, computed once: the planner asks for the same unions many times
    unions: dict[int, list[Any]] = field(default_factory=dict, repr=False, compare=False)

    def at(self, node: Node, i: int) -> list[Any]:
        """The values ``node`` can hold at position ``i``, ordered."""
        return ordered(self.objects[k] for k in self.sets[node.id][i])

    def union(self, node: Node) -> list[Any]:
        """Every value ``node`` can hold anywhere, ordered (LookupError if there are too many)."""
        if self.too_many(node):
            raise LookupError(f"{node.label} can take too many values")
        if node.id not in self.unions:
            keys: set = set().union(*self.sets[node.id])
            self.unions[node.id] = ordered(self.objects[k] for k in keys)
        return list(self.unions[node.id])

    def too_many(self, node: Node) -> bool:
        return any(s is TOO_MANY for s in self.sets[node.id])


class _Inference(MapRunner):
    """One topological pass over the program; see :func:`infer`."""

    def __init__(
        self,
        program: Node,
        vocab: tuple,
        n_max: int,
        decide: Decide | None,
        previous: ValueSets | None = None,
        origin: Mapping[int, Node] | None = None,
    ):
        self.program, self.vocab, self.n, self.decide = program, vocab, n_max, decide
        self.previous, self.origin = previous, origin or {}
        self.objects: dict[tuple, Any] = {}
        self.shared: dict[frozenset, frozenset] = {}
        self.sets: dict[int, tuple[VSet, ...]] = {}
        self.bounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # selector -> lo, hi
        self.widths: dict[int, tuple[frozenset[int], ...]] = {}
        self.semantics: dict[int, str] = {}
        if previous is not None:
            self.reuse(previous)
        known = frozenset(self.sets) | frozenset(self.widths)
        self.positional = positional_nodes(program)
        self.exact, self.exact_widths = exact_positional(
            program, self.positional - known, vocab[0], n_max
        )
        lengths = np.arange(1, n_max + 1)[None, :]
        self.valid = np.arange(n_max)[:, None] < lengths  # [position, length - 1]
        self.lengths = np.broadcast_to(lengths, (n_max, n_max))

    def reuse(self, previous: ValueSets) -> None:
        """Take over what an earlier pass found for nodes this program shares with it.

        Node ids are never reused, so a shared id is the same node over the same inputs:
        its sets, widths and aggregate mode are what this pass would compute again.
        """
        self.objects.update(previous.objects)
        for node in topological_order(self.program):
            if node.id in previous.sets:
                self.sets[node.id] = previous.sets[node.id]
                if node.id in previous.semantics:
                    self.semantics[node.id] = previous.semantics[node.id]
            elif node.id in previous.widths and node.id in previous.bounds:
                self.widths[node.id] = previous.widths[node.id]
                self.bounds[node.id] = previous.bounds[node.id]
        for sets in [*self.sets.values(), *self.widths.values()]:
            for s in sets:
                self.shared.setdefault(s, s)

    def as_before(self, node: Map | ZipMap) -> tuple[VSet, ...] | None:
        """The earlier pass's sets of the map this one was rebuilt from, when its inputs
        hold the same sets: the function run on the same sets gives the same sets."""
        old = self.origin.get(node.id)
        if old is None or self.previous is None or old.id not in self.previous.sets:
            return None
        if type(old) is not type(node) or old.f is not node.f:
            return None
        if len(old.children) != len(node.children):
            return None
        pairs = zip(node.children, old.children, strict=True)
        if any(self.sets[new.id] != self.previous.sets.get(was.id) for new, was in pairs):
            return None
        return self.previous.sets[old.id]

    def intern(self, values: Any) -> VSet:
        """A frozenset of value keys; equal sets are one object (positions share work)."""
        keys = []
        objects = self.objects
        for v in values:
            # value_key, inlined for the common atoms that key as (type, value)
            t = type(v)
            k = (t, v) if t in PLAIN or (t is float and v == v) else value_key(v)
            objects.setdefault(k, v)
            keys.append(k)
        return self.intern_keys(keys)

    def intern_keys(self, keys: Any) -> VSet:
        found = frozenset(keys)
        return self.shared.setdefault(found, found)

    def same_everywhere(self, values: Any) -> tuple[VSet, ...]:
        return (self.intern(values),) * self.n

    def run(self) -> ValueSets:
        for node in topological_order(self.program):
            if node.id in self.sets or node.id in self.widths:
                continue  # taken over from an earlier pass
            if isinstance(node, Selector):
                self.widths[node.id] = self.selector(node)
            else:
                self.sets[node.id] = self.sop(node)
        return ValueSets(
            self.program,
            self.n,
            self.sets,
            self.widths,
            self.objects,
            self.semantics,
            self.bounds,
        )

    # ------------------------------------------------------------ selectors

    def selector(self, node: Selector) -> tuple[frozenset[int], ...]:
        lo, hi = self.bounds_of(node)
        self.bounds[node.id] = (lo, hi)
        covered = width_cover(lo, hi, self.valid)  # [position, width]
        out, by_row = [], {}
        for row in covered:
            key = row.tobytes()
            if key not in by_row:
                found = frozenset(np.flatnonzero(row).tolist())
                by_row[key] = self.shared.setdefault(found, found)
            out.append(by_row[key])
        return tuple(out)

    def bounds_of(self, node: Selector) -> tuple[np.ndarray, np.ndarray]:
        n = self.lengths
        if node.id in self.exact_widths:
            grid = self.exact_widths[node.id]
            return grid, grid
        if isinstance(node, Select):
            return self.select_bounds(node, n)
        if isinstance(node, SelectorNot):
            lo, hi = self.bounds[node.inner.id]
            return n - hi, n - lo
        lo1, hi1 = self.bounds[node.fst.id]
        lo2, hi2 = self.bounds[node.snd.id]
        if isinstance(node, SelectorAnd):
            return np.maximum(0, lo1 + lo2 - n), np.minimum(hi1, hi2)
        return np.maximum(lo1, lo2), np.minimum(n, hi1 + hi2)

    def select_bounds(self, node: Select, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pred = node.predicate
        if pred is Comparison.TRUE:
            return n.copy(), n.copy()
        if pred is Comparison.FALSE:
            return np.zeros_like(n), np.zeros_like(n)
        lo, hi = np.zeros_like(n), n.copy()
        if node.keys is node.queries and isinstance(pred, Comparison):
            if pred in (Comparison.EQ, Comparison.LEQ, Comparison.GEQ):
                lo = np.ones_like(n)  # the query's own position is always selected
            elif pred in (Comparison.LT, Comparison.GT, Comparison.NEQ):
                hi = n - 1
        return lo, hi

    # ------------------------------------------------------------ s-ops

    def sop(self, node: SOp) -> tuple[VSet, ...]:
        if node.id in self.exact:
            if isinstance(node, Aggregate):  # exact values, but heads still need the mode
                pool = ordered(self.objects[k] for k in set().union(*self.sets[node.sop.id]))
                self.semantics[node.id] = self.choose(node, pool, self.widths[node.selector.id])
            return tuple(self.intern(s) for s in self.exact[node.id])
        if isinstance(node, Tokens):
            return self.same_everywhere(self.vocab)
        if isinstance(node, Indices):
            return tuple(self.intern([i]) for i in range(self.n))
        if isinstance(node, Length):
            return tuple(self.intern(range(i + 1, self.n + 1)) for i in range(self.n))
        if isinstance(node, Constant):
            return self.same_everywhere([node.value])
        if isinstance(node, Map | ZipMap):
            found = self.as_before(node)
            return found if found is not None else self.apply(node, list(node.children))
        if isinstance(node, SelectorWidth):
            return tuple(self.intern(w) for w in self.widths[node.selector.id])
        if isinstance(node, Aggregate):
            return self.aggregate(node)
        raise TypeError(f"unknown s-op {node!r}")

    def aggregate(self, node: Aggregate) -> tuple[VSet, ...]:
        sop_sets = self.sets[node.sop.id]
        if TOO_MANY in sop_sets:
            return (TOO_MANY,) * self.n
        pool = ordered(self.objects[k] for k in set().union(*sop_sets))
        widths = self.widths[node.selector.id]
        mode = self.choose(node, pool, widths)
        self.semantics[node.id] = mode
        combos = Combiner(pool, mode, node, uniform_selection(node))
        per_width: dict[int, VSet] = {0: self.intern([node.default])}
        for w in sorted(set().union(*widths) - {0}):  # each width's values, interned once
            values = combos.values(frozenset({w}))
            if values is None:
                return (TOO_MANY,) * self.n
            per_width[w] = self.intern(values)
        out, done = [], {}
        for ws in widths:
            if id(ws) not in done:  # positions with one width set share the result
                found = frozenset().union(*(per_width[w] for w in ws))
                done[id(ws)] = self.shared.setdefault(found, found)
            out.append(done[id(ws)])
        return tuple(out)

    def choose(self, node: Aggregate, pool: list[Any], widths) -> str:
        if node.mode is not AggregationMode.MEAN:
            return node.mode.value
        if self.decide is not None:
            return self.decide(node, pool, widths)
        return "mean" if node.encoding.value == "numerical" else "select"


def infer(
    program: Node,
    vocab: Any,
    max_seq_len: int,
    decide: Decide | None = None,
    previous: ValueSets | None = None,
    origin: Mapping[int, Node] | None = None,
) -> ValueSets:
    """Value sets of every node of ``program`` for inputs over ``vocab`` up to ``max_seq_len``.

    ``decide(aggregate, values, widths)`` picks how a mean aggregate combines
    (``"select"`` one value or ``"mean"``); by default numerical aggregates
    average and categorical ones select. ``previous``: the value sets of a program
    sharing nodes with this one (same vocabulary, length and ``decide``), reused;
    ``origin`` (new node id -> the node of ``previous``'s program it was rebuilt from)
    lets rebuilt maps over unchanged value sets reuse theirs too.
    """
    return _Inference(program, tuple(vocab), max_seq_len, decide, previous, origin).run()
