"""Stage 5 (with :mod:`.assemble`): attention heads as named weights.

Every head reserves its first query/key dimension for BOS: each query gives
the BOS key the score ``level`` (read from ``one``), and the BOS query gives
it a huge score (read from ``bos``) so that BOS attends only to itself. The
other dimensions hold the selector's literals: for a literal over query
s-op ``Q`` and key s-op ``K`` the score matrix ``C * [test(k, q)]`` is
factored through the smaller side's value classes.

* select (move one value): selected keys score ``C*top``, others at most
  ``C*(top-1)``, BOS ``C*top - C/2``: BOS wins only when nothing is
  selected, and then contributes the default's one-hot;
* mean: the same levels; the value is one scalar;
* count: BOS scores like a selected key plus ``ln B``, so its weight is
  exactly ``B / (B + width)``; an MLP decodes that;
* max / min: every key also scores ``RANK`` times its value's rank, with
  ``C`` large enough that selection still dominates: the best selected
  value wins (equal values tie and share one one-hot).

Scales ``C`` grow with ``log(max_seq_len)`` so that unselected keys' weight
stays below float32 resolution at every length.

>>> C_select(40) > 40
True
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.nodes import Aggregate
from .combine import is_number
from .domains import value_indices
from .features import Feature
from .plans import HeadPlan
from .quadratic import QuadraticFit, Term, quadratic_weights
from .selectors import Literal, truth_table
from .storage import Storage
from .units import BOS, ONE

__all__ = ["HeadWeights", "build_head", "C_select", "C_count", "C_mean", "RANK"]

RANK = 30.0  # score step between neighbouring values of a max/min aggregate


def C_select(n: int) -> float:
    return 40.0 + 2.0 * math.log(n + 1)


def C_count(n: int) -> float:
    return 14.0 + math.log(4 * n + 4)


def C_mean(n: int, spread: float) -> float:
    return 2.0 * (14.0 + math.log(4.0 * (spread + 1.0) * (n + 1) ** 2))


@dataclass(frozen=True)
class HeadWeights:
    """Sparse named weights: (direction, dim) -> value for Q/K/V, (dim, direction) for O."""

    name: str
    q: Mapping[tuple[str, int], float]
    k: Mapping[tuple[str, int], float]
    v: Mapping[tuple[str, int], float]
    o: Mapping[tuple[int, str], float]
    d_qk: int
    d_v: int


class _Builder:
    def __init__(self) -> None:
        self.q: dict = defaultdict(float)
        self.k: dict = defaultdict(float)
        self.v: dict = defaultdict(float)
        self.o: dict = defaultdict(float)
        self.d_qk = 1  # dim 0: BOS
        self.d_v = 0

    @staticmethod
    def add(table: dict, readout: Mapping[str, float], dim: int, scale: float) -> None:
        for d, w in readout.items():
            table[(d, dim)] += scale * w


def _side(feature: Feature | None, key_side: bool) -> tuple[list[Any], list[Mapping]]:
    """Values and readouts of one side of a literal (a missing side reads ``one``)."""
    if feature is None:
        return [None], [{ONE: 1.0, BOS: -1.0} if key_side else {ONE: 1.0}]
    return list(feature.values), list(feature.readouts)


def _literal(b: _Builder, lit: Literal, weight: float, inputs: dict, c: float) -> None:
    qf = inputs.get(("q", lit.query.id)) if lit.query is not None else None
    kf = inputs.get(("k", lit.key.id)) if lit.key is not None else None
    qv, qr = _side(qf, key_side=False)
    kv, kr = _side(kf, key_side=True)
    m = truth_table(lit, kv, qv).astype(np.float64) * (c * weight)
    rows, row_of = np.unique(m, axis=0, return_inverse=True)
    cols, col_of = np.unique(m, axis=1, return_inverse=True)
    if len(rows) <= len(cols.T):  # basis: distinct query rows
        picked = m.any(axis=1)
        _factor(b.q, b.k, qr, kr, picked, row_of.reshape(-1), rows.T, b.d_qk)
        b.d_qk += len(rows)
    else:  # basis: distinct key columns
        picked = m.any(axis=0)
        _factor(b.k, b.q, kr, qr, picked, col_of.reshape(-1), cols, b.d_qk)
        b.d_qk += cols.shape[1]


def _factor(one, other, one_reads, other_reads, picked, basis_of, table, base: int) -> None:
    """Score ``[one_value, other_value]`` through a basis of distinct rows: each ``one``
    value reads its basis dimension; each ``other`` value writes its entry in every row.
    (The weights of :meth:`_Builder.add`, added in the same order, with fewer calls.)"""
    for a in np.flatnonzero(picked).tolist():
        dim = base + int(basis_of[a])
        for d, w in one_reads[a].items():
            one[(d, dim)] += 1.0 * w
    j_idx, r_idx = np.nonzero(table)  # other value by other value, as the loops went
    for j, r, v in zip(j_idx.tolist(), r_idx.tolist(), table[j_idx, r_idx].tolist(), strict=True):
        dim = base + r
        for d, w in other_reads[j].items():
            other[(d, dim)] += v * w


def _value(h: HeadPlan) -> Feature:
    """The feature a head moves (every head but a count's has one)."""
    if h.value is None:
        raise TypeError(f"{h.node.label}: a {h.kind} head has no value to move")
    return h.value


def _values(b: _Builder, h: HeadPlan) -> None:
    """Append this head's value dimensions (and their outputs) after the existing ones."""
    out, base = h.output, b.d_v
    if h.kind == "count":
        b.v[(BOS, base)] += 1.0
        b.o[(base, out.directions[0])] += 1.0
        b.d_v += 1
        return
    if h.kind == "mean":
        coords = _value_coords(h)
        b.add(b.v, _value(h).value_readout(coords), base, 1.0)
        b.v[(BOS, base)] += _mean_default(h)
        b.o[(base, out.directions[0])] += 1.0
        b.d_v += 1
        return
    if not isinstance(h.node, Aggregate):
        raise TypeError(f"{h.node.label}: a {h.kind} head moves the values of an aggregate")
    value = _value(h)
    # a moved 2 may be stored as 2.0: the evaluator averages keys that hold equal numbers
    moved = value_indices(out, [*value.values, h.node.default])
    for readout, u in zip(value.readouts, moved[:-1].tolist(), strict=True):
        if u >= 0:
            b.add(b.v, readout, base + u, 1.0)
    if moved[-1] >= 0:
        b.v[(BOS, base + int(moved[-1]))] += 1.0
    for u, direction in enumerate(out.directions):
        b.o[(base + u, direction)] += 1.0
    b.d_v += len(out.directions)


def _mean_default(h: HeadPlan) -> float:
    """The number an averaging head's BOS holds: its default. (The planner refuses a
    default that is not a number where some query selects nothing; where none does, BOS
    never wins and any number will do.)"""
    default = h.node.default if isinstance(h.node, Aggregate) else None
    return float(default) if default is not None and is_number(default, bools=True) else 0.0


def _value_coords(h: HeadPlan) -> list[float]:
    if h.value_coords is not None:
        return list(h.value_coords)
    value = _value(h)
    return list(value.coords) if value.kind is Storage.SCALAR else [float(v) for v in value.values]


def _scale(h: HeadPlan, n: int, count_scale: float) -> tuple[float, float]:
    """(C, BOS level) for this head."""
    top = h.score.top
    if h.kind == "count":
        c = C_count(n)
        return c, c * top + math.log(h.count_scale or count_scale)
    if h.kind == "mean":
        values = [abs(x) for x in _value_coords(h)]
        spread = max(values, default=0.0) + abs(_mean_default(h))
        c = C_mean(n, spread)
        return c, c * top - c / 2
    if h.kind in ("max", "min"):  # ranks 0..R-1 add RANK each; selection must still dominate
        c = RANK * len(_value(h).values) + 60.0
        return c, c * top - 30.0
    c = C_select(n)
    return c, c * top - c / 2


def _ranks(h: HeadPlan) -> list[float]:
    """Each value's rank for a max (largest highest) or min (smallest highest) aggregate."""
    values = list(_value(h).values)
    try:
        order = sorted(range(len(values)), key=lambda i: values[i])
    except TypeError:  # values of mixed types: the evaluator cannot order them either
        order = list(range(len(values)))
    rank = [0.0] * len(values)
    for r, i in enumerate(order):
        rank[i] = float(r if h.kind == "max" else len(values) - 1 - r)
    return rank


def _rank_bonus(b: _Builder, h: HeadPlan) -> None:
    """One more dimension: every key scores RANK times its value's rank."""
    dim = b.d_qk
    b.q[(ONE, dim)] += 1.0
    for rank, readout in zip(_ranks(h), _value(h).readouts, strict=True):
        b.add(b.k, readout, dim, RANK * rank)
    b.d_qk += 1


def build_head(
    group: list[HeadPlan], name: str, max_seq_len: int, count_scale: float
) -> HeadWeights:
    """One head computing every plan in ``group`` (one attention pattern, several values)."""
    if group[0].quadratic is not None:
        return _quadratic_head(group, name, group[0].quadratic, count_scale)
    b = _Builder()
    scales = [_scale(h, max_seq_len, count_scale) for h in group]
    c, level = max(scales)
    first = group[0]
    for lit, weight in first.score.terms:
        _literal(b, lit, weight, first.inputs, c)
    if first.kind in ("max", "min"):
        _rank_bonus(b, first)
    big = 1000.0 + 4.0 * c * (first.score.top + 1.0)
    b.q[(ONE, 0)] += level
    b.q[(BOS, 0)] += big
    b.k[(BOS, 0)] += 1.0
    for h in group:
        _values(b, h)
    return HeadWeights(name, dict(b.q), dict(b.k), dict(b.v), dict(b.o), b.d_qk, b.d_v)


def _quadratic_head(
    group: list[HeadPlan], name: str, fit: QuadraticFit, count_scale: float
) -> HeadWeights:
    """A head comparing equalities of integers as numbers (see :mod:`.quadratic`), its
    other tests one-hot at the same scale."""
    b = _Builder()
    first, c = group[0], fit.plan.scale
    sides = [_term_sides(first, term) for term in fit.terms]
    top = first.score.top  # the one-hot tests' part of a match
    if first.kind == "count":
        level = c * top + math.log(first.count_scale or count_scale)
    else:
        level = c * top - c / 2
    big = 1000.0 + 4.0 * c * (fit.plan.largest + 1.0)
    q, k = quadratic_weights(fit, sides, big, level)
    b.q.update(q)
    b.k.update(k)
    b.d_qk = 1 + 2 * len(fit.terms)
    for lit, weight in first.score.terms:
        _literal(b, lit, weight, first.inputs, c)
    for h in group:
        _values(b, h)
    return HeadWeights(name, dict(b.q), dict(b.k), dict(b.v), dict(b.o), b.d_qk, b.d_v)


def _term_sides(h: HeadPlan, term: Term) -> dict[str, Mapping[str, float]]:
    """The readouts of a term's numbers: ``q``, ``k``, ``kk`` and (where read) ``qq``."""
    wanted = {"q": term.queries, "qq": term.queries, "k": term.keys, "kk": term.keys}
    return {
        side: h.inputs[(side, sop.id)].readouts[0]
        for side, sop in wanted.items()
        if (side, sop.id) in h.inputs
    }
