"""Sound bounds of floating-point rounding, for the bound argument of :mod:`.bounds`.

A sum of ``n`` products computed in floating point is off from the exact sum
by at most ``gamma(n) = n u / (1 - n u)`` of the sum of the products'
magnitudes, ``u`` the unit roundoff (``2^-24`` in float32, ``2^-53`` in
float64). A product with a zero weight is exactly 0 and adds no rounding, so
:class:`Rounding` counts each column's non-zero weights. Some sums are exact
in any order: dyadic numbers that are multiples of one power of two
(:func:`grid`) add exactly while their sums stay below ``1/u`` of it.

>>> import numpy as np
>>> r = Rounding(UNIT_ROUNDOFF_FLOAT32)
>>> r.gamma(3) == 3 * 2**-24 / (1 - 3 * 2**-24), Rounding().gamma(3)
(True, 0.0)
>>> w = np.array([[1.0, 0.0], [2.0, 0.0]])  # two weights and a bias, then a bias alone
>>> r.columns(w).tolist() == [r.gamma(3), r.gamma(1)]
True
>>> float(grid(np.array([0.75, 1.5, 0.0]), axis=0))
0.25
>>> Rounding().name, Rounding(UNIT_ROUNDOFF_FLOAT64).name, Rounding(UNIT_ROUNDOFF_FLOAT32).name
('exact arithmetic', 'float64', 'float32')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Rounding", "grid", "UNIT_ROUNDOFF_FLOAT32", "UNIT_ROUNDOFF_FLOAT64"]

UNIT_ROUNDOFF_FLOAT32 = 2.0**-24
UNIT_ROUNDOFF_FLOAT64 = 2.0**-53


@dataclass(frozen=True)
class Rounding:
    """Sound bounds of floating-point rounding: ``gamma(n) = n u / (1 - n u)`` for a sum of
    ``n`` products, ``u`` the unit roundoff (0: exact arithmetic)."""

    u: float = 0.0

    def gamma(self, n: int) -> float:
        if self.u == 0.0:
            return 0.0
        nu = n * self.u
        if nu >= 1.0:
            return math.inf
        return nu / (1.0 - nu)

    def columns(self, w: np.ndarray) -> np.ndarray:
        """``gamma`` per column of ``x @ w + b``: products with a zero weight are exactly 0
        and add no rounding, so each column counts its non-zero weights (and the bias)."""
        if w.shape[0] == 0:  # a unit reading nothing (a separable MLP's constant)
            return np.full(w.shape[1:], self.gamma(1))
        nonzero = np.count_nonzero(w.reshape(w.shape[0], -1), axis=0) + 1  # [columns]
        return np.array([self.gamma(int(n)) for n in nonzero]).reshape(w.shape[1:])

    def exact(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per column of ``x @ w + b`` (``x``'s rows exact): True where float arithmetic
        computes it exactly. Products of dyadic numbers are multiples of a common power of
        two ``g``; while every sum of them stays below ``2^p g`` (``p`` the significand's
        bits, here ``1/u``) each partial sum is representable, in any order."""
        if self.u == 0.0:
            return np.ones(w.shape[1], dtype=bool)
        gx = grid(x, axis=0)  # [d]
        gw = grid(w, axis=None, keep=True)  # [d, e]
        used = w != 0
        unit = np.where(used, gx[:, None] * gw, np.inf).min(axis=0)
        unit = np.minimum(unit, grid(b, axis=None, keep=True))
        largest = (np.abs(x) @ np.abs(w)).max(axis=0, initial=0.0) + np.abs(b)
        return largest < unit / self.u

    def terms(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``gamma`` per entry of ``x @ w + b``, counting in each only the products whose
        factors may both be non-zero (``x`` here bounds the rows' magnitudes), and the bias."""
        if self.u == 0.0:
            return np.zeros((len(x), w.shape[1]))
        nu = ((x > 0).astype(np.float64) @ (w != 0) + 1.0) * self.u
        return np.where(nu < 1.0, nu / np.maximum(1.0 - nu, 1e-300), np.inf)

    @property
    def name(self) -> str:
        names = {0.0: "exact arithmetic", UNIT_ROUNDOFF_FLOAT64: "float64"}
        return names.get(self.u, "float32")


def grid(values: np.ndarray, axis: int | None, keep: bool = False) -> np.ndarray:
    """The largest power of two that every value is an integer multiple of (inf for zeros),
    along ``axis`` (None with ``keep``: per value)."""
    a = np.asarray(values, dtype=np.float64)
    mantissa, exponent = np.frexp(a)
    ints = np.abs(mantissa * 2.0**53).astype(np.int64)
    low = np.log2((ints & -ints).astype(np.float64), where=ints != 0, out=np.zeros(a.shape))
    g = np.where(a != 0, np.exp2(exponent - 53 + low), np.inf)
    if keep:
        return g
    return np.asarray(g.min(axis=axis, initial=np.inf))
