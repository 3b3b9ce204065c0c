"""Prefix counts written as averages: ``round((indices + 1) * mean(prefix, flag))``.

A mean of a 0/1 flag over a selector whose width is one known number ``w``
at each position is ``c / w``, where ``c`` counts the selected keys holding
1. A map that turns it back into ``c`` (``round(w * mean)``) then needs an
MLP exact on every ``(position, c)`` pair of every leaf it reads, and those
products grow as ``max_seq_len ** 3``. Such a map *is* the width of
``selector & select(flag, _, == 1)``: one counting head, whose output every
later MLP reads as a number from ``0 .. w``, with no position attached.

:func:`count_nodes` finds these maps and proves each one exactly: at every
position it runs the map on every value the mean can take there and checks
the result is the count (an int), so the rewrite keeps every output.

>>> from rasplab import indices, select, aggregate, tokens
>>> from rasplab.compiler.value_sets import infer
>>> prefix = select(indices, indices, "<=")
>>> n_a = ((indices + 1) * aggregate(prefix, (tokens == "a") * 1)).map(round)
>>> vs = infer(n_a, "ab", 6, lambda *a: "mean")
>>> n_a.id in count_nodes(n_a, vs)
True
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..lang.graph import topological_order
from ..lang.nodes import Aggregate, Constant, Map, Node, SOp, ZipMap
from .combine import is_number
from .domains import evaluate_fused
from .positional import positional_nodes
from .value_sets import ValueSets

__all__ = ["count_nodes"]

# Per leaf its values; per point each leaf's value index; per point the count.
Points = tuple[list[list[Any]], np.ndarray, np.ndarray]


def _inputs(node: Map | ZipMap) -> tuple[SOp, ...]:
    """The s-ops an elementwise step reads (its children, in order)."""
    return (node.inner,) if isinstance(node, Map) else node.inputs


def _frontier(node: Map | ZipMap) -> list[SOp]:
    """What ``node`` reads through maps, zipmaps and constants (stored-or-attention s-ops)."""
    found: dict[int, SOp] = {}
    stack, seen = list(_inputs(node)), set()
    while stack:
        n = stack.pop()
        if n.id in seen or isinstance(n, Constant):
            continue
        seen.add(n.id)
        if isinstance(n, Map | ZipMap):
            stack.extend(_inputs(n))
        else:
            found[n.id] = n
    return list(found.values())


def _widths(agg: Aggregate, vs: ValueSets, positional: frozenset[int]) -> list[int] | None:
    """The selector's width at each position, if it is one number >= 1 there."""
    if agg.selector.id not in positional:
        return None
    out = []
    for widths in vs.widths[agg.selector.id]:
        if len(widths) != 1 or min(widths) < 1:
            return None
        out.append(next(iter(widths)))
    return out


def _flag_mean(agg: Aggregate, vs: ValueSets, positional: frozenset[int]) -> bool:
    """A mean of values in {0, 1} (ints, floats or bools)."""
    if vs.semantics.get(agg.id) != "mean":
        return False
    if agg.id in positional or vs.too_many(agg.sop) or vs.too_many(agg):
        return False
    values = vs.union(agg.sop)
    return all(is_number(v, bools=True) and v in (0, 1) for v in values)


def _is_count(node: SOp, leaves: list[SOp], points: Points | None) -> bool:
    """At every position, ``node`` maps each value ``c / w`` of the mean to the int ``c``
    (``points``: every (mean, positional leaves) combination and its count; see
    :func:`_points`)."""
    if points is None:
        return False
    tables, codes, counts = points
    if not len(codes):
        return True
    table, which, ok = evaluate_fused(node, leaves, tables, codes)
    if not ok.all():
        return False  # the map raises on a value the mean can take
    # value_key(table[j]) == value_key(c) for each point's (j, c): an int (not a bool)
    # equal to the count; counts are below 2**62, so a larger value is never one
    is_int = np.array([type(v) is int and abs(v) < 2**62 for v in table], dtype=bool)
    ints = np.array([v if i else 0 for v, i in zip(table, is_int.tolist(), strict=True)])
    return bool(is_int[which].all() and np.array_equal(ints.astype(np.int64)[which], counts))


def _points(
    agg: Aggregate, others: list[SOp], vs: ValueSets, widths: list[int], at: list[int]
) -> Points | None:
    """Per position in ``at``, each value ``v`` of the mean with the positional leaves'
    values, and the count ``round(v * w)``; None if some ``v * w`` is not a count in
    ``0 .. w``. Built with whole arrays: a prefix mean at 1,024 positions has 525,000."""
    sets = [vs.sets[agg.id][i] for i in at]
    widths = [widths[i] for i in at]
    first: dict[tuple, int] = {}  # the mean's value keys, in order of appearance
    code = [first.setdefault(k, len(first)) for k in itertools.chain.from_iterable(sets)]
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    columns = [np.array(code, dtype=np.int64)]
    tables = [list(map(vs.objects.__getitem__, first))]
    for n in others:  # one value per position: its code, repeated for each of the mean's
        index: dict[tuple, int] = {}
        per_position = [_code(index, vs.sets[n.id][i]) for i in at]
        columns.append(np.repeat(np.array(per_position, dtype=np.int64), sizes))
        tables.append([vs.objects[k] for k in index])
    codes = np.stack(columns, axis=1).reshape(len(code), len(columns))
    row_width = np.repeat(np.array(widths, dtype=np.float64), sizes)
    mean = np.array([float(v) for v in tables[0]])[codes[:, 0]] * row_width
    counts = np.round(mean)  # half to even, as Python's round
    if np.any(np.abs(mean - counts) > 1e-9) or np.any((counts < 0) | (counts > row_width)):
        return None
    return tables, codes, counts.astype(np.int64)


def _code(index: dict[tuple, int], keys: frozenset) -> int:
    """The code of the one value a positional leaf holds at a position."""
    (key,) = keys
    return index.setdefault(key, len(index))


def count_nodes(program: Node, vs: ValueSets) -> dict[int, Aggregate]:
    """Maps and zipmaps equal to a prefix count: node id -> the mean they undo."""
    positional = positional_nodes(program)
    found: dict[int, Aggregate] = {}
    points: dict[tuple[int, ...], Points | None] = {}  # by (mean, other leaves)
    for node in topological_order(program):
        if not isinstance(node, Map | ZipMap) or node.id in positional:
            continue
        leaves = _frontier(node)
        means = [n for n in leaves if n.id not in positional]
        others = [n for n in leaves if n.id in positional]
        mean = means[0] if len(means) == 1 else None
        if not isinstance(mean, Aggregate) or not _flag_mean(mean, vs, positional):
            continue
        if any(any(len(s) != 1 for s in vs.sets[n.id]) for n in others):
            continue  # a positional leaf that differs between lengths
        widths = _widths(mean, vs, positional)
        if widths is None:
            continue
        if _proved(node, [mean, *others], vs, widths, points):
            found[node.id] = mean
    return found


TRIAL = 16  # positions a map is tried on first: a map that is no count fails there already


def _proved(
    node: SOp,
    leaves: list[SOp],
    vs: ValueSets,
    widths: list[int],
    points: dict[tuple[int, ...], Points | None],
) -> bool:
    """Whether ``node`` is the count at every position (``leaves``: the mean, then the
    positional leaves; ``points`` keeps each mean's points for the maps that share it)."""
    mean, others = leaves[0], leaves[1:]
    assert isinstance(mean, Aggregate)
    n = len(widths)
    if n > TRIAL:  # a failure on some positions is a failure: no need to try them all
        at = sorted(set(np.linspace(0, n - 1, TRIAL).round().astype(int).tolist()))
        if not _is_count(node, leaves, _points(mean, others, vs, widths, at)):
            return False
    key = tuple(leaf.id for leaf in leaves)
    if key not in points:  # maps over one mean share its points
        points[key] = _points(mean, others, vs, widths, list(range(n)))
    return _is_count(node, leaves, points[key])
