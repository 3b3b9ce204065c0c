"""Averages of a 0/1 flag read only as "is it above 0?": one head that says whether any
flagged key is selected.

``aggregate(prefix, flag) > 0`` (dyck1's "was the balance ever negative?")
averages a flag over a prefix: at long lengths its values are every ``j / w``,
hundreds of thousands of them, and a map telling ``1 / n`` from ``0`` has to
be sharp, so the flag's own error is multiplied many times on the way out.
Yet the map only asks whether some selected key holds 1. That is the
question of a head selecting the flagged keys (``selector & flag == 1``) and
averaging the constant 1: exactly 0 or 1, read by a gentle map.

The rewrite applies where the mean's values are numbers, every value its
flag averages is 0 or 1, the aggregate is read by maps alone, and each map
gives one result for every positive value the mean can take and another for
0, which is also what it gives for the default (nothing selected).

>>> from rasplab import tokens, indices, select, aggregate, numerical
>>> from rasplab.compiler.value_sets import infer
>>> flag = numerical(tokens.map(lambda t: 1 if t == "a" else 0))
>>> share = aggregate(select(indices, indices, "<="), flag)
>>> for read in (share > 0, share > 0.5):
...     vs = infer(read, "ab", 6, lambda *a: "mean")
...     print(any_means([flag, share, read], {share.id: [read]}, vs, read) == {share.id})
True
False
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..lang.graph import value_key
from ..lang.nodes import (
    Aggregate,
    Constant,
    Encoding,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorWidth,
)
from .combine import is_number
from .selectors import Score, formula
from .value_bulk import compare_numbers
from .value_sets import ValueSets

__all__ = ["any_means", "any_mean_user"]

DigitParts = Callable[[Any], tuple[list, list] | None]  # a formula's parts over digits


class _Lowering(Protocol):
    notes: list[str]

    def kid(self, node: Any) -> Any: ...

    def score(self, f: Any, exact: bool) -> Score | None: ...

    def any_of_parts(self, node: Map, width: SelectorWidth, digits: tuple[list, list]) -> Node: ...


def any_means(
    order: Sequence[Node], parents: Mapping[int, list[Node]], vs: ValueSets, program: Node
) -> set[int]:
    """Ids of the mean aggregates in ``order`` that every reader asks only "above 0?"."""
    found = set()
    for node in order:
        if not isinstance(node, Aggregate) or node is program:
            continue
        if vs.semantics.get(node.id) != "mean" or not _flags(vs.union(node.sop)):
            continue
        users = parents.get(node.id, [])
        if users and all(isinstance(u, Map) and _positive_only(u, node, vs) for u in users):
            found.add(node.id)
    return found


def _flags(values: list[Any]) -> bool:
    return bool(values) and all(is_number(v, bools=True) and v in (0, 1) for v in values)


def _positive_only(user: Map, mean: Aggregate, vs: ValueSets) -> bool:
    """``user.f`` gives one result on every positive value of ``mean`` and another on 0
    and on the default."""
    values = vs.union(mean)
    plain = set(map(type, values)) <= {int, float, bool}  # (a mean at 1,024: 320,000 values)
    if not plain and not all(is_number(v, bools=True) for v in values):
        return False
    positive = [v for v in values if v > 0]
    known = compare_numbers(user.f, positive)  # x > 0 and the like: on one array
    try:
        zero = value_key(user.f(0))
        if not positive or value_key(user.f(mean.default)) != zero:
            return False
        if known is not None:  # bools: all one of them
            return bool(known.all() or not known.any())
        first = value_key(user.f(positive[0]))
        return all(value_key(user.f(v)) == first for v in positive)
    except Exception:  # a map that raises on some value is not rewritten
        return False


def any_mean_user(
    low: _Lowering, node: Map, mean: Aggregate, values: list[Any], digits: DigitParts
) -> Node | None:
    """``node`` (a map of ``mean``, one of :func:`any_means`) over a head that says 1
    where some selected key is flagged, else 0; None if no head computes that. Where
    the selector orders positions more than one-hot allows, ``digits(formula)`` gives
    its parts over the positions' digits, one head each (dyck1's 'ever negative?'
    without a mask: two heads over digits of 33 values, not one over 1,024 positions)."""
    positive = min(v for v in values if v > 0)
    f = node.f
    whole = SelectorAnd(mean.selector, Select(mean.sop, Constant(1), "=="))
    parts = digits(formula(whole))
    if parts is not None:
        width = SelectorWidth(whole).named(mean.label)
        user = node._copy(f=lambda a, f=f, p=positive: f(p if a else 0), inner=width)
        return low.any_of_parts(user, width, parts)
    flagged = Select(low.kid(mean.sop), Constant(1), "==").named(f"{mean.sop.label}==1")
    sel: Selector = SelectorAnd(low.kid(mean.selector), flagged)
    if low.score(formula(sel), exact=False) is None:
        return None
    found = Aggregate(sel, Constant(1), default=0).annotated(encoding=Encoding.NUMERICAL)
    found = found.named(f"{mean.label}>0")
    low.notes.append(
        f"{mean.label}: an average of a 0/1 flag read only as 'above 0?', so one head "
        "answers exactly 0 or 1 (whether a selected key is flagged)"
    )
    return node._copy(f=lambda a, f=f, p=positive: f(p if a else 0), inner=found)
