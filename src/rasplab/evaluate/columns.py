"""Dictionary-encoded s-op values: the evaluator's working representation.

An s-op's values on a batch of equal-length inputs are a ``Column``: an
integer array ``codes [batch, pos]`` indexing a ``table`` of distinct atoms.
Maps then run once per distinct value, and type distinctions survive
(``1``, ``1.0`` and ``True`` are three different table entries, so a result
computed for ``[1, 0]`` can never be mistaken for one of ``[1.0, 0.0]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Column", "value_key", "NumericView"]


def value_key(value: Any) -> tuple[type, Any]:
    """A dictionary key under which equal values of different types stay apart."""
    if isinstance(value, float) and math.isnan(value):
        return (float, "nan")
    if isinstance(value, tuple):  # composite values (tracr builds tuples in n-ary maps)
        return (tuple, tuple(value_key(v) for v in value))
    return (type(value), value)


@dataclass(frozen=True)
class NumericView:
    """Per table entry: is it a number (int/float, not bool), is it an int, its float value."""

    is_number: np.ndarray  # [table] bool
    is_int: np.ndarray  # [table] bool (bools count as ints for sums)
    values: np.ndarray  # [table] float64, nan where not a number


@dataclass(frozen=True, eq=False)
class Column:
    """Values of one s-op on a bucket of equal-length inputs."""

    codes: np.ndarray  # [batch, pos] int64 into table
    table: tuple[Any, ...]  # distinct values, every one used somewhere in codes
    _numeric: list = field(default_factory=list, repr=False)

    @staticmethod
    def build(codes: np.ndarray, table: list[Any] | tuple[Any, ...]) -> Column:
        """Canonical column: merge duplicate values, drop unused table entries."""
        codes = np.asarray(codes, dtype=np.int64)
        used = np.zeros(len(table), dtype=bool)
        used[codes.ravel()] = True
        index: dict[tuple[type, Any], int] = {}
        remap = np.zeros(len(table), dtype=np.int64)
        kept: list[Any] = []
        for i, value in enumerate(table):
            if not used[i]:
                continue
            key = value_key(value)
            j = index.get(key)
            if j is None:
                j = index[key] = len(kept)
                kept.append(value)
            remap[i] = j
        return Column(remap[codes], tuple(kept))

    @staticmethod
    def from_rows(rows: list[list[Any]]) -> Column:
        """Intern a batch of equal-length rows of atoms."""
        index: dict[tuple[type, Any], int] = {}
        table: list[Any] = []
        flat = np.empty(sum(len(r) for r in rows), dtype=np.int64)
        i = 0
        for row in rows:
            for value in row:
                key = value_key(value)
                code = index.get(key)
                if code is None:
                    code = index[key] = len(table)
                    table.append(value)
                flat[i] = code
                i += 1
        return Column(flat.reshape(len(rows), -1), tuple(table))

    @staticmethod
    def constant(value: Any, batch: int, n: int) -> Column:
        return Column(np.zeros((batch, n), dtype=np.int64), (value,))

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape  # type: ignore[return-value]

    def numeric(self) -> NumericView:
        """The numeric view of the table, computed once per column."""
        if not self._numeric:
            is_number = np.array(
                [isinstance(v, int | float) and not isinstance(v, bool) for v in self.table],
                dtype=bool,
            )
            is_int = np.array([isinstance(v, int) for v in self.table], dtype=bool)
            values = np.array(
                [float(v) if isinstance(v, int | float) else np.nan for v in self.table],
                dtype=np.float64,
            )
            self._numeric.append(NumericView(is_number, is_int, values))
        return self._numeric[0]

    def object_table(self) -> np.ndarray:
        out = np.empty(len(self.table), dtype=object)
        for i, value in enumerate(self.table):  # element-wise: tuples must stay whole
            out[i] = value
        return out

    def rows(self) -> list[list[Any]]:
        """Decode to one Python list per input."""
        return self.object_table()[self.codes].tolist()

    def first_position(self, code: int) -> tuple[int, int]:
        """(input, position) of the first occurrence of a table entry."""
        b, p = np.argwhere(self.codes == code)[0]
        return int(b), int(p)
