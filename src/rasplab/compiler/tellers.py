"""Maps of an s-op that together tell its values apart: keys agreeing on them agree on it.

A head that reads a count as two digits (:mod:`.digits`) never reads the count
itself, yet keys holding the same high and low digit hold the same count.
Where the count is one no two positions share (a rank, :mod:`.ranks`) or no
two positions of a class, such keys are one position, so a select moves one
value (:mod:`.bounds_one_value`). Several sets of maps may tell a count apart:
its own digits, and the digits of ``count - 1`` that the query side reads.
Each minimal set is kept, so that a head reading any one of them is seen to.

"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

from ..lang.nodes import Indices, Map, Node, SOp, ZipMap
from .maps_of import only_of, value_of
from .value_sets import ValueSets
from .width_selectors import stand_ins

__all__ = ["tellers_among", "tellings", "telling_apart", "MAPS_TRIED"]

MAPS_TRIED = 8  # maps of one s-op whose subsets are tried (else only all of them)
LARGEST_WAY = 3  # maps in one minimal set at most


def tellers_among(
    nodes: Mapping[int, Node],
    values: ValueSets,
    origin: Mapping[int, Node],
    distinct: frozenset[int],
) -> dict[int, tuple[tuple[int, ...], ...]]:
    """For the position and each of ``distinct`` among ``nodes`` (counts no two positions
    share, or no two of a class), the minimal sets of maps of it among ``nodes`` that
    together tell its values apart."""
    found = {}
    for nid, node in nodes.items():
        user = origin.get(nid, node)
        if isinstance(user, SOp) and (isinstance(user, Indices) or nid in distinct):
            ways = tellings(user, nodes, values, origin)
            if ways:
                found[nid] = ways
    return found


def telling_apart(
    x: SOp, nodes: Mapping[int, Node], values: ValueSets, origin: Mapping[int, Node]
) -> tuple[int, ...]:
    """One set of maps of ``x`` among ``nodes`` that tells its values apart (empty where
    there is none): those no other map reads, else all of them."""
    maps = _maps_of(x, nodes, origin)
    return _outer_or_all(maps, _columns(x, maps, values, origin))


def tellings(
    x: SOp, nodes: Mapping[int, Node], values: ValueSets, origin: Mapping[int, Node]
) -> tuple[tuple[int, ...], ...]:
    """Every minimal set of at most ``LARGEST_WAY`` maps of ``x`` among ``nodes`` that
    tells its values apart (with more than ``MAPS_TRIED`` maps, :func:`telling_apart`)."""
    maps = _maps_of(x, nodes, origin)
    columns = _columns(x, maps, values, origin)
    if columns is None or len(maps) > MAPS_TRIED:
        one = _outer_or_all(maps, columns)
        return (one,) if one else ()
    found: list[tuple[int, ...]] = []
    for size in range(1, LARGEST_WAY + 1):
        for way in combinations(sorted(maps), size):
            if not any(set(smaller) <= set(way) for smaller in found) and _tells(columns, way):
                found.append(way)
    return tuple(found)


def _outer_or_all(maps: Mapping[int, Node], columns: Mapping[int, list] | None) -> tuple[int, ...]:
    """The maps no other map reads if they tell the values apart, else all of them if
    they do, else none (``columns``: each map's values, None where not known)."""
    read = {n.inner.id for n in maps.values() if isinstance(n, Map)}
    outer = tuple(sorted(nid for nid in maps if nid not in read))
    for way in (outer, tuple(sorted(maps))):
        if way and columns is not None and _tells(columns, way):
            return way
    return ()


def _maps_of(x: SOp, nodes: Mapping[int, Node], origin: Mapping[int, Node]) -> dict[int, Node]:
    return {
        nid: n
        for nid, n in nodes.items()
        if isinstance(n, Map | ZipMap) and origin.get(nid, n) is not x and only_of(n, x, origin)
    }


def _columns(
    x: SOp, maps: Mapping[int, Node], values: ValueSets, origin: Mapping[int, Node]
) -> dict[int, list[Any]] | None:
    """Each map's value at every value of ``x`` (None where a map cannot be evaluated)."""
    try:
        xs = list(values.union(stand_ins(values, origin).get(x.id, x)))
        return {nid: [value_of(n, x, origin, v) for v in xs] for nid, n in maps.items()}
    except (LookupError, ArithmeticError, TypeError, ValueError):
        return None


def _tells(columns: Mapping[int, list[Any]], way: tuple[int, ...]) -> bool:
    rows = list(zip(*(columns[nid] for nid in way), strict=True))
    return len(set(rows)) == len(rows) and len(rows) > 0
