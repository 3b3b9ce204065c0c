"""Equality of two scalar-stored integers in one head: a score quadratic in query and key.

``select(K, Q, "==")`` over one-hot ``K`` and ``Q`` costs a residual direction
per value, so a model selecting positions grows with ``max_seq_len``. Stored as
numbers (``k`` and ``k*k`` on the key side, ``q`` and ``q*q`` on the query side),
the score

    ``C * (2*k'*q' - k'*k')  =  C * (q'*q' - (k' - q')**2)``   (``x' = x - m``)

is largest exactly at ``k == q`` and every other integer key scores at least
``C`` less. BOS scores ``C * (q'*q' - 1/2)``: it loses by ``C/2`` to a matching
key and beats every other key by ``C/2``, so it wins exactly where nothing
matches. With at most ``n`` keys, the weight on wrong keys is at most
``n * exp(-C/2)``.

Numerics: ``m`` centres the values and ``C`` is a power of two, so every
query and key entry (``C*q'``, ``2*k'``, ``-k'*k'``, ``C*(q'*q' - 1/2)``) and
every partial sum of a score is an integer times a power of two; while those
integers stay below ``2**24`` (float32's 24-bit significand) every score is
computed exactly, in any summation order. Past that no scale helps: the
planner keeps such a select one-hot, and says so.

>>> plan = quadratic_plan(range(0, 1024), range(-1, 1023), 1024)
>>> plan.centre, plan.scale, plan.dtype
(511, 64.0, 'float32')
>>> quadratic_plan(range(0, 8192), range(0, 8192), 8192).dtype
'float64'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..lang.nodes import Aggregate, Comparison, Constant, Select, SOp
from .combine import is_number
from .units import BOS, ONE

__all__ = [
    "QuadraticPlan",
    "quadratic_plan",
    "quadratic_select",
    "quadratic_note",
    "quadratic_weights",
    "QUADRATIC_FROM",
    "LEAK",
]

QUADRATIC_FROM = 48  # from this max_seq_len on, positions selected by value are numbers
LEAK = 20.0  # the BOS gap C/2 exceeds ln(n) by this: wrong keys weigh < exp(-20) in all
_EXACT_BITS = {"float32": 24, "float64": 53}


@dataclass(frozen=True)
class QuadraticPlan:
    centre: int  # m: values are centred on it so that the integers stay small
    scale: float  # C, a power of two
    largest: int  # the largest integer any score or partial sum holds (before C)
    dtype: str  # the narrowest float type that computes every score exactly

    @property
    def gap(self) -> float:
        """The smallest score gap between the winner and any loser (BOS's: C/2)."""
        return self.scale / 2

    def leakage(self, n: int) -> float:
        """A bound on the total weight of wrong keys (and BOS) with ``n`` keys."""
        return n * math.exp(-self.gap)


def quadratic_plan(keys: Iterable[int], queries: Iterable[int], n: int) -> QuadraticPlan:
    """Centre, scale and exactness of the quadratic score over these value sets."""
    ks, qs = [int(k) for k in keys], [int(q) for q in queries]
    lo, hi = min(ks + qs), max(ks + qs)
    m = (lo + hi) // 2
    kmax = max(abs(k - m) for k in ks)
    qmax = max(abs(q - m) for q in qs)
    # 2k'q' - k'^2 and its two terms; q'^2 (BOS); the raw k^2 the key side reads
    # the score 2k'q' - k'^2 and its terms; each side's x^2 - 2mx + m^2 and its terms
    largest = 2 * kmax * qmax + kmax * kmax
    largest = max([largest, *((abs(v) + abs(m)) ** 2 + 1 for v in (lo, hi))])
    scale = 2.0 ** math.ceil(math.log2(2 * (LEAK + math.log(n + 1))))
    dtype = next((t for t, bits in _EXACT_BITS.items() if 2 * largest < 2**bits), "none")
    return QuadraticPlan(m, scale, largest, dtype)


def _integers(values: Iterable) -> list[int] | None:
    out = []
    for v in values:
        if not is_number(v) or not math.isfinite(v) or v != int(v):
            return None
        out.append(int(v))
    return out or None


def quadratic_select(node: SOp, positional: frozenset[int], values, n: int):
    """``(keys, queries, plan)`` where ``node`` may select by the quadratic score, else None.

    Both sides must be integers the position embedding writes (the squares come
    from it too) or constants.
    """
    if not isinstance(node, Aggregate) or n < QUADRATIC_FROM:
        return None
    sel = node.selector
    if not isinstance(sel, Select) or sel.predicate is not Comparison.EQ:
        return None
    sides = (sel.keys, sel.queries)
    if isinstance(sel.keys, Constant) or not all(s.id in positional for s in sides):
        return None
    ks, qs = _integers(values.union(sel.keys)), _integers(values.union(sel.queries))
    if ks is None or qs is None:
        return None
    plan = quadratic_plan(ks, qs, n)
    if plan.dtype != "float32":  # past float32's exact integers: one-hot stays exact
        return None
    return sel.keys, sel.queries, plan


def quadratic_note(name: str, plan: QuadraticPlan, n: int) -> str:
    """The compile report's line: what was chosen, why, and the float type it needs."""
    return (
        f"{name}: keys == queries compared as numbers (score C*(2kq - k^2), C = "
        f"{plan.scale:g}, centred on {plan.centre}): 4 residual directions instead of "
        f"one per value, so the width does not grow with max_seq_len {n}; the smallest "
        f"score gap is {plan.gap:g} (wrong keys weigh at most {plan.leakage(n):.1e}); "
        f"scores are exact in {plan.dtype} (largest integer {plan.largest:,})"
    )


def quadratic_weights(plan: QuadraticPlan, sides: dict, big: float) -> tuple[dict, dict]:
    """Query and key weights ``(direction, dim) -> value`` of the score, dims 0 (BOS) to 2.

    ``sides`` holds the readouts of ``q``, ``qq`` (q squared), ``k`` and ``kk``. Every
    constant is read from ``one - bos``, so that it vanishes at BOS: the BOS query
    scores only the BOS key (``big``), and the BOS key scores only through dim 0.
    """
    c, m = plan.scale, float(plan.centre)
    q: dict = {(BOS, 0): big}
    k: dict = {(BOS, 0): 1.0}
    _add(q, 0, sides["qq"], c)  # dim 0, BOS: c * (q'^2 - 1/2)
    _add(q, 0, sides["q"], -2.0 * m * c)
    _add(q, 0, _ONE, c * (m * m - 0.5))
    _add(q, 1, sides["q"], c)  # dim 1: c*q' times 2*k'
    _add(q, 1, _ONE, -c * m)
    _add(k, 1, sides["k"], 2.0)
    _add(k, 1, _ONE, -2.0 * m)
    _add(q, 2, _ONE, c)  # dim 2: c times -k'^2
    _add(k, 2, sides["kk"], -1.0)
    _add(k, 2, sides["k"], 2.0 * m)
    _add(k, 2, _ONE, -m * m)
    return q, k


_ONE = {ONE: 1.0, BOS: -1.0}


def _add(table: dict, dim: int, readout: Mapping[str, float], scale: float) -> None:
    for d, w in readout.items():
        if w * scale:
            table[(d, dim)] = table.get((d, dim), 0.0) + w * scale
