"""Exact MLPs for stage 4: one ReLU layer computing a function on finitely many points.

An MLP reads *leaves* - s-ops stored in the residual stream, categorical
(one-hot) or numerical (one scalar) - and writes one s-op. The function is
known only on a finite *domain* of leaf-value tuples (from the value sets),
and the MLP must be exact there. Constructions, cheapest first:

* ``linear``: the outputs are affine in the leaves' one-hots and scalars
  (a lookup from one categorical leaf, ``a - b``, ...): one unit per output;
* ``lookup``: categorical leaves only; one unit per combination of value
  *classes* (values the function cannot tell apart share a class);
* ``axis``: the function depends on the numerical leaves only through one
  linear combination ``z``; along ``z`` it is piecewise constant, built from
  clamped ramps ``relu(L(z - t) + 1/2) - relu(L(z - t) - 1/2)`` whose
  thresholds ``t`` sit midway between neighbouring values, far from every
  value, so small errors in ``z`` change nothing. One categorical leaf may
  move the thresholds (a table, linear in its one-hot); the others gate;
* ``separable``: a numerical output that is a sum of functions of single
  leaves (two counts added);
* ``interpolate``: a numerical output of one numerical leaf (a count head's
  ``B / (B + width)`` decoded to the width): the line through its points,
  one unit per point (fewer where the target has slack: the program's output,
  which the unembedding rounds to the nearest value, may be off by a little).
  Unlike ``axis`` it passes small errors in the leaf on, so it is used only
  where even the steepest piece keeps them far below the output's smallest
  gap.

Every construction is checked on the whole domain before it is used.

>>> leaf = Leaf.categorical("c", ["a", "b", "c"])
>>> spec = synthesize([leaf], np.array([[0], [1], [2]]), Target.numerical("y"), [0.0, 5.0, 5.0])
>>> spec.strategy, len(spec.units)
('linear', 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .axis import axis, axis_candidates
from .axis_lines import LEAF_ERROR, LINE_POINTS, PASSED_ON, bends, passes_on
from .checking import check
from .fitting import Design, exact_fit, targets
from .limits import MLP_STAGE, checkpoint
from .storage import Storage
from .units import (
    ONE,
    Leaf,
    MLPSpec,
    Part,
    Problem,
    Target,
    Unit,
    _Acc,
    _class_readout,
    _classes,
    _distinct,
    _first,
    _ids,
)

__all__ = ["synthesize", "threshold_copy", "decodable_scale"]

TOL = 1e-9


def _linear(p: Problem) -> list[Unit] | None:
    """Outputs affine in the leaves' one-hots and scalars."""
    columns: list[tuple[int, int | None]] = []  # (leaf, value), as in Design.columns
    reads: list[Mapping[str, float]] = []  # per column: how a unit reads it
    cats = 0
    for k, leaf in enumerate(p.leaves):
        if leaf.kind is Storage.SCALAR:
            columns.append((k, None))
            reads.append(leaf.readouts[0])
            continue
        for v in range(1 if cats else 0, leaf.size):  # one-hots of two leaves share a sum
            columns.append((k, v))
            reads.append(leaf.readouts[v])
        cats += 1
    if not cats:
        columns.append((-1, None))
        reads.append({ONE: 1.0})
    if len(columns) > 300:
        return None  # too wide to be a plain table
    fitted = exact_fit(Design.for_problem(p, columns), targets(p), _target_scale(p))
    if fitted is None:
        return None
    coef, lows = fitted
    units = []
    for j, direction in enumerate(p.target.directions):
        if not np.any(coef[:, j]):
            continue
        low = float(lows[j])
        acc = _Acc().write({direction: 1.0})
        for c, readout in zip(coef[:, j], reads, strict=True):
            if c:
                acc.read(readout, float(c))
        acc.bias(-low)
        units.append(acc.done())
        if low:
            units.append(_Acc().bias(1.0).write({direction: low}).done())
    return units


def _target_scale(p: Problem) -> float:
    if p.target.kind is Storage.ONE_HOT:
        return 1.0
    return float(np.abs(p.out).max(initial=0.0))


def _lookup(p: Problem) -> list[Unit] | None:
    """Categorical leaves only: one AND unit per class combination."""
    if any(leaf.kind is not Storage.ONE_HOT for leaf in p.leaves):
        return None
    classes = [_classes(p, k) for k in range(len(p.leaves))]
    combos = np.stack([cl[p.codes[:, k]] for k, cl in enumerate(classes)], axis=1)
    first = np.sort(_first(_ids(combos)))  # in order of appearance
    units = []
    for n in first.tolist():
        combo, o = combos[n].tolist(), p.out[n].item()
        vec = p.vector(o)
        if not vec:
            continue
        acc = _Acc().write(vec).bias(1.0 - len(combo))
        for leaf, cl, c in zip(p.leaves, classes, combo, strict=True):
            acc.read(_class_readout(leaf, cl, c), 1.0)
        units.append(acc.done())
    return units


# ---------------------------------------------------------------- separable


@dataclass(frozen=True)
class _Separated:
    """A separable MLP's units, by the leaf each part reads (:class:`~.units.Part`)."""

    units: list[Unit]
    parts: tuple[Part, ...]
    residual: float  # the most the parts' sum misses the output by, over the domain


def _separable(p: Problem) -> _Separated | None:
    """A numerical output that is a sum of one-leaf functions."""
    if p.target.kind is not Storage.SCALAR or len(p.leaves) < 2:
        return None
    if sum(leaf.size for leaf in p.leaves) > 400:
        return _separable_from_axes(p)  # too many columns to fit: read each part off its axis
    owner: list[tuple[int, int | None]] = [(-1, None)]
    owner += [(k, v) for k, leaf in enumerate(p.leaves) for v in range(1, leaf.size)]
    column = {kv: j for j, kv in enumerate(owner)}
    fitted = exact_fit(Design.for_problem(p, owner), targets(p), _target_scale(p))
    if fitted is None:
        return _separable_from_axes(p)
    coef = fitted[0][:, 0]
    parts = [
        np.array([0.0] + [float(coef[column[(k, v)]]) for v in range(1, leaf.size)])
        for k, leaf in enumerate(p.leaves)
    ]
    found = _from_parts(p, float(coef[0]), parts, single=_fewer_units)
    # a least-squares fit over hundreds of columns may miss by its own rounding (by 1e-5
    # for dyck1's two counts over digits at 300 positions): then the parts off the axes
    return found if found is not None else _separable_from_axes(p)


def _separable_from_axes(p: Problem) -> _Separated | None:
    """A sum of one-leaf functions read off the points where every other leaf holds its
    value at the first point (two counts: their pairs ``(i, 0)`` and ``(0, j)``), then
    checked on every point; None where such points are missing or the sum misses."""
    base = p.codes[0]  # [leaves]
    parts: list[np.ndarray] = []
    for k, leaf in enumerate(p.leaves):
        others = np.delete(p.codes, k, axis=1) == np.delete(base, k)  # [points, leaves - 1]
        axis_rows = np.flatnonzero(others.all(axis=1))
        h = np.full(leaf.size, np.nan)
        h[p.codes[axis_rows, k]] = p.out[axis_rows] - p.out[0]
        parts.append(h)
    return _from_parts(p, float(p.out[0]), parts, single=_fewer_units)


def _from_parts(p: Problem, constant: float, parts: list[np.ndarray], single) -> _Separated | None:
    """Units for ``constant + sum_k parts[k][leaf k's value]``, each part built by
    ``single`` from its own leaf; None where that sum misses the output at some point."""
    total = constant + sum(h[p.codes[:, k]] for k, h in enumerate(parts))  # [points]
    scale = max(1.0, float(np.abs(p.out).max()))
    residual = float(np.abs(total - p.out).max(initial=0.0))
    if not residual <= 1e-9 * scale:  # NaN (a missing value) fails too
        return None
    units = [_Acc().bias(1.0).write(p.vector(constant)).done()] if constant else []
    found = [Part(-1, len(units), (constant,))]
    # the parts share the output's slack: each line (a number's part) takes its share
    lines = sum(leaf.kind is Storage.SCALAR for leaf in p.leaves)
    target = replace(p.target, slack=p.target.slack / max(lines, 1))
    for k, leaf in enumerate(p.leaves):
        present = _distinct(p.codes[:, k])
        sub = Problem([leaf], present[:, None], target, parts[k][present], errors=p.errors)
        part = single(sub)
        p.crossed += sub.crossed
        if part is None:
            return None
        units += part
        values = np.full(leaf.size, np.nan)
        values[present] = parts[k][present]
        found.append(Part(k, len(part), tuple(values.tolist())))
    return _Separated(units, tuple(found), residual)


def _fewer_units(p: Problem) -> list[Unit] | None:
    """The smaller of the exact one-leaf constructions and the line through the points.
    A count decoded to its width by a line has half the units of a staircase, and its
    terms do not cancel: a float32 sum of them rounds far less."""
    built = [u for u in (_single(p), _interpolate(p)) if u is not None]
    return min(built, key=len) if built else None


# ---------------------------------------------------------------- interpolate


def decodable_scale(n: int) -> float:
    """The smallest ``B = n / 2^k`` at which a count of up to ``n`` keys, read from its
    weight ``B / (B + w)``, is still decoded by a line (:func:`_interpolate`'s test of
    the steepest slope, ``(B + n)^2 / B``); ``n`` where none smaller passes.

    The weight's float32 rounding moves the decoded count by ``(B + w)`` times its
    share, so a smaller ``B`` decodes closer: at 1,024 positions ``B = 512`` leaves
    three quarters of the error of ``B = 1,024``.

    >>> decodable_scale(1024), decodable_scale(512), decodable_scale(8)
    (512.0, 128.0, 1.0)
    """
    scale = float(n)
    while scale >= 2.0 and LEAF_ERROR * (scale / 2 + n) ** 2 / (scale / 2) <= PASSED_ON:
        scale /= 2
    return scale


def _interpolate(p: Problem) -> list[Unit] | None:
    """The line through every (z, y) point, one unit per bend (:func:`.axis_lines.bends`)."""
    if (
        p.target.kind is not Storage.SCALAR
        or len(p.leaves) != 1
        or p.leaves[0].kind is not Storage.SCALAR
    ):
        return None
    leaf = p.leaves[0]
    z, first = np.unique(np.asarray(leaf.coords)[p.codes[:, 0]], return_index=True)
    y = p.out[first]
    if len(z) < 3 or len(z) > LINE_POINTS:  # two points are a line: ``linear`` builds it
        return None
    slopes = np.diff(y) / np.diff(z)  # [points - 1]
    if not passes_on(z, slopes, np.diff(np.unique(y))):
        return None
    direction = p.target.directions[0]
    if p.target.slack > 0:  # fewer points, each line within half the slack of the rest
        keep = _knots(z, y, p.target.slack / 2)
        z, y = z[keep], y[keep]
        slopes = np.diff(y) / np.diff(z)
    sign, start, bent_by, corners = bends(z, y, slopes)
    units = [_Acc().bias(1.0).write({direction: start}).done()] if start else []
    for zk, bend in zip(corners.tolist(), bent_by.tolist(), strict=True):
        if bend:
            unit = _Acc().read(leaf.readouts[0], sign).bias(-sign * zk)
            units.append(unit.write({direction: bend}).done())
    return units


def _knots(z: np.ndarray, y: np.ndarray, within: float) -> np.ndarray:
    """Indices of points (the first and last among them) such that the line through
    each two consecutive ones passes within ``within`` of every point between them."""
    keep, i, last = [0], 0, len(z) - 1
    while i < last:
        j = i + 1
        while j < last and _chord_error(z, y, i, j + 1) <= within:
            j += 1
        keep.append(j)
        i = j
    return np.array(keep)


def _chord_error(z: np.ndarray, y: np.ndarray, i: int, j: int) -> float:
    """The largest distance of points ``i..j`` from the line through points i and j."""
    t = (z[i : j + 1] - z[i]) / (z[j] - z[i])
    return float(np.abs(y[i] + t * (y[j] - y[i]) - y[i : j + 1]).max())


def _single(p: Problem) -> list[Unit] | None:
    best = None
    for strategy in (_linear, _lookup, axis):
        units = strategy(p)
        if units is not None and check(p, units) and (best is None or len(units) < len(best)):
            best = units
    return best


COPY_RAMP = 4.0  # a copied direction below 3/8 reads as 0, above 5/8 as 1; a power of two,
# so that float arithmetic copies a direction near 1 exactly (:mod:`.exact_sums`)


def threshold_copy(p: Problem) -> list[Unit] | None:
    """A one-hot copied direction by direction through a clamped ramp at 1/2 (to a
    one-hot, or to a number: each direction's ramp writes its value): exact where each
    direction is within 3/8 of 0 or 1, so small errors in the leaf are gone from its
    copy (a linear copy passes them on). None unless ``p`` maps each value of its one
    one-hot leaf to an output value of its own.

    >>> leaf = Leaf.categorical("h", [0, 1])
    >>> p = Problem([leaf], [[0], [1]], Target.categorical(["c:0", "c:1"]), [0, 1])
    >>> units = threshold_copy(p)
    >>> len(units), check(p, units)
    (4, True)
    """
    if len(p.leaves) != 1 or p.leaves[0].kind is not Storage.ONE_HOT:
        return None
    pairs = set(zip(p.codes[:, 0].tolist(), p.out.tolist(), strict=True))
    outs = [o for _, o in pairs]
    if len({v for v, _ in pairs}) != len(pairs) or len(set(outs)) != len(outs):
        return None  # not one output per value, each its own
    units = []
    for v, o in sorted(pairs):
        readout, out = p.leaves[0].readouts[v], p.vector(o)
        for shift, sign in ((0.5, 1.0), (-0.5, -1.0)):
            unit = _Acc().read(readout, COPY_RAMP).bias(shift - COPY_RAMP / 2)
            units.append(unit.write(out, sign).done())
    return units


LINES = ("linear", "interpolate")  # constructions that pass a number's error on


def _steps_shaped(p: Problem) -> bool:
    """Whether the output is a one-hot or a 0/1 flag read off some number."""
    if not any(leaf.kind is Storage.SCALAR for leaf in p.leaves):
        return False
    if p.target.kind is Storage.ONE_HOT:
        return True
    out = np.asarray(p.out)  # two values at most, without sorting millions of points
    return not out.size or bool(np.all((out == out.min()) | (out == out.max())))


def _lookup_cost(p: Problem) -> int | None:
    if any(leaf.kind is not Storage.ONE_HOT for leaf in p.leaves):
        return None
    combos = np.stack([_classes(p, k)[p.codes[:, k]] for k in range(len(p.leaves))], axis=1)
    return int(_ids(combos).max(initial=-1)) + 1


STAGE = MLP_STAGE  # where a compile past its limits stops, here


def synthesize(
    leaves: Sequence[Leaf],
    codes: np.ndarray,
    target: Target,
    out: Sequence[Any],
    errors: Mapping[str, tuple[float, float]] | None = None,
    copy: bool = False,
    cache: dict | None = None,
) -> MLPSpec | None:
    """The smallest exact construction found, or None (``copy``: :func:`threshold_copy`).

    ``codes[n, k]`` is the value index of leaf ``k`` at domain point ``n``;
    ``out[n]`` is the output there (an index into ``target.directions`` for a
    categorical target, a number for a numerical one). Candidates are ranked
    by their estimated size; the first that checks out on the domain wins.
    ``errors`` (direction -> (delta, relative)) makes ramps leave room for inputs
    that far off (:mod:`.input_errors`). ``cache``: what another synthesis of the same
    problem (with other errors) worked out that does not depend on them (:class:`Problem`).
    """
    checkpoint(STAGE)
    p = Problem(list(leaves), codes, target, out, cache, errors)
    if len(p.codes) == 0:
        return MLPSpec((), "empty")  # no input reaches this s-op: nothing to compute
    copied = threshold_copy(p) if copy else None
    if copied and check(p, copied):  # else (a number, say) built as any other map
        return MLPSpec(tuple(copied), "threshold copy")
    candidates: list[tuple[int, str, Any]] = []
    linear = _linear(p)
    if linear is not None:
        candidates.append((len(linear), "linear", lambda: linear))
    cost = _lookup_cost(p)
    if cost is not None:
        candidates.append((cost, "lookup", lambda: _lookup(p)))
    candidates += axis_candidates(p)
    interpolated = _interpolate(p)
    if interpolated is not None:
        candidates.append((len(interpolated), "interpolate", lambda: interpolated))
    size = sum(leaf.size for leaf in p.leaves)
    best = min((c[0] for c in candidates), default=None)
    if p.target.kind is Storage.SCALAR and len(p.leaves) > 1 and (best is None or best > 2 * size):
        candidates.append((size, "separable", lambda: _separable(p)))
    # a flag read off a number: steps (thresholds midway between the values), even at one
    # unit more, rather than a line, which passes the number's error on whole
    flag = _steps_shaped(p)
    for _, name, build in sorted(candidates, key=lambda c: c[0] + 1.5 * (flag and c[1] in LINES)):
        checkpoint(STAGE)  # each construction may take long at long lengths
        before = p.crossed
        built = build()
        units = built.units if isinstance(built, _Separated) else built
        if units is not None and check(p, units):
            slack = p.target.slack if name in ("interpolate", "separable") else 0.0
            crossed = p.crossed - before
            if isinstance(built, _Separated):
                return MLPSpec(tuple(units), name, slack, built.parts, built.residual, crossed)
            return MLPSpec(tuple(units), name, slack, crossed=crossed)
    return None
