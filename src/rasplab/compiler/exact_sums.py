"""Sums that floating point computes exactly although their inputs carry errors.

A float whose magnitude is at least ``2^e`` is a multiple of ``2^e * 2u``
(``u`` the unit roundoff: its last significand bit). So an input known to lie
within ``[x - e, x + e]``, away from 0, sits on that grid whatever its error;
times a power of two it stays on one, and a sum of such terms, with exact
terms beside them, is computed exactly in any order while every partial sum
stays below ``1/u`` of the terms' common grid (:func:`.rounding.grid`). An
MLP unit ``relu(4 x - 1.5)`` copying a one-hot direction near 1 is such a
sum: its value, and the copy ``relu(4 x - 1.5) - relu(4 x - 2.5) = 1``, are
exact in float32, not only within its rounding bound, and its zeros are exact
where the unit stays off. A count head reading such copies then scores its
keys without error (:mod:`.bounds_scores`).

>>> x = np.array([[1.0, 1.0, 0.0]])  # a copied direction, the constant one, BOS
>>> error = np.array([[0.02, 0.0, 0.0]])
>>> w = np.array([[4.0, 3.0], [-1.5, -1.0], [-0.001, -0.001]])
>>> cols, exact, grid_of = exact_units(x, error, w, np.zeros(2), 2.0**-24)
>>> cols.tolist(), exact.tolist(), bool(grid_of[0, 0] == 2.0**-22)  # 4 x, not 3 x
([0], [[True]], True)
"""

from __future__ import annotations

import numpy as np

from .rounding import grid

__all__ = ["exact_units", "exact_outputs"]


def _power_of_two(w: np.ndarray) -> np.ndarray:
    """Where ``w`` is 0 or plus or minus a power of two (a product with it is exact)."""
    mantissa, _ = np.frexp(w)
    return np.asarray((w == 0) | (np.abs(mantissa) == 0.5), dtype=bool)


SHORT_BITS = 12  # significant bits of a weight worth trying (a copy's: 1 to 3)


def _short(w: np.ndarray) -> np.ndarray:
    """Where ``w`` has at most ``SHORT_BITS`` significant bits."""
    mantissa, _ = np.frexp(w)
    scaled = mantissa * 2.0**SHORT_BITS
    return np.asarray(scaled == np.round(scaled), dtype=bool)


def exact_units(
    x: np.ndarray, error: np.ndarray, w_in: np.ndarray, b_in: np.ndarray, u: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units whose ``x @ w_in + b_in`` may be computed exactly for every input within
    ``error`` of ``x`` (at most one input of a unit may carry an error, times a power of
    two); for those, ``[rows, those]``: whether it is, and a grid its value is a multiple
    of there. Units past the first test take no memory (a count's decoding has 1,025)."""
    noisy = np.asarray(error > 0)  # [rows, dims]
    # a noisy input is known only on its grid: a product with it is exact times 2^k alone;
    # a weight of many significant bits (a fitted ramp's) makes a sum exact too seldom to try
    live = np.asarray((np.abs(x) + error).max(axis=0, initial=0.0) > 0)
    risky = np.asarray(noisy.any(axis=0))[:, None] & ~_power_of_two(w_in)
    risky |= live[:, None] & ~_short(w_in)
    cols = np.flatnonzero(~risky.any(axis=0))
    w_in, b_in = w_in[:, cols], b_in[cols]
    rows = len(x)
    if not noisy.any():
        return cols, *_exact_rows(x, w_in, b_in, u)
    sums = _Terms.of(b_in, rows)
    for i in range(w_in.shape[0]):  # exact inputs: exact products, each on its own grid
        at = _columns(np.flatnonzero(w_in[i]))
        still = ~noisy[:, i : i + 1]
        if at is None or not still.any():
            continue
        term = x[:, i : i + 1] * w_in[i, at][None]  # [rows, at]
        g = grid(x[:, i], axis=None, keep=True)[:, None] * grid(w_in[i, at], None, True)
        if still.all():
            sums.add(at, term, g)
        else:
            sums.add(at, np.where(still, term, 0.0), np.where(still, g, np.inf))
    count = np.zeros((rows, len(cols)), dtype=np.int64)
    low, high = np.zeros((rows, len(cols))), np.zeros((rows, len(cols)))
    positive = np.zeros((rows, len(cols)), dtype=bool)
    for i in np.flatnonzero(noisy.any(axis=0)).tolist():  # at most one per unit is exact
        at = _columns(np.flatnonzero(w_in[i]))
        if at is None:
            continue
        still = ~noisy[:, i : i + 1]
        term = x[:, i : i + 1] * w_in[i, at][None]
        reach = np.abs(w_in[i, at])[None] * error[:, i : i + 1]
        count[:, at] += ~still
        low[:, at] = np.where(still, low[:, at], np.abs(term) - reach)
        high[:, at] = np.where(still, high[:, at], np.abs(term) + reach)
        positive[:, at] = np.where(still, positive[:, at], term > 0)
    exact, unit = sums.check(u, count == 0)
    one = (count == 1) & (low > 0)
    if one.any():  # its noisy term, a float in [low, high]: on one grid per binade
        top = np.exp2(np.ceil(np.log2(np.where(one, low, 1.0))))  # the next power of two
        below = np.exp2(np.floor(np.log2(np.where(one, low, 1.0)))) * 2.0 * u
        first, at_first = sums.check(u, one, np.minimum(top, high), below, positive)
        crosses = top < high
        second, at_second = sums.check(u, one & crosses, high, top * 2.0 * u, positive)
        both = one & first & (second | ~crosses)
        exact = exact | both
        unit = np.where(both, np.minimum(at_first, np.where(crosses, at_second, np.inf)), unit)
    return cols, exact, unit


def _exact_rows(
    x: np.ndarray, w_in: np.ndarray, b_in: np.ndarray, u: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_units` where no input carries an error, a unit at a time over every row
    (a grid common to the rows, the largest partial sums of any): an MLP reading positions
    has thousands of rows and units."""
    gx = grid(x, axis=0)  # [dims]: inf where every row holds 0
    gw = grid(w_in, axis=None, keep=True)  # [dims, units]: inf where the weight is 0
    unit = np.minimum((gx[:, None] * gw).min(axis=0, initial=np.inf), grid(b_in, None, True))
    # each dimension at its largest over the rows: a bound of every row's partial sums
    up, down = (
        np.maximum(x, 0.0).max(axis=0, initial=0.0),
        np.maximum(-x, 0.0).max(axis=0, initial=0.0),
    )
    pos = up @ np.maximum(w_in, 0.0) + down @ np.maximum(-w_in, 0.0) + np.maximum(b_in, 0.0)
    neg = up @ np.maximum(-w_in, 0.0) + down @ np.maximum(w_in, 0.0) + np.maximum(-b_in, 0.0)
    largest = np.maximum(pos, neg)  # [units]
    exact = np.broadcast_to(largest <= unit / u, (len(x), len(unit)))
    return exact, np.broadcast_to(unit, exact.shape)


def _columns(at: np.ndarray) -> slice | np.ndarray | None:
    """Column indices as a slice where they run without gaps (no copies), None if none."""
    if not len(at):
        return None
    first, last = int(at[0]), int(at[-1])
    return slice(first, last + 1) if last - first + 1 == len(at) else at


class _Terms:
    """The exact terms of sums, row by unit: their positive and negative totals, and a
    grid they are all multiples of."""

    def __init__(self, pos: np.ndarray, neg: np.ndarray, unit: np.ndarray) -> None:
        self.pos, self.neg, self.unit = pos, neg, unit

    @staticmethod
    def of(bias: np.ndarray, rows: int) -> _Terms:
        shape = (rows, len(bias))
        pos = np.broadcast_to(np.maximum(bias, 0.0), shape).copy()
        neg = np.broadcast_to(np.maximum(-bias, 0.0), shape).copy()
        return _Terms(pos, neg, np.broadcast_to(grid(bias, None, True), shape).copy())

    def add(self, cols: slice | np.ndarray, term: np.ndarray, g: np.ndarray) -> None:
        self.pos[:, cols] += np.maximum(term, 0.0)
        self.neg[:, cols] += np.maximum(-term, 0.0)
        self.unit[:, cols] = np.minimum(self.unit[:, cols], g)

    def check(
        self,
        u: float,
        where: np.ndarray,
        size: np.ndarray | None = None,
        g: np.ndarray | None = None,
        positive: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Where every partial sum (with one more term of magnitude at most ``size`` on grid
        ``g``, of sign ``positive``) stays within ``1/u`` of the grid: exact in any order."""
        pos, neg, unit = self.pos, self.neg, self.unit
        if size is not None and g is not None and positive is not None:
            pos = pos + np.where(positive, size, 0.0)
            neg = neg + np.where(positive, 0.0, size)
            unit = np.minimum(unit, g)
        return where & (np.maximum(pos, neg) <= unit / u), unit


def exact_outputs(
    exact: tuple[np.ndarray, np.ndarray, np.ndarray],
    off: np.ndarray,
    hidden: np.ndarray,
    w_out: np.ndarray,
    u: float,
) -> np.ndarray:
    """``[rows, written]``: whether ``relu(z) @ w_out`` is summed exactly, where each unit
    writing an output holds an exact value (``exact``: :func:`exact_units`'s units, and
    their grids) or is ``off`` (an exact 0), and ``hidden`` bounds the units' values."""
    cols, sure, unit = exact
    held = off.copy()
    held[:, cols] |= sure
    writes = w_out != 0  # [units, written]
    whole = ((~held).astype(np.float64) @ writes) == 0  # [rows, written]
    gwo = grid(w_out, axis=None, keep=True)  # [units, written]
    found = np.full((len(off), w_out.shape[1]), np.inf)
    for k, j in enumerate(cols.tolist()):  # a unit that is off adds an exact 0
        at = np.flatnonzero(writes[j])
        if len(at):
            on_grid = np.where(off[:, j : j + 1], np.inf, unit[:, k : k + 1])
            found[:, at] = np.minimum(found[:, at], on_grid * gwo[j, at][None])
    largest = np.maximum(hidden @ np.maximum(w_out, 0.0), hidden @ np.maximum(-w_out, 0.0))
    return whole & (largest <= found / u)
