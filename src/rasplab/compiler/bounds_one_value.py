"""Whether a select head moves one value, for :mod:`.bounds_heads`.

A select head's output is one key's value only if, for every query, the keys
it may select move one value: they carry one encoding of the moved value, or
they agree on a node no two positions share (``indices``, a count that is a
rank by :mod:`.ranks`, or one whose value sets per position are disjoint), on
all the digits of such a node, or on a node ``X`` and on a count no two
positions with one value of ``X`` share (:func:`.ranks.class_rank`). Where the
value sets prove the selector picks at most one key, nothing is asked.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..lang.nodes import Indices
from .bounds_scores import Head
from .bounds_space import Space, Stream

__all__ = ["Way", "agreements", "ways", "one_value", "several_values", "differ"]


def agreements(stream: Stream, head: Head, ks: Space, target: np.ndarray) -> list[np.ndarray]:
    """Ways to number the keys such that keys of one number move one value, made once per
    head (every block of queries reads them): the encodings of the moved value, then the
    ways of :func:`ways`. None (an empty list) where the value sets prove at most one
    key."""
    if head.widths is not None and max(head.widths, default=0) <= 1:
        return []
    found = [np.unique(target, axis=0, return_inverse=True)[1].reshape(-1)]  # equal floats
    for way in ways(stream, head, list(ks.nodes)):
        counts = _tuple_ids(ks, way.counts)
        if way.cls is None:
            found.append(counts)
            continue
        classes = _class_ids(ks, way.classes, way.cls)
        found.append(classes * (int(counts.max(initial=0)) + 1) + counts)
    return found


class Way(NamedTuple):
    """Key nodes on which keys that agree are one position, so move one value."""

    classes: tuple[int, ...]  # the nodes of a class (none: every position is one class)
    counts: tuple[int, ...]  # a node no two positions of the class share, or its digits
    cls: Any = None  # the class (:class:`.ranks.Class`), where there is one

    @property
    def nodes(self) -> tuple[int, ...]:
        return (*self.classes, *self.counts)


def ways(stream: Stream, head: Head, nodes: list[int]) -> list[Way]:
    """The ways among key ``nodes``: a node no two positions share, all the digits of
    one, or a class's nodes with a count no two positions of the class share (or all
    its digits)."""
    among = set(nodes)
    found = [Way((), (n,)) for n in nodes if _one_per_position(stream, head, n)]
    found += [
        Way((), told)
        for n, tolds in stream.tellers.items()
        for told in tolds
        if set(told) <= among and _one_per_position(stream, head, n)
    ]
    for count, (reads, cls) in stream.within.items():
        read = [xs for xs in reads if set(xs) <= among]
        told = [t for t in stream.tellers.get(count, ()) if set(t) <= among]
        counts = (count,) if count in among else told[0] if told else ()
        if counts and read:
            found.append(Way(read[0], counts, cls))
    return found


def one_value(head: Head, sel: np.ndarray, agree: list[np.ndarray]) -> tuple[str, ...]:
    """Open items where a query may select keys with different values at different
    positions: keys agreeing in any one of the ways of :func:`agreements` move one."""
    many = differ(sel, agree[0])
    for ids in agree[1:]:
        if not many.any():
            return ()
        many &= differ(sel, ids)
    return several_values(head) if many.any() else ()


def several_values(head: Head) -> tuple[str, ...]:
    node = head.plans[0].node
    return (
        f"aggregate {node.label} (head {head.name}): a query may select several keys with "
        f"different values, so the assumption that it moves one value is not proved",
    )


def _class_ids(ks: Space, xs: tuple[int, ...], cls: Any) -> np.ndarray:
    """Each key's class: its value of the class's node, or (several nodes, the maps that
    tell that node's values apart) its tuple of their values, numbered."""
    if len(xs) == 1:
        return cls.ids(ks.column(xs[0]), ks.values[ks.nodes.index(xs[0])])
    return _tuple_ids(ks, xs)


def _tuple_ids(ks: Space, xs: tuple[int, ...]) -> np.ndarray:
    """Each key's tuple of values of the nodes ``xs``, numbered (one node: its values)."""
    if len(xs) == 1:
        return ks.column(xs[0])
    codes = np.stack([ks.column(x) for x in xs], axis=1)  # [keys, nodes]
    return np.unique(codes, axis=0, return_inverse=True)[1].reshape(-1)


def _one_per_position(stream: Stream, head: Head, node_id: int) -> bool:
    """Whether no two positions can hold the same value of the node: the position itself,
    a count that is a rank (:mod:`.ranks`), or a node whose value sets per position are
    pairwise disjoint."""
    if isinstance(_node(head, node_id), Indices) or node_id in stream.distinct:
        return True
    sets = stream.at.get(node_id)
    if not sets or not all(isinstance(v, frozenset) for v in sets):
        return False
    return sum(len(v) for v in sets) == len(frozenset().union(*sets))


def differ(sel: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Rows where the selected keys' ``ids`` are not all equal."""
    big = np.iinfo(np.int64).max
    low = np.where(sel, ids[None, :], big).min(axis=1)
    high = np.where(sel, ids[None, :], -1).max(axis=1)
    return sel.any(axis=1) & (low != high)


def _node(head: Head, node_id: int) -> Any:
    return head.nodes.get(node_id)
