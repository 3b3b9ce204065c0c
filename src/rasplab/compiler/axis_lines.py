"""Numerical outputs along an axis that are not steps: affine runs, or a line through every point.

Along ``z`` (:mod:`.axis`) each (gate classes, table value) group of points
is built on its own, and its units gated (:func:`.along.gated`):

* :func:`pwl`: runs of collinear points (:func:`.lines.runs`), joined by pairs
  of ramps: few units where the output is affine over long runs;
* :func:`bent`: the line through every point, one unit per bend
  (:func:`bends`), as :func:`.mlp._interpolate` builds it for one leaf alone.

A line passes small errors in ``z`` on, times its slope, so it is built only
where even the steepest piece keeps them far below the output's smallest gap
(:func:`passes_on`). It has half the terms of steps, of one sign where steps'
cancel in pairs, and float32 rounds a sum in proportion to its terms:
most_freq's key, ``where(has_earlier, 0, -count)``, minus a count read from
its weight ``B / (B + w)``, is bounded at 0.013 in float32 at 256 positions
and 0.049 at 512 as a gated line, against 2.3 and 20 as steps.

>>> from rasplab.compiler.units import Leaf, Problem, Target
>>> from rasplab.compiler.checking import check
>>> f = Leaf.numerical("f", [1 / (1 + w) for w in range(6)])  # a count's weight, B = 1
>>> gate = Leaf.categorical("g", [0, 1])
>>> codes = [[w, g] for w in range(6) for g in (0, 1)]
>>> p = Problem([f, gate], codes, Target.numerical("y"), [0 if g else -w for w, g in codes])
>>> from rasplab.compiler.axis import Axis, _Classes, _axis_groups
>>> along_f, classes = Axis({0: 1.0}, None, [1]), _Classes(p)
>>> units = bent(p, along_f, _axis_groups(p, along_f, classes), classes)
>>> len(units), check(p, units)
(5, True)
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .along import Axis, gate_readouts, gated, z_read
from .lines import Line, runs
from .units import Problem, Unit, _Acc

__all__ = ["pwl", "bent", "bent_cost", "bends", "passes_on", "LEAF_ERROR", "PASSED_ON"]

LEAF_ERROR = 1e-5  # relative error a numerical leaf may carry (float32, softmax leakage)
PASSED_ON = 0.05  # largest output error allowed, as a fraction of the smallest output gap
LINE_POINTS = 4_096  # a line through more points is not tried: bends() takes points^2 cells


def passes_on(z: np.ndarray, slopes: np.ndarray, gaps: np.ndarray) -> bool:
    """Whether a line through points at ``z`` with these ``slopes`` keeps a leaf's error
    (``LEAF_ERROR`` times the largest ``|z|``) under ``PASSED_ON`` of the smallest gap."""
    if not len(gaps):
        return False
    error = LEAF_ERROR * max(1.0, float(np.abs(z).max())) * float(np.abs(slopes).max(initial=0))
    return error <= PASSED_ON * float(gaps.min())


def bends(z: np.ndarray, y: np.ndarray, slopes: np.ndarray) -> tuple[float, float, Any, Any]:
    """``(sign, start, bends, corners)`` with ``y = start + sum_k bends_k relu(sign (z -
    corners_k))`` on every point: from the left (``y0``, ``relu(z - z_k)``) or from the
    right (``y_last``, ``relu(z_k - z)``), whichever sums smaller terms. float32 rounds the
    output's sum in proportion to its terms' sizes, and a steep convex curve built from
    the left is a few large terms that cancel (a count decoded to its width at 1,024
    positions: terms of thousands summing to hundreds)."""
    left = np.diff(slopes, prepend=0.0)  # [points - 1]: slope change at z[k], going right
    right = np.diff(slopes, append=0.0)  # slope change at z[k + 1], going left
    size_left = np.abs(left) @ np.maximum(z[None, :] - z[:-1, None], 0.0)  # [points]
    size_right = np.abs(right) @ np.maximum(z[1:, None] - z[None, :], 0.0)
    if abs(y[-1]) + size_right.max() < abs(y[0]) + size_left.max():
        return -1.0, float(y[-1]), right, z[1:]
    return 1.0, float(y[0]), left, z[:-1]


def _groups(line: Line) -> list[tuple[tuple, np.ndarray, np.ndarray]]:
    """Per (gate classes, table value): its points' sorted distinct z and their outputs."""
    y = np.asarray(line.states, dtype=np.float64)
    return [(key, line.z[rows], y[rows]) for key, rows in line.keyed()]


def bent_cost(p: Problem, line: Line) -> int | None:
    """Units :func:`bent` builds along ``line``; None where a line would pass on too much."""
    gaps = np.diff(np.unique(p.out))
    total = 0
    for _, z, y in _groups(line):
        if len(z) > LINE_POINTS:
            return None
        if len(z) > 1:
            slopes = np.diff(y) / np.diff(z)
            if not passes_on(line.z, slopes, gaps):
                return None
            total += int(np.count_nonzero(np.diff(slopes, prepend=0.0)))
        total += int(bool(y.any()))
    return total


def bent(p: Problem, axis: Axis, line: Line, classes) -> list[Unit]:
    """Per group, the line through its points (:func:`bends`), its units gated."""
    direction = p.target.directions[0]
    units: list[Unit] = []
    for (g, t), z, y in _groups(line):
        accs = []
        sign, start, bent_by, corners = 1.0, float(y[0]), np.zeros(0), np.zeros(0)
        if len(z) > 1:
            sign, start, bent_by, corners = bends(z, y, np.diff(y) / np.diff(z))
        if start:
            accs.append(_Acc().bias(1.0).write({direction: start}))
        for zk, bend in zip(corners.tolist(), bent_by.tolist(), strict=True):
            if bend:
                accs.append(z_read(_Acc(), p, axis, sign).bias(-sign * zk).write({direction: bend}))
        gates = gate_readouts(p, axis, classes, g)
        if axis.table is not None:
            gates.append(p.leaves[axis.table].readouts[t])
        units += gated(p, gates, accs)
    return units


def _line(run: list[tuple[float, float]]) -> tuple[float, float]:
    if len(run) == 1:
        return 0.0, run[0][1]
    (z0, y0), (z1, y1) = run[0], run[-1]
    s = (y1 - y0) / (z1 - z0)
    return s, y0 - s * z0


def pwl(p: Problem, axis: Axis, line: Line, classes) -> list[Unit] | None:
    """Numerical output, piecewise affine along z: gated per (gate, table value)."""
    direction = p.target.directions[0]
    units: list[Unit] = []
    for (g, t), pts in line.as_dict().items():
        accs = _pwl_1d(p, axis, pts, direction)
        gates = gate_readouts(p, axis, classes, g)
        if axis.table is not None:
            gates.append(p.leaves[axis.table].readouts[t])
        units += gated(p, gates, accs)
    return units


def _pwl_1d(p: Problem, axis: Axis, pts, direction: str) -> list[_Acc]:
    found = runs(pts)
    lo = pts[0][0]
    s0, c0 = _line(found[0])
    accs = [_Acc().bias(1.0).write({direction: c0 + s0 * lo})]
    if s0:
        accs.append(z_read(_Acc(), p, axis, 1.0).bias(-lo).write({direction: s0}))
    for prev, nxt in itertools.pairwise(found):
        (zp, _), (zq, _) = prev[-1], nxt[0]
        m = (zq - zp) / 4
        a, b = zp + m, zq - m
        (sa, ca), (sb, cb) = _line(prev), _line(nxt)
        jump = (sb * b + cb) - (sa * b + ca)
        accs.append(z_read(_Acc(), p, axis, 1.0).bias(-a).write({direction: jump / (b - a)}))
        accs.append(
            z_read(_Acc(), p, axis, 1.0).bias(-b).write({direction: -jump / (b - a) + sb - sa})
        )
    return accs
