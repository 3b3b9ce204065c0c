"""The residual stream as the bound propagation of :mod:`.bounds` sees it.

At every position but BOS the residual is the exact encoding of the values
the evaluator computes there (``one``, plus every feature written so far
holding its value's write) plus an error of at most ``delta`` in each
direction. A :class:`Space` lists every combination of the values of a few
s-ops (their value sets' product: a superset of what inputs can reach) with
the exact residual of each; the heads, MLPs and unembedding are evaluated on
those residuals from the model's own weights.

BOS is one residual for every input: ``bos`` holds its centre and
``bos_delta`` its error bound.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from ..lang.graph import value_key
from .features import Feature
from .maps_of import map_chain, through
from .rounding import Rounding, grid
from .units import ONE

__all__ = [
    "Stream",
    "Space",
    "Rounding",
    "grid",
    "Refused",
    "space",
    "read_nodes",
    "node_values",
    "time_budget",
    "in_time",
    "budget_left",
    "pairs_in_budget",
]

WIDTH_LIMIT = 40_000_000  # residual entries one list of combinations may hold (320 MB)


class Refused(Exception):
    """A combination space too large to list: the bound stays open (the message says why)."""


# When the bound argument must stop: (deadline on perf_counter, the budget in seconds)
_DEADLINE: ContextVar[tuple[float, float]] = ContextVar("bounds_deadline", default=(math.inf, 0))


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Within this block, :func:`in_time` refuses once ``seconds`` have passed."""
    token = _DEADLINE.set((time.perf_counter() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def budget_left() -> tuple[float, float]:
    """Seconds left of the bound argument's time budget, and the whole budget (``inf``
    outside :func:`time_budget`)."""
    deadline, seconds = _DEADLINE.get()
    return deadline - time.perf_counter(), seconds


PAIRS_PER_SECOND = 20_000_000  # about what a pass scores (causal dyck2 at 64: 21 M a second)


def pairs_in_budget(what: str, n: int, pairs: int) -> None:
    """Refused where ``n`` (query, key) pairs are more than ``pairs`` and would take longer
    than the bounds' time left: a larger budget scores more (a block at a time, within
    it), a small one says at once how long it would need (``what``: whose pairs)."""
    if n <= pairs:
        return
    left, budget = budget_left()
    need = n / PAIRS_PER_SECOND
    if need > left:
        raise Refused(
            f"{what}, more than {pairs:,} pairs, would take about {need:,.0f} s of bounds, "
            f"more than the {max(left, 0.0):,.0f} s left of {budget:g} s "
            "(--bounds-seconds S allows more)"
        )


def in_time(what: str) -> None:
    """Refused once the time budget of the bound argument is spent: a bound that takes
    longer stays open rather than holding up the compile."""
    deadline, seconds = _DEADLINE.get()
    if time.perf_counter() > deadline:
        raise Refused(
            f"{what}: not bounded within the bounds' time budget of {seconds:g} s "
            "(--bounds-seconds S, or bounds_seconds=S in compile_program or certify, "
            "allows more, within the compile's --time-limit)"
        )


@dataclass(frozen=True)
class Stream:
    """What is known of the residual before one sublayer."""

    index: dict[str, int]  # direction -> column
    available: tuple[Feature, ...]  # features written so far (embedding first)
    values: dict[int, tuple]  # node id -> every value it can hold (all features of the node)
    delta: np.ndarray  # [d_model]: error bound at every position but BOS
    bos: np.ndarray  # [d_model]: the BOS residual's centre
    bos_delta: np.ndarray  # [d_model]: its error bound
    rounding: Rounding = field(default_factory=Rounding)
    positions: int | None = None  # the id of ``indices``, whose value is the position
    at: Mapping[int, tuple] = field(default_factory=dict)  # node id -> value keys per position
    relative: np.ndarray | None = None  # [d_model]: more error, in proportion to |x| there
    distinct: frozenset[int] = frozenset()  # nodes no two positions share (ranks.py)
    within: Mapping[int, tuple[tuple[tuple[int, ...], ...], Any]] = field(default_factory=dict)
    # count -> (ways to read its class: node ids, ranks.Class): no two positions of one
    # class share the count
    maps: Mapping[int, Any] = field(default_factory=dict)  # id -> map node: beside what it
    # is a map of (through other maps), a combination takes the map's value
    tellers: Mapping[int, tuple[tuple[int, ...], ...]] = field(default_factory=dict)  # a
    # node no two positions (of a class, for a count of ``within``) share -> the sets of
    # maps of it that together tell its values apart (its digits)
    filled: np.ndarray | None = None  # [d_model]: directions some earlier sublayer or the
    # embedding may have written (None: any); adding to one nobody wrote adds to an exact 0
    # [d_model]: the largest |value| an available feature writes to each direction (1 in
    # ONE), kept as features are added (None: found from them when first asked)
    written: np.ndarray | None = field(default=None, repr=False)

    def error(self, x: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """Each row's error bound per direction, at exact residuals ``x`` (rows); with
        ``cols``, ``x`` holds those directions alone."""
        delta = self.delta if cols is None else self.delta[cols]
        if self.relative is None:
            return np.broadcast_to(delta, x.shape)
        return delta + (self.relative if cols is None else self.relative[cols]) * np.abs(x)

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each direction's error bound, as (``delta``, ``relative``): off by at most
        ``delta + relative * |x|`` (directions with neither left out)."""
        relative = self.relative if self.relative is not None else 0 * self.delta
        return {
            d: (float(self.delta[i]), float(relative[i]))
            for d, i in self.index.items()
            if self.delta[i] or relative[i]
        }

    def with_features(self, new: Iterable[Feature]) -> Stream:
        new = tuple(new)
        written = _largest_writes(self.index, new, self._written().copy())
        return replace(self, available=(*self.available, *new), written=written)

    def magnitude(self) -> np.ndarray:
        """A bound on ``|x|`` per direction at every position but BOS (for rounding)."""
        mag = self._written()
        return mag + self.error(mag[None])[0]

    def _written(self) -> np.ndarray:
        if self.written is not None:
            return self.written
        mag = np.zeros(len(self.index))
        mag[self.index[ONE]] = 1.0
        return _largest_writes(self.index, self.available, mag)


def _largest_writes(
    index: Mapping[str, int], features: Iterable[Feature], mag: np.ndarray
) -> np.ndarray:
    """``mag`` raised to the largest ``|value|`` each of ``features`` writes, per direction:
    kept with the stream, as every sublayer's rounding asks (a one-hot of positions writes
    1,025 values, and a pass over 30 sublayers went through them all each time)."""
    for f in features:
        for write in f.writes:
            for d, w in write.items():
                mag[index[d]] = max(mag[index[d]], abs(w))
    return mag


@dataclass(frozen=True)
class Space:
    """Every combination of the values of ``nodes``, with each one's exact residual, kept
    in the few directions the nodes fill: an MLP reading two counts at 1,024 positions
    has a million combinations, whose whole residuals would take gigabytes."""

    nodes: tuple[int, ...]
    values: tuple[tuple, ...]  # per node: its values
    combos: np.ndarray  # [n, len(nodes)]: value index per node
    held: np.ndarray  # [k]: the directions any combination's residual fills
    filled: np.ndarray  # [n, k]: the residuals in those directions
    width: int  # d_model
    what: str = "the bounds"  # what the space is for (in a refusal)

    @cached_property
    def x(self) -> np.ndarray:
        """[n, d_model]: the whole residuals (Refused where they would be too large)."""
        if len(self) * self.width > WIDTH_LIMIT:
            raise Refused(
                f"{self.what}: {len(self):,} combinations of values with residuals of "
                f"{self.width:,} directions, over the limit {WIDTH_LIMIT // self.width:,}"
            )
        x = np.zeros((len(self), self.width))
        x[:, self.held] = self.filled
        return x

    def columns(self, cols: np.ndarray) -> np.ndarray:
        """[n, len(cols)]: the residuals in directions ``cols`` alone."""
        out = np.zeros((len(self), len(cols)))
        at = {int(c): j for j, c in enumerate(self.held)}
        for i, c in enumerate(cols.tolist()):
            if c in at:
                out[:, i] = self.filled[:, at[c]]
        return out

    def column(self, node_id: int) -> np.ndarray:
        """The value index of ``node_id`` in every combination."""
        return self.combos[:, self.nodes.index(node_id)]

    def node_values(self, node_id: int) -> list[Any]:
        """The value of ``node_id`` in every combination."""
        vals = self.values[self.nodes.index(node_id)]
        return [vals[i] for i in self.column(node_id).tolist()]

    def rows(self, part: slice) -> Space:
        """The combinations in ``part`` alone."""
        filled = self.filled[part]
        return Space(
            self.nodes, self.values, self.combos[part], self.held, filled, self.width, self.what
        )

    def __len__(self) -> int:
        return len(self.combos)


def read_nodes(stream: Stream, weights: np.ndarray) -> set[int]:
    """Nodes of available features whose directions ``weights`` (rows: directions) read."""
    rows = np.abs(weights.reshape(weights.shape[0], -1)).sum(axis=1) > 0
    return {f.key[0] for f in stream.available if any(rows[stream.index[d]] for d in f.directions)}


def space(stream: Stream, nodes: Sequence[int], limit: int, what: str) -> Space:
    """The combinations of ``nodes``' values; Refused when they number over ``limit``."""
    nodes = tuple(dict.fromkeys(nodes))
    missing = [n for n in nodes if n not in stream.values]
    if missing:
        raise Refused(f"{what}: no value set known for s-op #{missing[0]}")
    values = tuple(stream.values[n] for n in nodes)
    tables = [
        (j, _write_table(f, values[j], stream.index))  # [values, d_model]
        for j, node in enumerate(nodes)
        for f in stream.available
        if f.key[0] == node and f.directions
    ]
    held = {stream.index[ONE]}
    for _, table in tables:
        held.update(np.flatnonzero(np.abs(table).sum(axis=0)).tolist())  # the few it writes
    cols = np.array(sorted(held), dtype=np.int64)
    combos = _combinations(stream, nodes, values, limit, (what, len(cols)))
    filled = np.zeros((len(combos), len(cols)))  # [combos, held]
    filled[:, np.searchsorted(cols, stream.index[ONE])] = 1.0
    for j, table in tables:
        filled += table[:, cols][combos[:, j]]
    return Space(nodes, values, combos, cols, filled, len(stream.index), what)


def shared_space(
    memo: dict | None, stream: Stream, nodes: Sequence[int], limit: int, what: str
) -> Space:
    """:func:`space`, kept in ``memo`` (the blueprint's): the float32 pass, and a model
    with edited weights, enumerate the same combinations. A space depends on the nodes,
    the residual's directions and the features written so far, never on weights."""
    if memo is None:
        return space(stream, nodes, limit, what)
    nodes = tuple(dict.fromkeys(nodes))
    written = tuple(f.name for f in stream.available)
    key = ("space", nodes, tuple(stream.index), written, limit)
    if key not in memo:
        memo[key] = space(stream, nodes, limit, what)
    return memo[key]


def _combinations(
    stream: Stream,
    nodes: tuple[int, ...],
    values: tuple[tuple, ...],
    limit: int,
    held: tuple[str, int],
) -> np.ndarray:
    """``[n, len(nodes)]`` value indices: the product of the value sets or, where the
    position is among the nodes, position by position the product of what each node can
    hold there (the value sets per position: fewer combinations, all of them reachable
    by the same argument). ``held``: what the space is for, and the directions its
    residuals fill."""
    what, width = held
    if not nodes:  # nothing read: one combination, the residual of ``one`` alone
        return np.zeros((1, 0), dtype=np.int64)
    per = _per_position(stream, nodes, values)
    derived = _derived(stream, nodes, values) if per is None else {}
    sizes = [len(v) for v in values]
    free = [j for j in range(len(nodes)) if j not in derived]
    total = (
        math.prod(sizes[j] for j in free)
        if per is None
        else sum(math.prod(len(c) for c in p) for p in per)
    )
    width = max(width, 1)
    if total > limit or total * width > WIDTH_LIMIT:
        raise Refused(
            f"{what}: {total:,} combinations of values (sizes {sizes}, residuals filling "
            f"{width:,} directions) over the limit {min(limit, WIDTH_LIMIT // width):,}"
        )
    if per is not None:
        return _products_by_position(per, len(nodes))
    combos = np.empty((total, len(nodes)), dtype=np.int64)
    grid = np.unravel_index(np.arange(total), [sizes[j] for j in free])
    for j, column in zip(free, grid, strict=True):
        combos[:, j] = column
    for j, (i, table) in derived.items():
        combos[:, j] = table[combos[:, i]]
    return combos


def _derived(
    stream: Stream, nodes: tuple[int, ...], values: tuple[tuple, ...]
) -> dict[int, tuple[int, np.ndarray]]:
    """Columns that are maps (through other maps) of a column that is not: column ->
    (that column, the map's value index per its value index). A map whose value falls
    outside its value set, or raises, is left free: the product covers it anyway."""
    found = {}
    for j, node in enumerate(nodes):
        chain = map_chain(stream.maps.get(node), nodes)
        if chain is None:
            continue
        inner, steps = chain
        i = nodes.index(inner)
        lookup = {value_key(v): k for k, v in enumerate(values[j])}
        try:
            table = [lookup.get(value_key(through(steps, v)), -1) for v in values[i]]
        except Exception:  # a value the map rejects: the evaluator rejects such inputs
            continue
        if min(table, default=0) >= 0:
            found[j] = (i, np.array(table, dtype=np.int64))
    return found


def _products_by_position(per: list[list[np.ndarray]], k: int) -> np.ndarray:
    """``[n, k]``: position by position, the product of its ``k`` index arrays (the last
    varies fastest), all positions at once (a product each is slow at 1,024 positions)."""
    sizes = np.array([[len(a) for a in p] for p in per], dtype=np.int64).reshape(-1, k)
    totals = sizes.prod(axis=1)  # [positions]
    row_at = np.repeat(np.arange(len(per)), totals)  # [n]: each row's position
    within = np.arange(int(totals.sum())) - (np.cumsum(totals) - totals)[row_at]
    out = np.empty((len(row_at), k), dtype=np.int64)
    stride = np.ones(len(per), dtype=np.int64)
    for j in reversed(range(k)):
        flat = np.concatenate([p[j] for p in per]).astype(np.int64)
        starts = np.cumsum(sizes[:, j]) - sizes[:, j]
        picked = (within // stride[row_at]) % np.maximum(sizes[row_at, j], 1)
        out[:, j] = flat[starts[row_at] + picked]
        stride = stride * sizes[:, j]
    return out


def _per_position(
    stream: Stream, nodes: tuple[int, ...], values: tuple[tuple, ...]
) -> list[list[np.ndarray]] | None:
    """Per position, each node's allowed value indices (None: the position is not read)."""
    if stream.positions not in nodes:
        return None
    j = nodes.index(stream.positions)
    index = [{value_key(v): i for i, v in enumerate(vs)} for vs in values]
    every = [np.arange(len(vs), dtype=np.int64) for vs in values]
    found: dict[tuple[int, int], np.ndarray] = {}  # (node, id of its set) -> value indices
    out = []
    for p in range(len(values[j])):
        if value_key(p) not in index[j]:
            continue
        allowed = []
        for k, (node, lookup) in enumerate(zip(nodes, index, strict=True)):
            if node == stream.positions:
                allowed.append(np.array([lookup[value_key(p)]], dtype=np.int64))
                continue
            keys = _keys(stream.at.get(node), p)
            if keys is None:
                allowed.append(every[k])
                continue
            # positions often share one interned set (kept alive by the stream: ids hold)
            if (node, id(keys)) not in found:
                found[node, id(keys)] = _indices(lookup, keys)
            allowed.append(found[node, id(keys)])
        out.append(allowed)
    return out


def _indices(lookup: dict, keys: Any) -> np.ndarray:
    """The sorted indices of those ``keys`` that ``lookup`` holds (looked up in C: a
    length's sets at position ``p`` hold ``n - p`` values)."""
    at = np.fromiter(map(lookup.get, keys, itertools.repeat(-1)), dtype=np.int64, count=len(keys))
    return np.sort(at[at >= 0])


def _keys(sets: tuple | None, p: int) -> Any:
    """The value keys a node can hold at position ``p`` (None: not known, any)."""
    if sets is None or p >= len(sets) or not isinstance(sets[p], frozenset):
        return None
    return sets[p]


def _write_table(f: Feature, values: tuple, index: dict[str, int]) -> np.ndarray:
    """[value, d_model]: what ``f`` writes for each value (nothing for a value it lacks)."""
    table = np.zeros((len(values), len(index)))
    for i, v in enumerate(values):
        at = f.index.get(value_key(v))
        if at is not None:
            for d, w in f.writes[at].items():
                table[i, index[d]] += w
    return table


def node_values(features: Sequence[Feature]) -> dict[int, tuple]:
    """Node id -> the union of the values of its features, in order of first appearance."""
    found: dict[int, dict[tuple, Any]] = {}
    for f in features:
        per = found.setdefault(f.key[0], {})
        for v in f.values:
            per.setdefault(value_key(v), v)
    return {n: tuple(vs.values()) for n, vs in found.items()}
