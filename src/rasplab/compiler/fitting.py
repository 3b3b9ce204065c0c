"""Exact linear fits over a domain: outputs affine in the leaves' one-hots and scalars.

The design matrix (one column per one-hot value or scalar leaf) and the
targets are built for the rows a step needs: a sample of rows first, where
most candidate fits already fail, and every row, in chunks, only to confirm
one that fits the sample. A fit is accepted only if it is exact on every row.

>>> from rasplab.compiler.units import Leaf, Problem, Target
>>> p = Problem([Leaf.numerical("x", [0.0, 1.0, 2.0])], np.array([[0], [1], [2]]),
...             Target.numerical("y"), [1.0, 3.0, 5.0])
>>> design = Design.for_problem(p, [(0, None), (-1, None)])
>>> coef, low = exact_fit(design, targets(p))
>>> coef.ravel().tolist(), low.tolist()
([2.0, 1.0], [1.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .storage import Storage
from .units import Problem

__all__ = ["Design", "exact_fit", "targets"]

CELLS = 1 << 22  # floats per chunk when every row is visited
Rows = np.ndarray
Targets = Callable[[Rows], np.ndarray]


@dataclass(frozen=True)
class Design:
    """Columns ``(leaf, value)``: a one-hot (value), a scalar leaf (None), or ones (leaf -1)."""

    codes: np.ndarray  # [points, leaves]
    coords: tuple[np.ndarray | None, ...]  # per leaf: scalar per value index (None: one-hot)
    columns: tuple[tuple[int, int | None], ...]

    @staticmethod
    def for_problem(p: Problem, columns: Sequence[tuple[int, int | None]]) -> Design:
        coords = tuple(
            np.asarray(leaf.coords, dtype=np.float64) if leaf.kind is Storage.SCALAR else None
            for leaf in p.leaves
        )
        return Design(p.codes, coords, tuple(columns))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def width(self) -> int:
        return len(self.columns)

    def rows(self, rows: Rows) -> np.ndarray:
        """The design matrix on ``rows``: [rows, columns]."""
        codes = self.codes[rows]
        phi = np.empty((len(codes), self.width))
        for j, (k, v) in enumerate(self.columns):
            if k < 0:
                phi[:, j] = 1.0
            elif v is None:
                coords = self.coords[k]
                if coords is None:
                    raise ValueError(f"column {j} reads leaf {k} as a scalar, but it is one-hot")
                phi[:, j] = coords[codes[:, k]]
            else:
                phi[:, j] = codes[:, k] == v
        return phi


def targets(p: Problem) -> Targets:
    """The target columns on given rows: one-hot for categorical targets, else the number."""
    if p.target.kind is Storage.ONE_HOT:
        eye = np.eye(len(p.target.directions))
        return lambda rows: eye[p.out[rows]]
    return lambda rows: p.out[rows][:, None]


def _solve(phi: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Least squares by normal equations (a tiny ridge resolves collinear one-hots)."""
    return _solve_normal(phi.T @ phi, phi.T @ ys)


def _solve_normal(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    ridge = 1e-10 * max(1.0, float(np.trace(gram)) / max(1, len(gram)))
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), rhs)


def _chunks(n: int, width: int) -> list[Rows]:
    step = max(1, CELLS // max(1, width))
    return [np.arange(s, min(n, s + step)) for s in range(0, n, step)]


def _round(coef: np.ndarray) -> np.ndarray:
    return np.where(np.abs(coef - np.round(coef)) < 1e-6, np.round(coef), coef)


def _everywhere(design: Design, ys: Targets, coef: np.ndarray, scale: float):
    """The smallest fitted value per output, or None if some row is off by more than scale."""
    low = np.full(coef.shape[1], np.inf)
    for rows in _chunks(len(design), max(design.width, coef.shape[1])):
        fit = design.rows(rows) @ coef
        if np.abs(fit - ys(rows)).max(initial=0.0) > scale:
            return None
        low = np.minimum(low, fit.min(axis=0))
    return low


def _solve_all(design: Design, ys: Targets) -> np.ndarray:
    everything = np.arange(len(design))
    if len(design) * design.width <= CELLS:
        return _solve(design.rows(everything), ys(everything))
    gram: np.ndarray | None = None
    rhs: np.ndarray | None = None
    for rows in _chunks(len(design), design.width):
        phi = design.rows(rows)
        part_gram, part_rhs = phi.T @ phi, phi.T @ ys(rows)
        gram = part_gram if gram is None else gram + part_gram
        rhs = part_rhs if rhs is None else rhs + part_rhs
    if gram is None or rhs is None:
        raise ValueError("no rows to fit")
    return _solve_normal(gram, rhs)


def exact_fit(
    design: Design, ys: Targets, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray] | None:
    """Coefficients ``[columns, outputs]`` exact on every row, and each output's smallest
    fitted value; tried on a sample of rows first. ``scale``: the largest target size."""
    tol = 1e-7 * max(1.0, scale)
    n, width = len(design), design.width
    sample = np.arange(n)
    if n > 4 * width + 16:
        sample = np.random.default_rng(0).choice(n, 4 * width + 16, replace=False)
    for attempt in (sample, None):
        if attempt is None:
            coef = _round(_solve_all(design, ys))
        else:
            phi, y = design.rows(attempt), ys(attempt)
            coef = _round(_solve(phi, y))
            if np.abs(phi @ coef - y).max(initial=0.0) > tol:
                return None
        low = _everywhere(design, ys, coef, tol)
        if low is not None:
            return coef, low
        if attempt is None:
            return None  # the fit on every row is not exact on every row
    return None
