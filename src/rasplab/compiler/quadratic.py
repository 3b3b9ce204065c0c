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
cost model (:mod:`.cost`) keeps such a select one-hot, or refuses it, and says so.

>>> plan = quadratic_plan(range(0, 1024), range(-1, 1023), 1024)
>>> plan.centre, plan.scale, plan.dtype
(511, 64.0, 'float32')
>>> quadratic_plan(range(0, 8192), range(0, 8192), 8192).dtype
'float64'
>>> quadratic_plan(range(0, 1024), range(0, 1024), 1024, computed=True).scale
512.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..lang.nodes import Aggregate, Comparison, Constant, Select, SOp
from .combine import is_number
from .units import BOS, ONE

__all__ = [
    "QuadraticPlan",
    "quadratic_plan",
    "quadratic_select",
    "quadratic_note",
    "quadratic_blocker",
    "DRIFT",
    "quadratic_weights",
    "LEAK",
]

LEAK = 20.0  # the smallest gap exceeds ln(n + 1) by this: wrong keys weigh < exp(-20) in all
DRIFT = 0.25  # how far from its integer a computed query may be (length's head rounds)
_UNIT = {"float32": 2.0**-24, "float64": 2.0**-53}  # unit roundoff


@dataclass(frozen=True)
class QuadraticPlan:
    centre: int  # m: values are centred on it so that the integers stay small
    scale: float  # C, a power of two
    largest: int  # the largest integer any score or partial sum holds (before C)
    dtype: str  # the narrowest float type in which the smallest gap survives ("none")
    matched: bool = False  # every query always has a key: BOS needs no q*q, it just loses
    computed: bool = False  # the query is computed (not embedded): off its integer a little
    rounding: float = 0.0  # a bound on one score's rounding error in ``dtype``

    @property
    def gap(self) -> float:
        """The smallest score gap between the winner and any loser, before rounding."""
        return _gap_per_scale(self.computed) * self.scale

    def leakage(self, n: int) -> float:
        """A bound on the total weight of wrong keys (and BOS) with ``n`` keys."""
        return n * math.exp(-(self.gap - 2.0 * self.rounding))


def _gap_per_scale(computed: bool) -> float:
    """BOS's C/2 is the smallest gap. A query off its integer by d <= DRIFT moves the
    parabola's peak by d: keys then lose C*(1 - 2d) >= C/2, BOS C*(1/2 - d*d)."""
    return 0.5 - DRIFT * DRIFT if computed else 0.5


def quadratic_plan(
    keys: Iterable[int], queries: Iterable[int], n: int, computed: bool = False
) -> QuadraticPlan:
    """Centre, scale and numerics of the quadratic score over these value sets.

    Embedded sides make every score an exact integer times C while the integers stay
    below ``2**24``. A computed query is not an integer: each score then rounds by at
    most ``4 * u * C * largest``, and C must keep ``gap - 2 * rounding`` above
    ``LEAK + ln(n + 1)``; where no C does, the type is "none".
    """
    ks, qs = [int(k) for k in keys], [int(q) for q in queries]
    lo, hi = min(ks + qs), max(ks + qs)
    m = (lo + hi) // 2
    kmax = max(abs(k - m) for k in ks)
    qmax = max(abs(q - m) for q in qs)
    spread = 2 * kmax * qmax + kmax * kmax  # the score's terms, 2k'q' and k'^2, in all
    # and each side's x^2 - 2mx + m^2, read from x^2, x and one
    largest = max([spread, *((abs(v) + abs(m)) ** 2 + 1 for v in (lo, hi))])
    need = LEAK + math.log(n + 1)
    for dtype, u in _UNIT.items():
        per_scale = _gap_per_scale(computed) - (8.0 * u * spread if computed else 0.0)
        if per_scale > 0 and 2 * largest * u < 1:  # integers below 2**bits: exact
            scale = 2.0 ** math.ceil(math.log2(need / per_scale))
            rounding = 4.0 * u * scale * spread if computed else 0.0
            return QuadraticPlan(m, scale, largest, dtype, computed=computed, rounding=rounding)
    return QuadraticPlan(m, 0.0, largest, "none", computed=computed)


def _integers(values: Iterable) -> list[int] | None:
    out = []
    for v in values:
        if not is_number(v) or not math.isfinite(v) or v != int(v):
            return None
        out.append(int(v))
    return out or None


def quadratic_select(node: SOp, positional: frozenset[int], values, n: int):
    """``(keys, queries, plan)`` where ``node`` may select by the quadratic score, else None.

    Both sides must be integers. A side the position embedding writes gets its
    square from the embedding too; a computed side (a count, ``length - indices -
    1``) gets it from the MLP that computes it, which writes the value and its
    square from the same hidden units. Either way the plan treats the score as
    computed (it rounds) unless both sides are embedded.
    """
    if not isinstance(node, Aggregate):
        return None
    sel = node.selector
    if not isinstance(sel, Select) or sel.predicate is not Comparison.EQ:
        return None
    if isinstance(sel.keys, Constant):
        return None
    matched = all(0 not in w for w in values.widths.get(sel.id, (frozenset({0}),)))
    ks, qs = _integers(values.union(sel.keys)), _integers(values.union(sel.queries))
    if ks is None or qs is None:
        return None
    computed = sel.queries.id not in positional or sel.keys.id not in positional
    plan = replace(quadratic_plan(ks, qs, n, computed), matched=matched)
    return sel.keys, sel.queries, plan


def quadratic_note(name: str, plan: QuadraticPlan, n: int) -> str:
    """The compile report's line: what was chosen, why, and the float type it needs."""
    exact = (
        f"scores round by at most {plan.rounding:.2g} in {plan.dtype} (a computed query)"
        if plan.computed
        else f"scores are exact in {plan.dtype} (integers up to {plan.largest:,})"
    )
    return (
        f"{name}: keys == queries compared as numbers (score C*(2kq - k^2), C = "
        f"{plan.scale:g}, centred on {plan.centre}): at most 4 residual directions instead "
        f"of one per value, so the width does not grow with max_seq_len {n}; the smallest "
        f"score gap is {plan.gap:g} and {exact}, so wrong keys weigh at most "
        f"{plan.leakage(n):.1e}; needs {plan.dtype}"
    )


def quadratic_blocker(name: str, plan: QuadraticPlan, n: int) -> str | None:
    """Why ``name`` cannot select positions as numbers in float32 at this length, if so."""
    if plan.dtype == "float32":
        return None
    return (
        f"{name}: selecting positions as numbers is not exact in float32 at max_seq_len "
        f"{n} (its scores hold integers up to {plan.largest:,}; float32 keeps the gap "
        f"{_gap_per_scale(plan.computed):g}*C only below 2**24 and, for a computed query, "
        "while 8 * 2**-24 * (2|k'q'| + k'^2) stays below it); compile for a smaller "
        "max_seq_len"
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
    if plan.matched:  # dim 0, BOS: -c/2, below every match's c * q'^2
        _add(q, 0, _ONE, -0.5 * c)
    else:  # dim 0, BOS: c * (q'^2 - 1/2)
        _add(q, 0, sides["qq"], c)
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
