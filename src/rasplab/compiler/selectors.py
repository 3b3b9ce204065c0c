"""Selectors as attention scores: which selector trees one head computes exactly.

An attention score is bilinear in a query feature vector and a key feature
vector, so one head can test any predicate of *one* query s-op against
*one* key s-op (a :class:`Literal`, a 0/1 table over their values). A
selector tree is first put in negation normal form (:mod:`.formulas`):
every subtree that mentions a single query s-op and a single key s-op
collapses into one literal. What remains combines literals over different
s-ops:

* ``a & b``: scores add; selected keys score exactly the sum of the tops,
  every other key at least one unit less (the *exact top* that counting and
  averaging need, since all selected keys must get the same weight);
* ``a | b`` of literals that never hold together (checked on the value
  sets): scores add and stay 0/1;
* ``a | b`` otherwise: selected keys score at least 1, others 0 - enough for
  an aggregate that picks one value, not for counting or averaging.

Anything else gets ``None``; the lowering stage then rewrites the program.

>>> from rasplab import tokens, indices, select
>>> sel = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> score = construct(formula(sel), lambda a, b: False)
>>> len(score.terms), score.top, score.exact_top
(2, 2.0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.enums import NUMPY_COMPARE
from ..lang.nodes import Comparison, SOp
from .formulas import All, AnyOf, Literal, Truth, formula, holds, variables

__all__ = [
    "Literal",
    "All",
    "AnyOf",
    "Truth",
    "Score",
    "formula",
    "construct",
    "holds",
    "variables",
    "exclusive",
    "truth_table",
    "grid",
    "LiteralTest",
]


@dataclass(frozen=True, eq=False)
class Score:
    """Weighted literals whose sum is ``top`` on selected keys (or at least ``top``)."""

    terms: tuple[tuple[Literal, float], ...]
    top: float
    exact_top: bool  # every selected key scores exactly ``top``
    two_sided: bool  # every unselected key scores exactly 0


def construct(f: Any, are_exclusive: Callable[[Any, Any], bool]) -> Score | None:
    """An exact score for formula ``f``, or None if one head cannot compute it."""
    if isinstance(f, Literal):
        return Score(((f, 1.0),), 1.0, True, True)
    if isinstance(f, Truth):
        return Score((), 0.0 if f.value else 1.0, True, True)
    found = [construct(c, are_exclusive) for c in f.children]
    parts = [p for p in found if p is not None]
    if len(parts) != len(found):
        return None
    if isinstance(f, All):
        if not all(p.exact_top for p in parts):
            return None
        terms = tuple(t for p in parts for t in p.terms)
        return Score(terms, sum(p.top for p in parts), True, len(parts) == 1)
    if not all(p.two_sided for p in parts):
        return None
    terms = tuple((lit, w / p.top) for p in parts for lit, w in p.terms)
    kids = f.children
    disjoint = all(
        are_exclusive(kids[a], kids[b]) for a in range(len(kids)) for b in range(a + 1, len(kids))
    )
    return Score(terms, 1.0, disjoint, disjoint)


def _truth_table(lit: Literal, axes: dict, values: dict) -> np.ndarray:
    """A literal as a boolean array broadcast over the grid of all variables."""
    qv = values[("q", lit.query.id)] if lit.query is not None else [None]
    kv = values[("k", lit.key.id)] if lit.key is not None else [None]
    table = truth_table(lit, kv, qv)
    shape = [1] * len(axes)
    order = []
    if lit.query is not None:
        order.append(axes[("q", lit.query.id)])
    if lit.key is not None:
        order.append(axes[("k", lit.key.id)])
    table = table.reshape([len(qv)] * (lit.query is not None) + [len(kv)] * (lit.key is not None))
    if len(order) == 2 and order[0] > order[1]:
        table, order = table.T, order[::-1]
    for axis, size in zip(order, table.shape, strict=True):
        shape[axis] = size
    return table.reshape(shape)


def grid(f: Any, axes: dict, values: dict) -> np.ndarray:
    """A formula over every assignment: one array axis per (side, s-op) in ``axes``, broadcast
    where a part does not read that variable."""
    if isinstance(f, Literal):
        return _truth_table(f, axes, values)
    if isinstance(f, Truth):
        return np.array(f.value).reshape([1] * len(axes))
    tables = [grid(c, axes, values) for c in f.children]
    out = tables[0]
    for t in tables[1:]:
        out = (out & t) if isinstance(f, All) else (out | t)
    return out


def _conjuncts(f: Any) -> list[Literal]:
    if isinstance(f, Literal):
        return [f]
    if isinstance(f, All):
        return [c for c in f.children if isinstance(c, Literal)]
    return []


def _pair(lit: Literal) -> tuple:
    q = lit.query.id if lit.query is not None else None
    return (q, lit.key.id if lit.key is not None else None)


def exclusive(a: Any, b: Any, values_of: Callable[[SOp], list], limit: int = 2_000_000) -> bool:
    """True if formulas ``a`` and ``b`` never hold together on any value assignment.

    First a cheap sufficient test: a conjunct of ``a`` and one of ``b`` over the same
    pair of s-ops that never hold together. Then the full grid of values, if small.
    """
    for la in _conjuncts(a):
        for lb in _conjuncts(b):
            if _pair(la) == _pair(lb) and _never_both(la, lb, values_of, limit):
                return True
    return _never_both(a, b, values_of, limit)


def _never_both(a: Any, b: Any, values_of: Callable[[SOp], list], limit: int) -> bool:
    found = {**variables(a), **variables(b)}
    try:
        values = {var: values_of(node) for var, node in found.items()}
    except LookupError:  # too many values to enumerate: assume they may overlap
        return False
    if int(np.prod([len(v) for v in values.values()] or [1])) > limit:
        return False
    axes = {var: i for i, var in enumerate(found)}
    both = grid(a, axes, values) & grid(b, axes, values)
    return not bool(both.any())


# ---------------------------------------------------------------- whole truth tables


def truth_table(lit: Literal, keys: Sequence[Any], queries: Sequence[Any]) -> np.ndarray:
    """``[query, key]``: ``lit.holds(k, q)`` for every pair, with numpy where that is exact."""
    if lit.merged is not None:
        return _merged_table(lit.merged, keys, queries)
    found = _whole(lit, keys, queries) if lit.predicate is not None else None
    if found is not None:
        return found
    table = [[lit.holds(k, q) for k in keys] for q in queries]
    return np.array(table, dtype=bool).reshape(len(queries), len(keys))


def _whole(lit: Literal, keys: Sequence[Any], queries: Sequence[Any]) -> np.ndarray | None:
    """The predicate's table computed at once (None where that might differ from calling it)."""
    k_values, q_values = list(keys), list(queries)
    if lit.constant is not None:  # that side's s-op is a constant: its value stands in
        side, value = lit.constant
        k_values, q_values = ([value], q_values) if side == "k" else (k_values, [value])
    if isinstance(lit.predicate, Comparison):
        table = _compare(lit.predicate, k_values, q_values)
    elif isinstance(lit.predicate, LiteralTest):
        table = lit.predicate.table(k_values, q_values)
    else:
        return None
    if table is None:
        return None
    if lit.negated:  # safe: these tables come from predicates that never raise
        table = ~table
    return np.broadcast_to(table, (len(queries), len(keys)))


class LiteralTest:
    """``lit.holds(k, q)`` as a select predicate, true for every ``wildcard`` key if given;
    :func:`truth_table` computes it whole."""

    __name__ = "<lambda>"  # what the lambdas it replaces were called in descriptions

    def __init__(self, lit: Literal, wildcard: Any = None):
        self.lit, self.wildcard = lit, wildcard

    def __call__(self, key: Any, query: Any) -> bool:
        return (self.wildcard is not None and key is self.wildcard) or self.lit.holds(key, query)

    def table(self, keys: list[Any], queries: list[Any]) -> np.ndarray:
        wild = np.array([self.wildcard is not None and k is self.wildcard for k in keys], bool)
        rest = [k for k, w in zip(keys, wild.tolist(), strict=True) if not w]
        out = np.ones((len(queries), len(keys)), dtype=bool)
        out[:, ~wild] = truth_table(self.lit, rest, queries)
        return out


def _merged_table(f: Any, keys: Sequence[Any], queries: Sequence[Any]) -> np.ndarray:
    """A formula over one (query, key) pair; a side a literal does not read is broadcast."""
    if isinstance(f, Literal):
        table = truth_table(
            f,
            keys if f.key is not None else [None],
            queries if f.query is not None else [None],
        )
        return np.broadcast_to(table, (len(queries), len(keys)))
    if isinstance(f, Truth):
        return np.full((len(queries), len(keys)), f.value)
    tables = [_merged_table(c, keys, queries) for c in f.children]
    combine = np.logical_and if isinstance(f, All) else np.logical_or
    return combine.reduce(tables) if tables else np.full((len(queries), len(keys)), True)


def _compare(pred: Comparison, keys: list[Any], queries: list[Any]) -> np.ndarray | None:
    """``pred(key, query)`` on numbers (or on strings), as Python would compute it."""
    op = NUMPY_COMPARE.get(pred)
    k, q = _array(keys), _array(queries)
    if op is None or k is None or q is None or k.dtype.kind != q.dtype.kind:
        return None
    return op(k[None, :], q[:, None])


def _array(values: list[Any]) -> np.ndarray | None:
    """Values as an array whose comparisons equal Python's: numbers (bools as 0/1, floats
    not NaN, ints exact as floats), or strings without NUL (numpy drops trailing NULs)."""
    if all(type(v) in (int, float, bool) for v in values):
        out = np.array(values, dtype=np.float64)
        ints = [v for v in values if type(v) is int]
        if np.any(np.isnan(out)) or any(abs(v) > 2**53 for v in ints):
            return None
        return out
    if all(type(v) is str and "\0" not in v for v in values):
        return np.array(values, dtype=str)
    return None
