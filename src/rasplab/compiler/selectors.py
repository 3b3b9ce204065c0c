"""Selectors as attention scores: which selector trees one head computes exactly.

An attention score is bilinear in a query feature vector and a key feature
vector, so one head can test any predicate of *one* query s-op against
*one* key s-op (a :class:`Literal`, a 0/1 table over their values). A
selector tree is first put in negation normal form; every subtree that
mentions a single query s-op and a single key s-op collapses into one
literal. What remains combines literals over different s-ops:

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lang.enums import NUMPY_COMPARE
from ..lang.nodes import (
    Comparison,
    Constant,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SOp,
)

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

Env = Mapping[tuple[str, int], Any]  # ("q" | "k", node id) -> value


@dataclass(frozen=True, eq=False)
class Literal:
    """``test(key_value, query_value)`` on one query s-op and one key s-op (None: unused)."""

    query: SOp | None
    key: SOp | None
    test: Callable[[Any, Any], bool]
    label: str
    # What ``test`` is, where known, so that whole tables can be computed at once:
    predicate: Any = None  # test(k, q) is the select's predicate(k', q'), maybe negated,
    constant: tuple[str, Any] | None = None  # with this side ("k" or "q") fixed to a value
    negated: bool = False
    merged: Any = None  # or test(k, q) is holds(merged, ...) of literals over this pair

    def holds(self, key_value: Any, query_value: Any) -> bool:
        try:
            return bool(self.test(key_value, query_value))
        except Exception:  # incomparable values: the evaluator rejects such inputs
            return False


@dataclass(frozen=True, eq=False)
class All:
    children: tuple


@dataclass(frozen=True, eq=False)
class AnyOf:
    children: tuple


@dataclass(frozen=True, eq=False)
class Truth:
    value: bool


def _side_value(side: str, node: SOp | None, env: Env) -> Any:
    return None if node is None else env[(side, node.id)]


def holds(f: Any, env: Env) -> bool:
    """Evaluate a formula for one (query, key) assignment of s-op values."""
    if isinstance(f, Literal):
        return f.holds(_side_value("k", f.key, env), _side_value("q", f.query, env))
    if isinstance(f, Truth):
        return f.value
    if isinstance(f, All):
        return all(holds(c, env) for c in f.children)
    return any(holds(c, env) for c in f.children)


def variables(f: Any) -> dict[tuple[str, int], SOp]:
    """The (side, s-op) pairs a formula reads."""
    if isinstance(f, Literal):
        found = {}
        if f.query is not None:
            found[("q", f.query.id)] = f.query
        if f.key is not None:
            found[("k", f.key.id)] = f.key
        return found
    if isinstance(f, Truth):
        return {}
    out: dict = {}
    for c in f.children:
        out.update(variables(c))
    return out


def _atom(sel: Select, negate: bool) -> Any:
    pred = sel.predicate
    if pred is Comparison.TRUE or pred is Comparison.FALSE:
        return Truth((pred is Comparison.TRUE) != negate)
    key: SOp | None = sel.keys
    query: SOp | None = sel.queries
    constant: tuple[str, Any] | None = None
    fn: Callable[[Any, Any], Any]
    if isinstance(query, Constant):
        fn = _query_fixed(pred, query.value)
        constant = ("q", query.value)
        query = None
    elif isinstance(key, Constant):
        fn = _key_fixed(pred, key.value)
        constant = ("k", key.value)
        key = None
    else:
        fn = pred
    if negate:
        fn = _negation(fn)
    label = ("~" if negate else "") + sel.label
    return Literal(query, key, fn, label, pred, constant, negate)


def _query_fixed(test: Callable[[Any, Any], Any], value: Any) -> Callable[[Any, Any], Any]:
    """``test(k, value)`` whatever the query: that side is a constant s-op."""
    return lambda k, q: test(k, value)


def _key_fixed(test: Callable[[Any, Any], Any], value: Any) -> Callable[[Any, Any], Any]:
    """``test(value, q)`` whatever the key: that side is a constant s-op."""
    return lambda k, q: test(value, q)


def _negation(test: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    return lambda k, q: not test(k, q)


def formula(sel: Selector, negate: bool = False) -> Any:
    """The selector in negation normal form, single-pair subtrees merged into literals."""
    if isinstance(sel, Select):
        return _atom(sel, negate)
    if isinstance(sel, SelectorNot):
        return formula(sel.inner, not negate)
    if not isinstance(sel, SelectorAnd | SelectorOr):
        raise TypeError(f"unknown selector {sel!r}")
    parts = (formula(sel.fst, negate), formula(sel.snd, negate))
    is_and = isinstance(sel, SelectorAnd) != negate
    return _merge(All(parts) if is_and else AnyOf(parts), sel.label)


def _flatten(f: Any) -> Any:
    if isinstance(f, All | AnyOf):
        kids: list[Any] = []  # sub-formulas
        for c in f.children:
            c = _flatten(c)
            kids.extend(c.children if type(c) is type(f) else [c])
        return type(f)(tuple(kids))
    return f


def _merge(f: Any, label: str) -> Any:
    """Collapse a subtree reading one query s-op and one key s-op into a literal."""
    f = _flatten(f)
    found = variables(f)
    queries = [n for (side, _), n in found.items() if side == "q"]
    keys = [n for (side, _), n in found.items() if side == "k"]
    if len(queries) > 1 or len(keys) > 1:
        return f
    query = queries[0] if queries else None
    key = keys[0] if keys else None

    def test(k: Any, q: Any, f=f, query=query, key=key) -> bool:
        env = {}
        if query is not None:
            env[("q", query.id)] = q
        if key is not None:
            env[("k", key.id)] = k
        return holds(f, env)

    return Literal(query, key, test, label, merged=f)


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
