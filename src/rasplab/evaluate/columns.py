"""Dictionary-encoded s-op values: the evaluator's working representation.

An s-op's values on a batch of equal-length inputs are a ``Column``: an
integer array ``codes [batch, pos]`` indexing a ``table`` of distinct atoms.
Maps then run once per distinct value, and type distinctions survive
(``1``, ``1.0`` and ``True`` are three different table entries, so a result
computed for ``[1, 0]`` can never be mistaken for one of ``[1.0, 0.0]``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..lang.graph import value_key

__all__ = ["Column", "NumericView", "holds_nan"]

# Types whose values can key a dict directly: equal values of these never
# belong to another type of the same set, and they hold no NaN.
_SELF_KEYED = frozenset({str, int, bool})


def _intern_characters(flat: list[str]) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Codes (in order of first appearance) for one-character strings, computed in numpy.

    Returns ``(None, ())`` unless every token is exactly one character below
    U+10000 (other strings take the dictionary path).
    """
    joined = "".join(flat)
    # Equal to the list of its characters: every token is exactly one character.
    if len(joined) != len(flat) or flat != list(joined):
        return None, ()
    try:
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:  # lone surrogates
        return None, ()
    top = int(points.max())
    if top >= 1 << 16:
        return None, ()
    # The distinct characters in order of first appearance: usually all of
    # them turn up in a short prefix; if not, the whole text is scanned.
    by_point = np.full(top + 1, -1, dtype=np.int64)
    chars = "".join(dict.fromkeys(joined[:_PREFIX]))
    by_point[np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)] = np.arange(len(chars))
    codes = by_point[points]
    if len(joined) > _PREFIX and int(codes.min()) < 0:
        chars = "".join(dict.fromkeys(joined))
        by_point[np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)] = np.arange(len(chars))
        codes = by_point[points]
    return codes, tuple(chars)


_PREFIX = 1 << 10  # characters scanned first for the distinct ones


def _merge(
    table: list[Any] | tuple[Any, ...], used: list[int], remap: np.ndarray
) -> tuple[list[Any], dict[tuple[type, Any], int]]:
    """The distinct values among ``table[i] for i in used``, first occurrence first.

    Fills ``remap[i]`` with each used entry's index among them.
    """
    index: dict[tuple[type, Any], int] = {}
    kept: list[Any] = []
    for i in used:
        value = table[i]
        key = value_key(value)
        j = index.get(key)
        if j is None:
            j = index[key] = len(kept)
            kept.append(value)
        remap[i] = j
    return kept, index


def holds_nan(value: Any) -> bool:
    """Whether a value is NaN or a tuple holding one (NaN is not a RASP value).

    >>> holds_nan(float("nan")), holds_nan((1, float("nan"))), holds_nan(float("inf"))
    (True, True, False)
    """
    if isinstance(value, float):
        return value != value
    return isinstance(value, tuple) and any(holds_nan(v) for v in value)


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
        remap = np.zeros(len(table), dtype=np.int64)
        kept, _ = _merge(table, np.flatnonzero(used).tolist(), remap)
        return Column(remap[codes], tuple(kept))

    @staticmethod
    def build_with_floats(codes: np.ndarray, table: list[Any], floats: np.ndarray) -> Column:
        """``build(codes, table + floats.tolist())`` for distinct floats that are all used.

        The same column, without a Python loop over the floats (there may be
        one per position, e.g. the means of an aggregate).
        """
        codes = np.asarray(codes, dtype=np.int64)
        head = len(table)
        used = np.zeros(head + len(floats), dtype=bool)
        used[codes.ravel()] = True
        remap = np.zeros(head + len(floats), dtype=np.int64)
        kept, index = _merge(table, np.flatnonzero(used[:head]).tolist(), remap)
        merged = np.zeros(len(floats), dtype=bool)
        for (kind, value), j in index.items():  # a float already in the table keeps its code
            if kind is float:
                same = np.isnan(floats) if value == "nan" else floats == value
                remap[head:][same] = j
                merged |= same
        fresh = ~merged
        remap[head:][fresh] = len(kept) + np.arange(int(fresh.sum()))
        kept.extend(floats[fresh].tolist())
        return Column(remap[codes], tuple(kept))

    @staticmethod
    def from_rows(
        rows: list[list[Any]],
        token_types: frozenset[type] | None = None,
        flat: list[Any] | None = None,
    ) -> Column:
        """Intern a batch of equal-length rows of atoms (codes in order of first appearance).

        ``token_types`` (the exact types of all the tokens) and ``flat`` (the
        rows concatenated) save passes when the caller has them at hand.
        """
        if flat is None:
            flat = list(itertools.chain.from_iterable(rows))
        kinds = set(map(type, flat)) if token_types is None else token_types
        if len(kinds) == 1 and kinds <= _SELF_KEYED:
            codes, table = _intern_characters(flat) if str in kinds else (None, ())
            if codes is None:  # one exact type whose values are their own dictionary keys
                index: dict[Any, int] = {}
                intern = index.setdefault
                codes = np.fromiter((intern(v, len(index)) for v in flat), np.int64, len(flat))
                table = tuple(index)
            return Column(codes.reshape(len(rows), -1), table)
        keyed: dict[tuple[type, Any], int] = {}
        values: list[Any] = []
        codes = np.empty(len(flat), dtype=np.int64)
        for i, value in enumerate(flat):
            key = value_key(value)
            code = keyed.get(key)
            if code is None:
                code = keyed[key] = len(values)
                values.append(value)
            codes[i] = code
        return Column(codes.reshape(len(rows), -1), tuple(values))

    @staticmethod
    def constant(value: Any, batch: int, n: int) -> Column:
        return Column(np.zeros((batch, n), dtype=np.int64), (value,))

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape

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
        table = self.table
        if all(type(v) is int for v in table):  # ints decode from an int64 array, no objects
            if table == tuple(range(len(table))):
                return self.codes.tolist()
            if min(table) >= -(1 << 63) and max(table) < 1 << 63:
                return np.array(table, dtype=np.int64)[self.codes].tolist()
        return self.object_table()[self.codes].tolist()

    def first_position(self, code: int) -> tuple[int, int]:
        """(input, position) of the first occurrence of a table entry."""
        b, p = np.argwhere(self.codes == code)[0]
        return int(b), int(p)
