"""Counts that are ranks: a ``selector_width`` no two positions share, proved from its selector.

sort selects ``target_pos == indices`` and moves one token, which is right
only if no two positions hold the same ``target_pos``. No per-position value
set shows that (every position may hold every rank); the selector does:
``target_pos`` counts the keys that come before the query in the order
"smaller token, or the same token earlier", a strict total order of the
positions, so the counts are the positions' ranks, ``0 .. length - 1``,
each once.

:func:`distinct_ranks` proves it for any ``selector_width(select(...))``
whose key and query sides read the same s-ops, one of them ``indices`` (so
two positions never have the same tuple of values). Over every tuple the
value sets allow, the selector as a relation ``R(key, query)`` must be

* irreflexive (or reflexive) on every tuple: each count includes the query
  itself always or never;
* a tournament on distinct tuples: for ``a != b`` exactly one of ``R(a, b)``,
  ``R(b, a)`` holds;
* transitive, which for a tournament holds exactly when the numbers of tuples
  below each tuple all differ.

Then at any input the positions' tuples are distinct tuples of a strict total
order and each count is a position's rank (plus one if reflexive): no two
positions share it.

>>> from rasplab import tokens, indices, select, selector_width
>>> from rasplab.compiler.value_sets import infer
>>> tie = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> before = select(tokens, tokens, "<") | tie
>>> rank = selector_width(before)
>>> distinct_ranks(rank, infer(rank, "abc", 6))
True
>>> smaller = selector_width(select(tokens, tokens, "<"))  # equal tokens share a count
>>> distinct_ranks(smaller, infer(smaller, "abc", 6))
False
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..lang.graph import topological_order
from ..lang.nodes import Indices, Node, SelectorWidth
from .selectors import formula, grid, variables
from .value_sets import ValueSets

__all__ = ["distinct_ranks", "TUPLES"]

TUPLES = 6_000  # most (value tuple) x (value tuple) relations checked: 36 M booleans


def distinct_ranks(node: Node, values: ValueSets, origin: Mapping[int, Node] | None = None) -> bool:
    """Whether ``node`` is a selector width no two positions share on any input (above).

    ``values`` may be of a rewritten program whose nodes stand for the user's
    (``origin``: rewritten node id -> the user's node): those give their values."""
    if not isinstance(node, SelectorWidth):
        return False
    f = formula(node.selector)
    found = variables(f)
    keys = {nid for side, nid in found if side == "k"}
    if keys != {nid for side, nid in found if side == "q"}:
        return False
    order = sorted(keys)
    if not any(isinstance(found[("k", nid)], Indices) for nid in order):
        return False
    stand_in = _stand_ins(values, origin or {})
    try:
        lists = {var: values.union(stand_in.get(sop.id, sop)) for var, sop in found.items()}
    except (LookupError, KeyError):
        return False
    sizes = [len(lists[("q", nid)]) for nid in order]
    tuples = int(np.prod(sizes))
    if tuples > TUPLES:
        return False
    relation = _relation(f, order, lists, tuples)
    return _strict_total(relation)


def _stand_ins(values: ValueSets, origin: Mapping[int, Node]) -> dict[int, Node]:
    """The user's node id -> the rewritten node standing for it (same values everywhere)."""
    found = {}
    for new in topological_order(values.program):
        user = origin.get(new.id)
        if user is not None:
            found[user.id] = new
    return found


def _relation(f, order: list[int], lists: dict, tuples: int) -> np.ndarray:
    """``R[query tuple, key tuple]``: the selector over every pair of value tuples."""
    variables_in = list(lists)
    axes = {var: i for i, var in enumerate(variables_in)}
    table = np.broadcast_to(
        grid(f, axes, lists), tuple(len(lists[v]) for v in variables_in)
    )  # [one axis per variable]
    wanted = [axes[("q", nid)] for nid in order] + [axes[("k", nid)] for nid in order]
    return np.ascontiguousarray(table.transpose(wanted)).reshape(tuples, tuples)


def _strict_total(relation: np.ndarray) -> bool:
    """Irreflexive or reflexive, a tournament off the diagonal, and transitive."""
    diagonal = np.diagonal(relation)
    if diagonal.any() and not diagonal.all():
        return False
    both = relation & relation.T  # [query, key]: both orders hold
    either = relation | relation.T
    np.fill_diagonal(both, False)
    np.fill_diagonal(either, True)
    if both.any() or not either.all():
        return False
    below = relation.sum(axis=1) - diagonal  # keys before each query tuple
    return len(np.unique(below)) == len(below)
