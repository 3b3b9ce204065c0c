"""Checking MLP units on every domain point: complete, but without redundant work.

A hidden unit's pre-activation is a sum of one contribution per leaf (a row
of ``writes @ W_in`` picked by the leaf's value). Constructions along one
line ``z`` (:mod:`.axis`) read some leaves only through ``z``: their
contributions are multiples ``a_k(value) * r`` of one vector ``r``. Among
points with equal other leaves every unit is then ``relu(base + z r)``, affine
in ``z`` between the units' breakpoints, and so is the output error; on a set
of points with one target in one such interval its largest size is at the
smallest or largest ``z``. Checking those two points per interval, with the
tolerance tightened by a bound on rounding, proves the tolerance on every
point: the same guarantee as checking them all, on a fraction of the points.

>>> from rasplab.compiler.units import Leaf, Problem, Target, Unit
>>> leaf = Leaf.numerical("x", [0.0, 1.0])
>>> p = Problem([leaf], np.array([[0], [1]]), Target.numerical("y"), [0.0, 2.0])
>>> check(p, [Unit({"x": 2.0}, {"y": 1.0})]), check(p, [Unit({"x": 1.0}, {"y": 1.0})])
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .limits import checkpoint
from .line_check import along_line, cheaper
from .storage import Storage
from .units import ONE, Problem, Unit, _distinct, _first, _ids

__all__ = ["check"]

TOLERANCE = 1e-6  # relative to the largest numerical target (1 for one-hot targets)
EPS = float(np.finfo(np.float64).eps)
MIN_POINTS = 2048  # below this, checking every point is cheaper than finding classes
CELLS = 1 << 16  # floats per chunk of [points, units] work (small enough to stay in cache)


def _matrices(p: Problem, units: Sequence[Unit]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Per leaf: value -> pre-activation contribution [values, units]; bias; W_out."""
    dirs, tables = p.writes()
    index = {d: i for i, d in enumerate(dirs)}
    outs = {d: i for i, d in enumerate(p.target.directions)}
    w_in = np.zeros((len(dirs), len(units)))  # [directions, units]
    w_out = np.zeros((len(units), len(outs)))  # [units, outputs]
    for u, unit in enumerate(units):
        for d, w in unit.w_in.items():
            if d in index:
                w_in[index[d], u] = w
        for d, w in unit.w_out.items():
            w_out[u, outs[d]] = w
    return [t @ w_in for t in tables], w_in[index[ONE]], w_out


def check(p: Problem, units: Sequence[Unit]) -> bool:
    """True if the units compute the target exactly (to 1e-6, or the target's slack) on
    every domain point."""
    parts, bias, w_out = _matrices(p, units)
    numeric = p.target.kind is Storage.SCALAR
    out = p.out
    scale = max(1.0, float(np.abs(out).max(initial=0))) if numeric else 1.0
    tol = max(TOLERANCE * scale, p.target.slack if numeric else 0.0)
    args = (numeric, parts, bias, w_out)
    line = _shared_line(parts) if len(p.codes) >= MIN_POINTS else None
    by_line = line is not None and cheaper(p.codes, line, w_out)
    verdict = along_line(p.codes, out, *args, line, tol) if by_line else None
    if verdict is not None:  # every point, by sorted breakpoints along the line
        return verdict
    found = _representatives(p, parts, bias, out, w_out, line) if line is not None else None
    if found is not None and found[1] <= tol / 2:
        rows, slack = found
        if _check_points(p.codes[rows], out[rows], *args, tol - slack):
            return True  # every point is within tol of its representative's error
        if not _check_points(p.codes[rows], out[rows], *args, tol):
            return False  # a domain point is off
        # within the slack of the tolerance: only the full check can tell
    return _check_points(p.codes, out, *args, tol)


def _check_points(codes, out, numeric: bool, parts, bias, w_out, tol: float) -> bool:
    n_units, n_out = w_out.shape
    units, weights, cols, starts = _sparse(w_out)
    sparse = len(units) * 16 < n_units * n_out
    chunk = max(256, CELLS // max(1, n_units, n_out))
    for start in range(0, len(codes), chunk):
        checkpoint("checking an MLP on every input (stage 4)")
        block = codes[start : start + chunk]
        pre = bias + sum(part[block[:, k]] for k, part in enumerate(parts))  # [points, units]
        act = np.maximum(pre, 0.0)
        if sparse:
            got = np.zeros((len(block), n_out))
            if len(units):
                got[:, cols] = np.add.reduceat(act[:, units] * weights, starts, axis=1)
        else:
            got = act @ w_out  # [points, outputs]
        want = out[start : start + chunk]
        if numeric:
            got[:, 0] -= want
        else:
            got[np.arange(len(block)), want] -= 1.0
        if np.abs(got).max(initial=0.0) > tol:
            return False
    return True


def _sparse(w_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Non-zeros of W_out grouped by output: unit, weight, and each output's first entry."""
    units, outs = np.nonzero(w_out)
    order = np.argsort(outs, kind="stable")
    units, outs = units[order], outs[order]
    cols, starts = np.unique(outs, return_index=True)
    return units, w_out[units, outs], cols, starts


def _representatives(p: Problem, parts, bias, out: np.ndarray, w_out: np.ndarray, line):
    """Domain rows that stand for every point, and the slack to subtract from the tolerance.

    ``line``: the leaves the units read along one line (:func:`_shared_line`).
    """
    members, coefs, residual, r = line
    z = np.zeros(len(p.codes))
    for k in members:
        z += coefs[k][p.codes[:, k]]
    others = [k for k in range(len(parts)) if k not in members]
    cls = _ids(p.codes[:, others]) if others else np.zeros(len(z), dtype=np.int64)
    first = _first(cls)
    if len(first) * len(r) > CELLS * 16:
        return None
    base = (
        bias + sum(parts[k][p.codes[first, k]] for k in others) + sum(parts[k][0] for k in members)
    )
    base = np.broadcast_to(base, (len(first), len(r)))  # [classes, units]
    piece = _pieces(cls, z, base, r)
    group = _ids(np.stack([cls, piece, _ids(out)], axis=1))
    order = np.lexsort((z, group))
    edge = np.flatnonzero(np.diff(group[order])) + 1
    rows = _distinct(np.concatenate([order[[0]], order[edge], order[edge - 1], order[[-1]]]))
    if len(rows) * 2 > len(p.codes):
        return None
    dz = len(members) * EPS * sum(float(np.abs(coefs[k]).max()) for k in members)
    per_unit = 2.0 * (residual + dz * np.abs(r))
    return rows, float((np.abs(w_out).T @ per_unit).max(initial=0.0))


def _pieces(cls: np.ndarray, z: np.ndarray, base: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per point: which interval between its class's unit breakpoints (``base + z r = 0``) z is in.

    On one interval every unit is affine in z, so the output error is too, and its largest
    size on a set of points is at the smallest or the largest z (the representatives).
    """
    active = np.flatnonzero(r)
    breaks = np.sort(-base[:, active] / r[active], axis=1)  # [classes, active units]
    piece = np.zeros(len(z), dtype=np.int64)
    order = np.argsort(cls, kind="stable")
    bounds = np.flatnonzero(np.diff(cls[order])) + 1
    for idx in np.split(order, bounds):
        if len(idx):
            piece[idx] = np.searchsorted(breaks[cls[idx[0]]], z[idx])
    return piece


def _shared_line(parts: list[np.ndarray]):
    """Leaves whose contributions all vary along one vector ``r``: members, a_k, residual, r."""
    varying = {}
    for k, part in enumerate(parts):
        d = part - part[0]
        size = np.abs(d).max(axis=1, initial=0.0)  # no units: nothing varies
        varying[k] = (d, size)
    ranked = sorted(varying, key=lambda k: -len(parts[k]))
    for ref in ranked:
        d, size = varying[ref]
        if size.max(initial=0.0) == 0.0:
            continue
        row = d[int(np.argmax(size))]
        line = _along(varying, ranked, row / np.linalg.norm(row))
        if ref in line[0]:
            return line
    return None


def _along(varying: dict, ranked: list[int], r: np.ndarray):
    """The leaves whose contributions are multiples of ``r`` (to rounding), with a_k."""
    members, coefs, residual = [], {}, np.zeros(len(r))
    for k in ranked:
        dk, sk = varying[k]
        a = dk @ r
        res = np.abs(dk - np.outer(a, r)).max(axis=0)
        peak = float(sk.max(initial=0.0))
        if float(res.max(initial=0.0)) <= 1e-9 * max(peak, 1.0):
            members.append(k)
            coefs[k] = a
            residual += res + 4.0 * EPS * (peak + float(np.abs(a).max(initial=0.0)))
    return members, coefs, residual, r
