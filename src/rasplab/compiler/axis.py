"""The ``axis`` construction: piecewise-constant (or -affine) functions along one line.

The MLP's input leaves are combined into one scalar ``z`` (a signed sum of
numerical leaves and number-valued one-hots, read linearly). Along ``z`` the
function is piecewise constant; each change becomes a clamped ramp
``relu(L(z - t) + 1/2) - relu(L(z - t) - 1/2)`` with its threshold ``t``
midway between neighbouring values and ``L`` three times the inverse gap, so
every domain point sits 1.5 ramp-widths from any threshold: small errors in
``z`` change nothing. One categorical *table* leaf may move the thresholds
(linear in its one-hot), so ramps are shared across its values; the other
categorical leaves *gate* (a large negative weight switches units off).

>>> from rasplab.compiler.units import Leaf, Target
>>> from rasplab.compiler.checking import check
>>> leaf = Leaf.numerical("x", [0.0, 1.0, 2.0])
>>> p = Problem([leaf], np.array([[0], [1], [2]]), Target.categorical(["o:a", "o:b"]), [0, 0, 1])
>>> units = axis(p)
>>> len(units), check(p, units)
(3, True)
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from typing import Any

import numpy as np

from .along import Axis, gate, gate_readouts, gated, z_read
from .axis_lines import bent, bent_cost, pwl
from .input_errors import leaf_errors, room_and_crossed
from .limits import MLP_STAGE, checkpoint
from .lines import Line, pwl_cost, robust, steps_cost
from .storage import Storage
from .units import Problem, Unit, _Acc, _classes, _distinct

__all__ = ["axis", "axis_candidates", "RAMP"]

RAMP = 3.0  # ramp slope times the gap it crosses: values sit 1.5 ramp-widths from thresholds
# the same where the gap is the room the inputs' known errors leave (:mod:`.input_errors`):
# a gentler ramp, as the errors are counted already; it rounds less (its weights are smaller)
ROOM_RAMP = 1.5


def _axes(p: Problem) -> list[Axis]:
    """Candidate axes: z = +-leaf +- leaf ..., with one table leaf and gates for the rest."""
    nums = [k for k, leaf in enumerate(p.leaves) if leaf.kind is Storage.SCALAR]
    valued = [k for k, leaf in enumerate(p.leaves) if leaf.kind is Storage.ONE_HOT and leaf.coords]
    pool = nums + valued if len(nums) + len(valued) <= 3 else nums
    if not pool:
        return []
    out = []
    for c in _signs(len(pool)):
        if not any(c) or next(x for x in c if x) < 0:  # z and -z are the same axis
            continue
        if (
            not any(x for x, k in zip(c, pool, strict=True) if k in nums)
            and len([x for x in c if x]) < 2
        ):
            continue  # a lone one-hot on the axis is better served by the lookup
        coef = {k: x for x, k in zip(c, pool, strict=True) if x}
        cats = [
            k for k, leaf in enumerate(p.leaves) if leaf.kind is Storage.ONE_HOT and k not in coef
        ]
        tables = [None, *sorted(cats, key=lambda k: -p.leaves[k].size)]
        out += [Axis(coef, t, [k for k in cats if k != t]) for t in tables]
    return out


MAX_SIGNS = 3**7  # sign patterns tried at most (every one for up to 7 numbers)


def _signs(n: int) -> list[tuple[float, ...]]:
    """The coefficients (+1, -1 or 0) of ``n`` numbers on an axis: every pattern for up to
    7 numbers, else the patterns of fewest terms first, ``MAX_SIGNS`` of them (an MLP
    reading 14 numbers has 3**14 patterns: the search would never end)."""
    if 3**n <= MAX_SIGNS:
        return list(itertools.product((1.0, -1.0, 0.0), repeat=n))
    found: list[tuple[float, ...]] = []
    for terms in range(1, n + 1):
        for where in itertools.combinations(range(n), terms):
            for signs in itertools.product((1.0, -1.0), repeat=terms):
                if len(found) >= MAX_SIGNS:
                    return found
                c = [0.0] * n
                for k, x in zip(where, signs, strict=True):
                    c[k] = x
                found.append(tuple(c))
    return found


def _z(p: Problem, axis: Axis) -> np.ndarray:
    z = np.zeros(len(p.codes))
    for k, c in axis.coef.items():
        z += c * np.asarray(p.leaves[k].coords)[p.codes[:, k]]
    return z


def _z_error(p: Problem, axis: Axis) -> np.ndarray | None:
    """How far each point's ``z`` may be off, from the leaves' input errors (None: exact)."""
    if p.errors is None:
        return None
    error = np.zeros(len(p.codes))
    for k, c in axis.coef.items():
        if k not in p.by_errors:
            p.by_errors[k] = leaf_errors(p.leaves[k], p.errors)
        error += abs(c) * p.by_errors[k][p.codes[:, k]]
    return error


def _axis_groups(p: Problem, axis: Axis, classes: dict[int, np.ndarray]) -> Line | None:
    """The distinct (gate classes, table value, z) and the state at each; None if z is not
    enough to tell the outputs apart."""
    key = ("axis line", tuple(axis.coef.items()), axis.table, tuple(axis.gates))
    if key not in p.cache:  # shared with the problem's other input errors (a rebuild's)
        p.cache[key] = _exact_line(p, axis, classes)
    found = p.cache[key]
    return None if found is None else found[0].with_error(found[1], _z_error(p, axis))


def _exact_line(
    p: Problem, axis: Axis, classes: dict[int, np.ndarray]
) -> tuple[Line, np.ndarray] | None:
    """:meth:`Line.exact` along ``axis``: the line for exact inputs, each point's row."""
    z = _z(p, axis)
    table = p.codes[:, axis.table] if axis.table is not None else None
    if Line.refuted(p, z, p.codes[:, axis.gates], table):
        return None  # before computing the gates' classes, which costs more
    gates = np.zeros((len(p.codes), len(axis.gates)), dtype=np.int64)  # [points, gates]
    for j, k in enumerate(axis.gates):
        gates[:, j] = classes[k][p.codes[:, k]]
    return Line.exact(p, z, gates, table)


class _Classes(dict):
    """Leaf -> value classes (:func:`_classes`), computed when an axis first needs them."""

    def __init__(self, p: Problem):
        super().__init__()
        self.p = p

    def __missing__(self, k: int) -> np.ndarray:
        self[k] = _classes(self.p, k)
        return self[k]


def _steps_along(p: Problem, axis: Axis, line: Line, classes) -> list[Unit] | None:
    known = line.error is not None and bool(line.error.any())  # else built as for exact inputs
    return _steps(p, axis, line, classes, known)


def _steps(p: Problem, axis: Axis, line: Line, classes, known: bool) -> list[Unit] | None:
    """Piecewise-constant along z: shared clamped ramps, thresholds from the table leaf.
    ``known``: ramps leave room for how far each point's z may be off (``line.error``,
    :mod:`.input_errors`). Only the rows where the state changes are visited: a line
    may hold a million points and a handful of steps."""
    families: dict[tuple, dict[int, tuple[float, float]]] = defaultdict(dict)
    base: dict[tuple, tuple] = {}
    span: dict[tuple, tuple[float, float]] = {}
    states = line.states
    for (g, t), rows in line.keyed():
        z = line.z[rows]
        span[(g, t)] = (float(z[0]), float(z[-1]))
        count: dict[Any, int] = defaultdict(int)
        at = np.flatnonzero(line.state[rows[1:]] != line.state[rows[:-1]])
        error = line.error[rows] if known and line.error is not None else np.zeros(len(z))
        between, crossed = room_and_crossed(z, error, at)
        p.crossed += crossed if known else 0
        for i, gap in zip(rows[at].tolist(), between, strict=True):
            s0, s1 = states[i], states[i + 1]
            key = (s0, s1) if p.target.kind is Storage.ONE_HOT else round(s1 - s0, 12)
            families[(g, key, count[key])][t] = gap
            count[key] += 1
        base[(g, t)] = states[rows[0]]
    pending: dict[tuple, list[_Acc]] = defaultdict(list)
    extra: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    ramp = ROOM_RAMP if known else RAMP
    # a table value without the family's step puts its threshold past every point,
    # and past how far they may be off
    far = float(line.error.max(initial=0.0)) if known and line.error is not None else 0.0
    for (g, key, _), where in families.items():
        delta = p.delta(*key) if p.target.kind is Storage.ONE_HOT else p.vector(key)
        pending[g] += _family(p, axis, g, delta, (where, ramp, far), span, extra)
    units: list[Unit] = []
    for g, accs in pending.items():
        units += gated(p, gate_readouts(p, axis, classes, g), accs)
    return units + _bases(p, axis, classes, base, extra)


def _family(p, axis, g, delta, thresholds_and_ramp, span, extra) -> list[_Acc]:
    where, ramp, far = thresholds_and_ramp
    slope = ramp / min(gap for _, gap in where.values())
    members = [gt for gt in span if gt[0] == g]
    up = max(slope * (span[gt][1] - where[gt[1]][0]) for gt in members if gt[1] in where)
    down = max(slope * (where[gt[1]][0] - span[gt][0]) for gt in members if gt[1] in where)
    sign = 1.0 if up <= down else -1.0
    lo = min(span[gt][0] for gt in members)
    hi = max(span[gt][1] for gt in members)
    never = hi + far + 2.0 / slope if sign > 0 else lo - far - 2.0 / slope
    thresholds = {gt[1]: where[gt[1]][0] if gt[1] in where else never for gt in members}
    if sign < 0:
        for gt in members:
            if gt[1] in where:
                for d, w in delta.items():
                    extra[gt][d] += w
    units = []
    for half, out_sign in ((0.5, 1.0), (-0.5, -1.0)):
        acc = z_read(_Acc(), p, axis, sign * slope).bias(half)
        _thresholds(acc, p, axis, thresholds, -sign * slope)
        acc.write(delta, out_sign * sign)
        units.append(acc)
    return units


def _thresholds(acc: _Acc, p: Problem, axis: Axis, thresholds: dict, scale: float) -> None:
    if axis.table is None:
        acc.bias(scale * thresholds[-1])
        return
    readouts, w_in = p.leaves[axis.table].readouts, acc.w_in
    for t, tau in thresholds.items():  # acc.read of each, inlined: a family reads them all
        factor = scale * tau
        for d, w in readouts[t].items():
            w_in[d] += factor * w


def _bases(p, axis, classes, base, extra) -> list[Unit]:
    """The value at the low end of z, per (gate, table value), plus flipped ramps' offsets."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    vectors: dict[tuple, dict[str, float]] = {}
    for (g, t), state in base.items():
        summed = defaultdict(float, p.vector(state))
        for d, w in extra.get((g, t), {}).items():
            summed[d] += w
        vec = {d: w for d, w in summed.items() if abs(w) > 1e-12}
        if not vec:
            continue
        key = (g, tuple(sorted(vec.items())))
        vectors[key] = vec
        groups[key].append(t)
    units = []
    for (g, _), ts in groups.items():
        acc = _Acc().write(vectors[(g, _)])
        if axis.table is not None:
            leaf = p.leaves[axis.table]
            for t in ts:
                acc.read(leaf.readouts[t], 1.0)
        else:
            acc.bias(1.0)
        units.append(gate(acc, gate_readouts(p, axis, classes, g), 1.0).done())
    return units


def axis_candidates(p: Problem) -> list[tuple[int, str, Any]]:
    """(estimated units, name, builder) for every axis on which the function is consistent."""
    classes = _Classes(p)
    cat = p.target.kind is Storage.ONE_HOT
    outputs = len(p.target.directions) if cat else len(_distinct(p.out))
    good_enough = 2 * outputs + 4
    out: list[tuple[int, str, Any]] = []
    for axis in _axes(p):
        checkpoint(MLP_STAGE)  # many leaves make many axes: the compile's time limit holds
        line = _axis_groups(p, axis, classes)
        if line is None or not robust(line):
            continue
        steps = steps_cost(line, p.target.kind)
        out.append((steps, "axis", functools.partial(_steps_along, p, axis, line, classes)))
        if p.target.kind is Storage.SCALAR:
            out.append((pwl_cost(line), "axis", functools.partial(pwl, p, axis, line, classes)))
            bent_units = bent_cost(p, line)  # the line through every point: fewer on curves
            if bent_units is not None:
                out.append((bent_units, "axis", functools.partial(bent, p, axis, line, classes)))
        if min(c for c, _, _ in out) <= good_enough:
            break  # small enough: stop searching
    return out


def axis(p: Problem) -> list[Unit] | None:
    found = sorted(axis_candidates(p), key=lambda c: c[0])
    return found[0][2]() if found else None
