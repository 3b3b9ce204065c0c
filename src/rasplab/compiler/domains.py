"""The finite domain an MLP must be exact on, and the fused function it computes.

An MLP writes one s-op from *leaves* already in the residual stream, through
any chain of maps and zipmaps in between (fused: never stored). Its domain
is, position by position, the product of the leaves' value sets there; the
union over positions keeps what positions correlate (``indices`` with a
prefix mean). The fused function is run once per domain point.

>>> from rasplab import tokens
>>> from rasplab.lang.nodes import Map
>>> double = Map(lambda x: x * 2, Map(str.upper, tokens))
>>> fused = Fused(double, [tokens])
>>> fused({tokens.id: "a"})
'AA'
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..lang.graph import value_key
from ..lang.nodes import Constant, Map, Node, SOp, ZipMap
from .arithmetic import arithmetic_op, by_arithmetic, width_sum_limit
from .combine import PLAIN, is_number
from .features import Feature
from .maps_of import map_chain, through
from .units import _first, _ids
from .value_sets import ValueSets

__all__ = ["Fused", "domain", "derived_leaves", "value_indices", "DOMAIN_LIMIT"]

DOMAIN_LIMIT = 2_500_000  # most points an MLP is built and checked on
MASK_LIMIT = 50_000_000  # index spaces small enough to deduplicate with a bitmask
_EXACT_INT = 2**26  # ints this small add and multiply exactly in float64


class _Failed(Exception):
    """The fused function raised: the evaluator rejects such inputs, so the point is dropped."""


class Fused:
    """``output`` as a function of the values of ``leaves`` (maps, zipmaps and constants only)."""

    def __init__(self, output: SOp, leaves: Sequence[SOp]):
        self.output = output
        stop = {leaf.id for leaf in leaves}
        self.order = [n for n in _below(output, stop) if n.id not in stop]
        self.memo: dict[tuple, Any] = {}

    def __call__(self, env: Mapping[int, Any]) -> Any:
        values = dict(env)
        for node in self.order:
            values[node.id] = self._apply(node, values)
        return values[self.output.id]

    def _apply(self, node: Node, values: dict[int, Any]) -> Any:
        if isinstance(node, Constant):
            return node.value
        args = [values[c.id] for c in node.children]
        key = (node.id, *(value_key(a) for a in args))
        if key not in self.memo:
            try:
                self.memo[key] = (True, _call(node, args))
            except Exception:
                self.memo[key] = (False, None)
        ok, value = self.memo[key]
        if not ok:
            raise _Failed
        return value


def _call(node: Node, args: list[Any]) -> Any:
    if isinstance(node, Map | ZipMap):
        return node.f(*args)
    raise TypeError(f"{node.label} ({node.kind}) cannot be fused into an MLP")


def _below(output: Node, stop: set[int]) -> list[Node]:
    """Nodes between ``output`` and the stop set, children first."""
    if output.id in stop:
        return []
    found: list[Node] = []
    seen: set[int] = set()

    def visit(n: Node) -> None:
        if n.id in seen or n.id in stop:
            return
        seen.add(n.id)
        for c in n.children:
            visit(c)
        found.append(n)

    visit(output)
    return found


def _position_codes(feature: Feature, vs: ValueSets) -> list[np.ndarray]:
    """Per position: the sorted value indices the feature's s-op can hold there (looked
    up in C: at long lengths a position holds hundreds of lengths)."""
    index = feature.index
    by_set: dict[int, np.ndarray] = {}
    out = []
    for s in vs.sets[feature.key[0]]:
        if id(s) not in by_set:  # positions share interned sets
            at = np.fromiter(map(index.get, s, itertools.repeat(-1)), np.int64, count=len(s))
            by_set[id(s)] = np.sort(at[at >= 0])
        out.append(by_set[id(s)])
    return out


class _Column:
    """Values of one node at every domain point: codes into a table of distinct values."""

    def __init__(self, codes: np.ndarray, table: list[Any]):
        self.codes, self.table = codes, table


def _intern(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    index: dict[tuple, int] = {}
    table: list[Any] = []
    codes = []
    for v in values:
        t = type(v)  # value_key, inlined
        k = (t, v) if t in PLAIN or (t is float and v == v) else value_key(v)
        if k not in index:
            index[k] = len(table)
            table.append(v)
        codes.append(index[k])
    return np.array(codes, dtype=np.int64), table


def _run_column(node: Node, kids: list[_Column], ok: np.ndarray) -> _Column:
    """Apply ``node`` once per distinct argument tuple; points where it raises drop out."""
    if isinstance(node, Constant):
        return _Column(np.zeros(len(ok), dtype=np.int64), [node.value])
    stacked = np.stack([k.codes for k in kids], axis=1)  # [points, args]
    inverse = _ids(stacked)
    combos = stacked[_first(inverse)]  # one point of each combination
    fast = _arithmetic(node, kids, combos)
    if fast is not None:
        codes, table = fast
        return _Column(codes[inverse], table)
    if isinstance(node, ZipMap) and width_sum_limit(node.f) is not None and len(kids) == 2:
        # two counts added (sort's target_pos): a million pairs at 1,024 positions
        summed = by_arithmetic(node.f, [(combos[:, k], kids[k].table) for k in range(2)])
        if summed is not None:
            codes, table = summed
            ok &= codes[inverse] >= 0  # past the length: no input makes it
            return _Column(np.maximum(codes, 0)[inverse], table or [0])
    f, tables = (lambda *args: _call(node, list(args))), [k.table for k in kids]
    if isinstance(node, Map | ZipMap):
        f = node.f  # what _call would call, without its check per combination
    outputs, failed = [], np.zeros(len(combos), dtype=bool)
    for j, combo in enumerate(combos.tolist()):
        try:
            outputs.append(f(*[t[c] for t, c in zip(tables, combo, strict=True)]))
        except Exception:  # the evaluator rejects such inputs: drop the point
            outputs.append(None)
            failed[j] = True
    ok &= ~failed[inverse]
    codes, table = _intern(outputs)
    return _Column(codes[inverse], table)


def _numbers(table: list[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """A table of ints and floats as float64 values and int flags, if numpy computes with
    them exactly as Python does (finite floats; ints small enough that + - * stay exact)."""
    types = list(map(type, table))  # in C: a prefix count's table holds 300,000 values
    if not set(types) <= {int, float}:
        return None  # bools, strings, ...: Python semantics differ
    values = np.array(table, dtype=np.float64)
    is_int = np.fromiter(map(operator.is_, types, itertools.repeat(int)), bool, len(types))
    if not np.all(np.isfinite(values)) or np.any(np.abs(values[is_int]) > _EXACT_INT):
        return None
    return values, is_int


def _arithmetic(node: Node, kids: list[_Column], combos: np.ndarray):
    """``a + b``, ``a - b``, ``a * b`` on every combination at once: codes and a table.

    float64 arithmetic is Python's float arithmetic; an int result is exact (operands are
    below 2**26), and it is an int exactly where both operands are ints, as in Python.
    """
    if not isinstance(node, ZipMap) or arithmetic_op(node.f) is None or len(kids) != 2:
        return None
    left, right = _numbers(kids[0].table), _numbers(kids[1].table)
    if left is None or right is None:
        return None
    (x, xi), (y, yi) = left, right
    result = node.f(x[combos[:, 0]], y[combos[:, 1]])
    is_int = xi[combos[:, 0]] & yi[combos[:, 1]]
    if not np.all(np.isfinite(result)):
        return None
    codes = _ids(np.stack([_ids(result), is_int], axis=1))  # value_key: 1 and 1.0 differ
    table = [
        int(v) if i else float(v)
        for v, i in zip(result[_first(codes)].tolist(), is_int[_first(codes)].tolist(), strict=True)
    ]
    return codes, table


def evaluate_fused(
    output: SOp, leaves: Sequence[SOp], tables: Sequence[Sequence[Any]], codes: np.ndarray
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """``output`` at every point (leaf ``k`` holds ``tables[k][codes[:, k]]``), as distinct
    values and an index into them per point; and a keep-mask."""
    columns = {leaf.id: _Column(codes[:, k], list(tables[k])) for k, leaf in enumerate(leaves)}
    ok = np.ones(len(codes), dtype=bool)
    stop = set(columns)
    for node in _below(output, stop):
        columns[node.id] = _run_column(node, [columns[c.id] for c in node.children], ok)
    col = columns[output.id]
    return col.table, col.codes, ok


def domain(
    output: SOp, leaves: Sequence[Feature], nodes: Sequence[SOp], vs: ValueSets
) -> tuple[np.ndarray, list[Any], np.ndarray] | None:
    """Domain points ``[points, leaves]`` (value indices), the distinct outputs, and which of
    them each point has.

    None if the domain has more than ``DOMAIN_LIMIT`` points. Kept in ``vs.memo``: a
    rebuild plans the same MLPs from the same value sets (a million points at 1,024
    positions), and callers get copies.
    """
    # the same nodes over leaves holding the same value objects at the same indices
    key = (
        "domain",
        output.id,
        tuple(n.id for n in nodes),
        tuple((f.key[0], tuple(map(id, f.values)), tuple(f.index.items())) for f in leaves),
    )
    if key not in vs.memo:  # the leaves' values are kept with it: their ids stay theirs
        vs.memo[key] = ([f.values for f in leaves], _domain(output, leaves, nodes, vs))
    found = vs.memo[key][1]
    if found is None:
        return None
    codes, table, which = found
    return codes.copy(), list(table), which.copy()


def _domain(
    output: SOp, leaves: Sequence[Feature], nodes: Sequence[SOp], vs: ValueSets
) -> tuple[np.ndarray, list[Any], np.ndarray] | None:
    derived = derived_leaves(leaves, nodes)
    free = [k for k in range(len(leaves)) if k not in derived]
    per_leaf = [_position_codes(leaves[k], vs) for k in free]
    groups: dict[tuple, tuple] = {}
    for pos in range(vs.max_seq_len):
        sets = tuple(codes[pos] for codes in per_leaf)
        groups.setdefault(tuple(id(s) for s in sets), sets)
    found = _union_of_products(list(groups.values()), [len(leaves[k].values) for k in free])
    if found is None:
        return None
    codes = np.zeros((len(found), len(leaves)), dtype=np.int64)  # [points, leaves]
    codes[:, free] = found
    for j, (i, lookup) in derived.items():  # a map of another leaf: its value there
        codes[:, j] = lookup[codes[:, i]]
    table, which, ok = evaluate_fused(output, nodes, [f.values for f in leaves], codes)
    return codes[ok], table, which[ok]


def derived_leaves(
    leaves: Sequence[Feature], nodes: Sequence[SOp]
) -> dict[int, tuple[int, np.ndarray]]:
    """Leaves that are maps (through maps no leaf holds) of another leaf that is no such
    map: leaf -> (that leaf, its value index per that leaf's value index). Both hold
    what one value at a position makes, so only the pairs the map makes occur (a digit
    and the number it is a digit of). A map whose value falls outside its leaf's
    values, or raises, leaves its leaf free: the product covers it anyway.

    >>> from rasplab import tokens
    >>> low = tokens.map(lambda x: x % 3)
    >>> xs = Feature.numerical((tokens.id, "s"), "x", [0, 4, 5], "embed")
    >>> ds = Feature.numerical((low.id, "s"), "d", [0, 1, 2], "mlp")
    >>> found = derived_leaves([xs, ds], [tokens, low])
    >>> found[1][0], found[1][1].tolist()
    (0, [0, 1, 2])
    """
    ids = [n.id for n in nodes]
    found = {}
    for j, node in enumerate(nodes):
        chain = map_chain(node, ids)
        if chain is None:
            continue
        inner, steps = chain
        i = ids.index(inner)
        try:
            mapped = [through(steps, v) for v in leaves[i].values]
        except Exception:  # a value the map rejects: the evaluator rejects such inputs
            continue
        table = value_indices(leaves[j], mapped)
        if min(table.tolist(), default=0) >= 0:
            found[j] = (i, table)
    return found


def _union_of_products(groups: list[tuple], sizes: list[int]) -> np.ndarray | None:
    """Distinct rows of the union of per-position products (None above DOMAIN_LIMIT), in
    order. Each set holds distinct codes, sorted."""
    kept = _undominated(groups, sizes)
    products = [math.prod(len(s) for s in sets) for sets in kept]
    if max(products, default=0) > DOMAIN_LIMIT:  # the union holds the largest product
        return None  # (sort's three-leaf MLP at 1,024: 33 million cells, not marked)
    if len(kept) == 1 and sizes:  # the union is that product, rows in order
        return _product(kept[0]).reshape(-1, len(sizes))
    space = int(np.prod(sizes)) if sizes else 1
    if space <= MASK_LIMIT:
        mask = np.zeros(sizes, dtype=bool)
        for sets in kept:
            mask[np.ix_(*[np.asarray(s, dtype=np.int64) for s in sets])] = True
        if int(mask.sum()) > DOMAIN_LIMIT:
            return None
        return np.stack(np.nonzero(mask), axis=1).astype(np.int64).reshape(-1, len(sizes))
    if sum(int(np.prod([len(s) for s in sets])) for sets in groups) > DOMAIN_LIMIT:
        return None
    parts = [_product(sets) for sets in kept]
    return np.unique(np.concatenate(parts), axis=0).astype(np.int64).reshape(-1, len(sizes))


DOMINATORS = 4  # the biggest products each group is checked against


def _undominated(groups: list[tuple], sizes: list[int]) -> list[tuple]:
    """The groups, less some whose product lies inside another's (each of its sets inside
    that group's set for the same leaf): the union stays the same. Positions' sets often
    grow with the position (counts of a prefix: ``0..i``), and then the last position's
    product holds every other; at 1,024 positions marking each would cost seconds."""
    order = sorted(groups, key=lambda sets: -math.prod(len(s) for s in sets))
    kept: list[tuple] = []
    members: list[list[np.ndarray]] = []  # per biggest kept group, per leaf: its set as a mask
    for sets in order:
        if any(all(m[s].all() for m, s in zip(ms, sets, strict=True)) for ms in members):
            continue
        kept.append(sets)
        if len(members) < DOMINATORS:
            members.append([_member(s, size) for s, size in zip(sets, sizes, strict=True)])
    return kept


def _member(codes: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[np.asarray(codes, dtype=np.int64)] = True
    return out


def _product(sets: tuple[np.ndarray, ...]) -> np.ndarray:
    """Every combination of one code per leaf: [combinations, leaves]."""
    grids = np.meshgrid(*[np.asarray(s, dtype=np.int64) for s in sets], indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], axis=1)


def value_indices(feature: Feature, values: list[Any]) -> np.ndarray:
    """The index of each value among the feature's values, or -1.

    A leaf stored with 1 and 1.0 merged computes with one of them, so a value
    missing from the values matches the one value equal to it as numbers
    (``(2, 0)`` matches ``(2, 0.0)``).
    """
    out = np.empty(len(values), dtype=np.int64)
    by_number: dict[Any, list[int]] | None = None  # built on the first miss
    for j, value in enumerate(values):
        found = feature.index.get(value_key(value))
        if found is None:
            if by_number is None:
                by_number = {}
                for i, v in enumerate(feature.values):
                    by_number.setdefault(_number_key(v), []).append(i)
            same = by_number.get(_number_key(value), [])
            found = same[0] if len(same) == 1 else -1
        out[j] = found
    return out


def _number_key(value: Any) -> Any:
    """``value_key`` with every number (bools too) replaced by its float."""
    if is_number(value, bools=True):
        return ("number", float(value))
    if isinstance(value, tuple):
        return tuple(_number_key(v) for v in value)
    return value_key(value)
