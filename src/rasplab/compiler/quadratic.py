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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..lang.nodes import Aggregate, Comparison, Constant, Select, SelectorWidth, SOp
from .causal import under_mask
from .combine import is_number
from .selectors import All, Literal, formula, variables
from .units import BOS, ONE

__all__ = [
    "QuadraticPlan",
    "QuadraticFit",
    "Term",
    "quadratic_plan",
    "joint_plan",
    "quadratic_select",
    "quadratic_heads",
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
    return joint_plan([(keys, queries)], n, computed)[1]


def joint_plan(
    sides: Sequence[tuple[Iterable[int], Iterable[int]]],
    n: int,
    computed: bool,
    count: bool = False,
    top: float = 0.0,
) -> tuple[list[int], QuadraticPlan]:
    """The centres of several equalities scored as one sum, and their shared numerics.

    Each ``(keys, queries)`` pair is one term ``C * (2k'q' - k'^2)``; ``top`` is what
    the head's other (one-hot) tests add to a match, in units of C. The integers of
    every term add up; so do their roundings. A ``count`` head weighs BOS against
    ``w`` keys that must score alike: a rounding ``r`` moves its weight by ``e^2r``,
    so ``r`` must stay below ``1 / (8 n)`` for ``w`` and ``w + 1`` to stay apart.
    """
    centres, spread, largest = [], 0, 0
    for keys, queries in sides:
        ks, qs = [int(k) for k in keys], [int(q) for q in queries]
        lo, hi = min(ks + qs), max(ks + qs)
        m = (lo + hi) // 2
        kmax = max(abs(k - m) for k in ks)
        qmax = max(abs(q - m) for q in qs)
        term = 2 * kmax * qmax + kmax * kmax  # the score's terms, 2k'q' and k'^2, in all
        # and each side's x^2 - 2mx + m^2, read from x^2, x and one
        largest += max([term, *((abs(v) + abs(m)) ** 2 + 1 for v in (lo, hi))])
        centres.append(m)
        spread += term
    largest += math.ceil(top)
    need = LEAK + math.log(n + 1)
    for dtype, u in _UNIT.items():
        per_scale = _gap_per_scale(computed) - (8.0 * u * spread if computed else 0.0)
        if per_scale > 0 and 2 * largest * u < 1:  # integers below 2**bits: exact
            scale = 2.0 ** math.ceil(math.log2(need / per_scale))
            rounding = 4.0 * u * scale * spread if computed else 0.0
            if count and rounding * 8 * n >= 1:
                continue
            return centres, QuadraticPlan(
                centres[0], scale, largest, dtype, computed=computed, rounding=rounding
            )
    return centres, QuadraticPlan(centres[0], 0.0, largest, "none", computed=computed)


def _integers(values: Iterable) -> list[int] | None:
    out = []
    for v in values:
        if not is_number(v) or not math.isfinite(v) or v != int(v):
            return None
        out.append(int(v))
    return out or None


@dataclass(frozen=True, eq=False)
class Term:
    """One equality of a head compared as numbers."""

    keys: SOp
    queries: SOp
    centre: int  # m: this term's values are centred on it


@dataclass(frozen=True, eq=False)
class QuadraticFit:
    """A head whose equalities of integers are compared as numbers (one term each,
    their scores added), its other tests one-hot (``rest``, a formula; None: none)."""

    terms: tuple[Term, ...]
    plan: QuadraticPlan  # the numerics all terms share (``plan.centre``: the first's)
    rest: Any = None


def quadratic_select(
    node: SOp, positional: frozenset[int], values, n: int, f: Any = None
) -> QuadraticFit | None:
    """How ``node`` may compare its selector's equalities of integers as numbers, else None.

    ``f``: the selector's formula as the head tests it (what a causal mask leaves),
    by default all of it. A select of one value (an aggregate) or a count may do so:
    every equality of two integer s-ops is a term, the rest is scored one-hot.
    A side the position embedding writes gets its square from the embedding too; a
    computed side (a count, ``length - indices - 1``) gets it from the MLP that
    computes it, which writes the value and its square from the same hidden units.
    Either way the plan treats the score as computed (it rounds) unless every side
    is embedded.
    """
    if not isinstance(node, Aggregate | SelectorWidth):
        return None
    f = formula(node.selector) if f is None else f
    literals = list(f.children) if isinstance(f, All) else [f]
    if not all(isinstance(c, Literal) for c in literals):
        return None
    sel = node.selector
    if isinstance(sel, Select) and len(literals) == 1:  # its own sides, a constant's too
        found = [(literals[0], _integer_sides(sel.keys, sel.queries, sel.predicate, values))]
    else:
        found = [(c, _literal_sides(c, values)) for c in literals]
    terms = [p for _, p in found if p is not None]
    rest = [c for c, p in found if p is None]
    compared = {s.id for keys, queries, _, _ in terms for s in (keys, queries)}
    tested = {x.id for x in variables(All(tuple(rest))).values()}
    if not terms or compared & tested:
        return None  # nothing to compare as numbers, or an s-op read both ways
    computed = any(nid not in positional for nid in compared)
    count = isinstance(node, SelectorWidth)
    sides = [(ks, qs) for _, _, ks, qs in terms]
    centres, plan = joint_plan(sides, n, computed, count, float(len(rest)))
    if len(terms) == 1 and not rest and not count:
        widths = values.widths.get(sel.id, (frozenset({0}),))
        plan = replace(plan, matched=all(0 not in w for w in widths))
    built = tuple(Term(k, q, m) for (k, q, _, _), m in zip(terms, centres, strict=True))
    return QuadraticFit(built, plan, _conjunction(rest))


def quadratic_heads(program: SOp, order, vs, choices: tuple) -> dict[int, QuadraticFit]:
    """Heads that may compare equalities of integers as numbers: selects of one value
    and counts. ``choices``: the positional s-ops, whether the output is a scalar
    select, the heads allowed numbers (None: all), and whether heads run under a
    causal mask (which tests ``select(indices, indices, "<=")`` by itself)."""
    positional, scalar_select, numbers, causal = choices
    found = {}
    for node in order:
        if numbers is not None and node.id not in numbers:
            continue
        moves_one = vs.semantics.get(node.id, "select") == "select"
        if not moves_one or (scalar_select and node is program):
            continue
        if isinstance(node, Aggregate | SelectorWidth):
            f = formula(node.selector)
            tested = under_mask(f) if causal else f
            fit = quadratic_select(node, positional, vs, vs.max_seq_len, tested)
            if fit is not None:
                found[node.id] = fit
    return found


def _literal_sides(c: Literal, values) -> tuple | None:
    """:func:`_integer_sides` of a literal that is a select's own test of two s-ops."""
    if c.negated or c.merged is not None or c.constant is not None:
        return None
    if c.key is None or c.query is None:
        return None
    return _integer_sides(c.key, c.query, c.predicate, values)


def _integer_sides(keys: SOp, queries: SOp, predicate: Any, values) -> tuple | None:
    """``(keys, queries, key values, query values)`` of ``keys == queries`` on two integer
    s-ops (the queries may be a constant), else None."""
    if predicate is not Comparison.EQ or isinstance(keys, Constant):
        return None
    ks, qs = _integers(values.union(keys)), _integers(values.union(queries))
    return None if ks is None or qs is None else (keys, queries, ks, qs)


def _conjunction(literals: list[Literal]) -> Any:
    if not literals:
        return None
    return literals[0] if len(literals) == 1 else All(tuple(literals))


def quadratic_note(name: str, fit: QuadraticFit, n: int) -> str:
    """The compile report's line: what was chosen, why, and the float type it needs."""
    plan = fit.plan
    exact = (
        f"scores round by at most {plan.rounding:.2g} in {plan.dtype} (a computed query)"
        if plan.computed
        else f"scores are exact in {plan.dtype} (integers up to {plan.largest:,})"
    )
    centres = ", ".join(str(t.centre) for t in fit.terms)
    what = "keys == queries" if len(fit.terms) == 1 else f"{len(fit.terms)} equalities"
    rest = "" if fit.rest is None else ", its other tests one-hot"
    return (
        f"{name}: {what} compared as numbers (score C*(2kq - k^2), C = "
        f"{plan.scale:g}, centred on {centres}{rest}): at most 4 residual directions per "
        f"side instead of one per value, so the width does not grow with max_seq_len {n}; "
        f"the smallest score gap is {plan.gap:g} and {exact}, so wrong keys weigh at most "
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


def quadratic_weights(
    fit: QuadraticFit, sides: Sequence[Mapping], big: float, level: float
) -> tuple[dict, dict]:
    """Query and key weights ``(direction, dim) -> value`` of the terms' scores: dim 0
    (BOS), then two dims per term.

    ``sides[i]`` holds the readouts of term ``i``'s ``q``, ``qq`` (q squared), ``k`` and
    ``kk``; ``level`` is what BOS scores beyond the terms' ``C * q'^2`` (``-C/2`` for a
    select). Every constant is read from ``one - bos``, so that it vanishes at BOS: the
    BOS query scores only the BOS key (``big``), and the BOS key scores only through
    dim 0.
    """
    c, plan = fit.plan.scale, fit.plan
    q: dict = {(BOS, 0): big}
    k: dict = {(BOS, 0): 1.0}
    constant = level  # of dim 0, BOS: level, or c * (q'^2 + level / c) per term
    for i, (term, side) in enumerate(zip(fit.terms, sides, strict=True)):
        m, dim = float(term.centre), 1 + 2 * i
        if not plan.matched:  # dim 0, BOS: c * q'^2 below a match, above a miss
            _add(q, 0, side["qq"], c)
            _add(q, 0, side["q"], -2.0 * m * c)
            constant += c * m * m
        _add(q, dim, side["q"], c)  # c*q' times 2*k'
        _add(q, dim, _ONE, -c * m)
        _add(k, dim, side["k"], 2.0)
        _add(k, dim, _ONE, -2.0 * m)
        _add(q, dim + 1, _ONE, c)  # c times -k'^2
        _add(k, dim + 1, side["kk"], -1.0)
        _add(k, dim + 1, side["k"], 2.0 * m)
        _add(k, dim + 1, _ONE, -m * m)
    _add(q, 0, _ONE, constant)
    return q, k


_ONE = {ONE: 1.0, BOS: -1.0}


def _add(table: dict, dim: int, readout: Mapping[str, float], scale: float) -> None:
    for d, w in readout.items():
        if w * scale:
            table[(d, dim)] = table.get((d, dim), 0.0) + w * scale
