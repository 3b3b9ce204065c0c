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

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..evaluate import topological_order
from ..evaluate.columns import value_key
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
from ..lang.operators import _BINARY
from .combine import Combiner, is_number, ordered, width_cover
from .positional import exact_positional, positional_nodes, uniform_selection

__all__ = [
    "ValueSets",
    "infer",
    "ordered",
    "is_number",
    "TOO_MANY",
    "positional_nodes",
    "uniform_selection",
]

# A zipmap whose per-position argument products exceed this many calls, or a
# mean with more distinct values than this, is marked TOO_MANY.
CALL_LIMIT = 400_000
ARRAY_LIMIT = 20_000_000  # combinations a vectorised (numpy) map may be run on
# Only these functions run on whole numpy arrays: pure arithmetic, no branches, so an
# array result is the per-value result (other functions are called value by value).
_ARITHMETIC = frozenset(_BINARY[op] for op in ("+", "-", "*"))
TOO_MANY: frozenset = frozenset({("too-many", "values")})

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

    def at(self, node: Node, i: int) -> list[Any]:
        """The values ``node`` can hold at position ``i``, ordered."""
        return ordered(self.objects[k] for k in self.sets[node.id][i])

    def union(self, node: Node) -> list[Any]:
        """Every value ``node`` can hold anywhere, ordered (LookupError if there are too many)."""
        if self.too_many(node):
            raise LookupError(f"{node.label} can take too many values")
        keys: set = set().union(*self.sets[node.id])
        return ordered(self.objects[k] for k in keys)

    def too_many(self, node: Node) -> bool:
        return any(s is TOO_MANY for s in self.sets[node.id])


class _Inference:
    """One topological pass over the program; see :func:`infer`."""

    def __init__(self, program: Node, vocab: tuple, n_max: int, decide: Decide | None):
        self.program, self.vocab, self.n, self.decide = program, vocab, n_max, decide
        self.objects: dict[tuple, Any] = {}
        self.shared: dict[frozenset, frozenset] = {}
        self.sets: dict[int, tuple[VSet, ...]] = {}
        self.bounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # selector -> lo, hi
        self.widths: dict[int, tuple[frozenset[int], ...]] = {}
        self.semantics: dict[int, str] = {}
        self.positional = positional_nodes(program)
        self.exact, self.exact_widths = exact_positional(program, self.positional, vocab[0], n_max)
        lengths = np.arange(1, n_max + 1)[None, :]
        self.valid = np.arange(n_max)[:, None] < lengths  # [position, length - 1]
        self.lengths = np.broadcast_to(lengths, (n_max, n_max))

    def intern(self, values: Any) -> VSet:
        """A frozenset of value keys; equal sets are one object (positions share work)."""
        keys = []
        for v in values:
            k = value_key(v)
            self.objects.setdefault(k, v)
            keys.append(k)
        found = frozenset(keys)
        return self.shared.setdefault(found, found)

    def same_everywhere(self, values: Any) -> tuple[VSet, ...]:
        return (self.intern(values),) * self.n

    def run(self) -> ValueSets:
        for node in topological_order(self.program):
            if isinstance(node, Selector):
                self.widths[node.id] = self.selector(node)
            else:
                self.sets[node.id] = self.sop(node)
        return ValueSets(self.program, self.n, self.sets, self.widths, self.objects, self.semantics)

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
        if isinstance(node, Map):
            return self.apply(node, [node.inner])
        if isinstance(node, ZipMap):
            return self.apply(node, list(node.inputs))
        if isinstance(node, SelectorWidth):
            return tuple(self.intern(w) for w in self.widths[node.selector.id])
        if isinstance(node, Aggregate):
            return self.aggregate(node)
        raise TypeError(f"unknown s-op {node!r}")

    def apply(self, node: Map | ZipMap, inputs: list[SOp]) -> tuple[VSet, ...]:
        """Run the node's function on the product of its inputs' sets, position by position."""
        per_input = [self.sets[x.id] for x in inputs]
        if any(TOO_MANY in sets for sets in per_input):
            return (TOO_MANY,) * self.n
        unions = [sorted(set().union(*sets), key=repr) for sets in per_input]
        size = int(np.prod([len(u) for u in unions]))
        if node.f in _ARITHMETIC and size > ARRAY_LIMIT:
            found = self.arithmetic_per_position(node.f, per_input)
            if found is not None:
                return found
        if len(inputs) > 1 and size <= ARRAY_LIMIT:
            table = self.vectorised(node.f, unions) if node.f in _ARITHMETIC else None
            if table is not None or size <= CALL_LIMIT:
                return self.tabulate(node.f, per_input, unions, table)
        memo: dict[tuple, Any] = {}
        results: dict[tuple[int, ...], VSet] = {}
        calls = 0
        out = []
        for i in range(self.n):
            args = tuple(sets[i] for sets in per_input)
            ident = tuple(id(a) for a in args)
            if ident not in results:
                calls += int(np.prod([len(a) for a in args]))
                if calls > CALL_LIMIT:
                    return (TOO_MANY,) * self.n
                results[ident] = self.intern(self.outputs(node.f, args, memo))
            out.append(results[ident])
        return tuple(out)

    def arithmetic_per_position(self, f: Callable, per_input: list) -> tuple[VSet, ...] | None:
        """``+ - *`` on each position's own sets, with numpy (for products too big to table)."""
        results: dict[tuple[int, ...], VSet] = {}
        out = []
        for i in range(self.n):
            args = tuple(sets[i] for sets in per_input)
            ident = tuple(id(a) for a in args)
            if ident not in results:
                found = self.vectorised(f, [sorted(a, key=repr) for a in args])
                if found is None:
                    return None
                _, outs, mixed = found
                variants = [[v, int(v)] if mixed and float(v).is_integer() else [v] for v in outs]
                results[ident] = self.intern(v for vs in variants for v in vs)
            out.append(results[ident])
        return tuple(out)

    def vectorised(self, f: Callable, unions: list) -> tuple[np.ndarray, list, bool] | None:
        """``f`` on whole arrays of numbers at once, if that agrees with calling it per value.

        Ints mixed with floats are computed as floats; an integral result then stands for
        both ``k`` and ``float(k)`` (a superset of the true values, which is safe).
        """
        values = [[self.objects[k] for k in u] for u in unions]
        kinds = set().union(*({type(v) for v in u} for u in values))
        if not kinds <= {int, float}:
            return None  # bools or strings: call the function per value
        mixed = len(kinds) > 1
        dtype = np.float64 if mixed else None
        grids = np.meshgrid(*[np.asarray(u, dtype=dtype) for u in values], indexing="ij")
        try:
            with np.errstate(all="raise"):
                result = f(*grids)
        except Exception:
            return None
        ok = isinstance(result, np.ndarray) and result.shape == grids[0].shape
        if not ok or result.dtype.kind not in "iuf" or not np.all(np.isfinite(result)):
            return None
        flat = result.reshape(-1)
        rng = np.random.default_rng(0)
        for n in rng.choice(flat.size, min(flat.size, 256), replace=False):
            idx = np.unravel_index(n, result.shape)
            try:
                want = f(*(u[i] for u, i in zip(values, idx, strict=True)))
            except Exception:
                return None
            got = flat[n].item()
            same = want == got if mixed else value_key(want) == value_key(got)
            if not same or isinstance(want, bool) or not isinstance(want, int | float):
                return None
        uniq, inverse = np.unique(flat, return_inverse=True)
        return inverse.reshape(result.shape), uniq.tolist(), mixed

    def tabulate(
        self, f: Callable, per_input: list, unions: list, vectorised: Any = None
    ) -> tuple[VSet, ...]:
        """Call ``f`` once per combination of the inputs' overall values; slice per position."""
        if vectorised is not None:
            table, outs, mixed = vectorised
            return self.slice_table(per_input, unions, table, outs, mixed)
        outs: list[Any] = []
        index: dict[tuple, int] = {}
        table = np.full([len(u) for u in unions], -1, dtype=np.int64)
        for pos in itertools.product(*[range(len(u)) for u in unions]):
            args = [self.objects[u[j]] for u, j in zip(unions, pos, strict=True)]
            try:
                value = f(*args)
            except Exception:  # the evaluator would fail on such an input too
                continue
            key = value_key(value)
            if key not in index:
                index[key] = len(outs)
                outs.append(value)
            table[pos] = index[key]
        return self.slice_table(per_input, unions, table, outs)

    def slice_table(
        self, per_input, unions, table: np.ndarray, outs: list, mixed: bool = False
    ) -> tuple[VSet, ...]:
        """Per position: the outputs over that position's argument values (a slice of the table)."""
        where = [{k: j for j, k in enumerate(u)} for u in unions]
        found: dict[tuple[int, ...], np.ndarray] = {}
        order = []
        for i in range(self.n):
            args = tuple(sets[i] for sets in per_input)
            ident = tuple(id(a) for a in args)
            order.append(ident)
            if ident not in found:
                picks = [sorted(w[k] for k in a) for w, a in zip(where, args, strict=True)]
                codes = np.unique(table[np.ix_(*picks)])
                found[ident] = codes[codes >= 0]
        used = np.unique(np.concatenate(list(found.values()))) if found else []
        keys: dict[int, list[tuple]] = {}
        for c in used:  # intern only the outputs some position can produce
            v = outs[c]
            variants = [v, int(v)] if mixed and float(v).is_integer() else [v]
            self.intern(variants)
            keys[int(c)] = [value_key(x) for x in variants]
        results = {}
        for ident, codes in found.items():
            chosen = frozenset(k for c in codes for k in keys[int(c)])
            results[ident] = self.shared.setdefault(chosen, chosen)
        return tuple(results[ident] for ident in order)

    def outputs(self, f: Callable, args: tuple[VSet, ...], memo: dict) -> list[Any]:
        found = []
        for combo in itertools.product(*args):
            if combo not in memo:
                try:
                    memo[combo] = (True, f(*(self.objects[k] for k in combo)))
                except Exception:  # the evaluator would fail on such an input too
                    memo[combo] = (False, None)
            ok, value = memo[combo]
            if ok:
                found.append(value)
        return found

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


def infer(program: Node, vocab: Any, max_seq_len: int, decide: Decide | None = None) -> ValueSets:
    """Value sets of every node of ``program`` for inputs over ``vocab`` up to ``max_seq_len``.

    ``decide(aggregate, values, widths)`` picks how a mean aggregate combines
    (``"select"`` one value or ``"mean"``); by default numerical aggregates
    average and categorical ones select.
    """
    return _Inference(program, tuple(vocab), max_seq_len, decide).run()
