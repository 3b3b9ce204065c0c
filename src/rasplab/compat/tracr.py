"""tracr's ``rasp`` API on rasplab's IR: change one import line and run.

A program written as ``from tracr.rasp import rasp`` runs unchanged with
``from rasplab.compat import tracr as rasp``: the classes below build
ordinary rasplab nodes, so the evaluator, analysis and every back end accept
them. tracr's conventions are kept where they differ from the paper's:
``Aggregate`` defaults to ``None``, and maps pass ``None`` through.

>>> from rasplab.compat import tracr as rasp
>>> opp = rasp.SequenceMap(lambda n, i: n - i - 1, rasp.length, rasp.indices)
>>> flip = rasp.Select(rasp.indices, opp, rasp.Comparison.EQ)
>>> rasp.Aggregate(flip, rasp.tokens).named("reverse")("abc")
['c', 'b', 'a']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..evaluate import evaluate as _evaluate
from ..lang import nodes
from ..lang.dsl import categorical, indices, length, numerical, tokens
from ..lang.nodes import (
    Comparison,
    Encoding,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    SOp,
)

__all__ = [
    "tokens",
    "indices",
    "length",
    "Map",
    "SequenceMap",
    "LinearSequenceMap",
    "Full",
    "Select",
    "Aggregate",
    "SelectorWidth",
    "SelectorAnd",
    "SelectorOr",
    "SelectorNot",
    "Comparison",
    "Encoding",
    "numerical",
    "categorical",
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
    "selector_and",
    "selector_or",
    "selector_not",
]

RASPExpr = Node
# tracr's type aliases, for annotations in user code.
Value = Any
NumericValue = int | float
SelectorValue = list[list[bool]]
Predicate = Comparison


def _none_safe(f: Callable[..., Any]) -> Callable[..., Any]:
    """tracr's maps leave ``None`` (an aggregate's empty default) untouched."""

    def apply(*args: Any) -> Any:
        return None if any(a is None for a in args) else f(*args)

    apply.__name__ = getattr(f, "__name__", "f")
    return apply


class Map(nodes.Map):
    """``Map(f, inner)``; with ``simplify`` a map of a map becomes one map."""

    raw_f: Callable[[Any], Any]  # f without the None pass-through, for simplify

    def __init__(self, f: Callable[[Any], Any], inner: SOp, simplify: bool = True) -> None:
        if simplify and isinstance(inner, Map):
            outer_f, inner_f = f, inner.raw_f
            f = lambda x: outer_f(inner_f(x))  # noqa: E731
            inner = inner.inner
        super().__init__(_none_safe(f), inner)
        self.raw_f = f


class SequenceMap(nodes.ZipMap):
    """``SequenceMap(f, fst, snd)``: a two-input elementwise function."""

    def __init__(self, f: Callable[[Any, Any], Any], fst: SOp, snd: SOp) -> None:
        super().__init__(_none_safe(f), fst, snd)

    @property
    def fst(self) -> SOp:
        return self.inputs[0]

    @property
    def snd(self) -> SOp:
        return self.inputs[1]


class LinearSequenceMap(SequenceMap):
    """``fst_fac * fst + snd_fac * snd``."""

    fst_fac: float
    snd_fac: float

    def __init__(self, fst: SOp, snd: SOp, fst_fac: float, snd_fac: float) -> None:
        super().__init__(lambda x, y: fst_fac * x + snd_fac * y, fst, snd)
        self.fst_fac = fst_fac
        self.snd_fac = snd_fac


class Full(nodes.Constant):
    """``Full(fill)``: ``fill`` at every position."""

    def __init__(self, fill: Any) -> None:
        super().__init__(fill)

    @property
    def fill(self) -> Any:
        return self.value


class Aggregate(nodes.Aggregate):
    """``Aggregate(selector, sop, default=None)`` (tracr's default is ``None``)."""

    def __init__(self, selector: Selector, sop: SOp, default: Any = None) -> None:
        super().__init__(selector, sop, default=default)


def selector_and(fst: Selector, snd: Selector) -> SelectorAnd:
    return SelectorAnd(fst, snd)


def selector_or(fst: Selector, snd: Selector) -> SelectorOr:
    return SelectorOr(fst, snd)


def selector_not(inner: Selector) -> SelectorNot:
    return SelectorNot(inner)


def get_encoding(sop: SOp) -> Encoding:
    return sop.encoding


def is_numerical(sop: SOp) -> bool:
    return sop.encoding is Encoding.NUMERICAL


def is_categorical(sop: SOp) -> bool:
    return sop.encoding is Encoding.CATEGORICAL


def evaluate(expr: Node, xs: Any) -> Any:
    """``rasp.evaluate(expr, xs)``, as tracr spells it."""
    return _evaluate(expr, xs)


# tracr exposes these under the same names.
Select = Select
SelectorWidth = SelectorWidth
