"""tracr's s-op classes as rasplab IR nodes.

Each class is an ordinary rasplab node (the evaluator, the analysis and the
compiler read it as such) carrying tracr's operators and tracr's rules: a
map's function is wrapped so that ``None`` passes through untouched, as
tracr's evaluator does, and a map of a map is one map (``simplify``).

>>> from rasplab.compat import tracr as rasp
>>> shifted = rasp.Aggregate(rasp.Select(rasp.indices, rasp.indices - 1, rasp.Comparison.EQ),
...                          rasp.tokens)
>>> rasp.Map(lambda t: t.upper(), shifted)("abc")
[None, 'A', 'B']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...errors import RaspTypeError
from ...lang import nodes
from ...lang.nodes import Node, Selector, SOp
from .operators import TracrExpr, TracrSOpOperators

__all__ = [
    "TokensType",
    "IndicesType",
    "LengthType",
    "tokens",
    "indices",
    "length",
    "Map",
    "SequenceMap",
    "LinearSequenceMap",
    "Full",
    "ConstantSOp",
    "Aggregate",
    "SelectorWidth",
    "require_sop",
    "require_selector",
]

_ATOM_TYPES = (str, float, bool, int)


def _shown(value: Any) -> str:
    return value.label if isinstance(value, Node) else f"{value!r} ({type(value).__name__})"


def require_sop(value: Any, call: str, what: str) -> SOp:
    if not isinstance(value, SOp):
        raise RaspTypeError(f"{call}: {what} must be an s-op (rasp.SOp), got {_shown(value)}")
    return value


def require_selector(value: Any, call: str, what: str) -> Selector:
    if not isinstance(value, Selector):
        raise RaspTypeError(
            f"{call}: {what} must be a selector (rasp.Select...), got {_shown(value)}"
        )
    return value


def _require_function(f: Any, call: str) -> Callable[..., Any]:
    if not callable(f) or isinstance(f, Node):
        raise RaspTypeError(f"{call}: f must be a function, got {_shown(f)}")
    return f


def _passing_none(f: Callable[..., Any]) -> Callable[..., Any]:
    """tracr's maps give ``None`` wherever an argument is ``None`` (an empty aggregate)."""

    def apply(*args: Any) -> Any:
        return None if any(a is None for a in args) else f(*args)

    apply.__name__ = getattr(f, "__name__", "f")
    # on numbers it is f: the compiler's arithmetic.arithmetic_op reads this
    apply.numbers_as = f  # type: ignore[attr-defined]
    return apply


class TracrSOp(TracrSOpOperators, TracrExpr):
    """The mixins every compat s-op class starts with (tracr's ``SOp``)."""

    __slots__ = ()


class TokensType(TracrSOp, nodes.Tokens):
    """``rasp.tokens``: the input."""


class IndicesType(TracrSOp, nodes.Indices):
    """``rasp.indices``: positions 0..n-1."""


class LengthType(TracrSOp, nodes.Length):
    """``rasp.length``: the input length at every position."""


tokens = TokensType()
indices = IndicesType()
length = LengthType()


class Map(TracrSOp, nodes.Map):
    """``Map(f, inner, simplify=True)``; with ``simplify`` a map of a map becomes one map."""

    raw_f: Callable[[Any], Any]  # f as the user gave it (composed if simplified)

    def __init__(self, f: Callable[[Any], Any], inner: SOp, simplify: bool = True) -> None:
        f = _require_function(f, "rasp.Map(f, inner)")
        inner = require_sop(inner, "rasp.Map(f, inner)", "inner")
        if simplify and isinstance(inner, Map):
            # As tracr does: None passes through the combined function only, not in between.
            outer_f, inner_f = f, inner.raw_f
            f = lambda x: outer_f(inner_f(x))  # noqa: E731
            inner = inner.inner
        super().__init__(_passing_none(f), inner)
        self.raw_f = f


class SequenceMap(TracrSOp, nodes.ZipMap):
    """``SequenceMap(f, fst, snd)``: ``f(x, y)`` at each position, ``None`` if either is."""

    raw_f: Callable[[Any, Any], Any]

    def __init__(self, f: Callable[[Any, Any], Any], fst: SOp, snd: SOp) -> None:
        call = f"rasp.{type(self).__name__}"
        f = _require_function(f, call)
        fst = require_sop(fst, call, "fst")
        snd = require_sop(snd, call, "snd")
        super().__init__(_passing_none(f), fst, snd)
        self.raw_f = f

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


class Full(TracrSOp, nodes.Constant):
    """``Full(fill)``: ``fill`` at every position."""

    def __init__(self, fill: Any) -> None:
        if not (fill is None or isinstance(fill, _ATOM_TYPES)):
            raise RaspTypeError(
                "rasp.Full(fill): fill must be an int, float, str, bool or None, "
                f"got {_shown(fill)}"
            )
        super().__init__(fill)

    @property
    def fill(self) -> Any:
        return self.value


class ConstantSOp(TracrSOp, nodes.ZipMap):
    """``ConstantSOp(value, check_length=True)``: the given values, position by position."""

    value: tuple[Any, ...]
    check_length: bool

    def __init__(self, value: Sequence[Any], check_length: bool = True) -> None:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise RaspTypeError(
                f"rasp.ConstantSOp(value): value must be a list of values, got {_shown(value)}"
            )
        values = tuple(value)

        def at(i: int, n: int) -> Any:
            if check_length and n != len(values):
                raise ValueError(f"Constant len {len(values)} doesn't match input len {n}.")
            return values[i]

        super().__init__(at, indices, length)
        self.value = values
        self.check_length = check_length


class Aggregate(TracrSOp, nodes.Aggregate):
    """``Aggregate(selector, sop, default=None)``: tracr's mean (one value: itself)."""

    def __init__(self, selector: Selector, sop: SOp, default: Any = None) -> None:
        call = "rasp.Aggregate(selector, sop, default)"
        selector = require_selector(selector, call, "selector")
        sop = require_sop(sop, call, "sop")
        if not (default is None or isinstance(default, _ATOM_TYPES)):
            raise RaspTypeError(
                f"{call}: default must be None, a str, float, bool or int, got {_shown(default)}"
            )
        super().__init__(selector, sop, default=default)


class SelectorWidth(TracrSOp, nodes.SelectorWidth):
    """``SelectorWidth(selector)``: how many keys each query selects."""

    def __init__(self, selector: Selector) -> None:
        super().__init__(require_selector(selector, "rasp.SelectorWidth(selector)", "selector"))
