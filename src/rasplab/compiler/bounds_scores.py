"""Scores and softmax weights of one head, for :mod:`.bounds_heads`.

Every (query, key) combination's score comes from the weights, widened to
an interval by the inputs' errors and, in float32, by rounding. From the
intervals: in each way the keys present may fall (:func:`cases`), how much
weight can go to keys the program does not intend (``L``) and how far the
intended keys' weights can be from the intended averaging (``mix``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.graph import value_key
from ..lang.nodes import SOp
from ..model.model import Attention
from .bounds_space import Refused, Space, Stream, grid
from .plans import HeadPlan
from .selectors import All, Literal, Truth, truth_table

__all__ = [
    "Head",
    "Keys",
    "Scores",
    "leak",
    "project",
    "products",
    "mixing",
    "worst_case",
    "Reduced",
    "highest_selected",
    "cases",
    "key_ranks",
    "bos_leak",
    "CHUNK",
    "selection",
    "centred",
]


@dataclass(frozen=True)
class Head:
    """One head's weights, its plans and where it runs."""

    attn: Attention
    j: int
    plans: Sequence[HeadPlan]
    n_max: int  # most keys besides BOS
    causal: bool
    count_scale: float
    nodes: Mapping[int, SOp]  # node id -> s-op, for every feature's node
    widths: frozenset[int] | None = None  # how many keys the selector may pick (value sets)

    @property
    def name(self) -> str:
        return self.attn.names[self.j]


def selection(f: Any, qs: Space, ks: Space) -> np.ndarray:
    """``[query combo, key combo]``: whether the program's selector picks the key."""
    if isinstance(f, Truth):
        return np.full((len(qs), len(ks)), f.value)
    if isinstance(f, Literal):
        qv, qi = _side(f.query, qs)
        kv, ki = _side(f.key, ks)
        return truth_table(f, kv, qv)[np.ix_(qi, ki)]
    tables = [selection(c, qs, ks) for c in f.children]
    combine = np.logical_and if isinstance(f, All) else np.logical_or
    return combine.reduce(tables)


def _side(node: Any, s: Space) -> tuple[list[Any], np.ndarray]:
    if node is None:
        return [None], np.zeros(len(s), dtype=np.int64)
    return list(s.values[s.nodes.index(node.id)]), s.column(node.id)


def leak(gap: np.ndarray, m: int) -> np.ndarray:
    """The most weight ``m`` keys scoring ``gap`` below an intended one can take (all of
    it where the gap is unknown: NaN)."""
    gap = np.nan_to_num(np.asarray(gap, dtype=np.float64), nan=-np.inf)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(np.minimum(gap - math.log(max(m, 1)), 700.0)))


@dataclass(frozen=True)
class Keys:
    """A head's key vectors and their error bounds, each distinct row once: keys that
    differ only in what the head does not score by (reverse's tokens beside its
    positions) are scored once. Made once per head, for every block of queries."""

    k: np.ndarray  # [rows, d_head]
    ak: np.ndarray  # [rows, d_head]: error bounds
    inverse: np.ndarray | None  # [nk]: each key combination's row (None: one row each)
    kb: np.ndarray  # [1, d_head]: BOS
    akb: np.ndarray

    @staticmethod
    def of(stream: Stream, head: Head, ks: Space) -> Keys:
        a, j = head.attn, head.j
        k, ak = project(stream, ks.x, a.W_K[j], a.b_K[j], stream.error(ks.x))
        kb, akb = project(stream, stream.bos[None], a.W_K[j], a.b_K[j], stream.bos_delta)
        distinct, inverse = np.unique(np.hstack([k, ak]), axis=0, return_inverse=True)
        if 2 * len(distinct) > len(k):  # few repeats: spreading them out costs more
            return Keys(k, np.ascontiguousarray(ak), None, kb, akb)
        e = k.shape[1]
        return Keys(distinct[:, :e], distinct[:, e:], inverse.reshape(-1), kb, akb)

    def rows(self, at: np.ndarray) -> np.ndarray:
        """The key vectors of key combinations ``at``."""
        return self.k[at if self.inverse is None else self.inverse[at]]

    def spread(self, per_row: np.ndarray) -> np.ndarray:
        """``[nq, rows]`` to ``[nq, nk]``."""
        return per_row if self.inverse is None else per_row[:, self.inverse]


@dataclass(frozen=True)
class Scores:
    """Score intervals ``[lo, hi]`` for every (query, key) combination and for BOS keys,
    up to a shift common to a query's keys (the softmax ignores it)."""

    lo: np.ndarray  # [nq, nk]
    hi: np.ndarray
    bos_lo: np.ndarray  # [nq]
    bos_hi: np.ndarray

    @staticmethod
    def of(stream: Stream, head: Head, qs: Space, keys: Keys, sel: np.ndarray) -> Scores:
        a, j = head.attn, head.j
        q, aq = project(stream, qs.x, a.W_Q[j], a.b_Q[j], stream.error(qs.x))
        # a query's error moves its scores by dq . k: measured from one key (a selected one
        # where there is one, else BOS), keys alike move alike and only differences count
        first = np.where(sel.any(axis=1), sel.argmax(axis=1), -1)
        centre = np.where((first >= 0)[:, None], keys.rows(np.maximum(first, 0)), keys.kb)
        s, ds = products(stream, (q, aq), (keys.k, keys.ak), centre)
        lo, hi = keys.spread(s - ds), keys.spread(s + ds)
        sb, dsb = products(stream, (q, aq), (keys.kb, keys.akb), centre)
        return Scores(lo, hi, (sb - dsb)[:, 0], (sb + dsb)[:, 0])


def project(
    stream: Stream, x: np.ndarray, w: np.ndarray, b: np.ndarray, error: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``x w + b`` and a bound of each row's error per dimension (input error, rounding)."""
    r = stream.rounding
    error = np.broadcast_to(error, x.shape)  # per row (or one for all)
    moved = error @ np.abs(w)
    size = np.abs(x) + error
    still = (moved == 0).all(axis=0)
    rounds = r.terms(size, w) * ~(still & r.exact(x, w, b))  # exact integers do not
    err = moved + rounds * (size @ np.abs(w) + np.abs(b))
    return x @ w + b, np.broadcast_to(err, (len(x), w.shape[1]))


CHUNK = 4_000_000  # (query, key, dim) entries per block of the centred error


def products(stream: Stream, query: tuple, key: tuple, centre: np.ndarray) -> tuple:
    """``q k^T`` and its error bound given ``|dq| <= aq``, ``|dk| <= ak`` (rows of the
    pairs ``query = (q, aq)`` and ``key = (k, ak)``), less the shift ``dq . centre``
    each query's keys share."""
    (q, aq), (k, ak) = query, key
    # exact sides (an embedding's positions in float64) leave no error to carry: at 1,024
    # positions a head of 5,120 queries by 5,120 keys spares each [nq, nk, e] product
    # |q dk| + |dq dk| <= (|q| + aq) ak: one product of [nq, nk], not two and their sum
    err = (np.abs(q) + aq) @ ak.T if ak.any() else np.zeros((len(q), len(k)))
    if aq.any():
        centred(err, aq, k, centre)
    r = stream.rounding
    if r.u:
        rounds = (np.abs(q) + aq) @ (np.abs(k) + ak).T
        unit = (grid(q, axis=0) * grid(k, axis=0)).min(initial=np.inf)
        exact = (aq.max(axis=1) == 0)[:, None] & (ak.max(axis=1) == 0)[None, :]
        # a pair sums only the products where both sides may be non-zero
        terms = ((np.abs(q) + aq) > 0).astype(np.float64) @ ((np.abs(k) + ak) > 0).T
        nu = terms * r.u
        gamma = np.where(nu < 1.0, nu / np.maximum(1.0 - nu, 1e-300), np.inf)
        err = err + np.where(exact & (rounds < unit / r.u), 0.0, gamma * rounds)
    return q @ k.T, err


def centred(err: np.ndarray, aq: np.ndarray, k: np.ndarray, centre: np.ndarray) -> None:
    """Add ``aq . |k - centre|`` to ``err`` [nq, nk], over the dimensions where some query
    has an error (dyck2's opener head at 64: 4 of 8)."""
    dims = np.flatnonzero(aq.any(axis=0))
    aq, k, centre = aq[:, dims], k[:, dims], centre[:, dims]
    rows = max(1, CHUNK // max(1, k.size))
    for start in range(0, len(aq), rows):
        part = slice(start, start + rows)
        apart = np.abs(k[None, :, :] - centre[part, None, :])  # [rows, nk, dims]
        err[part] += np.einsum("ie,ike->ik", aq[part], apart)


def mixing(
    head: Head,
    s: Scores,
    sel: np.ndarray,
    u: float,
    ranks: np.ndarray | None,
    mixes: bool = True,
) -> tuple[float, float, bool]:
    """The largest ``2 L + mix`` over queries and cases, the smallest gap, and whether
    BOS is ever an intended key (``mixes`` False: how the weight falls among the keys
    changes nothing, so ``mix`` is left out)."""
    return worst_case(head, *cases(head, s, sel, ranks), u, mixes)


def worst_case(
    head: Head, found: list[Case], bos_alone: bool, u: float, mixes: bool
) -> tuple[float, float, bool]:
    """:func:`mixing` from the cases of :func:`cases` (or of :class:`Reduced`)."""
    worst, gap = 0.0, np.inf
    bos_intended = head.plans[0].kind == "count" or bos_alone
    for rows, lowest, highest, sigma in found:
        if not rows.any():
            continue
        g = (lowest - highest)[rows]
        g = np.where(g > 0, g * (1.0 - u), g)
        with np.errstate(over="ignore"):  # a spread past e^709 is no bound: inf
            spread = np.nan_to_num(sigma[rows], nan=np.inf)
            mix = np.expm1(np.maximum(spread, 0.0) * (1.0 + u)) if mixes else 0.0
        worst = max(worst, float((2.0 * leak(g, head.n_max) + mix).max()))
        gap = min(gap, float(g.min()))
    return worst, gap, bos_intended


Case = tuple[Any, Any, Any, Any]  # arrays over queries


@dataclass(frozen=True)
class Reduced:
    """Per query, what the cases of a head without ranks read of its scores: the lowest
    and highest selected scores, the highest unselected one, BOS's score interval, and
    whether some key is selected and some is not (a key space may leave either out)."""

    lo_sel: np.ndarray  # [nq] (inf where none is selected)
    hi_sel: np.ndarray  # [nq] (-inf where none is)
    hi_uns: np.ndarray  # [nq] (-inf where every key is selected)
    bos_lo: np.ndarray  # [nq]
    bos_hi: np.ndarray  # [nq]
    some: np.ndarray  # [nq] bool: some key is selected
    none: np.ndarray  # [nq] bool: some key is not

    @staticmethod
    def of(s: Scores, sel: np.ndarray, highest_selected: bool) -> Reduced:
        """From every (query, key) score (``highest_selected`` False: ``hi_sel`` is not
        read, and left at -inf to spare a pass)."""
        inf = np.inf
        lo_sel = np.where(sel, s.lo, inf).min(axis=1, initial=inf)
        hi_uns = np.where(sel, -inf, s.hi).max(axis=1, initial=-inf)
        hi_sel = np.full(len(sel), -inf)
        if highest_selected:
            hi_sel = np.where(sel, s.hi, -inf).max(axis=1, initial=-inf)
        some, none = np.asarray(sel.any(axis=1)), np.asarray((~sel).any(axis=1))
        return Reduced(lo_sel, hi_sel, hi_uns, s.bos_lo, s.bos_hi, some, none)

    def cases(self, head: Head) -> tuple[list[Case], bool]:
        """:func:`cases` for a head whose keys have no ranks."""
        kind = head.plans[0].kind
        flat = np.zeros(len(self.lo_sel))
        if kind == "count":
            ln_b = math.log(head.plans[0].count_scale or head.count_scale)
            spread = np.maximum(self.hi_sel, self.bos_hi - ln_b) - np.minimum(
                self.lo_sel, self.bos_lo - ln_b
            )
            lowest = np.maximum(self.bos_lo, self.lo_sel)
            found: list[Case] = [(self.some, lowest, self.hi_uns, spread)]
        else:
            # a select shares its head with means (one pattern): their averaging needs the
            # spread, unless one key at most is selected
            one_key = head.widths is not None and max(head.widths, default=0) <= 1
            averages = any(p.kind == "mean" for p in head.plans) and not one_key
            spread = self.hi_sel - self.lo_sel if averages else flat
            found = [(self.some, self.lo_sel, np.maximum(self.hi_uns, self.bos_hi), spread)]
        if head.widths is not None and 0 not in head.widths:  # the value sets say none can't be
            return found, False
        found.append((self.none, self.bos_lo, self.hi_uns, flat))
        return found, bool(self.none.any())


def highest_selected(head: Head) -> bool:
    """Whether the cases read the highest selected score: a count, or means beside it."""
    return any(p.kind in ("count", "mean") for p in head.plans)


def cases(
    head: Head, s: Scores, sel: np.ndarray, ranks: np.ndarray | None
) -> tuple[list[Case], bool]:
    """(rows where the case can happen, lowest intended score, highest unintended score,
    spread of the intended scores) for each way the keys present may fall; and whether
    BOS alone may be intended (some query may select nothing)."""
    if ranks is None:
        return Reduced.of(s, sel, highest_selected(head)).cases(head)
    inf = np.inf
    hi_uns = np.where(sel, -inf, s.hi).max(axis=1, initial=-inf)
    found: list[Case] = []
    for r in np.unique(ranks).tolist():  # max / min: the best value present wins
        best = sel & (ranks == r)[None, :]
        worse = np.where(sel & (ranks < r)[None, :], s.hi, -inf).max(axis=1, initial=-inf)
        lowest = np.where(best, s.lo, inf).min(axis=1, initial=inf)
        highest = np.maximum.reduce([hi_uns, worse, s.bos_hi])
        found.append((best.any(axis=1), lowest, highest, np.zeros(len(sel))))
    none = (~sel).any(axis=1)
    if head.widths is not None and 0 not in head.widths:  # the value sets say none can't be
        return found, False
    found.append((none, s.bos_lo, hi_uns, np.zeros(len(sel))))
    return found, bool(none.any())


def key_ranks(head: Head, ks: Space) -> np.ndarray | None:
    """Each key's rank for a max (largest highest) or min (smallest highest) head."""
    first = head.plans[0]
    if first.kind not in ("max", "min") or first.value is None:
        return None
    values = list(first.value.values)
    try:
        order = sorted(range(len(values)), key=lambda i: values[i])
    except TypeError:  # the evaluator cannot order them either: such inputs are rejected
        raise Refused(f"head {head.name}: its values cannot be ordered") from None
    rank = np.empty(len(values))
    for r, i in enumerate(order):
        rank[i] = r if first.kind == "max" else len(values) - 1 - r
    at = [first.value.index.get(value_key(v)) for v in ks.node_values(first.value.key[0])]
    if any(i is None for i in at):
        raise Refused(f"head {head.name}: a key's value has no rank")
    return rank[np.array(at, dtype=np.int64)]


def bos_leak(stream: Stream, head: Head, keys: Keys) -> float:
    """The most weight BOS's query puts on other keys (it should attend only to itself)."""
    a, j = head.attn, head.j
    qb, aqb = project(stream, stream.bos[None], a.W_Q[j], a.b_Q[j], stream.bos_delta)
    s, ds = products(stream, (qb, aqb), (keys.k, keys.ak), keys.kb)
    sb, dsb = products(stream, (qb, aqb), (keys.kb, keys.akb), keys.kb)
    g = float((sb - dsb)[0, 0] - (s + ds).max(initial=-np.inf))
    return float(leak(np.array([g * (1.0 - stream.rounding.u) if g > 0 else g]), head.n_max)[0])
