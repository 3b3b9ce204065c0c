"""Causal compilation: which programs a decoder (masked attention) computes exactly.

Checked in stage 4 (layout): its blockers join the planner's in one CompileError.

With a causal mask, position ``i`` sees only positions ``<= i``. A program
compiles causally when every selector provably picks only keys at or
before its query (a ``select(indices, indices, "<=")``-like factor in every
``&``, on both sides of every ``|``, or in an ``&`` a rank within a class
compared with a smaller rank of the query's class,
:func:`~rasplab.compiler.ranks.looks_back_by_rank`) and nothing reads ``length``: then
each value at position ``i`` depends on tokens ``0..i`` only, the mask
changes nothing, and the program's output on ``xs`` agrees with its output
on every prefix. Anything else is refused, with the reason.

>>> from rasplab import tokens, indices, select, aggregate
>>> prefix = select(indices, indices, "<=")
>>> causal_blockers(aggregate(prefix & select(tokens, tokens, "=="), tokens), 4)
[]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.enums import Comparison
from ..lang.graph import topological_order
from ..lang.nodes import (
    Aggregate,
    Indices,
    Length,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorOr,
    SelectorWidth,
)
from .positional import length_free_nodes
from .ranks import looks_back_by_rank
from .reference import Rejection, evaluate_all
from .selectors import All, Literal, Truth, formula, variables
from .value_sets import ValueSets, positional_nodes

__all__ = ["causal_blockers", "under_mask", "causal_hint", "mask_note"]


def _looks_back(sel: Select, n_max: int, length_free: frozenset[int]) -> bool:
    """A position-only select that never picks a key after its query (checked per length;
    once, at the longest, where nothing below it reads the length: a shorter input's
    matrix is then a corner of the longest one's)."""
    lengths = [n_max] if sel.id in length_free else range(1, n_max + 1)
    inputs = [[0] * n for n in lengths]
    traces = evaluate_all(SelectorWidth(sel), inputs, trace=True)
    if isinstance(traces, Rejection):
        return False  # a selector the evaluator cannot run is not known to look back
    for t in traces:
        m = t.array(sel)  # [query, key]
        if np.triu(m, k=1).any():
            return False
    return True


@dataclass(frozen=True)
class _Known:
    positional: frozenset[int]  # the positional nodes
    length_free: frozenset[int]  # those of them nothing reading length is under
    values: ValueSets | None  # None before the value sets: a rank comparison may look back
    origin: Mapping[int, Node] | None  # the value sets' node id -> the user's node


def _bounded(sel: Selector, known: _Known, n_max: int) -> bool:
    if isinstance(sel, Select):
        return sel.id in known.positional and _looks_back(sel, n_max, known.length_free)
    if isinstance(sel, SelectorAnd):
        return (
            _bounded(sel.fst, known, n_max)
            or _bounded(sel.snd, known, n_max)
            or looks_back_by_rank(formula(sel), known.values, known.origin)
        )
    if isinstance(sel, SelectorOr):
        return _bounded(sel.fst, known, n_max) and _bounded(sel.snd, known, n_max)
    return False


def causal_blockers(
    program: Node,
    max_seq_len: int,
    values: ValueSets | None = None,
    origin: Mapping[int, Node] | None = None,
) -> list[str]:
    """Reasons ``program`` cannot run under a causal mask (empty if it can).

    Without ``values`` (``program``'s value sets, or those of a rewritten program whose
    node ids ``origin`` maps to ``program``'s nodes), a selector that compares a rank
    within a class is taken to look back; the value sets decide that."""
    known = _Known(positional_nodes(program), frozenset(length_free_nodes(program)), values, origin)
    found = []
    for node in topological_order(program):
        if isinstance(node, Length):
            found.append(
                "length depends on the whole input, so a causal model cannot know it; "
                "use indices + 1 (the length of the prefix) if that is what is meant"
            )
        elif isinstance(node, Aggregate | SelectorWidth) and not _bounded(
            node.selector, known, max_seq_len
        ):
            found.append(
                f"{node.label}: its selector {node.selector.label} may pick keys after the "
                "query; combine it with select(indices, indices, '<=') using &"
            )
    return list(dict.fromkeys(found))


def under_mask(f: Any) -> Any:
    """What a causally masked head still has to test of selector formula ``f``.

    The mask lets a query see the keys at or before it, so ``select(indices, indices,
    "<=")`` holds for every key it lets through: that factor costs no score, and no
    position needs storing for it (the counts of a prefix become counts of flagged
    keys). Every other literal stays; an ``or`` holding such a factor holds always.

    >>> from rasplab import tokens, indices, select
    >>> from rasplab.compiler.selectors import formula
    >>> masked = under_mask(formula(select(indices, indices, "<=") & select(tokens, tokens, "==")))
    >>> masked.key.label, masked.predicate.value
    ('tokens', '==')
    """
    if isinstance(f, Literal):
        return Truth(True) if _prefix(f) else f
    if isinstance(f, Truth):
        return f
    kids = [under_mask(c) for c in f.children]
    absorbing = not isinstance(f, All)  # true absorbs an "or"; false absorbs an "and"
    if any(isinstance(k, Truth) and k.value is absorbing for k in kids):
        return Truth(absorbing)
    rest = [k for k in kids if not isinstance(k, Truth)]
    if not rest:
        return Truth(not absorbing)
    return rest[0] if len(rest) == 1 else type(f)(tuple(rest))


def _prefix(lit: Literal) -> bool:
    """``select(indices, indices, "<=")`` itself: key position at most the query's."""
    return (
        isinstance(lit.query, Indices)
        and isinstance(lit.key, Indices)
        and lit.predicate is Comparison.LEQ
        and not lit.negated
        and lit.constant is None
        and lit.merged is None
    )


def causal_hint(program: Node, max_seq_len: int) -> str | None:
    """A line for a refusal: where ``program`` selects its prefix and every selector looks
    back, compiling it with causal masks stores no position for those selects."""
    if not _masked(topological_order(program)) or causal_blockers(program, max_seq_len):
        return None
    return (
        f"{program.label} reads only its prefix (every selector looks back): compiled with "
        "causal masks (--causal, causal=True) it needs no position for "
        "select(indices, indices, '<='), which the mask keeps by itself"
    )


def mask_note(order: Sequence[Node]) -> str | None:
    """The report's line where the mask stands in for a head's prefix select."""
    if not _masked(order):
        return None
    return (
        "causal mask: it keeps select(indices, indices, '<=') by itself, so the heads under "
        "it store no position for that selector"
    )


def _masked(order: Sequence[Node]) -> bool:
    """Whether a mask would spare some head a variable (its prefix select's positions)."""
    return any(
        variables(formula(n.selector)) != variables(under_mask(formula(n.selector)))
        for n in order
        if isinstance(n, Aggregate | SelectorWidth)
    )
