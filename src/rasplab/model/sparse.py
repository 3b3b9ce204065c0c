"""Which residual dimensions each compiled weight reads and writes.

A compiled model's residual stream is wide (one direction per value of every
s-op) but each head or MLP reads a few of those directions and writes a few
others. Cutting every weight down to the rows it reads and the columns it
writes gives the same numbers with a fraction of the multiplications and
memory traffic; :mod:`rasplab.model.torch` runs its forward pass this way.

>>> import numpy as np
>>> w = np.zeros((6, 3)); w[2, 0] = w[3, 1] = 1.0
>>> used_rows(w)
array([2, 3])
>>> runs(np.array([0, 1, 2, 7, 9, 10]))
[slice(0, 3, None), slice(7, 8, None), slice(9, 11, None)]
"""

from __future__ import annotations

import numpy as np

__all__ = ["runs", "used_cols", "used_rows"]


def used_rows(w: np.ndarray) -> np.ndarray:
    """Indices of the rows of a 2-d matrix that hold a non-zero entry."""
    return np.flatnonzero(np.any(w != 0, axis=1))


def used_cols(w: np.ndarray) -> np.ndarray:
    """Indices of the columns of a 2-d matrix that hold a non-zero entry."""
    return np.flatnonzero(np.any(w != 0, axis=0))


def runs(index: np.ndarray) -> list[slice]:
    """Sorted indices as maximal runs of consecutive values."""
    breaks = np.flatnonzero(np.diff(index) != 1) + 1
    return [slice(int(p[0]), int(p[-1]) + 1) for p in np.split(index, breaks) if len(p)]
