"""Maps of ``indices`` and ``length`` alone over every (position, length) pair at once.

The value sets need, for each position, the values that such an s-op takes at
every input length (``length - indices - 1`` and the like). Evaluating the
program once per length costs ``max_seq_len`` evaluations; here each map runs
once per distinct value (or tuple) over all ``n (n + 1) / 2`` pairs, and a
select over such numbers is counted per length from its sorted sides. Where a
map raises or gives what the evaluator would refuse, :func:`by_pairs` gives up
and the caller evaluates length by length, whose evaluator names the failure.

>>> from rasplab import indices, length
>>> values, widths = by_pairs([length, (length - indices - 1).named("opp")], 3)
>>> sorted(values[length.id][0]), widths
([1, 2, 3], {})
"""

from __future__ import annotations

import numpy as np

from ..lang.base import is_atom
from ..lang.enums import Comparison
from ..lang.graph import value_key
from ..lang.nodes import Constant, Indices, Length, Map, Node, Select, ZipMap
from .arithmetic import by_arithmetic

__all__ = ["by_pairs"]


def by_pairs(nodes: list[Node], n_max: int) -> tuple[dict, dict] | None:
    """Value sets and select widths of maps of ``indices`` and ``length`` alone, at once.

    Such a node's value at position ``i`` of a length-``n`` input is ``f(i, n)``:
    here every pair ``i < n <= n_max`` is one row, and each map runs once per distinct
    value (or tuple) over all rows, instead of one evaluation per length. A select
    over such numbers is counted per length from its sides' values (sorted: ``n log
    n`` a length). None where a node is neither, where a map raises or gives a value
    the evaluator would refuse: the caller then evaluates length by length, and its
    evaluator says which node fails and why.
    """
    selects = [n for n in nodes if isinstance(n, Select)]
    if not all(isinstance(n, Map | ZipMap | Length | Select) for n in nodes):
        return None
    if any(s.predicate not in _SORTED_COUNTS for s in selects):
        return None
    base = n_max + 1
    lengths = np.repeat(np.arange(1, base), np.arange(1, base))  # [pairs]
    starts = np.cumsum(np.arange(n_max))  # [n_max]: where length n's pairs start
    positions = np.arange(len(lengths)) - np.repeat(starts, range(1, base))  # [pairs]
    rows = _PairRows(positions, lengths)
    try:
        columns = {n.id: rows.column(n) for n in nodes if not isinstance(n, Select)}
        sides = {s.id: (rows.column(s.keys), rows.column(s.queries)) for s in selects}
    except _NotHere:
        return None
    values = {k: _per_position(col, positions, n_max) for k, col in columns.items()}
    widths: dict[int, np.ndarray] = {}
    for sel in selects:
        keys, queries = (_numbers(col) for col in sides[sel.id])
        if keys is None or queries is None:
            return None
        widths[sel.id] = _width_grid(sel.predicate, keys, queries, starts, n_max)
    return values, widths


class _NotHere(Exception):
    """A node the pair rows do not evaluate (the caller falls back to the evaluator)."""


Codes = tuple[np.ndarray, list]  # (value index per row [pairs], the distinct values)


class _PairRows:
    """Maps of ``indices`` and ``length`` over every (position, length) pair."""

    def __init__(self, positions: np.ndarray, lengths: np.ndarray) -> None:
        self.positions, self.lengths = positions, lengths
        self.done: dict[int, Codes] = {}

    def column(self, node: Node) -> Codes:
        if node.id not in self.done:
            self.done[node.id] = self._make(node)
        return self.done[node.id]

    def _make(self, node: Node) -> Codes:
        if isinstance(node, Indices):
            return self.positions, list(range(int(self.lengths.max())))
        if isinstance(node, Length):
            return self.lengths - 1, list(range(1, int(self.lengths.max()) + 1))
        if isinstance(node, Constant):
            return np.zeros(len(self.lengths), dtype=np.int64), [node.value]
        if isinstance(node, Map):
            codes, table = self.column(node.inner)
            return _interned(codes, [_call(node.f, v) for v in table])
        if isinstance(node, ZipMap):
            parts = [self.column(k) for k in node.inputs]
            fast = by_arithmetic(node.f, parts)  # [pairs]: length - indices and the like
            if fast is not None:
                return fast
            key = np.zeros(len(self.lengths), dtype=np.int64)
            span = 1
            for codes, table in parts:
                span *= len(table)
                if span >= 2**62:  # the mixed-radix key would overflow int64
                    raise _NotHere(node.label)
                key = key * len(table) + codes
            distinct, inverse = np.unique(key, return_inverse=True)
            firsts = np.unique(inverse, return_index=True)[1]  # a row of each tuple
            args = [[table[c] for c in codes[firsts].tolist()] for codes, table in parts]
            outs = [_call(node.f, *xs) for xs in zip(*args, strict=True)]
            return _interned(inverse.reshape(-1), outs)
        raise _NotHere(node.label)


def _call(f, *args):
    try:
        out = f(*args)
    except Exception as err:  # user code: the evaluator reports it, with the position
        raise _NotHere(str(err)) from None
    if not is_atom(out) or (isinstance(out, float) and out != out):
        raise _NotHere("not a value")  # NaN, or no atom: the evaluator's rules decide
    return out


def _interned(codes: np.ndarray, outs: list) -> Codes:
    """Codes into the distinct outputs (``1``, ``1.0`` and ``True`` stay three values)."""
    index: dict = {}
    table: list = []
    remap = np.empty(len(outs), dtype=np.int64)
    for i, v in enumerate(outs):
        k = value_key(v)
        if k not in index:
            index[k] = len(table)
            table.append(v)
        remap[i] = index[k]
    return remap[codes], table


def _per_position(column: Codes, positions: np.ndarray, n_max: int) -> list[set]:
    codes, table = column
    objects = np.empty(len(table), dtype=object)  # [values]: sets are built in C from it
    objects[:] = table
    if n_max * len(table) <= 2**24:  # a presence grid beats sorting the pairs
        present = np.zeros((n_max, len(table)), dtype=bool)  # [position, value]
        present[positions, codes] = True
        return [set(objects[row].tolist()) for row in present]
    seen = np.unique(positions * len(table) + codes)  # distinct (position, value) pairs
    cuts = np.searchsorted(seen, np.arange(1, n_max) * len(table)).tolist()  # by position
    return [set(objects[part].tolist()) for part in np.split(seen % len(table), cuts)]


def _numbers(column: Codes) -> np.ndarray | None:
    """The values as float64, if all are ints or floats (the evaluator compares those in
    numpy too); None otherwise."""
    codes, table = column
    if not all(type(v) is int or type(v) is float for v in table):
        return None
    return np.asarray(table, dtype=np.float64)[codes]


# predicate(key, query) -> width from (keys below the query, keys at most the query, n)
_SORTED_COUNTS = {
    Comparison.EQ: lambda lo, hi, n: hi - lo,
    Comparison.NEQ: lambda lo, hi, n: n - (hi - lo),
    Comparison.LT: lambda lo, hi, n: lo,
    Comparison.LEQ: lambda lo, hi, n: hi,
    Comparison.GT: lambda lo, hi, n: n - hi,
    Comparison.GEQ: lambda lo, hi, n: n - lo,
    Comparison.TRUE: lambda lo, hi, n: np.full_like(lo, n),
    Comparison.FALSE: lambda lo, hi, n: np.zeros_like(lo),
}


def _width_grid(pred, keys: np.ndarray, queries: np.ndarray, starts, n_max: int) -> np.ndarray:
    """``grid[i, n - 1]``: how many keys of a length-``n`` input the query at ``i`` selects."""
    grid = np.full((n_max, n_max), -1, dtype=np.int64)  # [position, length - 1]
    for n in range(1, n_max + 1):
        span = slice(int(starts[n - 1]), int(starts[n - 1]) + n)
        ordered = np.sort(keys[span])
        lo = np.searchsorted(ordered, queries[span], side="left")
        hi = np.searchsorted(ordered, queries[span], side="right")
        grid[:n, n - 1] = _SORTED_COUNTS[pred](lo, hi, n)
    return grid
