"""Bounds for one attention head: how far its output can be from the exact encoding.

For every combination of query-side values and every combination of
key-side values (:mod:`.bounds_space`), the exact score comes from the
model's weights and the input errors widen it to an interval. The program's
selector says which keys are *intended*: the selected ones (a select or mean
head), BOS beside them (a count head, whose BOS scores ``ln B`` above), the
selected ones holding the best value present (a max or min head, whose keys
score by their value's rank), or BOS alone when nothing is selected (unless
the value sets' selector widths exclude that). A query's own error moves all
its keys' scores alike except through their differences, so it is measured
from one reference key (the softmax ignores a common shift); rounding is
bounded per product of non-zero factors, and sums of dyadic numbers that
stay below ``2^24`` (float32) of their unit are exact (:mod:`.bounds_scores`).
Then, whatever the number of keys up to ``max_seq_len``, the weight on
unintended keys is at most
``L = m e^-g / (1 + m e^-g)`` (``g`` the gap between the lowest intended and
the highest unintended score, ``m`` the most unintended keys), and intended
keys' weights are within ``e^sigma - 1`` (in total) of the intended
averaging, ``sigma`` the spread of their scores about the intended ones. The
output's error in each direction is then at most
``dev + (2 L + mix) R / 2 + value error``: ``dev`` how far any key's value
vector is from its exact encoding, ``R`` the range of the value vectors.

A select head moves one value only where :mod:`.bounds_one_value` shows it:
otherwise the aggregate may average and the bound says so (the compiler's
"moves one value" assumption stays open). Where a head's table of every
(query, key) pair would be too large and its scores add up over groups of
s-ops read apart, each group is bounded on its own (:mod:`.bounds_factored`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.graph import value_key
from ..lang.nodes import Aggregate, Indices
from ..model.model import Attention
from .bounds_factored import factored_scores
from .bounds_groups import groups
from .bounds_one_value import agreements, one_value, several_values, ways
from .bounds_scores import Head, Keys, Scores, bos_leak, key_ranks, mixing, project, selection
from .bounds_space import Refused, Space, Stream, in_time, pairs_in_budget, read_nodes, shared_space
from .causal import under_mask
from .combine import is_number
from .domains import value_indices
from .plans import HeadPlan
from .selectors import Truth, formula, variables

__all__ = ["Head", "HeadBound", "head_bound", "selection"]

MODELLED = ("select", "mean", "count", "max", "min")


@dataclass(frozen=True)
class HeadBound:
    error: np.ndarray  # [d_model]: output error bound at every position but BOS
    bos_out: np.ndarray  # [d_model]: what the head adds at BOS
    bos_error: np.ndarray  # [d_model]: its error bound
    gap: float  # smallest score gap between intended and unintended keys
    open: tuple[str, ...]  # what this head could not discharge
    relative: np.ndarray | None = None  # [d_model]: more error, in proportion to the output


def _formula(head: Head) -> Any:
    """What the head's selector asks of it (under a causal mask, what the mask leaves)."""
    selector = getattr(head.plans[0].node, "selector", None)
    if selector is None:
        return Truth(True)
    return under_mask(formula(selector)) if head.causal else formula(selector)


def head_bound(stream: Stream, head: Head, limit: int, memo: dict | None = None) -> HeadBound:
    """The bound of :mod:`this module <.bounds_heads>` for one head; Refused if not modelled.
    ``memo`` keeps the combinations for another pass (:func:`.shared_space`)."""
    first = head.plans[0]
    if first.kind not in MODELLED:
        raise Refused(f"head {head.name}: a {first.kind} head is not modelled by the bounds")
    f = _formula(head)
    found = variables(f)
    qvars = [n.id for (side, _), n in found.items() if side == "q"]
    kvars = [n.id for (side, _), n in found.items() if side == "k"]
    values = [p.value.key[0] for p in head.plans if p.value is not None]
    a = head.attn
    wq, wk, wv = a.W_Q[head.j], a.W_K[head.j], a.W_V[head.j]
    what = f"head {head.name}"
    parts = groups(stream, head, f) if first.kind not in ("max", "min") else None
    try:
        qs = shared_space(memo, stream, [*sorted(read_nodes(stream, wq)), *qvars], limit, what)
        key_nodes = sorted(read_nodes(stream, wk) | read_nodes(stream, wv))
        ks = shared_space(memo, stream, [*key_nodes, *kvars, *values], limit, what)
        scored = ks
        if _scores_alone(head) and set(values) - set(kvars) - read_nodes(stream, wk):
            # the scores and the selection ignore what the head moves (reverse's tokens):
            # the softmax is bounded over the keys' positions alone, not every token at each
            scored_nodes = [*sorted(read_nodes(stream, wk)), *kvars]
            scored = shared_space(memo, stream, scored_nodes, limit, what)
    except Refused:
        if parts is None:
            raise
    else:
        if parts is None or len(qs) * len(scored) <= FACTORED_ABOVE:
            _in_budget(head, len(qs), len(scored), 16 * limit)
            return _bound(stream, head, qs, (ks, scored), f)
    # the scores add up over groups read apart: bounded per group (:mod:`.bounds_factored`)
    moved = shared_space(memo, stream, [*sorted(read_nodes(stream, wv)), *values], limit, what)
    agree_by = None
    if not _scores_alone(head):  # a select whose moving one value is proved key by key
        agree_by = [w.nodes for w in ways(stream, head, [n for g in parts for n in g.keys])]
    asked = (not _one_vector(head, moved), agree_by)
    split = factored_scores(stream, head, parts, limit, memo, asked)
    unproved = several_values(head) if split.many else ()
    worst = (split.coeff, split.gap, split.bos_intended, unproved)
    return _finished(stream, head, moved, (worst, split.leaked))


PAIRS = 2_000_000  # (query, key) combinations scored at once
FACTORED_ABOVE = 2_000_000  # pairs past which a head whose scores split is bounded per group


def _in_budget(head: Head, nq: int, nk: int, pairs: int) -> None:
    """Refused where the head has more than ``pairs`` (query, key) combinations and would
    take longer than the bounds' time left (:func:`.pairs_in_budget`)."""
    what = f"head {head.name}: {nq:,} query by {nk:,} key combinations"
    pairs_in_budget(what, nq * nk, pairs)


def _scores_alone(head: Head) -> bool:
    """Whether the softmax's bound needs no key's value: not a max or min head (its keys
    score by their value's rank), and no select whose moving one value is left to prove
    key by key (the value sets prove it where the selector picks at most one key)."""
    if head.plans[0].kind in ("max", "min"):
        return False
    one_key = head.widths is not None and max(head.widths, default=0) <= 1
    return one_key or not any(p.kind == "select" for p in head.plans)


def _bound(stream: Stream, head: Head, qs: Space, sides: tuple, f: Any) -> HeadBound:
    """``sides``: every key combination, and those the scores depend on (the same where
    they depend on the moved value)."""
    ks, scored = sides
    ranks = key_ranks(head, scored)
    target, target_bos = _targets(head, ks, stream.index)
    keys = Keys.of(stream, head, scored)
    probe = target if scored is ks else None
    mixes = not _one_vector(head, ks)  # every key combination: the moved value included
    found = _queries(stream, head, qs, scored, f, (keys, ranks, probe, mixes))
    leaked = 0.0 if head.causal else bos_leak(stream, head, keys)
    return _finished(stream, head, ks, (found, leaked), (target, target_bos))


def _finished(
    stream: Stream, head: Head, ks: Space, scored: tuple, targets: tuple | None = None
) -> HeadBound:
    """The head's bound from its scores' worst case (``scored``: the largest ``2 L +
    mix``, the smallest gap, whether BOS is ever intended, what is open; and BOS's
    query's leak), over the keys ``ks``, which hold every value the head moves
    (``targets``: what they should move, where known)."""
    (coeff, gap, bos_intended, unproved), leaked = scored
    target, target_bos = targets or _targets(head, ks, stream.index)
    out, out_bos, value_error, relative = _values(stream, head, ks, coeff, bos_intended)
    dev = np.abs(out - target).max(axis=0, initial=0.0)
    if bos_intended:  # else BOS only leaks, and its value counts in the spread alone
        dev = np.maximum(dev, np.abs(out_bos - target_bos))
    every = np.vstack([out, target, out_bos[None], target_bos[None]])
    spread = every.max(axis=0) - every.min(axis=0)
    error = dev + _scaled(coeff, spread / 2.0) + value_error
    bos_error = leaked * np.abs(out - out_bos).max(axis=0, initial=0.0) + value_error
    bos_error = bos_error + relative * np.abs(out_bos)
    return HeadBound(error, out_bos, bos_error, gap, unproved, relative)


def _queries(
    stream: Stream, head: Head, qs: Space, ks: Space, f: Any, keys: tuple
) -> tuple[float, float, bool, tuple[str, ...]]:
    """Over every query, a block at a time (memory stays ``PAIRS`` pairs): the largest
    ``2 L + mix``, the smallest gap, whether BOS is ever intended, and a select's open
    item (``keys``: the keys' vectors, each key's rank and target, and whether the
    spread of the intended keys' weights moves the output)."""
    vectors, ranks, target, mixes = keys
    coeff, gap, bos_intended = 0.0, np.inf, False
    unproved: tuple[str, ...] = ()
    selects = any(p.kind == "select" for p in head.plans)
    agree = agreements(stream, head, ks, target) if selects and target is not None else []
    step = max(1, PAIRS // max(len(ks), 1))
    for start in range(0, len(qs), step):
        in_time(f"head {head.name}")
        part = qs.rows(slice(start, start + step))
        sel = selection(f, part, ks)
        scores = Scores.of(stream, head, part, vectors, sel)
        c, g, b = mixing(head, scores, sel, stream.rounding.u, ranks, mixes)
        coeff, gap, bos_intended = max(coeff, c), min(gap, g), bos_intended or b
        if agree and not unproved:
            unproved = one_value(head, sel, agree)
    return coeff, gap, bos_intended, unproved


def _one_vector(head: Head, ks: Space) -> bool:
    """Every key moves one value vector (a mean of a constant, say) and no count shares
    the head: how the weight falls among the keys then changes nothing, only how much
    goes to BOS, whose value differs. (A count's output is BOS's weight itself, which
    the keys' spread of scores moves.)"""
    if any(p.kind == "count" for p in head.plans):
        return False
    v = ks.x @ head.attn.W_V[head.j]  # [keys, d_head]: exact value vectors
    return bool((v == v[:1]).all())


def _values(
    stream: Stream, head: Head, ks: Space, coeff: float, bos_intended: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each key's output vector, BOS's, a bound of the output's value error (given
    ``coeff``, the most weight away from the intended averaging), and the part of it in
    proportion to the output itself (per direction)."""
    a, j = head.attn, head.j
    wo = np.abs(a.W_O[j])
    v, av = project(stream, ks.x, a.W_V[j], a.b_V[j], stream.error(ks.x))
    vb, avb = project(stream, stream.bos[None], a.W_V[j], a.b_V[j], stream.bos_delta)
    out, out_bos = v @ a.W_O[j], (vb @ a.W_O[j])[0]
    err = np.maximum(av.max(axis=0, initial=0.0), avb[0])
    relative = np.zeros(wo.shape[1])
    r = stream.rounding
    if not r.u:
        return out, out_bos, err @ wo, relative
    # the softmax's own rounding, then the weighted sum over keys and the projection
    vmax = np.maximum(np.abs(v).max(axis=0, initial=0.0), np.abs(vb[0])) + err
    n = head.n_max + 1
    # a dimension only BOS's value fills sums one non-zero product, exactly
    filled = np.abs(v).max(axis=0, initial=0.0) + av.max(axis=0, initial=0.0) > 0
    share = r.gamma(n + 4) + np.where(filled, r.gamma(n), r.gamma(1))
    if _one_signed(v, vb, wo):  # each output a weighted sum of values of one sign
        relative = (share[:, None] * (wo > 0)).max(axis=0) + _sum_rounding(r, a) * (wo > 0).any(0)
        moved = _scaled(coeff, vmax) @ wo  # how far the weights may move it from exact
        return out, out_bos, err @ wo + relative * (moved + err @ wo), relative
    weighted = vmax
    if not bos_intended:  # else BOS's own weight counts in full
        weighted = np.minimum(vmax, _averaged(head, ks, np.abs(v)) + _scaled(coeff, vmax))
    err = err + share * weighted
    return out, out_bos, err @ wo + _sum_rounding(r, a) * (weighted @ wo), relative


def _one_signed(v: np.ndarray, vb: np.ndarray, wo: np.ndarray) -> bool:
    """Each output direction reads one dimension of the head, whose values (every key's
    and BOS's) have one sign. Its float32 rounding is then in proportion to the weighted
    sum of their sizes, which is the output's own size, give or take how far the weights
    move: a count (BOS's weight times 1), or a flag ``any key selected?`` whose keys write
    1, which is off by ``gamma(n)`` where it is 1 and by next to nothing where it is 0."""
    if not bool(((wo > 0).sum(axis=0) <= 1).all()):
        return False
    values = np.vstack([v, vb])  # [keys + 1, d_head]
    return bool(((values >= 0).all(axis=0) | (values <= 0).all(axis=0)).all())


def _scaled(coeff: float, x: np.ndarray) -> np.ndarray:
    """``coeff * x`` where ``x`` is 0 exactly when ``coeff`` is unbounded (nothing to move)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(x == 0, 0.0, coeff * x)


def _averaged(head: Head, ks: Space, size: np.ndarray) -> np.ndarray:
    """A bound of the intended average of ``size`` (per dimension) over the keys present.
    A head that selects every key and reads only the position sees exactly positions
    0..n-1 (a prefix, causal or not): the largest mean of a prefix. Otherwise the
    largest value."""
    biggest = size.max(axis=0, initial=0.0)
    if not isinstance(_formula(head), Truth) or len(ks.nodes) != 1:
        return biggest
    if not isinstance(head.nodes.get(ks.nodes[0]), Indices):
        return biggest
    order = np.argsort(np.asarray(ks.values[0], dtype=np.float64)[ks.column(ks.nodes[0])])
    sums = np.cumsum(size[order], axis=0) / np.arange(1, len(order) + 1)[:, None]
    return np.asarray(sums.max(axis=0, initial=0.0))


def _sum_rounding(r: Any, a: Attention) -> np.ndarray:
    """``gamma`` per direction of the output projection, which sums over every head."""
    return np.asarray(r.columns(a.W_O.reshape(-1, a.W_O.shape[-1])))


def _targets(head: Head, ks: Space, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """What each key's value vector should be (summed over the head's plans), and BOS's."""
    target = np.zeros((len(ks), len(index)))
    target_bos = np.zeros(len(index))
    for p in head.plans:
        out = p.output
        column = index[out.directions[0]] if out.directions else None
        if p.kind == "count":
            if column is not None:
                target_bos[column] += 1.0
            continue
        default = p.node.default if isinstance(p.node, Aggregate) else None
        moved = ks.node_values(p.value.key[0]) if p.value is not None else []
        if p.kind == "mean":
            coords = _coords(p)
            if column is not None:
                at = [p.value.index.get(value_key(v)) for v in moved] if p.value else []
                target[:, column] += [coords[i] if i is not None else np.nan for i in at]
                target_bos[column] += _number(default)
            continue
        rows = _writes(out, index)
        found = value_indices(out, [*moved, default])
        target += np.where(found[:-1, None] >= 0, rows[found[:-1]], 0.0)
        if found[-1] >= 0:
            target_bos += rows[found[-1]]
    return np.nan_to_num(target, nan=np.inf), target_bos


def _writes(out: Any, index: dict[str, int]) -> np.ndarray:
    rows = np.zeros((len(out.writes), len(index)))
    for i, write in enumerate(out.writes):
        for d, w in write.items():
            rows[i, index[d]] += w
    return rows


def _coords(p: HeadPlan) -> list[float]:
    if p.value_coords is not None:
        return list(p.value_coords)
    value = p.value
    assert value is not None
    return list(value.coords) if value.coords else [float(v) for v in value.values]


def _number(default: Any) -> float:
    return float(default) if default is not None and is_number(default, bools=True) else 0.0
