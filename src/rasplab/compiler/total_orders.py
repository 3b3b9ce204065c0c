"""Selectors that order the positions totally: by a table of their values, or by form.

A count of the keys that come before each query in a strict total order of
the positions is a rank (:mod:`.ranks`). Two ways show that a selector's
formula ``f`` (key before query) is such an order over the tuples of values
its s-ops hold, one of them ``indices`` so that no two positions share one:

* **by table** (:func:`by_table`): ``f`` over every pair of tuples the value
  sets allow is irreflexive (or reflexive), a tournament and transitive. The
  table holds the square of the number of tuples, so it is built for at most
  ``TUPLES`` of them.
* **by form** (:func:`by_form`): ``x_k < x_q``, or ``x_k == x_q`` and an order of
  the same form, down to a comparison of positions. That is a lexicographic
  order, strict and total whatever values ``x`` takes, as long as ``<`` orders
  them (numbers, or strings). most_freq's sort key takes 1,025 values at
  1,024 positions: its table would hold 10^12 pairs of tuples.

>>> from rasplab import tokens, indices, select
>>> from rasplab.compiler.formulas import formula
>>> tie = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> f = formula(select(tokens, tokens, "<") | tie)
>>> lists = {("k", tokens.id): list("abc"), ("q", tokens.id): list("abc")}
>>> by_form(f, lists)
'strict'
>>> by_form(formula(select(tokens, tokens, "<") | select(indices, indices, "<")), lists) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..lang.enums import Comparison
from ..lang.nodes import Indices
from .formulas import All, AnyOf, Literal
from .selectors import grid

__all__ = ["by_table", "by_form", "STRICT", "REFLEXIVE", "TUPLES"]

TUPLES = 6_000  # most (value tuple) x (value tuple) relations checked: 36 M booleans
STRICT, REFLEXIVE = "strict", "reflexive"  # a query never, or always, counts itself

_STRICT = (Comparison.LT, Comparison.GT)
_WEAK = (Comparison.LEQ, Comparison.GEQ)

Lists = Mapping[tuple[str, int], Sequence[Any]]  # (side, s-op id) -> its values


def by_table(f: Any, order: list[int], lists: Lists) -> str | None:
    """:data:`STRICT` or :data:`REFLEXIVE` where ``f`` is a strict total order (or its
    reflexive closure) of the tuples of ``order``'s s-ops; None where it is not, or where
    there are more than ``TUPLES`` tuples."""
    tuples = int(np.prod([len(lists[("q", nid)]) for nid in order]))
    if tuples > TUPLES:
        return None
    relation = _relation(f, order, lists, tuples)
    if not _strict_total(relation):
        return None
    return REFLEXIVE if np.diagonal(relation).any() else STRICT


def by_form(f: Any, lists: Lists) -> str | None:
    """:data:`STRICT` or :data:`REFLEXIVE` where ``f`` is lexicographic down to positions
    (module docstring), else None (not shown so: :func:`by_table` may still show it)."""
    if isinstance(f, Literal):
        if not (_plain(f) and isinstance(f.key, Indices)):
            return None
        return STRICT if f.predicate in _STRICT else REFLEXIVE if f.predicate in _WEAK else None
    if not (isinstance(f, AnyOf) and len(f.children) == 2):
        return None
    for first, rest in (f.children, f.children[::-1]):
        if not (isinstance(first, Literal) and _plain(first) and first.predicate in _STRICT):
            continue
        if not (isinstance(rest, All) and len(rest.children) == 2):
            continue
        assert first.key is not None  # a plain literal compares one s-op with itself
        if not _ordered(lists.get(("k", first.key.id), ())):
            continue
        for same, then in (rest.children, rest.children[::-1]):
            if _equality_of(same, first):
                return by_form(then, lists)
    return None


def _plain(lit: Literal) -> bool:
    """A comparison of an s-op at the key with itself at the query, and nothing more."""
    if lit.constant is not None or lit.merged is not None or lit.negated:
        return False
    return lit.key is not None and lit.query is not None and lit.key.id == lit.query.id


def _equality_of(f: Any, order: Literal) -> bool:
    if not (isinstance(f, Literal) and _plain(f) and f.predicate is Comparison.EQ):
        return False
    return f.key is not None and order.key is not None and f.key.id == order.key.id


def _ordered(values: Sequence[Any]) -> bool:
    """Whether ``<`` orders ``values`` totally, with ``==`` as its ties: real numbers (no
    NaN), or strings."""
    if not values:
        return False
    if all(isinstance(v, str) for v in values):
        return True
    return all(isinstance(v, int | float) and v == v for v in values)


def _relation(f: Any, order: list[int], lists: Lists, tuples: int) -> np.ndarray:
    """``R[query tuple, key tuple]``: the selector over every pair of value tuples."""
    variables_in = list(lists)
    axes = {var: i for i, var in enumerate(variables_in)}
    table = np.broadcast_to(
        grid(f, axes, dict(lists)), tuple(len(lists[v]) for v in variables_in)
    )  # [one axis per variable]
    wanted = [axes[("q", nid)] for nid in order] + [axes[("k", nid)] for nid in order]
    return np.ascontiguousarray(table.transpose(wanted)).reshape(tuples, tuples)


def _strict_total(relation: np.ndarray) -> bool:
    """Irreflexive or reflexive, a tournament off the diagonal, and transitive."""
    diagonal = np.diagonal(relation)
    if diagonal.any() and not diagonal.all():
        return False
    both = relation & relation.T  # [query, key]: both orders hold
    either = relation | relation.T
    np.fill_diagonal(both, False)
    np.fill_diagonal(either, True)
    if both.any() or not either.all():
        return False
    below = relation.sum(axis=1) - diagonal  # keys before each query tuple
    return len(np.unique(below)) == len(below)
