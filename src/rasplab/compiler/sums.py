"""Sum aggregates (raspy's ``.value``) as counts instead of mean x width.

A sum over the selected keys is the mean times the width, but an MLP that
multiplies two numbers needs one unit per pair of values: at length 32 a
running sum of the digits 0-3 took millions of parameters that way. When the
summed values are a few integers ``u_0 < u_1 < ... < u_k``, every value is
``u_0 + sum_j (u_j - u_(j-1)) [v >= u_j]``, so the sum is

    ``u_0 * width(sel) + sum_j (u_j - u_(j-1)) * width(sel & v >= u_j)``:

one count head per level, added by an MLP (each count is decoded on its own),
and nothing multiplied. A 0/1 flag summed (a prefix count) is one count head.
Only for integers (not bools: raspy's rule gives back the one selected
``True`` itself) and a default of ``0``, which the counts give when nothing is
selected.

>>> levels([0, 1, 2, 3]), levels([True, False]), levels([0.5, 1]), levels(list(range(40)))
([0, 1, 2, 3], None, None, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..lang.graph import value_key
from ..lang.nodes import (
    Aggregate,
    Constant,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorWidth,
    SOp,
    ZipMap,
)
from .selectors import Score, formula

__all__ = ["levels", "sum_as_counts", "MAX_LEVELS"]

MAX_LEVELS = 4  # one count head per level; their MLP's domain grows as width ** levels


class _Lowering(Protocol):
    notes: list[str]

    def kid(self, node: Any) -> Any: ...

    def selector_for(self, node: Any, exact: bool) -> Selector: ...

    def score(self, f: Any, exact: bool) -> Score | None: ...

    def values_of(self, node: SOp) -> list[Any]: ...


def levels(values: Sequence[Any]) -> list[int] | None:
    """The distinct values, ascending, when they are at most MAX_LEVELS plain ints."""
    if not values or any(type(v) is not int for v in values):
        return None
    distinct = sorted(set(values))
    return distinct if len(distinct) <= MAX_LEVELS else None


def sum_as_counts(low: _Lowering, node: Aggregate) -> Node | None:
    """``node`` (a sum) as a weighted sum of count heads; None where that does not apply."""
    values = low.values_of(node.sop)
    if value_key(node.default) != value_key(0):
        return None
    if values and all(type(v) is bool for v in values):
        return _flags_counted(low, node)
    steps = levels(values)
    if steps is None:
        return None
    sel, sop = low.selector_for(node, exact=True), low.kid(node.sop)
    terms: list[tuple[int, SelectorWidth]] = []
    if steps[0] != 0:
        terms.append((steps[0], SelectorWidth(sel)))
    for below, step in zip(steps, steps[1:], strict=False):
        flagged = SelectorAnd(sel, Select(sop, Constant(step), ">="))
        if low.score(formula(flagged), exact=True) is None:
            return None
        terms.append((step - below, SelectorWidth(flagged)))
    if not terms:  # only zeros are summed
        return None
    low.notes.append(
        f"{node.label}: a sum of the integers {steps} is computed as "
        f"{len(terms)} count head(s) added, not mean x width"
    )
    if len(terms) == 1 and terms[0][0] == 1:
        width = terms[0][1]
        return width.named(node.label) if node.name else width
    coefs = tuple(c for c, _ in terms)
    widths = [w.named(f"{node.label}.count{k}") for k, (_, w) in enumerate(terms)]
    return ZipMap(_weighted(coefs), *widths)


def _flags_counted(low: _Lowering, node: Aggregate) -> Node | None:
    """Booleans summed: the count of ``True`` keys, but the one selected flag itself (a
    bool) where exactly one key is selected, and the default where none is."""
    sel, sop = low.selector_for(node, exact=True), low.kid(node.sop)
    flagged = SelectorAnd(sel, Select(sop, Constant(True), "=="))
    if low.score(formula(flagged), exact=True) is None:
        return None
    low.notes.append(f"{node.label}: a sum of flags is computed by counting the true ones")
    everything = SelectorWidth(sel).named(f"{node.label}.width")
    true = SelectorWidth(flagged).named(f"{node.label}.count")
    return ZipMap(_flag_total, everything, true)


def _flag_total(everything: int, true: int) -> int | bool:
    return bool(true) if everything == 1 else true


def _weighted(coefs: tuple[int, ...]):
    def total(*widths: int) -> int:
        return sum(c * w for c, w in zip(coefs, widths, strict=True))

    return total
