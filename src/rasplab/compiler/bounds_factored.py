"""Scores of a head that add up over groups of s-ops read apart, for :mod:`.bounds_heads`.

most_freq's last count at 1,024 positions tests four digits at once: its
key's two and its position's two. Its queries and keys each take 1,081,344
combinations of values, and a table of every pair would hold 10^12 scores.
But the head's dimensions split into groups (:mod:`.bounds_groups`: the key's
digits, the position's), and its selector is a conjunction of tests within a
group. Then, ``g`` running over the groups,

* a score is ``sum_g s_g(q_g, k_g)``, with an error bound that is a sum too
  (per dimension; float rounding by the ``gamma`` of the most products any
  pair sums, over every group, times their sizes);
* a key is selected exactly when every group's test holds, so the lowest
  selected score of a query is the sum of each group's lowest selected one,
  the highest sum of each group's highest, and the highest unselected score
  is the highest of (one group's highest unselected score plus every other
  group's highest score);
* a query's own error is measured from one key per group (any vector serves:
  the softmax ignores what all of a query's keys share);
* selected keys agree on a node (one value, one position) when they do in
  the group that reads it: a select moves one value where, for every query,
  they agree in one of the ways of :mod:`.bounds_one_value`.

Each group's table is one of its own query and key combinations
(1,056 by 1,056 for the key's digits). The combination of a query's groups
is then summed per query, never per pair. The keys of a group range over its
own value sets, so the pairs bounded include every pair of the whole space:
the bound is sound, if looser than a table of the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .bounds_groups import Group, side_vectors
from .bounds_one_value import differ
from .bounds_scores import Head, Reduced, Scores, centred, leak, selection, worst_case
from .bounds_space import Refused, Space, Stream, grid, in_time, pairs_in_budget, shared_space

__all__ = ["Factored", "factored_scores", "QUERIES"]

QUERIES = 32_000_000  # combined queries (every group's combinations multiplied) at most
BLOCK = 2_000_000  # (query, key) pairs, or combined queries, handled at once


@dataclass(frozen=True)
class _Projected:
    """One group's query and key vectors in its head dimensions, with error bounds."""

    q: np.ndarray  # [nq, e]
    aq: np.ndarray
    k: np.ndarray  # [nk, e]
    ak: np.ndarray
    qb: np.ndarray  # [1, e]: BOS's query
    aqb: np.ndarray
    kb: np.ndarray  # [1, e]: BOS's key
    akb: np.ndarray

    @staticmethod
    def of(stream: Stream, head: Head, g: Group, sides: tuple[Space, Space]) -> _Projected:
        a, j, e = head.attn, head.j, g.dims
        qs, ks = sides
        cols = [*e.tolist(), *(d for d, _, _ in g.shared)]
        q, aq, qb, aqb = side_vectors(stream, (a.W_Q[j], a.b_Q[j]), (cols, g, "q"), qs.x)
        k, ak, kb, akb = side_vectors(stream, (a.W_K[j], a.b_K[j]), (cols, g, "k"), ks.x)
        return _Projected(q, aq, k, ak, qb, aqb, kb, akb)

    def sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per dimension, the largest size of any query and of any key (BOS's included)."""
        q = np.vstack([np.abs(self.q) + self.aq, np.abs(self.qb) + self.aqb]).max(axis=0)
        k = np.vstack([np.abs(self.k) + self.ak, np.abs(self.kb) + self.akb]).max(axis=0)
        return q, k

    def most_products(self) -> int:
        """The most non-zero products a pair of a query and a key may sum: no more than
        either side's non-zero entries (a one-hot digit's key holds one), nor than the
        dimensions some query and some key both fill."""
        q = np.vstack([np.abs(self.q) + self.aq, np.abs(self.qb) + self.aqb]) > 0
        k = np.vstack([np.abs(self.k) + self.ak, np.abs(self.kb) + self.akb]) > 0
        both = int((q.any(axis=0) & k.any(axis=0)).sum())
        return min(both, int(q.sum(axis=1).max(initial=0)), int(k.sum(axis=1).max(initial=0)))

    def exact(self) -> bool:
        """Whether neither side has an error (an embedding's positions, say)."""
        return not (self.aq.any() or self.ak.any() or self.aqb.any() or self.akb.any())

    def unit(self) -> float:
        """A power of two that every product of a query's and a key's entry is a multiple of."""
        gq = grid(np.vstack([self.q, self.qb]), axis=0)
        gk = grid(np.vstack([self.k, self.kb]), axis=0)
        return float((gq * gk).min(initial=np.inf))


def _gamma(stream: Stream, projected: list[_Projected]) -> float:
    """The rounding of any pair's score, in proportion to the sum of its products' sizes:
    ``gamma`` of the most non-zero products it may sum, over every group; none where every
    side is exact and every sum stays below ``2^24`` (float32) of the products' unit."""
    r = stream.rounding
    sizes = [p.sizes() for p in projected]
    terms = sum(p.most_products() for p in projected)
    largest = sum(float(q @ k) for q, k in sizes)
    unit = min(p.unit() for p in projected)
    if r.u and all(p.exact() for p in projected) and largest < unit / r.u:
        return 0.0
    return r.gamma(terms)


@dataclass(frozen=True)
class _Tables:
    """One group's per-query summary (:class:`~.bounds_scores.Reduced`), each query's
    highest score over every key, and BOS's query: its score of BOS's key (lowest) and of
    any other key (highest)."""

    reduced: Reduced
    hi_all: np.ndarray  # [nq]
    bos_query: tuple[float, float]
    agree: dict[int, np.ndarray]  # node -> [nq]: the selected keys hold one value of it

    def rows(self, part: slice) -> _Tables:
        r = self.reduced
        agree = {n: a[part] for n, a in self.agree.items()}
        reduced = Reduced(*(getattr(r, f)[part] for f in _FIELDS))
        return _Tables(reduced, self.hi_all[part], self.bos_query, agree)


def _score(side: tuple, keys: tuple, centre: np.ndarray, gamma: float) -> tuple:
    """Score intervals ``[lo, hi]`` of queries ``side = (q, aq)`` against keys ``(k, ak)``:
    the error of ``dq`` measured from ``centre`` (one row per query), rounding by
    ``gamma`` of the sizes' products."""
    (q, aq), (k, ak) = side, keys
    size = np.abs(q) + aq
    err = size @ ak.T + gamma * (size @ (np.abs(k) + ak).T)
    if aq.any():
        centred(err, aq, k, centre)
    s = q @ k.T
    return s - err, s + err


def _tables(
    p: _Projected, g: Group, sides: tuple, gamma: float, watch: tuple[str, set[int]]
) -> _Tables:
    """The group's table, a block of its queries at a time (``watch``: what the head is
    called, and the key nodes whose agreement among the selected keys is wanted)."""
    what, nodes = watch
    qs, ks = sides
    agree: dict[int, list[np.ndarray]] = {n: [] for n in nodes if n in ks.nodes}
    parts = []
    step = max(1, BLOCK // max(len(ks), 1))
    for start in range(0, len(qs), step):
        in_time(what)
        rows = slice(start, start + step)
        sel = selection(g.f, qs.rows(rows), ks)
        first = np.where(sel.any(axis=1), sel.argmax(axis=1), -1)
        centre = np.where((first >= 0)[:, None], p.k[np.maximum(first, 0)], p.kb)
        side = (p.q[rows], p.aq[rows])
        lo, hi = _score(side, (p.k, p.ak), centre, gamma)
        blo, bhi = _score(side, (p.kb, p.akb), centre, gamma)
        scores = Scores(lo, hi, blo[:, 0], bhi[:, 0])
        parts.append((Reduced.of(scores, sel, True), hi.max(axis=1)))
        for n, found in agree.items():
            found.append(~differ(sel, ks.column(n)))  # one value, or none selected
    reduced = Reduced(*(np.concatenate([getattr(r, f) for r, _ in parts]) for f in _FIELDS))
    hi_all = np.concatenate([h for _, h in parts])
    lo_b, _ = _score((p.qb, p.aqb), (p.kb, p.akb), p.kb, gamma)
    _, hi_b = _score((p.qb, p.aqb), (p.k, p.ak), p.kb, gamma)
    bos_query = (float(lo_b[0, 0]), float(hi_b.max()))
    return _Tables(reduced, hi_all, bos_query, {n: np.concatenate(a) for n, a in agree.items()})


_FIELDS = ("lo_sel", "hi_sel", "hi_uns", "bos_lo", "bos_hi", "some", "none")


@dataclass(frozen=True)
class Factored:
    """What the joint table of :mod:`.bounds_heads` would give, bounded per group."""

    coeff: float  # the largest 2 L + mix
    gap: float  # the smallest gap between intended and unintended scores
    bos_intended: bool  # whether BOS is ever an intended key
    leaked: float  # the most weight BOS's query puts on other keys
    many: bool  # whether a query may select keys that agree in none of the ways asked


def factored_scores(
    stream: Stream,
    head: Head,
    parts: list[Group],
    limit: int,
    memo: dict | None,
    asked: tuple[bool, list[tuple[int, ...]] | None],
) -> Factored:
    """:class:`Factored` from each group's table. ``asked``: whether the spread of the
    intended keys' weights moves the output (``mixes``), and the ways keys may agree to
    move one value (tuples of key nodes, every one of which they must share; None: no
    agreement is needed). A way's nodes are tested in their own groups: keys a query
    selects in every group share a node's value when they do in its group."""
    mixes, ways = asked
    what = f"head {head.name}"
    sides = [
        (
            shared_space(memo, stream, g.queries, limit, what),
            shared_space(memo, stream, g.keys, limit, what),
        )
        for g in parts
    ]
    total = int(np.prod([len(qs) for qs, _ in sides], dtype=np.float64))
    if total > QUERIES:
        raise Refused(f"{what}: {total:,} combined queries of its groups, over {QUERIES:,}")
    pairs = sum(len(qs) * len(ks) for qs, ks in sides)
    pairs_in_budget(f"{what}: {pairs:,} (query, key) pairs in its groups", pairs, 16 * limit)
    projected = [_Projected.of(stream, head, g, side) for g, side in zip(parts, sides, strict=True)]
    gamma = _gamma(stream, projected)
    watch = {n for way in ways or [] for n in way}
    tables = [
        _tables(p, g, side, gamma, (what, watch))
        for p, g, side in zip(projected, parts, sides, strict=True)
    ]
    coeff, gap, bos_intended, many = _combined(head, tables, (stream.rounding.u, mixes, ways), what)
    leaked = _bos_leak(head, tables, stream.rounding.u)
    return Factored(coeff, gap, bos_intended, leaked, many)


def _combined(
    head: Head, tables: list[_Tables], how: tuple, what: str
) -> tuple[float, float, bool, bool]:
    """Over every combination of the groups' queries (the largest group first, a block
    of its rows at a time): the worst case of the whole head's scores, and whether some
    query may select keys agreeing in none of the ways (``how``: the unit roundoff,
    ``mixes`` and the ways)."""
    u, mixes, ways = how
    order = sorted(range(len(tables)), key=lambda i: -len(tables[i].hi_all))
    first, rest = tables[order[0]], [tables[i] for i in order[1:]]
    others = int(np.prod([len(t.hi_all) for t in rest]))
    step = max(1, BLOCK // max(others, 1))
    coeff, gap, bos_intended, many = 0.0, np.inf, False, False
    for start in range(0, len(first.hi_all), step):
        in_time(what)
        block = [first.rows(slice(start, start + step)), *rest]
        reduced = _outer(block)
        c, g, b = worst_case(head, *reduced.cases(head), u, mixes)
        coeff, gap, bos_intended = max(coeff, c), min(gap, g), bos_intended or b
        if ways is not None and not many:
            many = bool((reduced.some & ~_agreeing(block, ways)).any())
    return coeff, gap, bos_intended, many


def _agreeing(tables: list[_Tables], ways: list[tuple[int, ...]]) -> np.ndarray:
    """Per combination of the groups' queries: whether the selected keys agree in a way
    (every node of it holds one value among them, in the group that reads it)."""
    found = np.zeros(int(np.prod([len(t.hi_all) for t in tables])), dtype=bool)
    for way in ways:
        if not all(any(n in t.agree for t in tables) for n in way):
            continue  # a node no group reads: the keys may differ in it
        found |= _each(tables, [_agree_in(t, way) for t in tables], np.logical_and)
    return found


def _agree_in(t: _Tables, way: tuple[int, ...]) -> np.ndarray:
    """[nq]: whether the keys selected in this group hold one value of each node of the
    way that it reads (every query, where it reads none)."""
    mine = [t.agree[n] for n in way if n in t.agree]
    return np.logical_and.reduce(mine) if mine else np.ones(len(t.hi_all), dtype=bool)


def _each(tables: list[_Tables], values: list[np.ndarray], op: Any) -> np.ndarray:
    """``op`` of one value per group, for every combination of the groups' queries (the
    first group's varying slowest)."""
    shape = [len(t.hi_all) for t in tables]
    out = values[0].reshape(shape[:1] + [1] * (len(shape) - 1))
    for i, v in enumerate(values[1:], start=1):
        out = op(out, v.reshape([1] * i + [shape[i]] + [1] * (len(shape) - i - 1)))
    return np.broadcast_to(out, shape).reshape(-1)


def _outer(tables: list[_Tables]) -> Reduced:
    """Per combination of the groups' queries (the first group's varying slowest)."""

    def each(values: list[np.ndarray], op: Any) -> np.ndarray:
        return _each(tables, values, op)

    def summed(field: str) -> np.ndarray:
        return each([getattr(t.reduced, field) for t in tables], np.add)

    # the highest unselected score: one group's highest unselected, every other's highest
    hi_all = each([t.hi_all for t in tables], np.add)
    lift = each([t.reduced.hi_uns - t.hi_all for t in tables], np.maximum)
    hi_uns = hi_all + lift  # -inf where every key of every group is selected
    some = each([t.reduced.some for t in tables], np.logical_and)
    none = each([t.reduced.none for t in tables], np.logical_or)
    lo_sel, hi_sel = summed("lo_sel"), summed("hi_sel")
    return Reduced(lo_sel, hi_sel, hi_uns, summed("bos_lo"), summed("bos_hi"), some, none)


def _bos_leak(head: Head, tables: list[_Tables], u: float) -> float:
    """The most weight BOS's query puts on other keys (:func:`~.bounds_scores.bos_leak`)."""
    if head.causal:
        return 0.0
    g = sum(t.bos_query[0] for t in tables) - sum(t.bos_query[1] for t in tables)
    return float(leak(np.array([g * (1.0 - u) if g > 0 else g]), head.n_max)[0])
