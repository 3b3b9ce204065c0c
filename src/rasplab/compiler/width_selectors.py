"""The selector a count counts: a ``selector_width``'s, or the paper's BOS-free width's.

The RASP paper counts the keys a selector ``S`` picks without a beginning-of-
sequence token: it averages ``[j == 0]`` over ``S | at0``, averages 1 over
``S & at0`` and maps the pair to the count
(:func:`rasplab.library.helpers.selector_width_nobos`). :func:`width_selector`
finds ``S`` in either form, checking the map on the value sets, so the proofs
about counts (:mod:`.ranks`) and the rewrite to one count head (:mod:`.widths`)
read both alike. Value sets may be of a rewritten program whose nodes stand
for the user's: :func:`stand_ins` says which.

>>> from rasplab import tokens, select, selector_width
>>> from rasplab.library.helpers import selector_width_nobos
>>> from rasplab.compiler.value_sets import infer
>>> same = select(tokens, tokens, "==")
>>> width = selector_width_nobos(same)
>>> width_selector(width, infer(width, "ab", 5)) is same
True
>>> width_selector(selector_width(same), infer(width, "ab", 5)) is same
True
>>> width_selector(tokens, infer(width, "ab", 5)) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping

from ..lang.enums import Comparison
from ..lang.graph import topological_order
from ..lang.nodes import (
    Aggregate,
    Constant,
    Indices,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorOr,
    SelectorWidth,
    SOp,
    ZipMap,
)
from .arithmetic import width_sum_limit
from .value_sets import ValueSets

__all__ = ["width_selector", "stand_ins"]


def stand_ins(values: ValueSets, origin: Mapping[int, Node]) -> dict[int, Node]:
    """The user's node id -> the rewritten node standing for it (same values everywhere)."""
    found = {}
    for new in topological_order(values.program):
        user = origin.get(new.id)
        if user is not None:
            found[user.id] = new
    return found


def width_selector(
    node: Node, values: ValueSets, origin: Mapping[int, Node] | None = None
) -> Selector | None:
    """The selector whose width ``node`` is: a ``selector_width``, or the paper's BOS-free
    construction (:func:`rasplab.library.helpers.selector_width_nobos`), checked on the
    value sets: ``f(mean of [j == 0] over sel | at0, mean of 1 over sel & at0)`` with
    ``f(inv, z) = 1 / inv - 1 + z`` on every pair of their values."""
    if isinstance(node, SelectorWidth):
        return node.selector
    if isinstance(node, ZipMap) and width_sum_limit(node.f) is not None:
        # the lowering's split of a width: the user's own selector where it stands for one
        user = (origin or {}).get(node.id)
        found = width_selector(user, values, origin) if user not in (None, node) else None
        return found or _parts_union(node)
    if not isinstance(node, ZipMap) or len(node.inputs) != 2:
        return None
    stand_in = stand_ins(values, origin or {})
    inv, at_zero = node.inputs
    if not isinstance(inv, Aggregate) or not isinstance(at_zero, Aggregate):
        return None
    either, both = inv.selector, at_zero.selector
    if not isinstance(either, SelectorOr) or not isinstance(both, SelectorAnd):
        return None
    if either.fst is not both.fst or not (_at0(either.snd) and _at0(both.snd)):
        return None
    if _rebuilt_as_width(stand_in.get(node.id)):
        return either.fst  # checked already, and rebuilt as a width (widths.py)
    try:
        if not _first_position_flag(inv.sop, values, stand_in):
            return None
        if not (isinstance(at_zero.sop, Constant) and at_zero.sop.value == 1):
            return None
        if at_zero.default != 0:
            return None
        # position 0 is always among the keys it averages, and its flag is 1: inv > 0
        pairs = [(a, b) for a in _union(inv, values, stand_in) if a > 0 for b in (0, 1)]
        if not all(node.f(a, b) == round(1 / a - 1 + b) for a, b in pairs):
            return None
    except (ArithmeticError, TypeError, ValueError, LookupError):
        return None
    return either.fst


def _rebuilt_as_width(node: Node | None) -> bool:
    """A width, or the sum of a width's parts that the lowering split it into."""
    if isinstance(node, ZipMap) and width_sum_limit(node.f) is not None:
        return _parts_union(node) is not None
    return isinstance(node, SelectorWidth)


def _parts_union(node: ZipMap) -> Selector | None:
    """The 'or' of the selectors whose disjoint widths ``node`` adds (the lowering's split
    of a width that one head cannot count, :mod:`.split_widths`)."""
    if not all(isinstance(part, SelectorWidth) for part in node.inputs):
        return None
    selectors = [part.selector for part in node.inputs if isinstance(part, SelectorWidth)]
    union = selectors[0]
    for sel in selectors[1:]:
        union = SelectorOr(union, sel)
    return union


def _at0(sel: Selector) -> bool:
    """``select(indices, 0, "==")``: every query picks the key at position 0."""
    return (
        isinstance(sel, Select)
        and isinstance(sel.keys, Indices)
        and isinstance(sel.queries, Constant)
        and sel.queries.value == 0
        and sel.predicate is Comparison.EQ
    )


def _first_position_flag(sop: SOp, values: ValueSets, stand_in: dict[int, Node]) -> bool:
    """Whether ``sop`` is 1 at position 0 and 0 everywhere else (``[indices == 0]``)."""
    node = stand_in.get(sop.id, sop)
    sets = [values.at(node, i) for i in range(values.max_seq_len)]
    return sets[0] == [1] and all(s == [0] for s in sets[1:])


def _union(sop: SOp, values: ValueSets, stand_in: dict[int, Node]) -> list:
    return values.union(stand_in.get(sop.id, sop))
