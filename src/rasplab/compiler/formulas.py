"""Selector formulas: a selector tree in negation normal form, over literals.

A :class:`Literal` tests one query s-op against one key s-op (either may be
unused, where that side is a constant); :class:`All` and :class:`AnyOf` are
"and" and "or" of formulas, :class:`Truth` a constant. :func:`formula` puts a
selector tree in negation normal form and collapses every subtree that reads
a single query s-op and a single key s-op into one literal; :func:`holds`
evaluates a formula for one assignment of values and :func:`variables` lists
the (side, s-op) pairs it reads. Which formulas one head computes is
:mod:`.selectors`' business.

>>> from rasplab import tokens, indices, select
>>> f = formula(select(tokens, tokens, "==") & ~select(indices, indices, ">="))
>>> type(f).__name__, [c.label.startswith("~") for c in f.children]
('All', [False, True])
>>> env = {("k", tokens.id): "a", ("q", tokens.id): "a", ("k", indices.id): 0, ("q", indices.id): 2}
>>> holds(f, env), sorted(side for side, _ in variables(f))
(True, ['k', 'k', 'q', 'q'])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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

__all__ = ["Literal", "All", "AnyOf", "Truth", "formula", "holds", "variables"]

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
