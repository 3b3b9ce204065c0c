"""The naive evaluator: one input, one position at a time, in plain Python.

This is rasplab's **oracle**. It is written straight from the semantics
contract (the RASP language page), with no batching, no encoding of values
and no numpy, so that it is easy to check by eye. The tests compare the fast
batched evaluator against it on random programs and inputs, value by value
and type by type. The benchmarks use it as the per-position baseline, the
way the reference RASP interpreter and raspy evaluate.

It is deliberately slow: a select makes ``n * n`` Python predicate calls and
an aggregate walks every query row. Use :func:`rasplab.evaluate` for real
work. It is not exported from the top-level package.

>>> from rasplab import tokens, indices, length, select, aggregate
>>> reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
>>> naive_evaluate(reverse, "abc")
['c', 'b', 'a']
>>> naive_evaluate(aggregate(select(indices, indices, "<="), indices), [7, 7, 7])
[0, 0.5, 1.0]
>>> naive_evaluate(select(indices, indices, "<"), "ab")
[[False, False], [True, False]]
"""

from __future__ import annotations

from typing import Any

from ..errors import AggregateError, EvaluationError, RaspTypeError
from ..lang.nodes import (
    Aggregate,
    AggregationMode,
    Comparison,
    Constant,
    Encoding,
    Indices,
    Length,
    Map,
    Node,
    Select,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    Tokens,
    ZipMap,
    is_atom,
)
from .engine import coerce_input

__all__ = ["naive_evaluate", "naive_values"]


def naive_evaluate(program: Node, xs: Any) -> list[Any]:
    """Evaluate ``program`` on one input: a list of values (a boolean matrix for a selector).

    Inputs are read as by :func:`rasplab.evaluate` (a string is one token per
    character). Errors are the same ``RaspError`` subclasses.
    """
    return naive_values(program, xs)[program.id]


def naive_values(program: Node, xs: Any) -> dict[int, Any]:
    """The value of every node under ``program`` on one input, keyed by ``node.id``.

    Each node is computed once (memoised for this call only), children
    before parents, in the order of a left-to-right depth-first walk.

    >>> from rasplab import tokens
    >>> doubled = tokens * 2
    >>> naive_values(doubled, [1, 2])[doubled.id]
    [2, 4]
    """
    if not isinstance(program, Node):
        raise RaspTypeError(f"evaluate needs an s-op or a selector, got {program!r}")
    xs = coerce_input(xs)
    values: dict[int, Any] = {}
    stack: list[tuple[Node, bool]] = [(program, False)]
    while stack:  # an explicit stack: deep programs must not hit the recursion limit
        node, children_done = stack.pop()
        if node.id in values:
            continue
        if children_done:
            args = [values[child.id] for child in node.children]
            values[node.id] = _evaluate_node(node, args, xs)
            continue
        stack.append((node, True))
        for child in reversed(node.children):
            if child.id not in values:
                stack.append((child, False))
    return values


def _evaluate_node(node: Node, args: list[Any], xs: list[Any]) -> Any:
    n = len(xs)
    if isinstance(node, Tokens):
        return list(xs)
    if isinstance(node, Indices):
        return list(range(n))
    if isinstance(node, Length):
        return [n] * n
    if isinstance(node, Constant):
        if holds_nan(node.value):
            raise EvaluationError(f"the constant {node.value!r} is NaN, which is not a value")
        return [node.value] * n
    if isinstance(node, Map):
        return _map(node, [(v,) for v in args[0]], xs)
    if isinstance(node, ZipMap):
        return _map(node, list(zip(*args, strict=True)), xs)
    if isinstance(node, Select):
        return _select(node, args[0], args[1], xs)
    if isinstance(node, SelectorAnd):
        return [[a and b for a, b in zip(r, s, strict=True)] for r, s in zip(*args, strict=True)]
    if isinstance(node, SelectorOr):
        return [[a or b for a, b in zip(r, s, strict=True)] for r, s in zip(*args, strict=True)]
    if isinstance(node, SelectorNot):
        return [[not a for a in row] for row in args[0]]
    if isinstance(node, SelectorWidth):
        return [sum(1 for a in row if a) for row in args[0]]
    if isinstance(node, Aggregate):
        if holds_nan(node.default):
            raise AggregateError(
                f"aggregate {node.label} ({node.describe()}) has the default "
                f"{node.default!r}; NaN is not a value"
            )
        selector, values = args
        return [_aggregate(node, row, values, xs, q) for q, row in enumerate(selector)]
    raise RaspTypeError(f"cannot evaluate {node!r}: unknown node type {type(node).__name__}")


def _where(xs: list[Any], pos: int) -> str:
    return f"position {pos} of input {xs!r}"


def _map(node: Map | ZipMap, arg_rows: list[tuple[Any, ...]], xs: list[Any]) -> list[Any]:
    """Call the function at every position, then check that every result is a value."""
    out = []
    for pos, args in enumerate(arg_rows):
        try:
            out.append(node.f(*args))
        except Exception as err:  # user code
            shown = ", ".join(repr(a) for a in args)
            raise EvaluationError(
                f"{node.kind} {node.label} ({node.describe()}) failed on ({shown}) at "
                f"{_where(xs, pos)}: {type(err).__name__}: {err}"
            ) from None
    for pos, value in enumerate(out):
        if holds_nan(value):
            raise EvaluationError(
                f"{node.kind} {node.label} ({node.describe()}) returned {value!r} at "
                f"{_where(xs, pos)}; NaN is not a value (an input token, a map's result "
                "or an aggregate's)"
            )
        if not _is_value(value):
            raise RaspTypeError(
                f"{node.kind} {node.label} ({node.describe()}) returned {value!r} "
                f"({type(value).__name__}) at {_where(xs, pos)}; s-op values must be "
                "int, float, str, bool, None or a tuple of those"
            )
    return out


def holds_nan(value: Any) -> bool:
    """NaN, or a tuple holding one: never a value (written here again to keep the oracle apart)."""
    if isinstance(value, float):
        return value != value
    return isinstance(value, tuple) and any(holds_nan(v) for v in value)


def _is_value(value: Any) -> bool:
    """What an s-op may hold: atoms, None, and tuples of those (tracr's composite values)."""
    if value is None or is_atom(value):
        return True
    return isinstance(value, tuple) and all(_is_value(v) for v in value)


def _select(node: Select, keys: list[Any], queries: list[Any], xs: list[Any]) -> list[list[bool]]:
    """``sel[q][k] = predicate(keys[k], queries[q])``; the predicate may be a custom callable."""
    pred = node.predicate
    name = pred.value if isinstance(pred, Comparison) else getattr(pred, "__name__", repr(pred))
    matrix = []
    for q, query in enumerate(queries):
        row = []
        for key in keys:
            try:
                row.append(bool(pred(key, query)))
            except Exception as err:
                raise RaspTypeError(
                    f"select {node.label} ({node.describe()}) cannot compare key {key!r} "
                    f"{name} query {query!r} (query at {_where(xs, q)}): {err}"
                ) from None
        matrix.append(row)
    return matrix


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (``1``, ``1.0`` and ``True`` all differ), tuples item by item."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # two NaNs count as the same value


def _aggregate(node: Aggregate, row: list[bool], values: list[Any], xs: list[Any], q: int) -> Any:
    result = _reduce(node, row, values, xs, q)
    if holds_nan(result):  # inf and -inf together: no number is their mean or sum
        picked = [v for v, on in zip(values, row, strict=True) if on]
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) cannot {node.mode.value} the values "
            f"{picked!r} selected at {_where(xs, q)}: the result is NaN, which is not a value"
        )
    return result


def _reduce(node: Aggregate, row: list[bool], values: list[Any], xs: list[Any], q: int) -> Any:
    picked = [v for v, on in zip(values, row, strict=True) if on]
    if not picked:
        return node.default
    mode = node.mode
    where = _where(xs, q)
    if mode is AggregationMode.MEAN:
        if len(picked) == 1:
            return picked[0]
        # a numerical aggregate (or one of a numerical s-op) averages bools as 0/1, like tracr
        numerical = Encoding.NUMERICAL in (node.encoding, node.sop.encoding)
        averageable = (lambda v: isinstance(v, int | float)) if numerical else _is_number
        if all(averageable(v) for v in picked):
            return sum(picked) / len(picked)
        if all(_same(v, picked[0]) for v in picked):
            return picked[0]
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) cannot average the non-numeric "
            f"values {picked!r} selected at {where}; a categorical aggregate must select "
            "one value per query"
        )
    if mode is AggregationMode.SUM:  # raspy's rule: one value is returned as it is
        if len(picked) == 1:
            return picked[0]
        if not all(isinstance(v, int | float) for v in picked):  # bools count as 0/1
            raise AggregateError(
                f"aggregate {node.label} ({node.describe()}) can only sum numbers, "
                f"got {picked!r} at {where}"
            )
        return sum(picked)
    # max / min: Python's own, so ties go to the first selected key
    try:
        return max(picked) if mode is AggregationMode.MAX else min(picked)
    except TypeError:
        raise AggregateError(
            f"aggregate {node.label} ({node.describe()}) cannot order the values {picked!r} "
            f"selected at {where} to take their {mode.value}"
        ) from None
