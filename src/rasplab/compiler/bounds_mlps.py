"""Bounds for one layer's MLP: how far its output can be from the exact encoding.

The hidden units of a layer are grouped as the plan built them (each
:class:`~.plans.MlpPlan`'s units, then the BOS cleanup unit). For every
combination of the values a group reads, its output at the exact residual
comes from the model's weights and is compared with the exact encoding of
the value the program computes there (the plan's output s-op as a function
of its leaves). Input errors ``delta`` widen each pre-activation ``z`` to
``[z - r, z + r]``; a ReLU then moves by at most ``min(r, max(0, z + r))``
(nothing when the unit stays off), which the output weights carry on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..lang.nodes import SOp
from ..model.model import MLP
from .bounds_fused import evaluate
from .bounds_kept import kept
from .bounds_space import Refused, Space, Stream, in_time, read_nodes, shared_space
from .bounds_summed import Part, summed_errors
from .domains import value_indices
from .exact_sums import exact_outputs, exact_units
from .features import Feature
from .plans import MlpPlan
from .storage import Storage

__all__ = ["MlpBound", "mlp_bound"]

LINEAR_BUDGET = 200_000_000  # multiply-adds for the linear parts, one per activation pattern
PATTERN_OVERHEAD = 4  # a pattern's own cost (a product and a slice), in units on
PATTERN_CELLS = 50_000_000  # (combination, unit) cells sorted into activation patterns at most
CHUNK_CELLS = 8_000_000  # (combination, unit) cells of one block of combinations (64 MB each)


@dataclass(frozen=True)
class MlpBound:
    error: np.ndarray  # [d_model]: output error bound at every position but BOS
    bos_out: np.ndarray  # [d_model]: what the MLP adds at BOS
    bos_error: np.ndarray  # [d_model]
    parts: tuple[tuple[str, np.ndarray], ...] = ()  # each group of units and its error
    relative: np.ndarray | None = None  # [d_model]: more error, times the exact value


@dataclass(frozen=True)
class _Group:
    columns: np.ndarray  # hidden units
    plan: MlpPlan | None  # None: units no plan owns (the cleanup), whose target is 0
    part: int | None = None  # a separable plan's part (its index in plan.spec.parts)


def mlp_bound(
    stream: Stream,
    mlp: MLP,
    plans: Sequence[MlpPlan],
    nodes: Mapping[int, SOp],
    limit: int,
    memo: dict | None = None,
    shared: dict | None = None,
) -> MlpBound:
    """The bound of :mod:`this module <.bounds_mlps>`; Refused where it cannot be made.
    ``memo`` keeps the exact targets for another pass over the same plan; ``shared``,
    the large groups' deviations for any build of the compile (:mod:`.bounds_kept`)."""
    error = np.abs(mlp.b_out).astype(np.float64)  # the plan writes no bias
    groups = _groups(mlp, plans)
    parts, found = [], []
    for group in groups:
        bound = _group_error(stream, mlp, group, nodes, limit, (memo, shared))
        parts.append((_name(group), bound.whole))
        found.append(bound)
    # where one group alone writes non-zero values to a direction, its error may stay
    # in proportion to them (a copied one-hot's zeros are exact); elsewhere it is made
    # absolute, since the groups' values may cancel
    alone = sum((g.biggest > 0).astype(int) for g in found) <= 1
    alone &= _one_hot_directions(stream, plans)  # a number's error stays absolute
    relative = np.zeros_like(error)
    for g in found:
        error = error + np.where(alone, g.delta, g.whole)
        relative = relative + np.where(alone, g.relative, 0.0)
    # (but a sum of parts of one sign may keep it in proportion: bounds_summed)
    for i, (summed, rel) in summed_errors(found, _largest(stream, plans)).items():
        if not alone[i]:
            error[i], relative[i] = abs(float(mlp.b_out[i])) + summed, rel
    for plan in plans:  # a separable plan's parts add up to its output within this
        for d in plan.output.directions if plan.spec.residual else ():
            # (and its parts' values, which a relative error multiplies, to its value)
            error[stream.index[d]] += plan.spec.residual * (1.0 + relative[stream.index[d]])
    out, bos_error = _at_bos(stream, mlp)
    return MlpBound(error, out, bos_error, tuple(parts), relative)


def _largest(stream: Stream, plans: Sequence[MlpPlan]) -> np.ndarray:
    """[d_model]: the largest ``|value|`` the plans' outputs write to each direction."""
    found = np.zeros(len(stream.index))
    for plan in plans:
        for write in plan.output.writes:
            for d, w in write.items():
                found[stream.index[d]] = max(found[stream.index[d]], abs(w))
    return found


def _one_hot_directions(stream: Stream, plans: Sequence[MlpPlan]) -> np.ndarray:
    """[d_model]: the directions of the one-hot outputs the plans write. Their values are
    0 or 1, where the error's part in proportion to the value is its part at 1."""
    found = np.zeros(len(stream.index), dtype=bool)
    for plan in plans:
        if plan.output.kind is Storage.ONE_HOT:
            found[[stream.index[d] for d in plan.output.directions]] = True
    return found


def _name(group: _Group) -> str:
    if group.plan is None:
        return "MLP cleanup units"
    if group.part is None:
        return f"MLP writing {group.plan.output.name}"
    leaf = group.plan.spec.parts[group.part].leaf
    read = "its constant" if leaf < 0 else group.plan.leaves[leaf].name
    return f"MLP writing {group.plan.output.name} (the part reading {read})"


def _groups(mlp: MLP, plans: Sequence[MlpPlan]) -> list[_Group]:
    """A plan's units; a separable plan's by the leaf each part reads."""
    groups, start = [], 0
    for p in plans:
        n = len(p.spec.units)
        if p.spec.parts and sum(part.units for part in p.spec.parts) == n:
            for i, part in enumerate(p.spec.parts):
                groups.append(_Group(np.arange(start, start + part.units), p, i))
                start += part.units
            continue
        groups.append(_Group(np.arange(start, start + n), p))
        start += n
    if start > mlp.d_mlp:
        raise Refused(f"MLP writing {plans[0].output.name}: fewer units than its plan builds")
    if start < mlp.d_mlp:
        groups.append(_Group(np.arange(start, mlp.d_mlp), None))
    return groups


def _group_error(
    stream: Stream,
    mlp: MLP,
    group: _Group,
    nodes: Mapping[int, SOp],
    limit: int,
    memos: tuple[dict | None, dict | None],
) -> Part:
    """The group's output error bound per direction as ``delta + relative * |value|``
    (the exact value it writes there), the largest ``|value|``, the bound at all, and
    the sign its values share (:class:`~.bounds_summed.Part`)."""
    memo = {} if memos[0] is None else memos[0]
    sp, (at, rows_out), valid, (aimed, signs) = _exact(stream, mlp, group, nodes, limit, memo)
    out = np.flatnonzero(aimed | (np.abs(mlp.W_out[group.columns]).sum(axis=0) > 0))
    # only the directions the group reads (rows) and writes (columns) take part: at long
    # lengths there are hundreds of thousands of combinations, and few of each
    rows = np.flatnonzero(np.abs(mlp.W_in[:, group.columns]).sum(axis=1) > 0)
    w_in, b_in = mlp.W_in[np.ix_(rows, group.columns)], mlp.b_in[group.columns]
    w_out = mlp.W_out[np.ix_(group.columns, out)]
    x = sp.columns(rows)  # [combos, read]
    r = stream.rounding
    found, relative, biggest, overall = (np.zeros(mlp.W_out.shape[1]) for _ in range(4))
    valued: dict[int, list] = {d: [] for d in out.tolist()}  # (error, |value|) where not 0
    # an output only this group writes is summed from its units alone (exact, at times)
    alone = np.count_nonzero(mlp.W_out[:, out], axis=0) == np.count_nonzero(w_out, axis=0)
    weights = _Weights(
        w_in,
        b_in,
        w_out,
        r.columns(w_in),
        r.columns(mlp.W_out)[out] if r.u else None,
        alone & (mlp.b_out[out] == 0),
    )
    # up to PATTERN_CELLS (combination, unit) cells, every combination at once; past
    # that, a block of CHUNK_CELLS at a time (a large group's [combos, units] arrays over
    # half a million combinations would take gigabytes). Each row's bound is its own: its
    # activation pattern's linear part (a ramp's two units cancel), where the block's
    # patterns are few enough, else each unit by itself
    units = max(len(group.columns), 1)
    whole = len(x) * units <= PATTERN_CELLS
    step = max(len(x), 1) if whole else max(1, CHUNK_CELLS // units)
    for begin in range(0, len(x), step):
        part = slice(begin, begin + step)
        if begin:
            in_time("an MLP's combinations")
        target = rows_out[:, out][at[part]]
        dev = _kept_deviation(memos[1], stream, x[part], rows, target, weights)[valid[part]]
        size = np.abs(target[valid[part]])
        zero = size == 0
        # column by column: a max over axis 0 of a million rows of a few numbers is slower
        for j, d in enumerate(out.tolist()):
            found[d] = max(found[d], dev[zero[:, j], j].max(initial=0.0))
            valued[d].append((dev[~zero[:, j], j], size[~zero[:, j], j]))
            biggest[d] = max(biggest[d], size[:, j].max(initial=0.0))
            overall[d] = max(overall[d], dev[:, j].max(initial=0.0))
    for d, pairs in valued.items():  # what the zeros' bound leaves, per unit of value
        for dev_at, size_at in pairs:
            over = np.maximum(dev_at - found[d], 0.0) / size_at
            relative[d] = max(relative[d], over.max(initial=0.0))
    if group.part is None:
        return Part(None, found, relative, biggest, overall, signs)
    samples = {
        d: (np.concatenate([s for _, s in pairs]), np.concatenate([e for e, _ in pairs]))
        for d, pairs in valued.items()
    }
    return Part(group.plan, found, relative, biggest, overall, signs, samples)


@dataclass(frozen=True)
class _Weights:
    """A group's weights on the directions it reads and writes, and its rounding."""

    w_in: np.ndarray  # [read, units]
    b_in: np.ndarray  # [units]
    w_out: np.ndarray  # [units, written]
    gammas: np.ndarray  # [units]: each pre-activation's rounding, per unit of its terms' size
    out_rounding: np.ndarray | None  # [written]: W_out's columns' unit roundoff (float32)
    alone: np.ndarray | None = None  # [written]: outputs no other unit or bias writes

    def arrays(self) -> tuple[np.ndarray | None, ...]:
        return (self.w_in, self.b_in, self.w_out, self.gammas, self.out_rounding, self.alone)


def _kept_deviation(
    shared: dict | None, stream: Stream, x: np.ndarray, rows: np.ndarray, target, w: _Weights
) -> np.ndarray:
    """:func:`_deviation`, found again in ``shared`` where a build bounded the same
    weights at the same residuals, with the same errors in them (:mod:`.bounds_kept`)."""
    relative = None if stream.relative is None else stream.relative[rows]
    parts = (x, stream.delta[rows], relative, stream.rounding.u, target, *w.arrays())
    cells = len(x) * max(w.w_in.shape[1], 1)
    return kept(
        shared,
        "an MLP group's deviation",
        parts,
        cells,
        lambda: _deviation(stream, x, rows, target, w),
    )


def _deviation(
    stream: Stream,
    x: np.ndarray,
    rows: np.ndarray,
    target: np.ndarray,
    w: _Weights,
) -> np.ndarray:
    """[combos, written]: how far the group's output can be from ``target`` at exact
    residuals ``x`` (the directions ``rows`` alone) with the stream's input errors."""
    z = x @ w.w_in + w.b_in  # [combos, units]
    error = stream.error(x, rows)  # [combos, read]
    spread = error @ np.abs(w.w_in)  # [combos, units]: how far the input errors move z
    # each combination's own terms: a one-hot read as a table holds one 1, not all of them
    rounded = w.gammas * ((np.abs(x) + error) @ np.abs(w.w_in) + np.abs(w.b_in))
    u = stream.rounding.u
    exact = exact_units(x, error, w.w_in, w.b_in, u) if u else None
    if exact is not None and len(exact[0]):  # (a copy of a one-hot: its ones as well)
        rounded[:, exact[0]] = np.where(exact[1], 0.0, rounded[:, exact[0]])
    err = _moved(error, rounded, z, w.w_in, w.w_out, spread)  # [combos, written]
    if w.out_rounding is not None:
        hidden = np.maximum(z + spread + rounded, 0.0)
        out_err = w.out_rounding * (hidden @ np.abs(w.w_out))
        if exact is not None and len(exact[0]) and w.alone is not None and w.alone.any():
            off = z + spread + rounded < 0  # off over the whole interval: an exact 0
            summed = exact_outputs(exact, off, hidden, w.w_out, u) & w.alone[None]
            out_err = np.where(summed, 0.0, out_err)
        err = err + out_err
    return np.abs(np.maximum(z, 0.0) @ w.w_out - target) + err


def _exact(stream: Stream, mlp: MLP, group: _Group, nodes, limit: int, memo: dict) -> tuple:
    """The group's combinations, their exact outputs (a code per combination into rows of
    encodings: the rows repeat), which occur, and the directions those outputs fill with
    the sign their values share there; kept in ``memo`` for the float32 pass (and
    edited weights), which need the same."""
    leaves = [leaf.key[0] for leaf in group.plan.leaves] if group.plan else []
    if group.plan is not None and group.part is not None:
        k = group.plan.spec.parts[group.part].leaf
        leaves = [leaves[k]] if k >= 0 else []
    read = (*sorted(read_nodes(stream, mlp.W_in[:, group.columns])), *leaves)
    key = (id(group.plan), group.part, read, tuple(stream.index), limit)
    if key not in memo:
        what = _name(group)
        sp = shared_space(memo, stream, read, limit, what)
        if group.part is None:
            at, rows = _target(stream, group, sp, nodes, leaves, what)
        else:
            at, rows = _part_target(stream, group, sp)
        valid = at >= 0
        used = rows[np.unique(at[valid])]  # [values, d_model]: the encodings that occur
        aimed = np.abs(used).max(axis=0, initial=0.0) > 0  # [d_model]
        # 1 or -1 where every value has that sign (or is 0), else 0 (bounds_summed)
        signs = np.where(used.min(axis=0, initial=0.0) >= 0, 1.0, 0.0)
        signs = np.where(used.max(axis=0, initial=0.0) <= 0, -1.0, signs)
        at = np.maximum(at, 0)
        # the plan kept alive with its id
        memo[key] = (group.plan, (sp, (at, rows), valid, (aimed, signs)))
    return memo[key][1]


def _moved(
    delta: np.ndarray,
    rounded: np.ndarray,
    z: np.ndarray,
    w_in: np.ndarray,
    w_out: np.ndarray,
    spread: np.ndarray | None = None,
) -> np.ndarray:
    """How far the output moves when the input moves by ``delta`` and the pre-activations
    round by ``rounded``: units on over the whole interval act linearly, so their input
    error goes through ``w_in @ w_out`` at once (a ramp's two units cancel); a unit that
    may switch moves by at most ``min(r, max(0, z + r))``. ``spread``: ``delta @ |w_in|``,
    where the caller has it. Past PATTERN_CELLS cells, or too many patterns for
    LINEAR_BUDGET, each unit by itself (looser)."""
    delta = np.broadcast_to(delta, (len(z), w_in.shape[0]))  # per combination
    spread = delta @ np.abs(w_in) if spread is None else spread
    radius = spread + rounded
    on = z - radius >= 0  # [combos, units]
    switching = np.where(on, 0.0, np.minimum(radius, np.maximum(z + radius, 0.0)))
    err = switching @ np.abs(w_out) + (on * rounded) @ np.abs(w_out)
    if on.size > PATTERN_CELLS:  # too many rows to sort into patterns in time
        return err + (on * spread) @ np.abs(w_out)  # unit by unit: looser, always sound
    in_time("an MLP's activation patterns")
    patterns, which = _patterns(on)
    # each pattern's product reads only the units it has on: a one-hot copy has two on of
    # hundreds, and counted at all of them its 129 patterns looked 60 times dearer
    on_units = min(int(patterns.sum()) + PATTERN_OVERHEAD * len(patterns), patterns.size)
    if on_units * w_in.shape[0] * w_out.shape[1] > LINEAR_BUDGET:
        return err + (on * spread) @ np.abs(w_out)
    if len(patterns) == 1:  # one pattern (every unit on, say): no rows to sort
        return err + delta @ np.abs(w_in[:, patterns[0]] @ w_out[patterns[0]])
    linear = np.empty_like(err)
    order = np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[order], np.arange(1, len(patterns)))
    for i, (p, rows) in enumerate(zip(patterns, np.split(order, cuts), strict=True)):
        if i % 256 == 0:
            in_time("an MLP's activation patterns")
        linear[rows] = delta[rows] @ np.abs(w_in[:, p] @ w_out[p])
    return err + linear


def _patterns(on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``on`` and each row's index among them (rows as integers where
    they fit: sorting a million short rows is slow)."""
    if on.shape[1] > 62:  # rows as byte strings: one sort of short keys, not one per column
        packed = np.ascontiguousarray(np.packbits(on, axis=1))  # [combos, ceil(units / 8)]
        rows = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
        _, first, which = np.unique(rows, return_index=True, return_inverse=True)
        return on[first], which.reshape(-1)
    keys = on.astype(np.int64) @ (np.int64(1) << np.arange(on.shape[1], dtype=np.int64))
    distinct, first, which = np.unique(keys, return_index=True, return_inverse=True)
    return on[first], which.reshape(-1)


def _target(
    stream: Stream,
    group: _Group,
    sp: Space,
    nodes: Mapping[int, SOp],
    leaves: list[int],
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact encoding of the output at every combination, as a code per combination
    into rows of encodings (``[values, d_model]``); -1 where the combination does not
    occur: the program raises there (it rejects such inputs), or the value is outside
    the output's value set."""
    if group.plan is None:
        return np.zeros(len(sp), dtype=np.int64), np.zeros((1, len(stream.index)))
    out = group.plan.output
    output = nodes.get(out.key[0])
    if output is None or any(n not in nodes for n in leaves):
        raise Refused(f"{what}: the s-ops it computes are not known")
    leaf_ids = list(dict.fromkeys(leaves))
    columns = {n: (sp.column(n), list(sp.values[sp.nodes.index(n)])) for n in leaf_ids}
    try:
        codes, table = evaluate(output, columns, [nodes[n] for n in leaf_ids])
    except (TypeError, KeyError) as err:
        raise Refused(f"{what}: cannot compute its output from its leaves ({err})") from None
    found = value_indices(out, table) if table else np.zeros(0, dtype=np.int64)
    # a value outside the output's value set (which holds every value it can take) means
    # the leaves' combination never occurs (the product of their sets over-approximates)
    at = np.where(codes >= 0, found[np.maximum(codes, 0)] if len(found) else -1, -1)
    return at, _writes(out, stream.index)


def _part_target(stream: Stream, group: _Group, sp: Space) -> tuple[np.ndarray, np.ndarray]:
    """What one part of a separable plan adds at every combination (:func:`_target`'s
    codes and rows): its value at the leaf's value, in the output's direction; -1 where
    the leaf's value is outside the MLP's domain."""
    assert group.plan is not None and group.part is not None
    plan, part = group.plan, group.plan.spec.parts[group.part]
    direction = np.zeros(len(stream.index))
    direction[stream.index[plan.output.directions[0]]] = 1.0
    if part.leaf < 0:
        return np.zeros(len(sp), dtype=np.int64), part.values[0] * direction[None]
    leaf = plan.leaves[part.leaf]
    node = leaf.key[0]
    codes = value_indices(leaf, list(sp.values[sp.nodes.index(node)]))[sp.column(node)]
    values = np.asarray(part.values)
    known = np.isfinite(values)
    at = np.where(codes >= 0, np.where(known[np.maximum(codes, 0)], codes, -1), -1)
    return at, np.nan_to_num(values)[:, None] * direction[None]


def _writes(out: Feature, index: Mapping[str, int]) -> np.ndarray:
    rows = np.zeros((max(len(out.writes), 1), len(index)))
    for i, write in enumerate(out.writes):
        for d, w in write.items():
            rows[i, index[d]] += w
    return rows


def _at_bos(stream: Stream, mlp: MLP) -> tuple[np.ndarray, np.ndarray]:
    """What the MLP adds at BOS and its error bound (BOS is one residual for every input)."""
    r = stream.rounding
    x, delta = stream.bos[None], stream.bos_delta
    z = x @ mlp.W_in + mlp.b_in
    rounded = r.columns(mlp.W_in) * ((np.abs(x[0]) + delta) @ np.abs(mlp.W_in) + np.abs(mlp.b_in))
    err = _moved(delta, rounded, z, mlp.W_in, mlp.W_out)[0]
    if r.u:
        hidden = np.maximum(z[0] + delta @ np.abs(mlp.W_in) + rounded, 0.0)
        err = err + r.columns(mlp.W_out) * (hidden @ np.abs(mlp.W_out))
    return (np.maximum(z, 0.0) @ mlp.W_out + mlp.b_out)[0], err
