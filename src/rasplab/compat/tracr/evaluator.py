"""``rasp.evaluate`` with tracr's evaluation rules, on rasplab's IR.

rasplab's batched evaluator follows rasplab's language contract. tracr's own
evaluator differs in a few places that a tracr program can observe, and
``rasp.evaluate(expr, xs)`` and ``expr(xs)`` on compat nodes keep tracr's:

* an aggregate that selects several values averages them with Python's
  ``sum(values) / len(values)`` if every one is an int, bool or float (so two
  selected ``True`` give ``1.0`` even in a categorical aggregate), and is an
  error for anything else (several strings, ``None``), even if all are equal;
* a ``Comparison`` refuses ``None`` as key or query (custom predicates get it);
* any sequence is an input, the empty one and mixed token types included.

Node kinds tracr does not have (a rasplab aggregate with ``mode="max"``, say)
are evaluated by rasplab's evaluator. Errors are ``RaspError`` subclasses.

>>> from rasplab.compat import tracr as rasp
>>> same = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)
>>> rasp.evaluate(rasp.Aggregate(same, rasp.tokens == "a"), "aab")
[1.0, 1.0, False]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import AggregateError, EvaluationError, RaspError, RaspTypeError
from ...evaluate import evaluate as rasplab_evaluate
from ...lang.graph import topological_order
from ...lang.nodes import (
    Aggregate,
    AggregationMode,
    Constant,
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
)
from .exprs import ConstantSOp
from .selectors import ConstantSelector, tracr_predicate

__all__ = ["evaluate"]

Values = list[Any]


def evaluate(expr: Node, xs: Any) -> Any:
    """``rasp.evaluate(expr, xs)``: values per position (a ``[query][key]`` matrix for a selector).

    >>> from rasplab.compat import tracr as rasp
    >>> rasp.evaluate(rasp.tokens & rasp.indices, [3, 0, 2])
    [0, 0, 2]
    """
    if not isinstance(expr, Node):
        raise RaspTypeError(
            f"rasp.evaluate(expr, xs): expr must be an s-op or a selector, got {expr!r}"
        )
    if isinstance(xs, str):
        xs = list(xs)
    try:
        tokens = list(xs)
    except TypeError:
        raise RaspTypeError(
            f"rasp.evaluate(expr, xs): xs must be a sequence of tokens, got {xs!r}"
        ) from None
    values: dict[int, Any] = {}
    for node in topological_order(expr):
        values[node.id] = _run(node, values, tokens)
    return values[expr.id]


def _run(node: Node, values: dict[int, Any], xs: Values) -> Any:
    step = None
    for cls in type(node).__mro__:
        step = _STEPS.get(cls)
        if step is not None:
            break
    if step is None or (isinstance(node, Aggregate) and node.mode is not AggregationMode.MEAN):
        return _by_rasplab(node, xs)
    return step(node, values, xs)


def _by_rasplab(node: Node, xs: Values) -> Any:
    """What tracr has no rule for, rasplab's evaluator decides."""
    return rasplab_evaluate(node, xs)


def _call(node: Node, f: Callable[..., Any], args: tuple[Any, ...], pos: str, xs: Values) -> Any:
    """A user function's call; its exception is reported with where it happened."""
    try:
        return f(*args)
    except RaspError:
        raise
    except Exception as err:  # user code: name the node, the values and the position
        shown = ", ".join(repr(a) for a in args)
        raise EvaluationError(
            f"rasp.evaluate: {node.kind} {node.label} ({node.describe()}) failed on "
            f"({shown}) at {pos} of input {xs!r}: {type(err).__name__}: {err}"
        ) from err


def _map(node: Map, values: dict[int, Any], xs: Values) -> Values:
    inner = values[node.inner.id]
    return [
        None if x is None else _call(node, node.f, (x,), f"position {i}", xs)
        for i, x in enumerate(inner)
    ]


def _zipmap(node: ZipMap, values: dict[int, Any], xs: Values) -> Values:
    columns = [values[sop.id] for sop in node.inputs]
    return [
        None if any(a is None for a in args) else _call(node, node.f, args, f"position {i}", xs)
        for i, args in enumerate(zip(*columns, strict=True))
    ]


def _select(node: Select, values: dict[int, Any], xs: Values) -> list[list[bool]]:
    keys, queries = values[node.keys.id], values[node.queries.id]
    pred = tracr_predicate(node.predicate)
    return [
        [bool(_call(node, pred, (k, q), f"query {qi}, key {ki}", xs)) for ki, k in enumerate(keys)]
        for qi, q in enumerate(queries)
    ]


def _aggregate(node: Aggregate, values: dict[int, Any], xs: Values) -> Values:
    matrix, column = values[node.selector.id], values[node.sop.id]
    out = []
    for q, row in enumerate(matrix):
        picked = [v for selected, v in zip(row, column, strict=True) if selected]
        out.append(_mean(node, picked, q, xs))
    return out


def _mean(node: Aggregate, picked: Values, q: int, xs: Values) -> Any:
    """tracr's rule: nothing -> the default; one value -> itself; several numbers -> their mean."""
    if not picked:
        return node.default
    if len(picked) == 1:
        return picked[0]
    if all(isinstance(v, int | bool | float) for v in picked):
        return sum(picked) / len(picked)
    raise AggregateError(
        f"rasp.evaluate: aggregate {node.label} ({node.describe()}) selected {picked!r} at "
        f"query {q} of input {xs!r}; tracr averages only ints, bools and floats, so a "
        "categorical aggregate must select at most one value"
    )


def _constant(node: ConstantSOp | ConstantSelector, values: dict[int, Any], xs: Values) -> Any:
    """tracr hands a constant back as given: unchecked, it may be longer or shorter than ``xs``."""
    given = node.value if isinstance(node, ConstantSOp) else node.matrix
    if node.check_length and len(given) != len(xs):
        raise EvaluationError(
            f"rasp.evaluate: rasp.{type(node).__name__} {node.label} holds {len(given)} "
            f"positions but the input {xs!r} has {len(xs)} (pass check_length=False to allow it)"
        )
    if isinstance(node, ConstantSOp):
        return list(given)
    return [list(row) for row in given]


def _pair(combine: Callable[[bool, bool], bool]) -> Callable[..., list[list[bool]]]:
    def run(node: Any, values: dict[int, Any], xs: Values) -> list[list[bool]]:
        fst, snd = values[node.fst.id], values[node.snd.id]
        return [
            [combine(a, b) for a, b in zip(r, s, strict=True)]
            for r, s in zip(fst, snd, strict=True)
        ]

    return run


_STEPS: dict[type, Callable[[Any, dict[int, Any], Values], Any]] = {
    ConstantSOp: _constant,
    ConstantSelector: _constant,
    Tokens: lambda node, values, xs: list(xs),
    Indices: lambda node, values, xs: list(range(len(xs))),
    Length: lambda node, values, xs: [len(xs)] * len(xs),
    Constant: lambda node, values, xs: [node.value] * len(xs),
    Map: _map,
    ZipMap: _zipmap,
    Select: _select,
    SelectorAnd: _pair(lambda a, b: bool(a and b)),
    SelectorOr: _pair(lambda a, b: bool(a or b)),
    SelectorNot: lambda node, values, xs: [[not v for v in row] for row in values[node.inner.id]],
    SelectorWidth: lambda node, values, xs: [sum(row) for row in values[node.selector.id]],
    Aggregate: _aggregate,
}
