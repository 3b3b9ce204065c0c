"""The function along one axis ``z``, as sorted arrays: groups, robustness and unit counts.

For a candidate axis (see :mod:`.axis`) every domain point has a *group* -
its gate classes and table value - and a coordinate ``z``. The function must
be constant on each (group, ``z``); the distinct ones, sorted by group and
then ``z``, are what the constructions need. Everything here works on whole
arrays, so that trying many axes over domains of a million points stays cheap.

>>> from rasplab.compiler.units import Leaf, Problem, Target
>>> p = Problem([Leaf.numerical("x", [0.0, 1.0, 2.0])], np.array([[0], [1], [2]]),
...             Target.categorical(["o:a", "o:b"]), [0, 0, 1])
>>> line = Line.build(p, np.array([0.0, 1.0, 2.0]), np.zeros((3, 0), dtype=np.int64), None)
>>> line.as_dict(), steps_cost(line, Storage.ONE_HOT), robust(line)
({((), -1): [(0.0, 0), (1.0, 0), (2.0, 1)]}, 3, True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .storage import Storage
from .units import Problem, _distinct, _first, _ids, _out_ids

__all__ = ["Line", "robust", "steps_cost", "pwl_cost", "runs", "run_count", "python_round"]

SAMPLE = 4096  # points tried first: most axes already fail on them


@dataclass
class Line:
    """Distinct (group, z) points sorted by group then z, with the state at each."""

    group: np.ndarray  # [rows] group id: (gate classes, table value), in sorted order
    gates: np.ndarray  # [rows, gates] gate classes
    table: np.ndarray  # [rows] table value (-1 without a table leaf)
    z: np.ndarray  # [rows] z, rounded to 9 decimals
    state: np.ndarray  # [rows] state id: equal ids, equal states
    states: list[Any]  # [rows] output index (categorical) or number rounded to 12 decimals
    error: np.ndarray | None = None  # [rows] how far z may be off there (input errors)

    @staticmethod
    def build(
        p: Problem,
        z: np.ndarray,
        gates: np.ndarray,
        table: np.ndarray | None,
        error: np.ndarray | None = None,
    ):
        """None if two points with one group and one z need different outputs. ``error``:
        how far each point's z may be off (the most over the points at one row)."""
        found = Line.exact(p, z, gates, table)
        return None if found is None else found[0].with_error(found[1], error)

    @staticmethod
    def exact(
        p: Problem, z: np.ndarray, gates: np.ndarray, table: np.ndarray | None
    ) -> tuple[Line, np.ndarray] | None:
        """:meth:`build` for exact inputs, and each point's row (for :meth:`with_error`):
        what the inputs' errors do not change, which a rebuild's MLP shares."""
        t = table if table is not None else np.full(len(z), -1, dtype=np.int64)
        zr = np.round(z, 9)
        outs = _out_ids(p)
        group = _ids(np.stack([_ids(gates), t], axis=1))
        key = _ids(np.stack([group, _ids(zr)], axis=1))  # ids follow (group, z) order
        first = _first(key)
        if np.any(outs[first][key] != outs):
            return None  # z does not determine the output within a group
        if p.target.kind is Storage.ONE_HOT:
            states = p.out[first].tolist()
            state = outs[first]
        else:  # rounded as Python rounds, so that equal states are the ones the builders see
            rounded = python_round(p.out[first], 12)
            states = rounded.tolist()
            state = _ids(rounded)
        return Line(group[first], gates[first], t[first], zr[first], state, states), key

    def with_error(self, rows: np.ndarray, error: np.ndarray | None) -> Line:
        """This line with ``error`` (each point's, ``rows``: its row) as each row's most."""
        if error is None:
            return self
        most = np.zeros(len(self.z))
        np.maximum.at(most, rows, error)
        return replace(self, error=most)

    @staticmethod
    def refuted(p: Problem, z: np.ndarray, raw_gates: np.ndarray, table: np.ndarray | None):
        """Cheap proof that z cannot work: among a sample of points, two with equal gate
        values, table value and z need different outputs (False proves nothing)."""
        if len(z) <= SAMPLE:
            return False
        pick = np.random.default_rng(0).choice(len(z), SAMPLE, replace=False)
        t = table[pick] if table is not None else np.zeros(SAMPLE, dtype=np.int64)
        key = _ids(np.stack([_ids(raw_gates[pick]), t, _ids(np.round(z[pick], 9))], axis=1))
        outs = _out_ids(p)[pick]
        return bool(np.any(outs[_first(key)][key] != outs))

    def as_dict(self) -> dict[tuple, list[tuple[float, Any]]]:
        """(gate classes, table value) -> sorted distinct (z, state)."""
        z = self.z.tolist()
        return {k: [(z[r], self.states[r]) for r in rows.tolist()] for k, rows in self.keyed()}

    def errors_dict(self) -> dict[tuple, np.ndarray]:
        """(gate classes, table value) -> the error of each of its points, as in ``as_dict``
        (empty without errors)."""
        if self.error is None:
            return {}
        return {k: self.error[rows] for k, rows in self.keyed()}

    def keyed(self) -> list[tuple[tuple, np.ndarray]]:
        """((gate classes, table value), its rows) per group, in order."""
        out = []
        for rows in self.group_rows():
            head = rows[0]
            g = tuple(int(x) for x in self.gates[head])
            out.append(((g, int(self.table[head])), rows))
        return out

    def group_rows(self) -> list[np.ndarray]:
        bounds = np.flatnonzero(np.diff(self.group)) + 1
        return [rows for rows in np.split(np.arange(len(self.group)), bounds) if len(rows)]

    def steps(self) -> np.ndarray:
        """Rows ``i`` where row ``i + 1`` is in the same group with another state."""
        same = self.group[1:] == self.group[:-1]
        return np.flatnonzero(same & (self.state[1:] != self.state[:-1]))


def robust(line: Line, floor: float = 5e-6) -> bool:
    """Neighbouring z values with different outputs are far apart relative to z's size."""
    scale = float(np.abs(line.z).max(initial=1.0))
    i = line.steps()
    return not np.any(line.z[i + 1] - line.z[i] < floor * max(1.0, scale))


def _step_keys(line: Line, kind: Storage, i: np.ndarray) -> np.ndarray:
    """An id per step of the function: (from, to) for one-hot outputs, the jump for numbers."""
    if kind is Storage.ONE_HOT:
        return _ids(np.stack([line.state[i], line.state[i + 1]], axis=1))
    s = np.asarray(line.states, dtype=np.float64)
    return _ids(python_round(s[i + 1] - s[i], 12))


def python_round(x: np.ndarray, digits: int) -> np.ndarray:
    """``round(v, digits)`` of every float in ``x``, as Python rounds (correctly rounded,
    which ``np.round`` is not), once per distinct value.

    >>> python_round(np.array([2.675, 0.1 + 0.2, 2.675]), 2).tolist()
    [2.67, 0.3, 2.67]
    """
    distinct, where = np.unique(x, return_inverse=True)
    return np.array([round(v, digits) for v in distinct.tolist()], dtype=np.float64)[where]


def _occurrence(pair: np.ndarray) -> np.ndarray:
    """For each item, how many equal items came before it."""
    order = np.argsort(pair, kind="stable")
    start = np.r_[0, np.flatnonzero(np.diff(pair[order])) + 1]
    rank = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
    out = np.empty(len(order), dtype=np.int64)
    out[order] = rank
    return out


def steps_cost(line: Line, kind: Storage) -> int:
    """Units the step construction builds: two per shared family, one per distinct base.

    A family is (gate classes, step, how many equal steps came before in its group):
    groups that differ only in the table value share it.
    """
    if not len(line.group):
        return 0
    i = line.steps()
    keys = _step_keys(line, kind, i)
    gate = _ids(line.gates)
    occurrence = _occurrence(_ids(np.stack([line.group[i], keys], axis=1)))
    families = _ids(np.stack([gate[i], keys, occurrence], axis=1))
    heads = np.r_[0, np.flatnonzero(np.diff(line.group)) + 1]
    bases = _ids(np.stack([gate[heads], line.state[heads]], axis=1))
    return 2 * len(_distinct(families)) + len(_distinct(bases))


def pwl_cost(line: Line) -> int:
    """Units the piecewise-affine construction builds: 2 per group, 2 per extra run; so
    2 per run of :func:`runs` in every group, counted on whole arrays.

    >>> pts = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 0.0), (4.0, 5.0)]
    >>> z, y = np.array([x for x, _ in pts]), np.array([v for _, v in pts])
    >>> run_count(z, y, np.zeros(5, dtype=np.int64)), len(runs(pts))
    (3, 3)
    """
    y = np.asarray(line.states, dtype=np.float64)
    return 2 * run_count(line.z, y, line.group)


RUN_WINDOW = 32  # points past each row tested for every row at once (most runs are shorter)


def run_count(z: np.ndarray, y: np.ndarray, group: np.ndarray) -> int:
    """How many runs :func:`runs` finds, summed over the groups (rows sorted by group,
    then z): the same greedy walk, with every on-the-line test done in numpy."""
    n = len(z)
    if n == 0:
        return 0
    end = np.r_[np.flatnonzero(np.diff(group)) + 1, n]
    group_end = np.repeat(end, np.diff(np.r_[0, end]))  # [rows] where each row's group ends
    span = group_end - np.arange(n)  # rows from each row to its group's end
    slope = np.zeros(n)
    inner = np.flatnonzero(span > 1)
    slope[inner] = (y[inner + 1] - y[inner]) / (z[inner + 1] - z[inner])
    # a run starts at j where rows j + 1 and j + 2 lie on the line through j and j + 1;
    # it ends at its first row off that line (first_miss[j] rows on; -1: past the window)
    first_miss, alive = np.full(n, -1), np.ones(n, dtype=bool)
    starts = np.zeros(n, dtype=bool)
    for d in range(1, RUN_WINDOW + 1):
        on = np.zeros(n, dtype=bool)
        if d < n:
            on[: n - d] = _on_line_arrays(z[: n - d], y[: n - d], slope[: n - d], z[d:], y[d:])
        on &= span > d
        first_miss[alive & ~on] = d
        alive &= on
        if d == 2:
            starts = alive.copy()
        if not alive.any():
            break
    next_start = np.minimum.accumulate(np.where(starts, np.arange(n), n)[::-1])[::-1]
    return _walk(z, y, slope, group_end, first_miss.tolist(), next_start.tolist())


def _walk(z, y, slope, group_end, first_miss: list[int], next_start: list[int]) -> int:
    """The greedy walk over the starts: every row outside a run is a run of its own."""
    n, j, runs_found, covered = len(z), 0, 0, 0
    while j < n and (c := next_start[j]) < n:
        k = c + first_miss[c] if first_miss[c] >= 0 else _run_end(z, y, slope, group_end, c)
        runs_found, covered, j = runs_found + 1, covered + (k - c), k
    return runs_found + (n - covered)


def _run_end(z, y, slope, group_end, c: int) -> int:
    """The first row past ``c + RUN_WINDOW`` off the line through rows ``c``, ``c + 1``
    (or the group's end), checked in chunks that double."""
    k, stop, width = c + RUN_WINDOW + 1, int(group_end[c]), 4 * RUN_WINDOW
    z0, y0, s0 = z[c], y[c], slope[c]  # scalars against slices: the same float operations
    while k < stop:
        end = min(stop, k + width)
        off = ~_on_line_arrays(z0, y0, s0, z[k:end], y[k:end])
        if off.any():
            return k + int(off.argmax())
        k, width = end, 2 * width
    return stop


def _on_line_arrays(z0, y0, slope, z, y) -> np.ndarray:
    """:func:`_on_line` on arrays: the same float operations, so the same answers."""
    step = slope * (z - z0)
    size = np.maximum(np.maximum(1.0, np.abs(y)), np.abs(step))
    return np.abs(y0 + step - y) <= 1e-7 * size


def runs(pts: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Maximal runs of three or more consecutive points on one line (else single points)."""
    found: list[list[tuple[float, float]]] = []
    j = 0
    while j < len(pts):
        run = [pts[j]]
        if j + 2 < len(pts):
            (z0, y0), (z1, y1) = pts[j], pts[j + 1]
            slope = (y1 - y0) / (z1 - z0)
            k = j + 1
            while k < len(pts) and _on_line(z0, y0, slope, *pts[k]):
                k += 1
            if k - j >= 3:
                run = pts[j:k]
        found.append(run)
        j += len(run)
    return found


def _on_line(z0: float, y0: float, slope: float, z: float, y: float) -> bool:
    guess = y0 + slope * (z - z0)
    return abs(guess - y) <= 1e-7 * max(1.0, abs(y), abs(slope * (z - z0)))
