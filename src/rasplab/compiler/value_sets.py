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

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..lang.graph import topological_order
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
    SelectorOr,
    SelectorWidth,
    SOp,
    Tokens,
    ZipMap,
)
from .arithmetic import width_sum_limit
from .combine import Combiner, is_number, lone_values, ordered, sum_moves_one_value, width_cover
from .limits import checkpoint
from .positional import exact_positional, positional_nodes, uniform_selection
from .value_bulk import bulk_map, int_span
from .value_maps import TOO_MANY, ValueTable, run_map

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
    # what later stages computed from these sets alone, by what it was computed from: a
    # rebuild after the certificate plans from the same sets (see domains.domain)
    memo: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)
    # the table's per-width sets of aggregates (ValueTable.per_width), for a later pass
    per_width: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)
    # selector id -> what decides its width bounds (_bounds_key), and the table's widths
    # by those (ValueTable.covers), for a later pass
    bound_keys: Mapping[int, tuple] = field(default_factory=dict, repr=False, compare=False)
    covers: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)

    def at(self, node: Node, i: int) -> list[Any]:
        """The values ``node`` can hold at position ``i``, ordered."""
        return ordered(self.objects[k] for k in self.sets[node.id][i])

    def union(self, node: Node) -> list[Any]:
        """Every value ``node`` can hold anywhere, ordered (LookupError if there are too many)."""
        if self.too_many(node):
            raise LookupError(f"{node.label} can take too many values")
        if node.id not in self.unions:
            keys: set = set().union(*self.sets[node.id])
            self.unions[node.id] = ordered_numbers(list(map(self.objects.__getitem__, keys)))
        return list(self.unions[node.id])

    def too_many(self, node: Node) -> bool:
        return any(s is TOO_MANY for s in self.sets[node.id])


_TIE = {bool: 0, float: 1, int: 2}  # equal numbers: by type name, as combine.ordered has it


def ordered_numbers(values: list[Any]) -> list[Any]:
    """``ordered(values)``, sorted by numpy where the values are many plain numbers (a
    prefix mean at 1,024 positions: 320,000), each exact as a float64 (ints below
    ``2**53``, no NaN): by value, equal ones by type name. Distinct values never tie."""
    if len(values) < 1024 or not set(map(type, values)) <= _TIE.keys():
        return ordered(values)
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:  # an int too large for a float
        return ordered(values)
    if np.any(np.isnan(array)) or np.any(np.abs(array) >= 2.0**53):
        return ordered(values)
    tie = np.fromiter(map(_TIE.__getitem__, map(type, values)), np.int8, len(values))
    return list(map(values.__getitem__, np.lexsort((tie, array)).tolist()))


@dataclass(frozen=True, eq=False)
class _Setting:
    """What the pass reads: the program, its inputs, and what was settled before it."""

    program: Node
    vocab: tuple
    n: int  # max_seq_len
    decide: Decide | None
    previous: ValueSets | None
    origin: Mapping[int, Node]  # new node id -> the node of previous's program it replaces
    exact: Mapping[int, Any]  # s-ops of positions only: their exact values per position
    exact_widths: Mapping[int, np.ndarray]  # their selectors' exact widths
    valid: np.ndarray  # [position, length - 1]: the position exists at that length
    lengths: np.ndarray  # [position, length - 1]: the length


@dataclass
class _Found:
    """What the pass has found so far (it fills these in topological order)."""

    table: ValueTable = field(default_factory=ValueTable)
    sets: dict[int, tuple[VSet, ...]] = field(default_factory=dict)
    widths: dict[int, tuple[frozenset[int], ...]] = field(default_factory=dict)
    bounds: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    bound_keys: dict[int, tuple] = field(default_factory=dict)
    semantics: dict[int, str] = field(default_factory=dict)


def _reuse(found: _Found, program: Node, previous: ValueSets) -> None:
    """Take over what an earlier pass found for nodes this program shares with it.

    Node ids are never reused, so a shared id is the same node over the same inputs:
    its sets, widths and aggregate mode are what this pass would compute again.
    """
    found.table.objects.update(previous.objects)
    # a mean rebuilt downstream of a rewrite combines the same values over the same widths
    # (a copy: another pass from the same sets must not meet this one's values, whose
    # objects its table lacks)
    found.table.per_width = dict(previous.per_width)
    for known in previous.per_width.values():
        for s in (known or {}).values():
            found.table.shared.setdefault(s, s)
    found.table.covers = dict(previous.covers)
    for cover in previous.covers.values():
        for s in {*cover.widths, *(cover.sets or ())}:
            found.table.shared.setdefault(s, s)
    for node in topological_order(program):
        if node.id in previous.sets:
            found.sets[node.id] = previous.sets[node.id]
            if node.id in previous.semantics:
                found.semantics[node.id] = previous.semantics[node.id]
        elif node.id in previous.widths and node.id in previous.bounds:
            found.widths[node.id] = previous.widths[node.id]
            found.bounds[node.id] = previous.bounds[node.id]
            if node.id in previous.bound_keys:
                found.bound_keys[node.id] = previous.bound_keys[node.id]
    for sets in [*found.sets.values(), *found.widths.values()]:
        for s in sets:
            found.table.shared.setdefault(s, s)


def _setting(
    program: Node,
    vocab: tuple,
    n: int,
    decide: Decide | None,
    previous: ValueSets | None,
    origin: Mapping[int, Node] | None,
    known: frozenset[int],
) -> _Setting:
    """The pass's setting; s-ops of positions not ``known`` already are evaluated exactly."""
    exact, exact_widths = exact_positional(program, positional_nodes(program) - known, vocab[0], n)
    lengths = np.arange(1, n + 1)[None, :]
    valid = np.arange(n)[:, None] < lengths
    return _Setting(
        program,
        vocab,
        n,
        decide,
        previous,
        origin or {},
        exact,
        exact_widths,
        valid,
        np.broadcast_to(lengths, (n, n)),
    )


def _as_before(setting: _Setting, found: _Found, node: Map | ZipMap) -> tuple[VSet, ...] | None:
    """The earlier pass's sets of the map this one was rebuilt from, when its inputs
    hold the same sets: the function run on the same sets gives the same sets."""
    old, previous = setting.origin.get(node.id), setting.previous
    if old is None or previous is None or old.id not in previous.sets:
        return None
    if type(old) is not type(node) or old.f is not node.f:
        return None
    if len(old.children) != len(node.children):
        return None
    pairs = zip(node.children, old.children, strict=True)
    if any(found.sets[new.id] != previous.sets.get(was.id) for new, was in pairs):
        return None
    return previous.sets[old.id]


def _width_it_sums(setting: _Setting, found: _Found, node: Map | ZipMap) -> tuple[VSet, ...] | None:
    """The earlier pass's sets of the width that a sum of its disjoint parts' widths stands
    for (:class:`.split_widths.WidthSum`): the same values, and listing the sum's pairs of
    counts position by position would take a million calls at 1,024 positions."""
    old, previous = setting.origin.get(node.id), setting.previous
    if width_sum_limit(node.f) is not None and old is None:
        return _sum_ranges(found, node)
    if width_sum_limit(node.f) is None or previous is None or old is None:
        return None
    if not isinstance(old, SelectorWidth) or old.id not in previous.sets:
        return None
    return previous.sets[old.id]


def _sum_ranges(found: _Found, node: Map | ZipMap) -> tuple[VSet, ...] | None:
    """A partial sum of disjoint widths (three parts are added two at a time): at each
    position every count from the least sum to the greatest, up to the length. A superset
    of what it takes, as every value set is, found without listing pairs."""
    limit = width_sum_limit(node.f)
    sides = [found.sets[x.id] for x in node.children]
    if limit is None or len(sides) != 2 or any(TOO_MANY in side for side in sides):
        return None
    spans: dict[int, tuple[int, int] | None] = {}  # by the id of an interned set
    for side in sides:
        for at in side:
            if id(at) not in spans:
                spans[id(at)] = int_span(at)
    if any(span is None for span in spans.values()):
        return None
    by_span: dict[tuple[int, int], VSet] = {}  # positions mostly share one (sort: all)
    out = []
    for a, b in zip(*sides, strict=True):
        (lo_a, hi_a), (lo_b, hi_b) = spans[id(a)], spans[id(b)]  # type: ignore[misc]
        span = (lo_a + lo_b, min(hi_a + hi_b, limit))
        if span not in by_span:
            by_span[span] = found.table.intern(range(span[0], span[1] + 1))
        out.append(by_span[span])
    return tuple(out)


# ---------------------------------------------------------------- selectors


@dataclass
class _Cover:
    """A selector's width bounds ``[position, length - 1]``, its widths per position, and
    (once a selector width reads them) those widths as value sets."""

    lo: np.ndarray
    hi: np.ndarray
    widths: tuple[frozenset[int], ...]
    sets: tuple[VSet, ...] | None = None


def _selector_widths(
    setting: _Setting, found: _Found, node: Selector
) -> tuple[frozenset[int], ...]:
    key = _bounds_key(setting, found, node)
    cover: _Cover | None = found.table.covers.get(key) if key is not None else None
    if cover is None:
        lo, hi = _bounds(setting, found, node)
        cover = _Cover(lo, hi, _rows(found, width_cover(lo, hi, setting.valid)))
    if key is not None:
        found.table.covers.setdefault(key, cover)
        found.bound_keys[node.id] = key
    found.bounds[node.id] = (cover.lo, cover.hi)
    return cover.widths


def _rows(found: _Found, covered: np.ndarray) -> tuple[frozenset[int], ...]:
    """Each row of ``covered`` (``[position, width]``) as an interned set of widths."""
    out, by_row = [], {}
    for row in covered:
        key = row.tobytes()
        if key not in by_row:
            by_row[key] = found.table.intern_keys(np.flatnonzero(row).tolist())
        out.append(by_row[key])
    return tuple(out)


def _bounds_key(setting: _Setting, found: _Found, node: Selector) -> tuple | None:
    """What decides ``node``'s width bounds (:func:`_bounds`): selectors with the same key
    have the same bounds and widths, in this pass and in later ones over the same length
    (sort's five selects of one column by another; a select rebuilt by a rewrite). None
    where a part's key is not known."""
    if node.id in setting.exact_widths:  # by content: a later pass evaluates it again
        grid = np.ascontiguousarray(setting.exact_widths[node.id])
        return ("exact", grid.shape, grid.dtype.str, hashlib.sha1(grid.data).digest())
    if isinstance(node, Select):
        lo, hi = _select_bounds(node, np.array([[2]]))  # the rule, at one length
        return ("select", int(lo[0, 0]), int(hi[0, 0]))
    if isinstance(node, SelectorNot):
        parts = [node.inner]
    elif isinstance(node, SelectorAnd | SelectorOr):
        parts = [node.fst, node.snd]
    else:
        return None
    keys = [found.bound_keys.get(part.id) for part in parts]
    return None if None in keys else (type(node).__name__, *keys)


def _bounds(setting: _Setting, found: _Found, node: Selector) -> tuple[np.ndarray, np.ndarray]:
    n = setting.lengths
    if node.id in setting.exact_widths:
        grid = setting.exact_widths[node.id]
        return grid, grid
    if isinstance(node, Select):
        return _select_bounds(node, n)
    if isinstance(node, SelectorNot):
        lo, hi = found.bounds[node.inner.id]
        return n - hi, n - lo
    if not isinstance(node, SelectorAnd | SelectorOr):
        raise TypeError(f"unknown selector {node!r}")
    lo1, hi1 = found.bounds[node.fst.id]
    lo2, hi2 = found.bounds[node.snd.id]
    if isinstance(node, SelectorAnd):
        return np.maximum(0, lo1 + lo2 - n), np.minimum(hi1, hi2)
    return np.maximum(lo1, lo2), np.minimum(n, hi1 + hi2)


def _select_bounds(node: Select, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


# ---------------------------------------------------------------- s-ops


def _sop_sets(setting: _Setting, found: _Found, node: SOp) -> tuple[VSet, ...]:
    table, n = found.table, setting.n
    if node.id in setting.exact:
        if isinstance(node, Aggregate):  # exact values, but heads still need the mode
            keys = set().union(*found.sets[node.sop.id])
            pool = ordered_numbers(list(map(table.objects.__getitem__, keys)))
            widths = found.widths[node.selector.id]
            found.semantics[node.id] = _choose(setting, node, pool, widths)
        return table.intern_each(setting.exact[node.id])
    if isinstance(node, Tokens):
        return (table.intern(setting.vocab),) * n
    if isinstance(node, Indices):
        return tuple(table.intern([i]) for i in range(n))
    if isinstance(node, Length):
        return table.intern_each([range(i + 1, n + 1) for i in range(n)])
    if isinstance(node, Constant):
        return (table.intern([node.value]),) * n
    if isinstance(node, Map | ZipMap):
        before = _as_before(setting, found, node) or _width_it_sums(setting, found, node)
        if before is not None:
            return before
        per_input = [found.sets[x.id] for x in node.children]
        quick = bulk_map(table, node.f, per_input)  # the same sets, found faster
        return quick if quick is not None else run_map(table, node.f, per_input)
    if isinstance(node, SelectorWidth):
        return _width_sets(found, node)
    if isinstance(node, Aggregate):
        return _aggregate_sets(setting, found, node)
    raise TypeError(f"unknown s-op {node!r}")


def _width_sets(found: _Found, node: SelectorWidth) -> tuple[VSet, ...]:
    """The selector's widths as value sets, made once per :class:`_Cover`."""
    widths = found.widths[node.selector.id]
    key = found.bound_keys.get(node.selector.id)
    cover: _Cover | None = found.table.covers.get(key) if key is not None else None
    if cover is not None and cover.widths is widths and cover.sets is not None:
        return cover.sets
    sets = found.table.intern_each(widths)
    if cover is not None and cover.widths is widths:
        cover.sets = sets
    return sets


def _aggregate_sets(setting: _Setting, found: _Found, node: Aggregate) -> tuple[VSet, ...]:
    table, sop_sets = found.table, found.sets[node.sop.id]
    if TOO_MANY in sop_sets:
        return (TOO_MANY,) * setting.n
    pool = ordered_numbers(list(map(table.objects.__getitem__, set().union(*sop_sets))))
    widths = found.widths[node.selector.id]
    mode = _choose(setting, node, pool, widths)
    found.semantics[node.id] = mode
    lone = lone_values(sop_sets, table.objects)
    combos = Combiner(pool, mode, node, uniform_selection(node), lone)
    counts = frozenset(set().union(*widths) - {0})
    key = (combos.key(), counts)  # the same combiner over the same widths: the same sets
    if key not in table.per_width:
        table.per_width[key] = _per_width(table, combos, counts)
    known = table.per_width[key]
    if known is None:
        return (TOO_MANY,) * setting.n
    return _unions(table, widths, {0: table.intern([node.default]), **known})


def _per_width(table: ValueTable, combos: Combiner, counts: frozenset) -> dict[int, VSet] | None:
    """Each width's values, interned once; None past the combiner's limits."""
    per_width: dict[int, VSet] = {}
    for w in sorted(counts):
        values = combos.values(frozenset({w}))
        if values is None:
            return None
        per_width[w] = table.intern(values)
    return per_width


def _unions(table: ValueTable, widths, per_width: dict[int, VSet]) -> tuple[VSet, ...]:
    """Per position, the union of its widths' values. Positions with one width set share
    it; where a position's widths hold the previous one's (a prefix select: a position
    sees one key more than the one before), its union starts from that one's: at 1,024
    positions a share of a flag has about n^2 / 3 values at the last ones, and building
    each union afresh from the widths' sets would take minutes."""
    out, done = [], {}
    prev_ws: frozenset = frozenset()
    prev_union: frozenset = frozenset()
    for ws in widths:
        if id(ws) not in done:
            base, add = (prev_union, ws - prev_ws) if prev_ws <= ws else (frozenset(), ws)
            done[id(ws)] = table.intern_keys(base.union(*(per_width[w] for w in add)))
            prev_ws, prev_union = ws, done[id(ws)]
        out.append(done[id(ws)])
    return tuple(out)


def _choose(setting: _Setting, node: Aggregate, pool: list[Any], widths) -> str:
    if node.mode is AggregationMode.SUM and sum_moves_one_value(pool, widths):
        return "select"
    if node.mode is not AggregationMode.MEAN:
        return node.mode.value
    if setting.decide is not None:
        return setting.decide(node, pool, widths)
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
    found = _Found()
    if previous is not None:
        _reuse(found, program, previous)
    known = frozenset(found.sets) | frozenset(found.widths)
    setting = _setting(program, tuple(vocab), max_seq_len, decide, previous, origin, known)
    for node in topological_order(program):
        if node.id in found.sets or node.id in found.widths:
            continue  # taken over from an earlier pass
        checkpoint("the value sets (stage 1)", node)
        if isinstance(node, Selector):
            found.widths[node.id] = _selector_widths(setting, found, node)
        elif isinstance(node, SOp):
            found.sets[node.id] = _sop_sets(setting, found, node)
        else:
            raise TypeError(f"not an s-op or a selector: {node!r}")
    return ValueSets(
        program,
        max_seq_len,
        found.sets,
        found.widths,
        found.table.objects,
        found.semantics,
        found.bounds,
        per_width=found.table.per_width,
        bound_keys=found.bound_keys,
        covers=found.table.covers,
    )
