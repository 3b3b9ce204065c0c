"""The program IR: an immutable DAG of s-ops and selectors.

Every front end (the Python DSL, the tracr-compatible classes, raspy-style
sugar, the surface language) builds these nodes; every back end (evaluator,
analysis, drawings, compiler) reads them. A node never changes after it is
made: ``named`` and ``annotated`` return a copy with a fresh id. Each class
declares its fields as class annotations (the rules are in ``lang.base``).

>>> from rasplab import tokens, indices, select, aggregate
>>> flip = select(indices, indices, "==")
>>> rev = aggregate(flip, tokens).named("same")
>>> rev.label, rev.encoding.value
('same', 'categorical')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import DefinitionError, RaspTypeError
from .base import Atom, Node, is_atom
from .enums import AggregationMode, Comparison, Encoding
from .operators import SOpOperators

__all__ = [
    "Atom",
    "Predicate",
    "is_atom",
    "Encoding",
    "Comparison",
    "AggregationMode",
    "Node",
    "SOp",
    "Selector",
    "Tokens",
    "Indices",
    "Length",
    "Constant",
    "Map",
    "ZipMap",
    "Aggregate",
    "SelectorWidth",
    "Select",
    "SelectorAnd",
    "SelectorOr",
    "SelectorNot",
]

# A select predicate: a named comparison, or any ``predicate(key, query) -> bool``.
Predicate = Comparison | Callable[[Any, Any], Any]


class SOp(SOpOperators, Node):
    """A sequence operator: input sequence -> one value per position."""

    encoding: Encoding  # every s-op has one (categorical unless marked)

    def __init__(self, *, name: str | None = None, encoding: Encoding | None = None) -> None:
        super().__init__(name=name, encoding=encoding or Encoding.CATEGORICAL)

    __hash__ = Node.__hash__  # the operator mixin defines __eq__, which unsets it

    def __call__(self, xs: Any) -> list[Any]:
        from ..evaluate import evaluate

        return evaluate(self, xs)

    def __bool__(self) -> bool:
        raise RaspTypeError(
            f"the s-op {self.label} has no single truth value; combine s-ops with & | ~ "
            "(not `and`/`or`/`not`), or evaluate it first"
        )

    def map(self, f: Callable[[Any], Any], *, name: str | None = None) -> Map:
        """``sop.map(f)``: apply ``f`` at every position (raspy style)."""
        return Map(f, self, name=name)

    def __repr__(self) -> str:
        return f"<{self.label} = {self.describe()}, {self.encoding.value}>"


class Selector(Node):
    """A selector: input sequence -> boolean matrix ``[query, key]``."""

    def __call__(self, xs: Any) -> list[list[bool]]:
        from ..evaluate import evaluate

        return evaluate(self, xs)

    def __bool__(self) -> bool:
        raise RaspTypeError(
            f"the selector {self.label} has no single truth value; combine selectors with & | ~"
        )

    def __and__(self, other: Selector) -> SelectorAnd:
        return SelectorAnd(self, other)

    def __or__(self, other: Selector) -> SelectorOr:
        return SelectorOr(self, other)

    def __invert__(self) -> SelectorNot:
        return SelectorNot(self)

    def value(self, sop: Any, default: Any = 0, mode: str = "mean") -> Aggregate:
        """``sel.value(sop, default)``: aggregate ``sop`` through this selector (raspy style)."""
        return Aggregate(self, sop, default=default, mode=mode)

    def width(self) -> SelectorWidth:
        """``sel.width()``: how many keys each query selects."""
        return SelectorWidth(self)


# ---------------------------------------------------------------- primitives


class Tokens(SOp):
    """The input sequence."""

    kind = "tokens"

    @property
    def label(self) -> str:
        return self.name or "tokens"


class Indices(SOp):
    """Positions 0..n-1."""

    kind = "indices"

    @property
    def label(self) -> str:
        return self.name or "indices"


class Length(SOp):
    """The input length n at every position (one select-all head in the analysis)."""

    kind = "length"

    @property
    def label(self) -> str:
        return self.name or "length"


class Constant(SOp):
    """The same atom at every position (tracr's ``Full``)."""

    kind = "full"

    value: Atom | None

    def __init__(self, value: Any, **kw: Any) -> None:
        if not (is_atom(value) or value is None):
            raise RaspTypeError(f"a constant s-op holds an atom, got {value!r}")
        super().__init__(**kw)
        self.value = value

    def describe(self) -> str:
        return f"full({self.value!r})"


# ---------------------------------------------------------------- elementwise


_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _fill(template: str, labels: list[str]) -> str:
    """Put child labels into ``{0}``, ``{1}``...; other braces (e.g. a ``'{'`` token) stay."""
    return _PLACEHOLDER.sub(lambda m: labels[int(m.group(1))], template)


def _function_name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _require_sop(value: Any, what: str) -> SOp:
    if isinstance(value, SOp):
        return value
    if isinstance(value, Selector):
        raise RaspTypeError(f"{what} needs an s-op, got the selector {value.label}")
    raise RaspTypeError(f"{what} needs an s-op, got {value!r} ({type(value).__name__})")


def _require_selector(value: Any, what: str) -> Selector:
    if isinstance(value, Selector):
        return value
    shown = value.label if isinstance(value, Node) else repr(value)
    raise RaspTypeError(f"{what} needs a selector (from select), got {shown}")


def _as_sop(value: Any, what: str) -> SOp:
    """S-ops pass through; atoms become constant s-ops (broadcast)."""
    if isinstance(value, SOp):
        return value
    if is_atom(value):
        return Constant(value)
    return _require_sop(value, what)


class Map(SOp):
    """``f`` applied at every position of one s-op (an MLP)."""

    kind = "map"

    f: Callable[[Any], Any]
    inner: SOp
    desc: str | None  # a template such as "{0} + 1" for describe(), if not f's name

    def __init__(
        self, f: Callable[[Any], Any], inner: SOp, *, desc: str | None = None, **kw: Any
    ) -> None:
        if not callable(f):
            raise RaspTypeError(f"map needs a function, got {f!r}")
        inner = _require_sop(inner, "map")
        super().__init__(**kw)
        self.f = f
        self.inner = inner
        self.desc = desc

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.inner,)

    def describe(self) -> str:
        if self.desc:
            return _fill(self.desc, [self.inner.label])
        return f"map({_function_name(self.f)}, {self.inner.label})"


class ZipMap(SOp):
    """``f`` applied to the values of several s-ops at each position (tracr's SequenceMap)."""

    kind = "zipmap"

    f: Callable[..., Any]
    inputs: tuple[SOp, ...]
    desc: str | None  # a template such as "{0} + {1}" for describe(), if not f's name

    def __init__(
        self, f: Callable[..., Any], *inputs: Any, desc: str | None = None, **kw: Any
    ) -> None:
        if not callable(f):
            raise RaspTypeError(f"zipmap needs a function, got {f!r}")
        if not inputs:
            raise DefinitionError("zipmap needs at least one s-op")
        sops = tuple(_as_sop(x, "zipmap") for x in inputs)
        super().__init__(**kw)
        self.f = f
        self.inputs = sops
        self.desc = desc

    @property
    def children(self) -> tuple[Node, ...]:
        return self.inputs

    def describe(self) -> str:
        labels = [x.label for x in self.inputs]
        if self.desc:
            return _fill(self.desc, labels)
        return f"zipmap({_function_name(self.f)}, {', '.join(labels)})"


# ---------------------------------------------------------------- attention


class Select(Selector):
    """``sel[q][k] = predicate(keys[k], queries[q])``. Keys first, as in the paper."""

    kind = "select"

    keys: SOp
    queries: SOp
    predicate: Predicate

    def __init__(self, keys: Any, queries: Any, predicate: Predicate | str, **kw: Any) -> None:
        keys = _as_sop(keys, "select (keys)")
        queries = _as_sop(queries, "select (queries)")
        # A custom callable ``predicate(key, query) -> bool`` is allowed too (tracr allows it).
        if isinstance(predicate, Comparison | str) or not callable(predicate):
            predicate = Comparison.parse(predicate)
        super().__init__(**kw)
        self.keys = keys
        self.queries = queries
        self.predicate = predicate

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.keys, self.queries)

    @property
    def predicate_name(self) -> str:
        pred = self.predicate
        return pred.value if isinstance(pred, Comparison) else _function_name(pred)

    def describe(self) -> str:
        return f"select({self.keys.label}, {self.queries.label}, {self.predicate_name})"


class _SelectorPair(Selector):
    """Two selectors combined cell by cell (one attention pattern, one head)."""

    symbol: ClassVar[str] = "?"

    fst: Selector
    snd: Selector

    def __init__(self, fst: Selector, snd: Selector, **kw: Any) -> None:
        fst = _require_selector(fst, f"selector {self.symbol}")
        snd = _require_selector(snd, f"selector {self.symbol}")
        super().__init__(**kw)
        self.fst = fst
        self.snd = snd

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.fst, self.snd)

    def describe(self) -> str:
        return f"{self.fst.label} {self.symbol} {self.snd.label}"


class SelectorAnd(_SelectorPair):
    kind = "select_and"
    symbol = "&"


class SelectorOr(_SelectorPair):
    kind = "select_or"
    symbol = "|"


class SelectorNot(Selector):
    kind = "select_not"

    inner: Selector

    def __init__(self, inner: Selector, **kw: Any) -> None:
        inner = _require_selector(inner, "selector ~")
        super().__init__(**kw)
        self.inner = inner

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.inner,)

    def describe(self) -> str:
        return f"~{self.inner.label}"


class Aggregate(SOp):
    """Per query: default if nothing selected, else the selected values combined by ``mode``."""

    kind = "aggregate"

    selector: Selector
    sop: SOp
    default: Atom | None
    mode: AggregationMode

    def __init__(
        self,
        selector: Selector,
        sop: Any,
        default: Any = 0,
        mode: AggregationMode | str = "mean",
        **kw: Any,
    ) -> None:
        selector = _require_selector(selector, "aggregate")
        sop = _as_sop(sop, "aggregate (values)")
        if not (default is None or is_atom(default)):
            raise RaspTypeError(f"aggregate default must be an atom or None, got {default!r}")
        super().__init__(**kw)
        self.selector = selector
        self.sop = sop
        self.default = default
        self.mode = AggregationMode.parse(mode)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.selector, self.sop)

    def describe(self) -> str:
        mode = "" if self.mode is AggregationMode.MEAN else f", mode={self.mode.value}"
        return f"aggregate({self.selector.label}, {self.sop.label}, default={self.default!r}{mode})"


class SelectorWidth(SOp):
    """Per query, the number of keys the selector picks (0..n)."""

    kind = "selector_width"

    selector: Selector

    def __init__(self, selector: Selector, **kw: Any) -> None:
        selector = _require_selector(selector, "selector_width")
        super().__init__(**kw)
        self.selector = selector

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.selector,)

    def describe(self) -> str:
        return f"selector_width({self.selector.label})"
