"""Causal compilation: which programs a decoder (masked attention) computes exactly.

Checked in stage 4 (layout): its blockers join the planner's in one CompileError.

With a causal mask, position ``i`` sees only positions ``<= i``. A program
compiles causally when every selector provably picks only keys at or
before its query (a ``select(indices, indices, "<=")``-like factor in every
``&``, on both sides of every ``|``) and nothing reads ``length``: then
each value at position ``i`` depends on tokens ``0..i`` only, the mask
changes nothing, and the program's output on ``xs`` agrees with its output
on every prefix. Anything else is refused, with the reason.

>>> from rasplab import tokens, indices, select, aggregate
>>> prefix = select(indices, indices, "<=")
>>> causal_blockers(aggregate(prefix & select(tokens, tokens, "=="), tokens), 4)
[]
"""

from __future__ import annotations

import numpy as np

from ..lang.graph import topological_order
from ..lang.nodes import (
    Aggregate,
    Length,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorOr,
    SelectorWidth,
)
from .reference import Rejection, evaluate_all
from .value_sets import positional_nodes

__all__ = ["causal_blockers"]


def _looks_back(sel: Select, n_max: int) -> bool:
    """A position-only select that never picks a key after its query (checked per length)."""
    inputs = [[0] * n for n in range(1, n_max + 1)]
    traces = evaluate_all(SelectorWidth(sel), inputs, trace=True)
    if isinstance(traces, Rejection):
        return False  # a selector the evaluator cannot run is not known to look back
    for t in traces:
        m = t.array(sel)  # [query, key]
        if np.triu(m, k=1).any():
            return False
    return True


def _bounded(sel: Selector, positional: frozenset[int], n_max: int) -> bool:
    if isinstance(sel, Select):
        return sel.id in positional and _looks_back(sel, n_max)
    if isinstance(sel, SelectorAnd):
        return _bounded(sel.fst, positional, n_max) or _bounded(sel.snd, positional, n_max)
    if isinstance(sel, SelectorOr):
        return _bounded(sel.fst, positional, n_max) and _bounded(sel.snd, positional, n_max)
    return False


def causal_blockers(program: Node, max_seq_len: int) -> list[str]:
    """Reasons ``program`` cannot run under a causal mask (empty if it can)."""
    positional = positional_nodes(program)
    found = []
    for node in topological_order(program):
        if isinstance(node, Length):
            found.append(
                "length depends on the whole input, so a causal model cannot know it; "
                "use indices + 1 (the length of the prefix) if that is what is meant"
            )
        elif isinstance(node, Aggregate | SelectorWidth) and not _bounded(
            node.selector, positional, max_seq_len
        ):
            found.append(
                f"{node.label}: its selector {node.selector.label} may pick keys after the "
                "query; combine it with select(indices, indices, '<=') using &"
            )
    return list(dict.fromkeys(found))
