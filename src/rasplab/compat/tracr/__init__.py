"""tracr's ``rasp`` API on rasplab's IR: change one import line and run.

A program written as ``from tracr.rasp import rasp`` runs unchanged with
``from rasplab.compat import tracr as rasp``. The classes build ordinary
rasplab nodes, so the evaluator, the analysis and the compiler accept them,
and they keep tracr's semantics value for value and type for type: operators
build the maps tracr builds (``x and y``, ``x or y``), maps pass ``None``
through, ``Aggregate`` defaults to ``None``, and ``rasp.evaluate`` (or
calling a node) follows tracr's evaluator (see ``evaluator``).

>>> from rasplab.compat import tracr as rasp
>>> opp = rasp.SequenceMap(lambda n, i: n - i - 1, rasp.length, rasp.indices)
>>> flip = rasp.Select(rasp.indices, opp, rasp.Comparison.EQ)
>>> rasp.Aggregate(flip, rasp.tokens).named("reverse")("abc")
['c', 'b', 'a']
>>> ab = rasp.Aggregate(rasp.Select(rasp.indices, rasp.indices - 1, rasp.Comparison.EQ),
...                     rasp.tokens == "a") & (rasp.tokens == "b")
>>> ab("bab")
[None, False, True]
"""

from __future__ import annotations

from typing import Any, TypeVar

from ...errors import RaspTypeError
from ...lang.nodes import Comparison, Encoding, Node, Selector, SOp
from .evaluator import evaluate
from .exprs import (
    Aggregate,
    ConstantSOp,
    Full,
    IndicesType,
    LengthType,
    LinearSequenceMap,
    Map,
    SelectorWidth,
    SequenceMap,
    TokensType,
    indices,
    length,
    tokens,
)
from .selectors import (
    ConstantSelector,
    Select,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    selector_and,
    selector_not,
    selector_or,
)

__all__ = [
    "tokens",
    "indices",
    "length",
    "TokensType",
    "IndicesType",
    "LengthType",
    "Map",
    "SequenceMap",
    "LinearSequenceMap",
    "Full",
    "ConstantSOp",
    "sop_not",
    "Select",
    "ConstantSelector",
    "Aggregate",
    "SelectorWidth",
    "SelectorAnd",
    "SelectorOr",
    "SelectorNot",
    "selector_and",
    "selector_or",
    "selector_not",
    "Comparison",
    "Encoding",
    "numerical",
    "categorical",
    "annotate",
    "is_numerical",
    "is_categorical",
    "get_encoding",
    "evaluate",
    "SOp",
    "Selector",
    "RASPExpr",
    "Value",
    "NumericValue",
    "SelectorValue",
    "Predicate",
]

RASPExpr = Node
# tracr's type aliases, for annotations in user code.
Value = Any
NumericValue = int | float
SelectorValue = list[list[bool]]
Predicate = Comparison

ExprT = TypeVar("ExprT", bound=Node)


def _sop(sop: Any, call: str) -> SOp:
    if not isinstance(sop, SOp):
        shown = sop.label if isinstance(sop, Node) else f"{sop!r} ({type(sop).__name__})"
        raise RaspTypeError(f"{call}: sop must be an s-op (rasp.SOp), got {shown}")
    return sop


def annotate(expr: ExprT, **annotations: Any) -> ExprT:
    """A copy of ``expr`` with ``name`` and/or ``encoding`` set (tracr's ``annotate``)."""
    if not isinstance(expr, Node):
        raise RaspTypeError(
            f"rasp.annotate(expr, ...): expr must be a RASP expression, got {expr!r}"
        )
    if hasattr(expr, "annotations"):  # a compat node: it knows tracr's annotation names
        return expr.annotated(**annotations)
    if "name" in annotations:
        expr = expr.named(annotations.pop("name"))
    return expr.annotated(**annotations) if annotations else expr


def numerical(sop: ExprT) -> ExprT:
    """``sop`` marked numerically encoded (one scalar when compiled)."""
    return annotate(_sop(sop, "rasp.numerical(sop)"), encoding=Encoding.NUMERICAL)  # type: ignore[return-value]


def categorical(sop: ExprT) -> ExprT:
    """``sop`` marked categorically encoded (one-hot per value when compiled)."""
    return annotate(_sop(sop, "rasp.categorical(sop)"), encoding=Encoding.CATEGORICAL)  # type: ignore[return-value]


def get_encoding(sop: SOp) -> Encoding:
    encoding = _sop(sop, "rasp.get_encoding(sop)").encoding
    return encoding if encoding is not None else Encoding.CATEGORICAL


def is_numerical(sop: SOp) -> bool:
    return _sop(sop, "rasp.is_numerical(sop)").encoding is Encoding.NUMERICAL


def is_categorical(sop: SOp) -> bool:
    return _sop(sop, "rasp.is_categorical(sop)").encoding is Encoding.CATEGORICAL


def sop_not(sop: SOp) -> Map:
    """``Map(lambda t: not t, sop)``."""
    return Map(lambda t: not t, _sop(sop, "rasp.sop_not(sop)"))
