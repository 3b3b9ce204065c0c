"""Selects that a rank answers with exactly one key, which value sets cannot show.

sort moves the token at each position to ``target_pos``, the count of the
positions before it in the order "smaller token, or the same token earlier".
Position by position, the value sets let every position hold every rank, so
``select(target_pos, indices, "==")`` may seem to select nothing, and the head
must let BOS win there. :func:`.ranks.permutation_ranks` shows more: the ranks are
``0 .. length - 1`` at every input, one per position, so every query finds one key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..lang.enums import Comparison
from ..lang.graph import topological_order
from ..lang.nodes import Indices, Node, Select
from .ranks import permutation_ranks
from .value_sets import ValueSets

__all__ = ["rank_matches"]


def rank_matches(values: ValueSets, origin: Mapping[int, Node] | None = None) -> ValueSets:
    """``values`` with the width of every ``select(rank, indices, "==")`` (either way
    round) set to exactly one key, where the ranks are ``0 .. length - 1`` at every input
    (:func:`permutation_ranks`): sort's ``target_pos`` numbers the positions, so each
    query finds one key. The value sets, position by position, cannot show it (every
    position may hold every rank), and without it a head must let BOS win where nothing
    matches and the bounds must allow for that.

    >>> from rasplab.library import sort
    >>> from rasplab.compiler.value_sets import infer
    >>> program = sort()
    >>> before = infer(program, "abc", 6)
    >>> sel = program.selector
    >>> sorted(before.widths[sel.id][5]), sorted(rank_matches(before).widths[sel.id][5])
    ([0, 1, 2, 3, 4, 5, 6], [1])
    """
    widths, bounds = dict(values.widths), dict(values.bounds)
    for node in topological_order(values.program):
        if not (isinstance(node, Select) and node.predicate is Comparison.EQ):
            continue
        sides = (node.keys, node.queries)
        other = [s for s in sides if not isinstance(s, Indices)]
        if len(other) != 1 or not permutation_ranks(other[0], values, origin):
            continue
        n = values.max_seq_len
        widths[node.id] = (frozenset({1}),) * n
        if node.id in bounds:
            one = np.ones_like(bounds[node.id][0])
            bounds[node.id] = (one, one)
    if widths == values.widths:
        return values
    # the widths set here are not those their bounds' keys stand for (value_sets.py)
    keys = {k: key for k, key in values.bound_keys.items() if widths[k] is values.widths[k]}
    return replace(values, widths=widths, bounds=bounds, bound_keys=keys, unions={}, memo={})
