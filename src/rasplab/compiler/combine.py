"""How aggregates combine values, and which widths a selector can have, as plain arrays.

>>> combos = Combiner([0, 1], "mean", None)
>>> sorted(combos.values(frozenset({2})))
[0.0, 0.5, 1.0]
>>> lo = np.array([[1, 1], [0, 2]]); hi = np.array([[1, 2], [0, 2]])
>>> width_cover(lo, hi, np.array([[True, True], [False, True]])).astype(int).tolist()
[[0, 1, 1], [0, 0, 1]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..lang.graph import value_key
from ..lang.nodes import Aggregate

__all__ = [
    "Combiner",
    "lone_values",
    "sum_moves_one_value",
    "is_number",
    "ordered",
    "width_cover",
    "distinct",
    "MEAN_LIMIT",
    "PLAIN",
]

MEAN_LIMIT = 60_000  # most distinct sums a mean's value set is built from
# ...and for a 0/1 flag, whose m keys sum to 0..m: every share j / m up to 1,024 positions
FLAG_LIMIT = 530_000
# Types whose value_key(v) is (type(v), v); floats too, unless NaN. Hot loops inline that
# instead of calling value_key.
PLAIN = frozenset({int, str, bool})


def is_number(value: Any, bools: bool = False) -> bool:
    """int or float (bools only when ``bools``): what a mean can average."""
    if isinstance(value, bool):
        return bools
    return isinstance(value, int | float)


def _rank(value: Any) -> tuple:
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        # equal numbers of different types (1, 1.0, True) are ordered by type name, not
        # by the order a set happened to hold them (which follows memory addresses)
        return (1, value, type(value).__name__)
    if isinstance(value, str):
        return (2, value)
    return (3, repr(value))


def ordered(values: Any) -> list[Any]:
    """Values in a stable order: None, numbers (by value), strings, the rest by repr.

    >>> ordered(["b", 2, None, "a", 1.5, True])
    [None, True, 1.5, 2, 'a', 'b']
    >>> ordered([1, True, 1.0])
    [True, 1.0, 1]
    """
    return sorted(values, key=_rank)


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (flattened), by a table of the span for signed ints of a small
    span (:func:`unique_inverse`), else by sorting: numpy's hashing path is far slower on
    large int arrays and has more overhead on small ones."""
    flat = values.reshape(-1)
    table = _span_table(flat)
    if table is not None:
        return (np.flatnonzero(table[1]) + table[0]).astype(flat.dtype)
    s = np.sort(flat)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def _span_table(flat: np.ndarray) -> tuple[int, np.ndarray] | None:
    """For signed ints spanning at most a few times their number: the least, and which
    values of the span occur (None otherwise)."""
    if flat.dtype.kind != "i" or not len(flat):
        return None
    low = int(flat.min())
    span = int(flat.max()) - low + 1
    if span > 4 * len(flat) + 65536:
        return None
    seen = np.zeros(span, dtype=bool)
    seen[flat.astype(np.int64, copy=False) - low] = True  # (a narrow int type would wrap)
    return low, seen


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of a 1-d array, the inverse flat. Signed
    ints of a span at most a few times their number are ranked by a table of the span,
    not a sort: a million combinations' results take milliseconds, not a tenth of a second.

    >>> found, where = unique_inverse(np.array([5, -2, 5, 7]))
    >>> found.tolist(), where.tolist()
    ([-2, 5, 7], [1, 0, 1, 2])
    """
    table = _span_table(values)
    if table is not None:
        low, seen = table
        ranks = np.cumsum(seen) - 1
        where = ranks[values.astype(np.int64, copy=False) - low]
        return (np.flatnonzero(seen) + low).astype(values.dtype), where
    found, where = np.unique(values, return_inverse=True)
    return found, where.reshape(-1)


def width_cover(lo: np.ndarray, hi: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``[position, w]``: some valid (position, length) pair allows width ``w`` (lo <= w <= hi)."""
    if lo.size and (one := _one_value(lo)) is not None:  # [c, hi]: nested, one interval
        return _nested(np.where(valid & (hi >= one), hi, -1).max(axis=1), one)
    if hi.size and (one := _one_value(hi)) is not None:  # [lo, c] likewise
        least = np.where(valid & (lo <= one), lo, one + 1).min(axis=1)
        return _nested(np.where(least <= one, one, -1), least)
    mask = valid & (lo <= hi)
    if lo is hi:  # exact widths: one per pair, no interval to spread
        return _exact(lo, mask)
    size = int(hi[mask].max(initial=0)) + 2
    rows = np.broadcast_to(np.arange(lo.shape[0])[:, None] * size, lo.shape)[mask]
    cells = lo.shape[0] * size  # [position, w] flattened: bincount, not a slower np.add.at
    starts = np.bincount(rows + lo[mask], minlength=cells)
    diff = starts - np.bincount(rows + hi[mask] + 1, minlength=cells)
    return np.cumsum(diff.reshape(lo.shape[0], size), axis=1)[:, : size - 1] > 0


def _exact(widths: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`width_cover` where ``lo`` is ``hi``: each valid pair's one width marked."""
    rows = np.broadcast_to(np.arange(widths.shape[0])[:, None], widths.shape)[mask]
    found = widths[mask]
    cover = np.zeros((widths.shape[0], int(found.max(initial=0)) + 1), dtype=bool)
    cover[rows, found] = True
    return cover


def _one_value(a: np.ndarray) -> int | None:
    """The one value every entry of ``a`` holds, if there is one."""
    low = int(a.min())
    return low if low == int(a.max()) else None


def _nested(top: np.ndarray, least: np.ndarray | int) -> np.ndarray:
    """:func:`width_cover` where every valid pair of a position shares an end (one least
    or one greatest width everywhere, a select's ``[0, length]`` say): their intervals
    nest, and each position's union is ``[least, top]`` (``top`` -1 where there is none).
    The columns run to the greatest width of any pair, as in the general case."""
    widths = np.arange(max(int(top.max(initial=-1)), 0) + 1)
    low = least if isinstance(least, int) else least[:, None]
    return (widths >= low) & (widths <= top[:, None])


def lone_values(per_position: Sequence[frozenset], objects: Mapping[Any, Any]) -> list | None:
    """The values of the one position that may hold anything but the int 0, where every
    other position holds that 0 only (``[indices == 0]``); None otherwise. ``per_position``:
    the value keys of each position's set; ``objects``: key -> value. Any ``m`` keys of
    such an s-op sum to 0 or to one of these values.

    >>> objects = {(int, 0): 0, (int, 1): 1, (float, 0.0): 0.0}
    >>> zero, one = frozenset({(int, 0)}), frozenset({(int, 1)})
    >>> lone_values([one, zero, zero], objects), lone_values([one, one, zero], objects)
    ([1], None)
    >>> lone_values([one, frozenset({(float, 0.0)})], objects) is None  # 0.0 + 1 is 1.0
    True
    """
    zero = frozenset({(int, 0)})
    others = [keys for keys in per_position if keys != zero]
    if len(others) > 1:
        return None
    values = [objects[k] for keys in others for k in keys]
    return values if all(is_number(v) for v in values) else None


class Combiner:
    """The values an aggregate yields when it selects ``m`` keys, memoised per ``m``.
    ``lone``: the values of the one position that may be non-zero (:func:`lone_values`),
    where that holds: ``m`` keys then sum to 0 or one of them, not to any ``m`` of the pool
    (the paper's BOS-free width averages ``[indices == 0]``: ``1 / m`` and 0, not ``j / m``).
    """

    def __init__(
        self,
        pool: list[Any],
        mode: str,
        node: Aggregate | None,
        uniform: bool = False,
        lone: list[Any] | None = None,
    ):
        self.pool, self.mode, self.uniform = pool, mode, uniform
        bools = node is None or "numerical" in (node.encoding.value, node.sop.encoding.value)
        self.numbers = [v for v in pool if is_number(v, bools=bools)]
        self.all_int = all(isinstance(v, int) for v in self.numbers)
        self.lone = None if lone is None else {0, *lone}
        self.sums: dict[int, set] = {}
        self.size = 0

    def key(self) -> tuple:
        """What decides the values: another combiner with the same key gives the same."""
        lone = None if self.lone is None else frozenset(map(value_key, self.lone))
        numbers = tuple(map(value_key, self.numbers))
        return (self.mode, self.uniform, tuple(map(value_key, self.pool)), numbers, lone)

    def values(self, widths: frozenset[int]) -> list[Any] | None:
        out: list[Any] = []
        counts = sorted(w for w in widths if w > 0)
        if counts and (self.mode in ("select", "max", "min") or counts[0] == 1):
            out.extend(self.pool)
        for m in counts:
            if self.mode in ("select", "max", "min") or m == 1:
                continue
            if self.uniform and self.mode == "mean":  # m equal values average to themselves
                out.extend(float(v) for v in self.numbers)
                continue
            sums = self.sum_set(m)
            if sums is None:
                return None
            if self.mode == "sum":
                out.extend(sums)
            else:
                out.extend(float(s) / m for s in sums)
        return out

    def sum_set(self, m: int) -> set | None:
        if self.lone is not None:  # one key at most holds a non-zero value
            return self.lone if self.all_int else {float(v) for v in self.lone}
        if m not in self.sums and self.all_int and set(self.numbers) == {0, 1}:
            self.sums[m] = set(range(m + 1))  # a flag: m keys hold 0..m ones
            self.size += m + 1
            return self.sums[m] if self.size <= FLAG_LIMIT else None
        if m not in self.sums:
            previous = {0} if m == 1 else self.sum_set(m - 1)
            if previous is None:
                return None
            step = self.numbers if self.all_int else [float(v) for v in self.numbers]
            self.sums[m] = {s + v for s in previous for v in step}
            self.size += len(self.sums[m])
            if self.size > MEAN_LIMIT:
                return None
        return self.sums[m]


def sum_moves_one_value(pool: list[Any], widths: tuple[frozenset[int], ...]) -> bool:
    """Whether a sum aggregate (raspy's rule) is exactly a categorical select: it never
    selects two keys, or it sums no numbers (several non-numbers are an evaluation error,
    so on every input the evaluator accepts at most one key is selected).

    >>> sum_moves_one_value(["a", "b"], (frozenset({0, 3}),))
    True
    >>> sum_moves_one_value([1, "a"], (frozenset({0, 3}),))
    False
    >>> sum_moves_one_value([1, 2], (frozenset({0, 1}),))
    True
    """
    if max((max(w, default=0) for w in widths), default=0) <= 1:
        return True
    return not any(is_number(v, bools=True) for v in pool)
