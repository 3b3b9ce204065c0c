"""tracr's selectors: ``Select`` with tracr's predicates, and the simplifying combinators.

``selector_and``/``selector_or``/``selector_not`` (and ``&``, ``|``, ``~``)
merge two selects over the same keys and queries into one select with a
combined predicate, as tracr does; otherwise they build the combination.

>>> from rasplab.compat import tracr as rasp
>>> lt = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LT)
>>> gt = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.GT)
>>> either = lt | gt
>>> type(either).__name__, rasp.SelectorWidth(either)("abc")
('Select', [2, 2, 2])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...errors import EvaluationError, RaspTypeError
from ...lang import nodes
from ...lang.nodes import Comparison, Selector, SOp
from .exprs import Full, indices, require_selector, require_sop
from .operators import TracrExpr, TracrSelectorOperators

__all__ = [
    "Select",
    "ConstantSelector",
    "SelectorAnd",
    "SelectorOr",
    "SelectorNot",
    "selector_and",
    "selector_or",
    "selector_not",
    "tracr_predicate",
]


def tracr_predicate(predicate: Any) -> Callable[[Any, Any], Any]:
    """The predicate as tracr calls it: a ``Comparison`` refuses ``None`` on either side."""
    if not isinstance(predicate, Comparison):
        return predicate

    def compare(key: Any, query: Any) -> bool:
        if key is None or query is None:
            side = "key" if key is None else "query"
            raise EvaluationError(
                f"rasp.Select: the {side} is None (an empty aggregate's default) and "
                f"Comparison.{predicate.name} refuses None, as tracr's does"
            )
        return predicate(key, query)

    compare.__name__ = predicate.name
    return compare


class TracrSelector(TracrSelectorOperators, TracrExpr):
    """The mixins every compat selector class starts with (tracr's ``Selector``)."""

    __slots__ = ()


class Select(TracrSelector, nodes.Select):
    """``Select(keys, queries, predicate)``: ``predicate(key, query)``, keys first."""

    def __init__(self, keys: SOp, queries: SOp, predicate: Any) -> None:
        call = "rasp.Select(keys, queries, predicate)"
        keys = require_sop(keys, call, "keys")
        queries = require_sop(queries, call, "queries")
        if not (isinstance(predicate, Comparison) or callable(predicate)) or isinstance(
            predicate, str | nodes.Node
        ):
            raise RaspTypeError(
                f"{call}: predicate must be a rasp.Comparison or a function "
                f"(key, query) -> bool, got {predicate!r}"
            )
        super().__init__(keys, queries, predicate)


class ConstantSelector(TracrSelector, nodes.Select):
    """``ConstantSelector(value, check_length=True)``: the given matrix ``[query][key]``."""

    # tracr calls this ``value``; a rasplab selector's ``value`` is the raspy-style aggregate.
    matrix: tuple[tuple[Any, ...], ...]  # as given; tracr's evaluator returns it unchanged
    check_length: bool

    def __init__(self, value: Sequence[Sequence[Any]], check_length: bool = True) -> None:
        try:
            if isinstance(value, str) or any(isinstance(row, str) for row in value):
                raise TypeError("strings are not rows")
            rows = tuple(tuple(row) for row in value)
        except TypeError:
            raise RaspTypeError(
                "rasp.ConstantSelector(value): value must be a list of lists of bools, "
                f"got {value!r}"
            ) from None
        # The length rides along with each query position, so the predicate can check it.
        from .exprs import SequenceMap, length

        position_and_length = SequenceMap(lambda i, n: (i, n), indices, length)

        def selected(key: int, query: tuple[int, int]) -> bool:
            i, n = query
            if check_length and n != len(rows):
                raise ValueError(f"Constant len {n} doesn't match input len {len(rows)}.")
            return bool(rows[i][key])

        super().__init__(indices, position_and_length, selected)
        self.matrix = rows
        self.check_length = check_length


class SelectorAnd(TracrSelector, nodes.SelectorAnd):
    def __init__(self, fst: Selector, snd: Selector) -> None:
        call = "rasp.SelectorAnd(fst, snd)"
        super().__init__(require_selector(fst, call, "fst"), require_selector(snd, call, "snd"))


class SelectorOr(TracrSelector, nodes.SelectorOr):
    def __init__(self, fst: Selector, snd: Selector) -> None:
        call = "rasp.SelectorOr(fst, snd)"
        super().__init__(require_selector(fst, call, "fst"), require_selector(snd, call, "snd"))


class SelectorNot(TracrSelector, nodes.SelectorNot):
    def __init__(self, inner: Selector) -> None:
        super().__init__(require_selector(inner, "rasp.SelectorNot(inner)", "inner"))


def selector_not(inner: Selector, simplify: bool = True) -> Selector:
    """``SelectorNot``, or one ``Select`` with the negated predicate when ``inner`` is a select."""
    inner = require_selector(inner, "rasp.selector_not(inner)", "inner")
    if simplify and isinstance(inner, nodes.Select):
        pred = tracr_predicate(inner.predicate)
        return Select(inner.keys, inner.queries, lambda k, q: not pred(k, q))
    return SelectorNot(inner)


def selector_and(fst: Selector, snd: Selector, simplify: bool = True) -> Selector:
    """``SelectorAnd``, or one ``Select`` when both are selects over the same s-ops."""
    fst = require_selector(fst, "rasp.selector_and(fst, snd)", "fst")
    snd = require_selector(snd, "rasp.selector_and(fst, snd)", "snd")
    merged = _merged(fst, snd, lambda a, b: a and b) if simplify else None
    return merged if merged is not None else SelectorAnd(fst, snd)


def selector_or(fst: Selector, snd: Selector, simplify: bool = True) -> Selector:
    """``SelectorOr``, or one ``Select`` when both are selects over the same s-ops."""
    fst = require_selector(fst, "rasp.selector_or(fst, snd)", "fst")
    snd = require_selector(snd, "rasp.selector_or(fst, snd)", "snd")
    merged = _merged(fst, snd, lambda a, b: a or b) if simplify else None
    return merged if merged is not None else SelectorOr(fst, snd)


def _merged(fst: Selector, snd: Selector, combine: Callable[[Any, Any], Any]) -> Select | None:
    """One select for two, as tracr merges them; ``None`` where they do not line up.

    The keys (or queries) line up when they are the same node, or when one side is
    a ``Full``: its fill is then baked into that side's predicate.
    """
    if not (isinstance(fst, nodes.Select) and isinstance(snd, nodes.Select)):
        return None
    p, q = tracr_predicate(fst.predicate), tracr_predicate(snd.predicate)
    keys = queries = None
    if isinstance(fst.keys, Full):
        keys, p = snd.keys, _fixed_key(p, fst.keys.fill)
    if isinstance(snd.keys, Full):
        keys, q = fst.keys, _fixed_key(q, snd.keys.fill)
    if isinstance(fst.queries, Full):
        queries, p = snd.queries, _fixed_query(p, fst.queries.fill)
    if isinstance(snd.queries, Full):
        queries, q = fst.queries, _fixed_query(q, snd.queries.fill)
    if fst.keys is snd.keys:
        keys = fst.keys
    if fst.queries is snd.queries:
        queries = fst.queries
    if keys is None or queries is None:
        return None
    return Select(keys, queries, lambda k, x: combine(p(k, x), q(k, x)))


def _fixed_key(pred: Callable[[Any, Any], Any], fill: Any) -> Callable[[Any, Any], Any]:
    return lambda key, query: pred(fill, query)


def _fixed_query(pred: Callable[[Any, Any], Any], fill: Any) -> Callable[[Any, Any], Any]:
    return lambda key, query: pred(key, fill)
