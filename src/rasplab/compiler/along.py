"""Units along an axis: how they read ``z`` and how gates switch them off.

An axis (:mod:`.axis`) combines an MLP's numerical leaves into one scalar
``z``; every unit of the constructions along it reads ``z`` the same way
(:func:`z_read`). The categorical leaves that are not on the axis *gate*:
a unit meant for one class of their values reads each gate's indicator with
a large weight and pays it back in its bias, so it is unchanged where every
indicator is 1 and off where one is 0 (:func:`gated`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .storage import Storage
from .units import ONE, Problem, Unit, _Acc, _class_readout

__all__ = ["Axis", "z_read", "gate_readouts", "gate", "gated"]


@dataclass
class Axis:
    coef: dict[int, float]  # leaf -> weight in z (numerical leaves, or number-valued one-hots)
    table: int | None  # categorical leaf whose values move thresholds
    gates: list[int]  # categorical leaves that gate


def gate_readouts(p: Problem, axis: Axis, classes, g: tuple) -> list[Mapping[str, float]]:
    """The indicator of each gate's class in ``g`` (a tuple of class ids, one per gate)."""
    return [_class_readout(p.leaves[k], classes[k], c) for k, c in zip(axis.gates, g, strict=True)]


def gate(acc: _Acc, readouts: list[Mapping[str, float]], strength: float) -> _Acc:
    """``acc`` reading every indicator with ``strength``, paid back in its bias."""
    for r in readouts:
        acc.read(r, strength)
    return acc.bias(-strength * len(readouts))


def z_read(acc: _Acc, p: Problem, axis: Axis, scale: float) -> _Acc:
    """Read ``scale * z``: each leaf's readouts, weighted by its coefficient (and value)."""
    w_in = acc.w_in
    for d, c, coord, w in _z_terms(p, axis):
        # the same products, in the same order, as reading each readout in turn
        factor = scale * c if coord is None else scale * c * coord
        w_in[d] += factor * w
    return acc


def _z_terms(p: Problem, axis: Axis) -> list[tuple[str, float, float | None, float]]:
    """(direction, coefficient, value or None for a scalar leaf, readout weight), in order;
    built once per axis, as every unit along it reads z."""
    key = ("z_terms", tuple(axis.coef.items()))
    if key not in p.cache:
        terms: list[tuple[str, float, float | None, float]] = []
        for k, c in axis.coef.items():
            leaf = p.leaves[k]
            if leaf.kind is Storage.SCALAR:
                terms += [(d, c, None, w) for d, w in leaf.readouts[0].items()]
            else:
                for coord, readout in zip(leaf.coords, leaf.readouts, strict=True):
                    terms += [(d, c, coord, w) for d, w in readout.items()]
        p.cache[key] = terms
    return p.cache[key]


def gated(p: Problem, gates: list[Mapping[str, float]], accs: list[_Acc]) -> list[Unit]:
    """Switch the units off unless every gate readout is 1."""
    if not gates:
        return [a.done() for a in accs]
    bound = _bound(p, accs)
    return [gate(acc, gates, float(m) + 2.0).done() for acc, m in zip(accs, bound, strict=True)]


def _bound(p: Problem, accs: list[_Acc]) -> np.ndarray:
    """An upper bound of |pre-activation| over the domain, per unit: sum of per-leaf maxima."""
    dirs, tables = p.writes()
    index = {d: i for i, d in enumerate(dirs)}
    w = np.zeros((len(dirs), len(accs)))  # [directions, units]
    for u, acc in enumerate(accs):
        for d, c in acc.w_in.items():
            if d in index:
                w[index[d], u] = c
    total = np.abs(w[index[ONE]])
    for table in tables:  # [values, directions]
        total = total + np.abs(table @ w).max(axis=0)
    return total
