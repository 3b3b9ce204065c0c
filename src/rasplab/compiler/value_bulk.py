"""Stage 1 for maps at long lengths: :func:`~.value_maps.run_map`'s sets, found in bulk.

:func:`bulk_map` gives exactly the sets ``run_map`` gives (it takes the same
branch, with the same values and keys), or None where it has no shortcut (the
caller then runs ``run_map``). At 1,024 positions a prefix mean holds 525,000
(position, value) pairs, and the per-position loops cost seconds; here:

* a map of one input calls the function once per value (as ``run_map`` does)
  and looks each position's values up in C;
* ``+ - *`` over each position's own values (``(indices + 1) * mean``: a
  product too big to table) runs on every position's rows in one array;
* a tabled ``+ - *`` (``count - count``) grows each position's outputs from
  the previous position's where its inputs' sets hold the previous ones (a
  prefix: each position adds one value), instead of slicing the table anew.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from ..lang.graph import value_key
from ..lang.operators import _BINARY
from .arithmetic import arithmetic_op
from .combine import PLAIN, distinct, unique_inverse
from .value_maps import (
    ARRAY_LIMIT,
    CALL_LIMIT,
    TOO_MANY,
    ValueTable,
    _variant_keys,
    _vectorised,
)

__all__ = ["bulk_map", "compare_numbers", "int_span"]

VSet = frozenset  # of value keys
_EXACT = 2**26  # |value| below which + - * agree in int64, float64 and Python
ROWS = 20_000_000  # (position, combination) rows computed in one array at most


def bulk_map(seen: ValueTable, f: Callable, per_input: list) -> tuple[VSet, ...] | None:
    """``run_map(seen, f, per_input)``, or None where no shortcut applies."""
    if any(TOO_MANY in sets for sets in per_input):
        return None
    spanned = _interval_sums(seen, f, per_input)
    if spanned is not None:
        return spanned
    overall = [set().union(*sets) for sets in per_input]
    size = math.prod(len(u) for u in overall)
    arithmetic = arithmetic_op(f) is not None
    if arithmetic and size > ARRAY_LIMIT:
        return _arithmetic_rows(seen, f, per_input)  # run_map's _arithmetic_per_position
    if len(per_input) > 1 and size <= ARRAY_LIMIT:
        if not arithmetic:
            return None
        found = _arithmetic_rows(seen, f, per_input, table=size)
        if found is not None:  # the table's slices, from each position's own rows
            return found
        unions = [sorted(u, key=repr) for u in overall]
        grid = _vectorised(seen, f, unions)
        return None if grid is None else _grown(seen, per_input, unions, *grid)
    if len(per_input) == 1 and size <= CALL_LIMIT:
        return _each_value_once(seen, f, per_input[0], overall[0])
    return None


def _interval_sums(seen: ValueTable, f: Callable, per_input: list) -> tuple[VSet, ...] | None:
    """The language's ``a + b`` or ``a - b`` where every position's sets are runs of
    consecutive ints: a run again, from the ends alone (``opens - closes`` at 1,024
    positions pairs up to a million values at a position). None otherwise."""
    op = arithmetic_op(f)
    sign = 1 if op is _BINARY["+"] else -1 if op is _BINARY["-"] else 0
    if not sign or len(per_input) != 2:
        return None
    spans: dict[int, tuple[int, int]] = {}  # by the id of an interned set
    for side in per_input:
        for s in side:
            if id(s) not in spans:
                span = int_span(s)
                if span is None or span[1] - span[0] + 1 != len(s):  # not one run
                    return None
                spans[id(s)] = span
    found: dict[tuple[int, int], VSet] = {}
    out = []
    for a, b in zip(*per_input, strict=True):
        if (id(a), id(b)) not in found:
            (a0, a1), (b0, b1) = spans[id(a)], spans[id(b)]
            lo, hi = (a0 + b0, a1 + b1) if sign > 0 else (a0 - b1, a1 - b0)
            found[id(a), id(b)] = seen.intern(range(lo, hi + 1))
        out.append(found[id(a), id(b)])
    return tuple(out)


def int_span(keys: VSet) -> tuple[int, int] | None:
    """The least and greatest of a set of ints' value keys ``(int, v)``; None if the set is
    empty or holds another type. (The keys compare by their values: the type is one.)"""
    if not keys or not all(k[0] is int for k in keys):
        return None
    return min(keys)[1], max(keys)[1]


def _each_value_once(seen: ValueTable, f: Callable, sets: list, union: set) -> tuple[VSet, ...]:
    """``f`` once per value of the union (in ``run_map``'s order), then each position's set
    looked up with ``map``: no Python step per (position, value) pair. Where ``f`` gives
    a few values (``x > 0``), each position's outputs are those whose keys its set meets:
    set operations reuse the hashes the sets hold, where a lookup per key hashes it anew."""
    compared = _compared(f, sets)
    if compared is not None:
        for key in set().union(*compared):  # (bool, b): as output_key keeps what occurs
            seen.objects.setdefault(key, key[1])
        return tuple(map(seen.intern_keys, compared))
    # as run_map goes (over frozenset(union)): the first object of a key stays
    image = _image(seen, f, frozenset(union))
    outputs = set(image.values())
    if len(outputs) <= FEW_OUTPUTS:
        preimages = [(o, frozenset(k for k, v in image.items() if v == o)) for o in outputs]

        def found_of(s: VSet) -> frozenset:
            return frozenset(o for o, keys in preimages if not s.isdisjoint(keys))
    else:

        def found_of(s: VSet) -> frozenset:
            return frozenset(map(image.__getitem__, s))

    results: dict[int, VSet] = {}
    out = []
    for s in sets:
        if id(s) not in results:  # positions share interned sets
            found = found_of(s)
            if None in found:  # f raised on some value: the evaluator rejects it
                found = found - {None}
            results[id(s)] = seen.intern_keys(found)
        out.append(results[id(s)])
    return tuple(out)


FEW_OUTPUTS = 4  # a map with at most this many outputs finds each set's by set operations


def _image(seen: ValueTable, f: Callable, keys: frozenset) -> dict[tuple, tuple | None]:
    """:func:`~.value_maps.output_key` of ``f`` on each key's value, by key (None where
    ``f`` raised), inlined: a prefix mean at 1,024 positions has 320,000 distinct values."""
    objects = seen.objects
    image: dict[tuple, tuple | None] = {}
    for k in keys:
        try:
            value = f(objects[k])
        except Exception:  # the evaluator would fail on such an input too
            image[k] = None
            continue
        t = type(value)  # value_key, inlined for the atoms that key as (type, value)
        key = (t, value) if t in PLAIN or (t is float and value == value) else value_key(value)
        if key not in objects:
            objects[key] = value
        image[k] = key
    return image


_COMPARISONS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_EXACT_FLOAT = 2**52  # ints below this are floats exactly: numpy compares them as Python


def compare_numbers(f: Callable, values: list) -> np.ndarray | None:
    """``f`` of each value as one bool array, where ``f`` is the language's own comparison
    of a value with a number (``x > 0``) and the values are ints and floats that numpy
    compares exactly as Python (no NaN, no int past ``2**52``); None otherwise.

    >>> from rasplab import tokens
    >>> compare_numbers((tokens > 0).f, [0, 0.5, -2]).tolist()
    [False, True, False]
    >>> compare_numbers((tokens > 0).f, [True]) is None  # a bool: called one by one
    True
    """
    op, constant, at = getattr(f, "with_constant", ("", None, 0))
    compare = _COMPARISONS.get(op)
    if compare is None or type(constant) not in (int, float) or constant != constant:
        return None
    if type(constant) is int and abs(constant) >= _EXACT_FLOAT:
        return None
    if not set(map(type, values)) <= {int, float}:
        return None
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:  # an int too large for a float
        return None
    if np.isnan(array).any() or (np.abs(array) >= _EXACT_FLOAT).any():
        return None  # (a float that large compares exactly too: left to the loop all the same)
    number: Any = constant
    return compare(array, number) if at == 1 else compare(number, array)


def _compared(f: Callable, sets: list) -> list[frozenset] | None:
    """Each set's outputs under :func:`compare_numbers`, from one array of every set's
    values; None where it does not apply. A value is read from its key ``(type, value)``,
    never looked up: hashing a float key anew costs more than comparing it (0.0 and
    -0.0 compare alike)."""
    if getattr(f, "with_constant", None) is None:
        return None
    keys = list(itertools.chain.from_iterable(sets))
    if not set(map(itemgetter(0), keys)) <= {int, float}:  # value keys: (type, value)
        return None
    true = compare_numbers(f, list(map(itemgetter(1), keys)))  # [every key]
    if true is None:
        return None
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    held = sizes > 0
    starts = (np.cumsum(sizes) - sizes)[held]
    some_true, some_false = np.zeros(len(sets), dtype=bool), np.zeros(len(sets), dtype=bool)
    if len(keys):
        some_true[held] = np.logical_or.reduceat(true, starts)
        some_false[held] = np.logical_or.reduceat(~true, starts)
    outputs = [frozenset(), frozenset({(bool, False)}), frozenset({(bool, True)})]
    outputs.append(outputs[1] | outputs[2])  # by some_false + 2 * some_true
    return [outputs[i] for i in (some_false + 2 * some_true).tolist()]


# ---------------------------------------------------------------- + - * per position


def _numbers(seen: ValueTable, s: VSet) -> tuple[np.ndarray, int] | None:
    """A set's values as float64 and its kinds (1: ints, 2: floats, 3: both); None unless
    every value is an int or a float well inside the range where arithmetic is exact."""
    values = list(map(seen.objects.__getitem__, s))
    kinds = set(map(type, values))
    if not kinds <= {int, float}:
        return None
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:  # an int too large for a float
        return None
    if not np.all(np.abs(array) <= _EXACT):  # a larger int stays larger; NaN and inf fail
        return None
    return array, (1 if int in kinds else 0) | (2 if float in kinds else 0)


def _arithmetic_rows(
    seen: ValueTable, f: Callable, per_input: list, table: int = 0
) -> tuple[VSet, ...] | None:
    """What ``_arithmetic_per_position`` finds, with every position's rows in one array.

    Each position computes in float64 where its values mix ints and floats (an
    integral result then stands for ``k`` and ``float(k)``), else in its one type;
    with values below ``2**26`` float64 gives every such result exactly, and numpy's
    result is Python's (the spot check there always passes).

    With ``table`` (the size of the product of the inputs' overall values), what
    ``_tabulate`` finds from that table instead, where the positions' rows are far
    fewer: each position's slice of it. The table computes in one type for all
    positions (float64 where any values mix), and it holds every combination: here
    no value is negative, -0.0 or below ``2**-500`` (but 0), so no combination of
    them raises or gives -0.0, and the table computes as the rows do."""
    if len(per_input) != 2:
        return None
    idents: dict[tuple[int, int], tuple[VSet, VSet]] = {}
    for a, b in zip(*per_input, strict=True):
        idents.setdefault((id(a), id(b)), (a, b))
    if sum(len(a) * len(b) for a, b in idents.values()) > (table // 4 if table else ROWS):
        return None  # (before reading any value: a table of count pairs has a million rows)
    numbers = _each_set(seen, idents.values())
    if numbers is None or (table and not all(_tame(array) for array, _ in numbers.values())):
        return None
    pairs = [(numbers[id(a)], numbers[id(b)]) for a, b in idents.values()]
    bits = 0
    for _, kinds in numbers.values():
        bits |= kinds
    found = _rows(f, pairs, (0 if bits == 1 else 1 if bits == 2 else 2) if table else None)
    if found is None:
        return None
    if not len(found[1]):  # no position holds a value
        return tuple(seen.intern_keys(()) for _ in per_input[0])
    group, value, kind = found
    results = dict(zip(idents, _keys_by_group(seen, group, value, kind, len(idents)), strict=True))
    return tuple(results[(id(a), id(b))] for a, b in zip(*per_input, strict=True))


def _each_set(seen: ValueTable, pairs: Any) -> dict[int, tuple[np.ndarray, int]] | None:
    """:func:`_numbers` of each distinct set, by its id; None if one has none: all sets'
    values in one array at once (a prefix mean's sets hold 525,000 values at 1,024
    positions, and two thousand small arrays cost more), then cut per set. Each value
    is read from its key ``(int, v)`` or ``(float, v)``, not looked up (which hashes the
    key anew); the one value a key may hold unlike its own is the sign of a float 0."""
    sets = {id(s): s for pair in pairs for s in pair}
    keys = list(itertools.chain.from_iterable(sets.values()))
    types = list(map(itemgetter(0), keys))
    if not set(types) <= {int, float}:  # (NaN's key holds a string: refused here)
        return None
    try:
        array = np.array(list(map(itemgetter(1), keys)), dtype=np.float64)
    except OverflowError:  # an int too large for a float
        return None
    zero = seen.objects.get((float, 0.0))  # 0.0 or -0.0, whichever came first: a key holds
    if zero is not None:  # either, as they are equal
        array[(array == 0) & np.fromiter((t is float for t in types), bool, len(types))] = zero
    if not np.all(np.abs(array) <= _EXACT):  # a larger int stays larger; NaN and inf fail
        return None
    sizes = np.array([len(s) for s in sets.values()], dtype=np.int64)
    starts = (np.cumsum(sizes) - sizes)[sizes > 0]
    kinds = np.zeros(len(sizes), dtype=np.int64)  # 1: ints, 2: floats, 3: both (0: empty)
    if len(keys):
        floats = np.fromiter((t is float for t in types), dtype=bool, count=len(types))
        either = np.logical_or.reduceat
        kinds[sizes > 0] = either(~floats, starts) * 1 + either(floats, starts) * 2
    parts = np.split(array, np.cumsum(sizes)[:-1])
    return {i: (p, int(k)) for i, p, k in zip(sets, parts, kinds.tolist(), strict=True)}


def _tame(values: np.ndarray) -> bool:
    """No value negative, -0.0 or tiny: no + - * of two of them is -0.0 or underflows."""
    return not np.any((values < 0) | np.signbit(values) | ((values != 0) & (values < 2.0**-500)))


def _rows(
    f: Callable, pairs: list, every: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per row of every group's product: its group, ``f``'s value, and the kind of its
    group's arithmetic (0: ints, 1: floats, 2: mixed; ``every``: this one for all);
    None where numpy would raise (float underflow, say: then the per-position pass
    gives up too) or gives a -0.0 (which np.unique may merge with 0.0 either way)."""
    groups, lefts, rights, kinds = [], [], [], []
    for g, ((x, kx), (y, ky)) in enumerate(pairs):
        left, right = np.meshgrid(x, y, indexing="ij")
        lefts.append(left.reshape(-1))
        rights.append(right.reshape(-1))
        groups.append(np.full(left.size, g, dtype=np.int64))
        both = kx | ky
        kinds.append(0 if both == 1 else (1 if both == 2 else 2))
    try:
        with np.errstate(all="raise"):
            value = f(np.concatenate(lefts), np.concatenate(rights))
    except Exception:
        return None
    if not np.all(np.isfinite(value)) or np.any((value == 0) & np.signbit(value)):
        return None
    group = np.concatenate(groups)
    if every is not None:
        return group, value, np.full(len(group), every, dtype=np.int64)
    return group, value, np.array(kinds, dtype=np.int64)[group]


def _keys_by_group(
    seen: ValueTable, group: np.ndarray, value: np.ndarray, kind: np.ndarray, n: int
) -> list[VSet]:
    """Each group's output keys: its distinct values, each with ``_variant_keys``."""
    values, at = unique_inverse(value)
    typed, code = unique_inverse(at * 3 + kind)  # (value, kind)
    keys = [
        _value_keys(seen, int(k), v)
        for k, v in zip((typed % 3).tolist(), values[typed // 3].tolist(), strict=True)
    ]
    pairs = distinct(group * len(keys) + code.reshape(-1))  # (group, value) once each
    cuts = np.searchsorted(pairs, np.arange(1, n) * len(keys))
    chain = itertools.chain.from_iterable
    return [
        seen.intern_keys(chain(map(keys.__getitem__, (codes % len(keys)).tolist())))
        for codes in np.split(pairs, cuts)
    ]


def _value_keys(seen: ValueTable, kind: int, v: float) -> list[tuple]:
    if kind == 0:  # ints computed as ints
        return _variant_keys(seen, int(v), False)
    return _variant_keys(seen, v, kind == 2)


# ---------------------------------------------------------------- tabled + - *


def _grown(
    seen: ValueTable, per_input: list, unions: list, table: np.ndarray, outs: list, mixed: bool
) -> tuple[VSet, ...]:
    """``_slice_table``'s sets: per position the outputs of the table over its values; where
    each input's set holds the previous position's, only the new values' rows are read."""
    where = [{k: j for j, k in enumerate(u)} for u in unions]
    picks: dict[tuple[int, int], np.ndarray] = {}

    def pick(arg: int, keys: Any) -> np.ndarray:
        w = where[arg]
        return np.fromiter(map(w.__getitem__, keys), dtype=np.int64, count=len(keys))

    def pick_set(arg: int, a: VSet) -> np.ndarray:
        if (arg, id(a)) not in picks:
            picks[arg, id(a)] = pick(arg, a)
        return picks[arg, id(a)]

    codes: dict[tuple[int, ...], set[int]] = {}
    order: list[tuple[int, ...]] = []
    before, mark = None, None  # the previous position's sets, and its outputs marked
    for args in zip(*per_input, strict=True):
        ident = tuple(id(a) for a in args)
        if ident in codes:  # its mark is gone unless it was the previous position's
            mark = mark if order and order[-1] == ident else None
        else:
            if mark is not None and before is not None and _holds(args, before):
                blocks = _new_blocks(args, before, pick, pick_set)
            else:
                mark = np.zeros(len(outs) + 1, dtype=bool)
                blocks = [[pick_set(j, a) for j, a in enumerate(args)]]
            for block in blocks:  # -1 (the function raised) marks the extra last slot
                mark[table[np.ix_(*block)].ravel()] = True
            codes[ident] = set(np.flatnonzero(mark[:-1]).tolist())
        order.append(ident)
        before = args
    used = sorted(set().union(*codes.values()))
    keys = {c: _variant_keys(seen, outs[c], mixed) for c in used}
    chain = itertools.chain.from_iterable
    results = {i: seen.intern_keys(chain(map(keys.__getitem__, cs))) for i, cs in codes.items()}
    return tuple(results[ident] for ident in order)


def _holds(args: tuple, before: tuple) -> bool:
    """Each input's set holds its set at the previous position."""
    return all(b <= a for a, b in zip(args, before, strict=True))


def _new_blocks(args: tuple, before: tuple, pick, pick_set) -> list[list[np.ndarray]]:
    """The product of ``args`` less that of ``before`` (each set inside the other's), as
    products: input ``j``'s new values with every input's whole set."""
    blocks = []
    for j, (a, b) in enumerate(zip(args, before, strict=True)):
        new = a - b
        if new:
            block = [pick_set(i, s) for i, s in enumerate(args)]
            block[j] = pick(j, new)
            blocks.append(block)
    return blocks
