"""raspy's attention: ``key``, ``query``, ``select``, ``aggregate`` and ``sel.value``.

``key(k) < query(q)`` selects where ``k < q``; ``sel.value(v, default)``
aggregates by raspy's rule, rasplab's ``sum`` mode: the default where nothing
is selected, the value itself where one key is, the sum where several are.

>>> from rasplab.compat.raspy import tokens, indices
>>> before = key(indices) < query(indices)
>>> before.value(tokens)([3, 1, 2])
[0, 3, 4]
>>> (key(tokens) == query("l")).value(indices, default="-")("hello")
[5, 5, 5, 5, 5]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ...errors import RaspTypeError
from ...lang import nodes
from ...lang.enums import Comparison
from .sops import Aggregate, SOpLike, wrap

__all__ = ["Key", "Query", "key", "query", "select", "aggregate", "RaspySelector"]

# raspy passes Python's operator functions as predicates; these compare, so compile as such.
_KNOWN_PREDICATES: dict[Any, Comparison] = {
    operator.eq: Comparison.EQ,
    operator.ne: Comparison.NEQ,
    operator.lt: Comparison.LT,
    operator.le: Comparison.LEQ,
    operator.gt: Comparison.GT,
    operator.ge: Comparison.GEQ,
}


class RaspySelector:
    """raspy's selector methods, mixed into rasplab's selector node classes."""

    __slots__ = ()

    def value(self, sop: SOpLike, default: Any = 0, mode: str = "sum") -> Aggregate:
        """``sel.value(v, default=0)``: aggregate ``v`` by raspy's rule (``mode="sum"``)."""
        values = wrap(sop, "sel.value(v, default)")
        return Aggregate(_selector(self), values, default=default, mode=mode)

    def __and__(self, other: Any) -> SelectorAnd:
        return SelectorAnd(_selector(self), _other_selector(other, "&"))

    def __or__(self, other: Any) -> SelectorOr:
        return SelectorOr(_selector(self), _other_selector(other, "|"))

    def __invert__(self) -> Any:
        raise RaspTypeError(
            "raspy ~selector inverts bits: ~True is -2 and ~False is -1, both true, so it "
            "selects every key; build the opposite comparison instead (key(k) >= query(q) "
            "for ~(key(k) < query(q)))"
        )

    def __call__(self, inp: Any) -> Any:
        """Run on one input: raspy's ``Sel``, its matrix ``val[key][query]``."""
        from .display import run_selector

        return run_selector(_selector(self), inp)

    def input(self, inp: Any) -> Any:
        return self(inp)

    def _repr_html_(self) -> str:
        from .display import example_html

        return example_html(_selector(self))


def _selector(sel: RaspySelector) -> nodes.Selector:
    assert isinstance(sel, nodes.Selector)  # the mixin is only ever part of a selector class
    return sel


def _other_selector(other: Any, op: str) -> nodes.Selector:
    if isinstance(other, nodes.Selector):
        return other
    raise RaspTypeError(
        f"raspy selector {op} selector expects a selector on both sides, got {other!r}"
    )


class Select(RaspySelector, nodes.Select):
    pass


class SelectorAnd(RaspySelector, nodes.SelectorAnd):
    pass


class SelectorOr(RaspySelector, nodes.SelectorOr):
    pass


def select(keylike: SOpLike, querylike: SOpLike, predicate: Callable[[Any, Any], Any]) -> Select:
    """``select(keys, queries, predicate)``: ``predicate(key, query)`` for every pair.

    >>> select([1, 2, 3], 2, operator.le)([0, 0, 0]).val
    [[True, True, True], [True, True, True], [False, False, False]]
    """
    if not callable(predicate) and not isinstance(predicate, Comparison | str):
        raise RaspTypeError(
            f"raspy select(keys, queries, predicate) expects a function predicate(key, query), "
            f"got {predicate!r}"
        )
    keys = wrap(keylike, "select(keys, queries, predicate)")
    queries = wrap(querylike, "select(keys, queries, predicate)")
    known = _KNOWN_PREDICATES.get(predicate) if callable(predicate) else None
    return Select(keys, queries, known or predicate)


def aggregate(sel: Any, vallike: SOpLike, default: Any = 0, name: str = "") -> Aggregate:
    """``aggregate(sel, values, default=0, name="")`` by raspy's rule (mode ``sum``)."""
    if not isinstance(sel, nodes.Selector):
        raise RaspTypeError(
            f"raspy aggregate(sel, values) expects a selector first (key(...) == query(...) "
            f"or select(...)), got {sel!r}"
        )
    values = wrap(vallike, "aggregate(sel, values)")
    if not (default is None or nodes.is_atom(default)):
        raise RaspTypeError(
            f"raspy aggregate(sel, values, default) expects one value as default, got {default!r}"
        )
    return Aggregate(sel, values, default=default, mode="sum", name=name or None)


class _Side:
    """One side of raspy's ``key(k) OP query(q)``: a comparison with the other side selects."""

    def __init__(self, sop: SOpLike, what: str) -> None:
        self.sop = wrap(sop, what)

    __hash__ = object.__hash__

    def _select(self, other: Any, op: str) -> Select:
        raise NotImplementedError

    def __eq__(self, other: Any) -> Select:  # type: ignore[override]
        return self._select(other, "==")

    def __ne__(self, other: Any) -> Select:  # type: ignore[override]
        return self._select(other, "!=")

    def __lt__(self, other: Any) -> Select:
        return self._select(other, "<")

    def __le__(self, other: Any) -> Select:
        return self._select(other, "<=")

    def __gt__(self, other: Any) -> Select:
        return self._select(other, ">")

    def __ge__(self, other: Any) -> Select:
        return self._select(other, ">=")

    def _repr_html_(self) -> str:
        from .display import side_html

        return side_html(type(self).__name__.lower(), self.sop)


# query OP key == key MIRROR(OP) query, which is how Python reflects raspy's comparisons.
_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
# raspy lets these through too, making selectors of non-booleans; here they are refused.
_OTHERS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "%": "mod", "&": "and", "|": "or"}


class Key(_Side):
    """``key(k)``: compare it with a ``query(q)`` to build a selector."""

    def __init__(self, sop: SOpLike) -> None:
        super().__init__(sop, "key(x)")

    def _select(self, other: Any, op: str) -> Select:
        if not isinstance(other, Query):
            raise RaspTypeError(
                f"raspy key(x) {op} expects query(y) on the other side, got {other!r}"
            )
        return Select(self.sop, other.sop, Comparison.parse(op))


class Query(_Side):
    """``query(q)``: compare it with a ``key(k)`` to build a selector."""

    def __init__(self, sop: SOpLike) -> None:
        super().__init__(sop, "query(x)")

    def _select(self, other: Any, op: str) -> Select:
        if not isinstance(other, Key):
            raise RaspTypeError(
                f"raspy query(x) {op} expects key(y) on the other side, got {other!r}"
            )
        return Select(other.sop, self.sop, Comparison.parse(_MIRROR[op]))


def _not_a_comparison(op: str) -> Callable[..., Any]:
    def refuse(self: _Side, other: Any) -> Any:
        raise RaspTypeError(
            f"raspy {type(self).__name__.lower()}(x) {op} ...: a selector compares a key with "
            "a query by == != < <= > >="
        )

    return refuse


for _op, _name in _OTHERS.items():
    for _side in (Key, Query):
        setattr(_side, f"__{_name}__", _not_a_comparison(_op))
        setattr(_side, f"__r{_name}__", _not_a_comparison(_op))


def key(x: SOpLike) -> Key:
    """``key(x)``: the key side of a comparison."""
    return Key(x)


def query(x: SOpLike) -> Query:
    """``query(x)``: the query side of a comparison."""
    return Query(x)
