"""Stage 1 for maps and zipmaps: the function run on its inputs' value sets, per position.

Plain functions of the value-set pass (:func:`rasplab.compiler.value_sets.infer`):
:func:`run_map` takes each input's sets per position and a :class:`ValueTable`
(value key -> value, and one shared object per distinct set), and returns the
map's sets. Three ways, cheapest first:

* ``+ - *`` on numbers run on whole numpy arrays (checked against Python on a
  sample of entries, as before);
* a zipmap whose inputs have few values overall is tabulated once over every
  combination and the table sliced per position;
* otherwise the function runs on each position's own product of values, each
  distinct argument combination once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..lang.graph import value_key
from .arithmetic import ARITHMETIC, arithmetic_op
from .combine import PLAIN

__all__ = [
    "ValueTable",
    "run_map",
    "output_key",
    "CALL_LIMIT",
    "ARRAY_LIMIT",
    "ARITHMETIC",
    "TOO_MANY",
]

# A zipmap whose per-position argument products exceed this many calls, or a
# mean with more distinct values than this, is marked TOO_MANY.
CALL_LIMIT = 400_000
ARRAY_LIMIT = 20_000_000  # combinations a vectorised (numpy) map may be run on
TOO_MANY: frozenset = frozenset({("too-many", "values")})

VSet = frozenset  # of value keys
_ATOMS = PLAIN | {float}  # value_key(v) is (type(v), v) for these (a float unless NaN)


@dataclass
class ValueTable:
    """Every value the pass has met, by value key, and one object per distinct set of keys
    (positions with equal sets share work keyed by the set's identity)."""

    objects: dict[tuple, Any] = field(default_factory=dict)  # value key -> a value
    shared: dict[frozenset, frozenset] = field(default_factory=dict)
    int_keys: dict[int, tuple] = field(default_factory=dict)  # int -> (int, int): its key
    # an aggregate's values per width, by what decides them (value_sets._aggregate_sets):
    # dyck's prefix means of three flags take the same values at each width
    per_width: dict[tuple, dict[int, frozenset] | None] = field(default_factory=dict)
    # a selector's width bounds and widths per position, by what decides them
    # (value_sets._bounds_key): sort's five selects of one column by another share them
    covers: dict[tuple, Any] = field(default_factory=dict)

    def intern_keys(self, keys: Iterable[Hashable]) -> VSet:
        """One shared set of these keys (value keys, or the widths of a selector)."""
        found = frozenset(keys)
        return self.shared.setdefault(found, found)

    def intern(self, values: Iterable[Any]) -> VSet:
        """A set of value keys for ``values``, each value kept by its key."""
        values = values if isinstance(values, list | tuple | set | frozenset) else list(values)
        types = set(map(type, values))
        if types == {int}:
            return self._intern_ints(values)
        if types <= _ATOMS and (float not in types or all(v == v for v in values)):
            # value_key of each is (type, value), made in C: a mean's sets at long lengths
            # hold millions of values in all, a setdefault each took seconds
            seq = values if isinstance(values, list | tuple) else list(values)
            keys = list(zip(map(type, seq), seq, strict=True))
            # the first object of a key stays, as below: reversed, a dict keeps the first
            first = dict(zip(reversed(keys), reversed(seq), strict=True))
            objects = self.objects
            for k in set(first).difference(objects):  # (iterates over the few, not objects)
                objects[k] = first[k]
            return self.intern_keys(first)  # (a dict: its keys' hashes are not made again)
        keys = []
        objects = self.objects
        for v in values:
            # value_key, inlined for the common atoms that key as (type, value)
            t = type(v)
            k = (t, v) if t in PLAIN or (t is float and v == v) else value_key(v)
            objects.setdefault(k, v)
            keys.append(k)
        return self.intern_keys(keys)

    def intern_each(self, sets: Sequence[Any]) -> tuple[VSet, ...]:
        """:meth:`intern` of each of ``sets`` (positions' sets: at long lengths they overlap,
        so where all are ints each int is keyed once, and each set costs one pass)."""
        distinct = list({id(s): s for s in sets}.values())  # positions often share one
        union = set().union(*distinct)
        if set(map(type, union)) != {int}:
            return tuple(self.intern(s) for s in sets)
        self._intern_ints(union)
        key = self.int_keys.__getitem__
        done = {id(s): self.intern_keys(map(key, s)) for s in distinct}
        return tuple(done[id(s)] for s in sets)

    def _intern_ints(self, values: list | tuple | set | frozenset) -> VSet:
        # positions and lengths: up to n^2 / 2 ints over a program's sets at length n, so
        # the keys come from a table, not a tuple made per value
        known = self.int_keys
        for v in set(values).difference(known):
            known[v] = (int, v)
            self.objects.setdefault(known[v], v)
        return self.intern_keys(map(known.__getitem__, values))


def run_map(seen: ValueTable, f: Callable, per_input: list) -> tuple[VSet, ...]:
    """Run ``f`` on the product of its inputs' sets (``per_input[k][i]``: input ``k``'s set
    at position ``i``), position by position."""
    n = len(per_input[0])
    if any(TOO_MANY in sets for sets in per_input):
        return (TOO_MANY,) * n
    overall = [set().union(*sets) for sets in per_input]
    size = int(np.prod([len(u) for u in overall]))
    arithmetic = arithmetic_op(f) is not None
    if arithmetic and size > ARRAY_LIMIT:
        found = _arithmetic_per_position(seen, f, per_input)
        if found is not None:
            return found
    if len(per_input) > 1 and size <= ARRAY_LIMIT:
        unions = [sorted(u, key=repr) for u in overall]
        grid = _vectorised(seen, f, unions) if arithmetic else None
        if grid is not None or size <= CALL_LIMIT:
            return _tabulate(seen, f, per_input, unions, grid)
    if len(per_input) == 1 and size <= CALL_LIMIT:
        return _each_value_once(seen, f, per_input[0], overall[0])
    return _per_position(seen, f, per_input)


def _each_value_once(seen: ValueTable, f: Callable, sets: list, union: set) -> tuple[VSet, ...]:
    """A map of one input: ``f`` once per value of the union, then each position's set
    looked up (a prefix share at 1,024 positions holds 525,000 (position, value) pairs
    over far fewer values)."""
    memo: dict[tuple, tuple | None] = {}
    _output_keys(seen, f, (frozenset(union),), memo)
    image = {combo[0]: key for combo, key in memo.items()}  # value key -> output key
    results: dict[int, VSet] = {}
    out = []
    for s in sets:
        if id(s) not in results:  # positions share interned sets
            found = map(image.__getitem__, s)
            results[id(s)] = seen.intern_keys(k for k in found if k is not None)
        out.append(results[id(s)])
    return tuple(out)


def _per_position(seen: ValueTable, f: Callable, per_input: list) -> tuple[VSet, ...]:
    """Each position's product of argument values (each combination called once)."""
    memo: dict[tuple, tuple | None] = {}  # argument keys -> output key (None: raised)
    results: dict[tuple[int, ...], VSet] = {}
    calls = 0
    out = []
    for i in range(len(per_input[0])):
        args = tuple(sets[i] for sets in per_input)
        ident = tuple(id(a) for a in args)
        if ident not in results:
            calls += int(np.prod([len(a) for a in args]))
            if calls > CALL_LIMIT:
                return (TOO_MANY,) * len(per_input[0])
            results[ident] = seen.intern_keys(_output_keys(seen, f, args, memo))
        out.append(results[ident])
    return tuple(out)


def output_key(seen: ValueTable, f: Callable, args: list) -> tuple | None:
    """The key of ``f(*args)``, its value kept in ``seen`` (the first object of a key
    stays); None where ``f`` raises, as the evaluator would on such an input."""
    try:
        value = f(*args)
    except Exception:  # the evaluator would fail on such an input too
        return None
    key = value_key(value)
    seen.objects.setdefault(key, value)
    return key


def _output_keys(seen: ValueTable, f: Callable, args: tuple[VSet, ...], memo: dict) -> set[tuple]:
    found = set()
    objects = seen.objects
    for combo in itertools.product(*args):
        if combo not in memo:
            memo[combo] = output_key(seen, f, [objects[k] for k in combo])
        key = memo[combo]
        if key is not None:
            found.add(key)
    return found


def _arithmetic_per_position(
    seen: ValueTable, f: Callable, per_input: list
) -> tuple[VSet, ...] | None:
    """``+ - *`` on each position's own sets, with numpy (for products too big to table)."""
    results: dict[tuple[int, ...], VSet] = {}
    variants: dict[tuple, list[tuple]] = {}  # (type, value, mixed) -> its keys
    out = []
    for i in range(len(per_input[0])):
        args = tuple(sets[i] for sets in per_input)
        ident = tuple(id(a) for a in args)
        if ident not in results:
            found = _vectorised(seen, f, [sorted(a, key=repr) for a in args])
            if found is None:
                return None
            _, outs, mixed = found
            keys: list[tuple] = []
            for v in outs:  # positions share most outputs: each value's keys made once
                known = variants.get((type(v), v, mixed))
                if known is None:
                    known = variants[type(v), v, mixed] = _variant_keys(seen, v, mixed)
                keys += known
            results[ident] = seen.intern_keys(keys)
        out.append(results[ident])
    return tuple(out)


def _variant_keys(seen: ValueTable, v: Any, mixed: bool) -> list[tuple]:
    """Keys of a vectorised output: an integral float computed from mixed ints and
    floats stands for both ``k`` and ``float(k)`` (a superset of the true values)."""
    variants = [v, int(v)] if mixed and float(v).is_integer() else [v]
    keys = []
    for x in variants:
        key = value_key(x)
        seen.objects.setdefault(key, x)
        keys.append(key)
    return keys


def _vectorised(
    seen: ValueTable, f: Callable, unions: list
) -> tuple[np.ndarray, list, bool] | None:
    """``f`` on whole arrays of numbers at once, if that agrees with calling it per value.

    Ints mixed with floats are computed as floats; an integral result then stands for
    both ``k`` and ``float(k)`` (a superset of the true values, which is safe).
    """
    values = [[seen.objects[k] for k in u] for u in unions]
    kinds = set().union(*({type(v) for v in u} for u in values))
    if not kinds <= {int, float}:
        return None  # bools or strings: call the function per value
    mixed = len(kinds) > 1
    dtype = np.float64 if mixed else None
    grids = np.meshgrid(*[np.asarray(u, dtype=dtype) for u in values], indexing="ij")
    try:
        with np.errstate(all="raise"):
            result = f(*grids)
    except Exception:
        return None
    ok = isinstance(result, np.ndarray) and result.shape == grids[0].shape
    if not ok or result.dtype.kind not in "iuf" or not np.all(np.isfinite(result)):
        return None
    flat = result.reshape(-1)
    if not _spot_check(f, values, result, mixed):
        return None
    uniq, inverse = np.unique(flat, return_inverse=True)
    return inverse.reshape(result.shape), uniq.tolist(), mixed


def _spot_check(f: Callable, values: list, result: np.ndarray, mixed: bool) -> bool:
    """The array result equals Python's on a random sample of entries."""
    rng = np.random.default_rng(0)
    picked = rng.choice(result.size, min(result.size, 256), replace=False)
    got = result.reshape(-1)[picked].tolist()
    where = np.unravel_index(picked, result.shape)
    columns = [[u[i] for i in w.tolist()] for u, w in zip(values, where, strict=True)]
    for g, args in zip(got, zip(*columns, strict=True), strict=True):
        try:
            want = f(*args)
        except Exception:
            return False
        # value_key(want) == value_key(g), for a finite int or float g
        same = want == g if mixed else (type(want) is type(g) and want == g)
        if not same or isinstance(want, bool) or not isinstance(want, int | float):
            return False
    return True


def _tabulate(
    seen: ValueTable, f: Callable, per_input: list, unions: list, vectorised: Any = None
) -> tuple[VSet, ...]:
    """Call ``f`` once per combination of the inputs' overall values; slice per position."""
    if vectorised is not None:
        table, table_outs, mixed = vectorised
        return _slice_table(seen, per_input, unions, table, table_outs, mixed)
    outs: list[Any] = []
    index: dict[tuple, int] = {}
    codes = []  # row-major over the unions, as itertools.product goes
    for args in itertools.product(*[[seen.objects[k] for k in u] for u in unions]):
        try:
            value = f(*args)
        except Exception:  # the evaluator would fail on such an input too
            codes.append(-1)
            continue
        t = type(value)  # value_key, inlined
        plain = t in PLAIN or (t is float and value == value)
        key = (t, value) if plain else value_key(value)
        code = index.get(key)
        if code is None:
            code = index[key] = len(outs)
            outs.append(value)
        codes.append(code)
    table = np.array(codes, dtype=np.int64).reshape([len(u) for u in unions])
    return _slice_table(seen, per_input, unions, table, outs)


def _slice_table(
    seen: ValueTable, per_input, unions, table: np.ndarray, outs: list, mixed: bool = False
) -> tuple[VSet, ...]:
    """Per position: the outputs over that position's argument values (a slice of the table)."""
    where = [{k: j for j, k in enumerate(u)} for u in unions]
    # (input, id of a value set) -> its indices into that input's union: two inputs may
    # share one interned set, and their unions differ
    picks: dict[tuple[int, int], np.ndarray] = {}

    def pick(arg: int, a: VSet) -> np.ndarray:
        if (arg, id(a)) not in picks:
            w = where[arg]
            picks[arg, id(a)] = np.fromiter((w[k] for k in a), dtype=np.int64, count=len(a))
        return picks[arg, id(a)]

    found: dict[tuple[int, ...], set[int]] = {}
    order = []
    for i in range(len(per_input[0])):
        args = tuple(sets[i] for sets in per_input)
        ident = tuple(id(a) for a in args)
        order.append(ident)
        if ident not in found:
            sub = table[np.ix_(*[pick(j, a) for j, a in enumerate(args)])]
            # marked in C: a position's slice holds up to a million codes at long lengths
            mark = np.zeros(len(outs) + 1, dtype=bool)
            mark[sub.ravel()] = True  # -1 (the function raised) marks the extra last slot
            found[ident] = set(np.flatnonzero(mark[:-1]).tolist())
    used = sorted(set().union(*found.values()))
    # intern only the outputs some position can produce
    keys = {c: _variant_keys(seen, outs[c], mixed) for c in used}
    results = {
        ident: seen.intern_keys(k for c in codes for k in keys[c]) for ident, codes in found.items()
    }
    return tuple(results[ident] for ident in order)
