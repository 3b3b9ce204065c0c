"""Checking MLP units on every point along one line, by sorted breakpoints.

Where some leaves reach the units only through one line ``z`` (the constructions of
:mod:`.axis`), the points with equal other leaves (a *class*) see every unit as
``relu(base_u + z r_u)``: zero on one side of its breakpoint ``t_u = -base_u / r_u``
and ``w_u r_u (z - t_u)`` on the other. With the breakpoints of a class sorted once,
the output at any ``z`` is a prefix sum over the units that are on there, found by a
binary search::

    out(z) = z * sum(w_u r_u) - sum(w_u r_u t_u)    over the units on at z
             + sum(w_u relu(base_u))                 over the units with r_u = 0

So every point is checked, as :func:`.checking.check` checks it row by row, at the cost
of ``log(units)`` per point instead of a row of units: causal dyck2's largest MLPs at
1,024 have about 4,000 units over 2 million points. The prefix sums cancel large
terms, so their rounding is bounded and taken off the tolerance; where that bound
leaves the answer open, the caller checks row by row.

>>> import numpy as np
>>> from rasplab.compiler.checking import _shared_line
>>> parts = [np.array([[0.0, 0.0], [1.0, -1.0], [2.0, -2.0]])]  # one leaf, z = 0, 1, 2
>>> codes, bias, w_out = np.array([[0], [1], [2]]), np.array([-0.5, 1.5]), np.eye(2)
>>> line = _shared_line(parts)
>>> outputs(codes, parts, bias, w_out, line).round(6).tolist()  # relu(z - .5), relu(1.5 - z)
[[0.0, 1.5], [0.5, 0.5], [1.5, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .units import _first, _ids

__all__ = ["MAX_CELLS", "along_line", "outputs"]

EPS = float(np.finfo(np.float64).eps)
MAX_CELLS = 1 << 23  # classes x units x outputs per array (64 MiB of float64; 4 arrays)
MAX_OUTPUTS = 8  # more outputs (a wide one-hot target): row by row is as cheap


@dataclass(frozen=True)
class _Side:
    """The units that move with ``z`` in one direction, per class: sorted breakpoints and
    prefix sums of ``w r`` and ``w r t`` (a leading zero row)."""

    t: np.ndarray  # [classes, units] breakpoints, ascending per class
    a: np.ndarray  # [classes, units + 1, outputs] prefix sums of w r
    b: np.ndarray  # [classes, units + 1, outputs] prefix sums of w r t
    scale: np.ndarray  # [classes, outputs]: sums of |w r| and |w r t| for the rounding bound
    scale_t: np.ndarray


def _side(base: np.ndarray, r: np.ndarray, w_out: np.ndarray) -> _Side:
    t = -base / r  # [classes, units]
    order = np.argsort(t, axis=1, kind="stable")
    t = np.take_along_axis(t, order, axis=1)
    wr = (w_out * r[:, None])[order]  # [classes, units, outputs]
    wrt = wr * t[:, :, None]
    zero = np.zeros((len(base), 1, w_out.shape[1]))
    a = np.concatenate([zero, np.cumsum(wr, axis=1)], axis=1)
    b = np.concatenate([zero, np.cumsum(wrt, axis=1)], axis=1)
    return _Side(t, a, b, np.abs(wr).sum(axis=1), np.abs(wrt).sum(axis=1))


def _classes(codes: np.ndarray, members: list[int], n_leaves: int):
    """Per point its class (equal leaves off the line) and per class its first point."""
    others = [k for k in range(n_leaves) if k not in members]
    cls = _ids(codes[:, others]) if others else np.zeros(len(codes), dtype=np.int64)
    return others, cls, _first(cls)


def _evaluate(codes, parts, bias, w_out, line):
    """Per point: the outputs by prefix sums, and a bound on their rounding and on the
    line's own error (the caller's ``line`` fits the leaves to rounding only)."""
    members, coefs, residual, r = line
    z = np.zeros(len(codes))
    for k in members:
        z += coefs[k][codes[:, k]]
    others, cls, first = _classes(codes, members, len(parts))
    base = bias + sum(parts[k][codes[first, k]] for k in others) + sum(parts[k][0] for k in members)
    base = np.broadcast_to(base, (len(first), len(r)))  # [classes, units]
    up, down, flat = r > 0, r < 0, r == 0
    rising = _side(base[:, up], r[up], w_out[up])  # on above their breakpoints
    falling = _side(base[:, down], r[down], w_out[down])  # on below them
    still = np.maximum(base[:, flat], 0.0) @ w_out[flat]  # [classes, outputs]
    got = still[cls].copy()  # [points, outputs]
    bound = np.zeros(len(codes))
    order = np.argsort(cls, kind="stable")
    for idx in np.split(order, np.flatnonzero(np.diff(cls[order])) + 1):
        c, zc = cls[idx[0]], z[idx][:, None]
        k = np.searchsorted(rising.t[c], z[idx], side="left")  # rising units on: t < z
        got[idx] += zc * rising.a[c, k] - rising.b[c, k]
        k = np.searchsorted(falling.t[c], z[idx], side="right")  # falling units on: t > z
        got[idx] += zc * (falling.a[c, -1] - falling.a[c, k]) - (falling.b[c, -1] - falling.b[c, k])
        size = np.abs(zc) * (rising.scale[c] + falling.scale[c])
        size += rising.scale_t[c] + falling.scale_t[c] + np.abs(still[c])
        bound[idx] = size.max(axis=1)
    # prefix sums of up to `units` terms, a product and two differences: (units + 4) eps
    bound *= (len(r) + 4) * EPS
    # the line: each unit's input is off by its residual and by z's own rounding
    dz = len(members) * EPS * sum(float(np.abs(coefs[k]).max()) for k in members)
    per_unit = residual + dz * np.abs(r) + 4 * EPS * (np.abs(base).max(axis=0) + np.abs(r))
    bound += float((np.abs(w_out).T @ per_unit).max(initial=0.0))
    return got, bound


def outputs(codes, parts, bias, w_out, line) -> np.ndarray:
    """The units' outputs ``[points, outputs]`` on every point, by prefix sums."""
    return _evaluate(codes, parts, bias, w_out, line)[0]


def along_line(codes, out, numeric: bool, parts, bias, w_out, line, tol: float) -> bool | None:
    """Whether the units are within ``tol`` of ``out`` on every point (``True``) or off
    somewhere (``False``); ``None`` where this cannot tell: no line, too many classes or
    outputs to hold, or an error within the rounding bound of ``tol``."""
    if line is None or not line[0] or w_out.shape[1] > MAX_OUTPUTS:
        return None
    _, _, first = _classes(codes, line[0], len(parts))
    if len(first) * (len(line[3]) + 1) * w_out.shape[1] > MAX_CELLS:
        return None
    got, bound = _evaluate(codes, parts, bias, w_out, line)
    if numeric:
        error = np.abs(got[:, 0] - out)
    else:
        got[np.arange(len(codes)), out] -= 1.0
        error = np.abs(got).max(axis=1)
    if bool(np.all(error + bound <= tol)):
        return True
    if bool(np.any(error - bound > tol)):
        return False
    return None
