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
leaves the answer open, the caller checks row by row. The sums are taken in long
double where the platform has one, which keeps that bound far below the tolerance.

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

from .limits import checkpoint
from .units import _first, _ids

__all__ = ["MAX_CELLS", "along_line", "cheaper", "outputs"]

EPS = float(np.finfo(np.float64).eps)
EPS_SUM = float(np.finfo(np.longdouble).eps)  # the prefix sums' (EPS where no wider type)
MAX_CELLS = 1 << 22  # classes x units x outputs held at once, per array (a chunk of classes)
MAX_OUTPUTS = 8  # more outputs (a wide one-hot target): row by row is as cheap


@dataclass(frozen=True)
class _Side:
    """The units that move with ``z`` one way, for a chunk of classes: the breakpoints as
    keys (``sign * t``: a unit is on where its key is below ``sign * z``), ascending,
    and prefix sums of ``w r`` and ``w r t`` in that order (a leading zero row)."""

    key: np.ndarray  # [classes, units]
    a: np.ndarray  # [classes, units + 1, outputs], long double
    b: np.ndarray  # [classes, units + 1, outputs], long double
    size: np.ndarray  # [classes, 2, outputs]: sums of |w r| and of |w r t|
    sign: float

    def at(self, c: int, z: np.ndarray) -> np.ndarray:
        """The units' sum ``[points, outputs]`` at ``z`` for class ``c`` of the chunk."""
        k = np.searchsorted(self.key[c], self.sign * z, side="left")
        return (z[:, None] * self.a[c, k] - self.b[c, k]).astype(np.float64)


def _side(base: np.ndarray, r: np.ndarray, w_out: np.ndarray, sign: float) -> _Side:
    t = -base / r  # [classes, units]: the breakpoints
    order = np.argsort(sign * t, axis=1, kind="stable")
    t = np.take_along_axis(t, order, axis=1)
    wr = (w_out * r[:, None])[order]  # [classes, units, outputs]
    wrt = wr * t[:, :, None]
    zero = np.zeros((len(base), 1, w_out.shape[1]), dtype=np.longdouble)
    a = np.concatenate([zero, np.cumsum(wr, axis=1, dtype=np.longdouble)], axis=1)
    b = np.concatenate([zero, np.cumsum(wrt, axis=1, dtype=np.longdouble)], axis=1)
    size = np.stack([np.abs(wr).sum(axis=1), np.abs(wrt).sum(axis=1)], axis=1)
    return _Side(sign * t, a, b, size, sign)


def _classes(codes: np.ndarray, members: list[int], n_leaves: int):
    """Per point its class (equal leaves off the line) and per class its first point."""
    others = [k for k in range(n_leaves) if k not in members]
    cls = _ids(codes[:, others]) if others else np.zeros(len(codes), dtype=np.int64)
    return others, cls, _first(cls)


def _evaluate(codes, parts, bias, w_out, line):
    """Per point: the outputs by prefix sums, and a bound on how far they and the line
    (which fits the leaves to rounding only) may be from the units' exact outputs."""
    members, coefs, residual, r = line
    z = np.zeros(len(codes))
    for k in members:
        z += coefs[k][codes[:, k]]
    others, cls, first = _classes(codes, members, len(parts))
    base = bias + sum(parts[k][codes[first, k]] for k in others) + sum(parts[k][0] for k in members)
    base = np.broadcast_to(base, (len(first), len(r)))  # [classes, units]
    flat = r == 0
    on = np.maximum(base[:, flat], 0.0)
    got = (on @ w_out[flat])[cls]  # [points, outputs]: the units that do not move with z
    bound = (int(flat.sum()) + 2) * EPS * (on @ np.abs(w_out[flat])).max(axis=1)[cls]
    order = np.argsort(cls, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(cls[order])) + 1)  # class c: groups[c]
    _add_moving(got, bound, z, groups, base, r, w_out)
    # the line: each unit's input is off by its residual and by z's own rounding
    dz = len(members) * EPS * sum(float(np.abs(coefs[k]).max()) for k in members)
    reach = np.abs(base).max(axis=0) + float(np.abs(z).max(initial=0.0)) * np.abs(r)
    per_unit = residual + dz * np.abs(r) + 4 * EPS * reach
    bound += float((np.abs(w_out).T @ per_unit).max(initial=0.0))
    return got, bound


def _add_moving(got, bound, z, groups, base, r, w_out) -> None:
    """Add to ``got`` the units that move with ``z``, class by class, a chunk of classes'
    prefix sums at a time, and to ``bound`` their rounding."""
    chunk = max(1, MAX_CELLS // (len(r) * w_out.shape[1] + 1))
    # each product and the float64 result: 3 EPS; the long-double sums: units x EPS_SUM
    rate = 3 * EPS + (len(r) + 4) * EPS_SUM
    up, down = r > 0, r < 0
    for lo in range(0, len(base), chunk):
        checkpoint("checking an MLP on every input (stage 4)")
        part = base[lo : lo + chunk]
        sides = (
            _side(part[:, up], r[up], w_out[up], 1.0),
            _side(part[:, down], r[down], w_out[down], -1.0),
        )
        for c in range(len(part)):
            idx = groups[lo + c]
            zc = z[idx]
            for side in sides:
                got[idx] += side.at(c, zc)
                size = np.abs(zc)[:, None] * side.size[c, 0] + side.size[c, 1]
                bound[idx] += rate * size.max(axis=1)


PER_CLASS = 2000  # a class's Python overhead, in numpy element operations (about 30 us)
PER_POINT = 20  # a point's binary searches and sums


def cheaper(codes: np.ndarray, line, w_out: np.ndarray) -> bool:
    """Whether sorted breakpoints cost less than a row of units per point: they do for
    many units (an axis construction's steps), not for a handful over many classes."""
    units = len(line[3])
    classes = len(_classes(codes, line[0], codes.shape[1])[2])
    by_line = classes * (units * max(1.0, np.log2(units)) + PER_CLASS) + PER_POINT * len(codes)
    return by_line < len(codes) * units * w_out.shape[1]


def outputs(codes, parts, bias, w_out, line) -> np.ndarray:
    """The units' outputs ``[points, outputs]`` on every point, by prefix sums."""
    return _evaluate(codes, parts, bias, w_out, line)[0]


def along_line(codes, out, numeric: bool, parts, bias, w_out, line, tol: float) -> bool | None:
    """Whether the units are within ``tol`` of ``out`` on every point (``True``) or off
    somewhere (``False``); ``None`` where this cannot tell: no line, too many outputs, or
    an error within the rounding bound of ``tol``."""
    if line is None or not line[0] or w_out.shape[1] > MAX_OUTPUTS:
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
