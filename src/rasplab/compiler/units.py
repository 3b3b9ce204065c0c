"""The data an exact MLP is built from: leaves, targets, units, and the problem to solve.

A *leaf* is an s-op the MLP reads (one-hot or one scalar); a *target* is the
s-op it writes; a *unit* is one hidden ReLU with its input and output weights
by residual-direction name. :class:`Problem` bundles a finite domain of leaf
values with the target value at each point; :mod:`.checking` runs units on
every point.

>>> leaf = Leaf.numerical("x", [0.0, 1.0])
>>> p = Problem([leaf], np.array([[0], [1]]), Target.numerical("y"), [0.0, 2.0])
>>> p.writes()[1][0].tolist()
[[0.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .combine import distinct as _distinct
from .storage import Storage

__all__ = ["Leaf", "Target", "Unit", "Part", "MLPSpec", "Problem", "ONE", "BOS", "exact_copy"]

ONE, BOS = "one", "bos"


@dataclass(frozen=True)
class Leaf:
    """An s-op the MLP reads: what the residual holds per value, and how to read it."""

    name: str
    kind: Storage
    writes: tuple[Mapping[str, float], ...]  # per value index: residual content
    readouts: tuple[Mapping[str, float], ...]  # one-hot: indicator per value; scalar: (scalar,)
    coords: tuple[float, ...] = ()  # scalar: the number per value index

    @staticmethod
    def categorical(name: str, labels: Sequence[Any]) -> Leaf:
        dirs = [f"{name}:{v}" for v in labels]
        onehots = tuple({d: 1.0} for d in dirs)
        return Leaf(name, Storage.ONE_HOT, onehots, onehots)

    @staticmethod
    def numerical(name: str, coords: Sequence[float]) -> Leaf:
        coords = tuple(float(c) for c in coords)
        return Leaf(name, Storage.SCALAR, tuple({name: c} for c in coords), ({name: 1.0},), coords)

    @property
    def size(self) -> int:
        return len(self.writes)


@dataclass(frozen=True)
class Target:
    kind: Storage
    directions: tuple[str, ...]
    slack: float = 0.0  # numerical: how far from exact the output may be (0: exact)

    @staticmethod
    def categorical(directions: Sequence[str]) -> Target:
        return Target(Storage.ONE_HOT, tuple(directions))

    @staticmethod
    def numerical(direction: str, slack: float = 0.0) -> Target:
        return Target(Storage.SCALAR, (direction,), slack)


@dataclass(frozen=True)
class Unit:
    w_in: Mapping[str, float]
    w_out: Mapping[str, float]


@dataclass(frozen=True)
class Part:
    """Consecutive units of a separable MLP that read one leaf, and what they add: the
    bounds take each part over its own leaf's values (two counts of 1,025 values each),
    not over every pair (a million)."""

    leaf: int  # index among the MLP's leaves; -1: the constant (bias) unit
    units: int  # how many units, following the previous part's in the spec
    values: tuple[float, ...]  # per value index of the leaf: what it adds (constant: (c,))


@dataclass(frozen=True)
class MLPSpec:
    units: tuple[Unit, ...]
    strategy: str
    slack: float = 0.0  # how far from exact its output may be (Target.slack it used)
    parts: tuple[Part, ...] = ()  # separable: the units by the leaf they read, in order
    residual: float = 0.0  # separable: how far the parts' sum may be from the output
    # ramps placed for input errors that leave them no room (:mod:`.input_errors`): at the
    # plain midpoint, for the bounds to judge (the errors may be another build's, stale)
    crossed: int = 0


class _Acc:
    """A unit under construction: weights accumulate by direction name."""

    def __init__(self) -> None:
        self.w_in: dict[str, float] = defaultdict(float)
        self.w_out: dict[str, float] = defaultdict(float)

    def read(self, readout: Mapping[str, float], scale: float) -> _Acc:
        for d, w in readout.items():
            self.w_in[d] += scale * w
        return self

    def bias(self, b: float) -> _Acc:
        self.w_in[ONE] += b
        return self

    def write(self, out: Mapping[str, float], scale: float = 1.0) -> _Acc:
        for d, w in out.items():
            self.w_out[d] += scale * w
        return self

    def done(self) -> Unit:
        return Unit(
            {d: w for d, w in self.w_in.items() if w != 0.0},
            {d: w for d, w in self.w_out.items() if w != 0.0},
        )


def exact_copy(value: Any) -> Any:
    """The identity, as a map's function: an MLP writing ``x.map(exact_copy)`` from ``x``
    one-hot rounds each direction to 0 or 1 (:func:`~.mlp.threshold_copy`), so that the
    errors an MLP left in ``x`` stop there."""
    return value


@dataclass(init=False)
class Problem:
    leaves: list[Leaf]
    codes: np.ndarray  # [points, leaves] value index per leaf
    target: Target
    out: np.ndarray  # one-hot: output index per point (int); scalar: float per point
    cache: dict[Any, Any]  # results worked out once per problem, by a key of their own;
    # none depends on ``errors``: a rebuild's problem with other errors may share them
    by_errors: dict[Any, Any]  # results that depend on ``errors``, this problem's alone
    errors: Mapping[str, tuple[float, float]] | None  # direction -> (delta, relative)
    crossed: int  # ramps whose room the errors close, over every construction tried

    def __init__(
        self,
        leaves: list[Leaf],
        codes: ArrayLike,
        target: Target,
        out: ArrayLike,
        cache: dict[Any, Any] | None = None,
        errors: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        """``codes`` and ``out`` may be any array-like; they are stored as arrays.
        ``errors``: how far each direction the leaves read may be off, where a first
        build's bounds measured it (:mod:`.input_errors`); None builds for exact inputs."""
        self.leaves = leaves
        self.codes = np.asarray(codes, dtype=np.int64)
        self.target = target
        kind = np.int64 if target.kind is Storage.ONE_HOT else np.float64
        self.out = np.asarray(out, dtype=kind).reshape(-1)
        self.cache = {} if cache is None else cache
        self.by_errors = {}
        self.errors = errors
        self.crossed = 0

    def vector(self, state: Any) -> dict[str, float]:
        if self.target.kind is Storage.ONE_HOT:
            return {self.target.directions[state]: 1.0}
        return {self.target.directions[0]: float(state)} if state != 0 else {}

    def delta(self, old: Any, new: Any) -> dict[str, float]:
        if self.target.kind is Storage.ONE_HOT:
            return {self.target.directions[new]: 1.0, self.target.directions[old]: -1.0}
        return {self.target.directions[0]: float(new) - float(old)}

    def writes(self) -> tuple[list[str], list[np.ndarray]]:
        """Per leaf, the residual content of each value: [values, directions]."""
        if "writes" not in self.cache:
            dirs = sorted({d for leaf in self.leaves for w in leaf.writes for d in w} | {ONE})
            index = {d: i for i, d in enumerate(dirs)}
            tables = []
            for leaf in self.leaves:
                table = np.zeros((leaf.size, len(dirs)))
                for v, w in enumerate(leaf.writes):
                    for d, c in w.items():
                        table[v, index[d]] = c
                tables.append(table)
            self.cache["writes"] = (dirs, tables)
        return self.cache["writes"]


# ---------------------------------------------------------------- ids and classes


def _ids(values: np.ndarray) -> np.ndarray:
    """Dense integer ids for the rows (or items) of ``values``, in sorted order of the rows."""
    if values.ndim == 1:
        if values.dtype.kind in "iub":
            return _dense(values.astype(np.int64, copy=False))
        whole = _whole(values)
        if whole is not None:  # counts held as floats: ranked by a table, not a sort
            return _dense(whole)
        return np.unique(values, return_inverse=True)[1].reshape(-1)
    if values.shape[1] == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=np.int64)
    # column by column: a min or max over axis 0 of a million rows of two or three ints
    # is several times slower than one per column
    cols = [values[:, j] for j in range(values.shape[1])]
    lows = [int(col.min()) for col in cols]
    sizes = [int(col.max()) - low + 1 for col, low in zip(cols, lows, strict=True)]
    if float(np.prod(np.array(sizes, dtype=np.float64))) < 2.0**62:  # one mixed-radix int
        key = np.zeros(len(values), dtype=np.int64)
        for col, low, size in zip(cols, lows, sizes, strict=True):
            key = key * size + (col - low)
        return _dense(key)
    return np.unique(values, axis=0, return_inverse=True)[1].reshape(-1)


def _whole(values: np.ndarray) -> np.ndarray | None:
    """Float ``values`` as int64 where every one is a whole number below ``2**53`` (ranks,
    and equal values, are then those of the floats: ``-0.0`` is ``0``); None otherwise,
    found from the first few where those are not."""
    if values.dtype.kind != "f" or not len(values):
        return None
    for part in (values[:64], values):
        if not (np.all(np.abs(part) < 2.0**53) and np.all(np.floor(part) == part)):
            return None  # (NaN and infinities fail the first test)
    return values.astype(np.int64)


def _dense(keys: np.ndarray) -> np.ndarray:
    """Ranks of int keys among the distinct keys (a table instead of a sort when they are
    few enough)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    if span > 4 * len(keys) + 65536:
        return np.unique(keys, return_inverse=True)[1].reshape(-1)
    seen = np.zeros(span, dtype=bool)
    shifted = keys - low
    seen[shifted] = True
    return (np.cumsum(seen) - 1)[shifted]


def _first(ids: np.ndarray) -> np.ndarray:
    """For dense ids ``0..m-1``: the first position holding each id."""
    first = np.full(int(ids.max(initial=-1)) + 1, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids)))
    return first


def _out_ids(p: Problem) -> np.ndarray:
    if "out_ids" not in p.cache:
        if p.target.kind is Storage.ONE_HOT:
            p.cache["out_ids"] = p.out
        else:
            p.cache["out_ids"] = _ids(np.round(p.out, 12))
    return p.cache["out_ids"]


def _classes(p: Problem, k: int) -> np.ndarray:
    """Class id per value of leaf ``k``: values the function treats alike share one.

    Two values are alike when they occur with the same set of (other leaves, output)
    combinations; ids are numbered in order of the values' first class.
    """
    if "classes" not in p.cache:
        p.cache["classes"] = {}
    if k not in p.cache["classes"]:
        p.cache["classes"][k] = _compute_classes(p, k)
    return p.cache["classes"][k]


def _compute_classes(p: Problem, k: int) -> np.ndarray:
    context = _ids(np.stack([_ids(np.delete(p.codes, k, axis=1)), _out_ids(p)], axis=1))
    width = int(context.max(initial=0)) + 1
    rows = _distinct(p.codes[:, k] * width + context)  # sorted by value, then context
    values, contexts = rows // width, rows % width
    bounds = np.flatnonzero(np.diff(values)) + 1
    ids: dict[bytes, int] = {}
    out = np.full(p.leaves[k].size, -1, dtype=np.int64)
    for value, chunk in zip(values[np.r_[0, bounds]], np.split(contexts, bounds), strict=True):
        out[value] = ids.setdefault(chunk.tobytes(), len(ids))
    missing = out < 0
    out[missing] = len(ids) + np.arange(int(missing.sum()))
    return out


def _class_readout(leaf: Leaf, classes: np.ndarray, c: int) -> dict[str, float]:
    acc: dict[str, float] = defaultdict(float)
    for v in np.flatnonzero(classes == c):
        for d, w in leaf.readouts[v].items():
            acc[d] += w
    return acc
