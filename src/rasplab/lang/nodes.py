"""The program IR: an immutable DAG of s-ops and selectors.

Every front end (the Python DSL, the tracr-compatible classes, raspy-style
sugar, the surface language) builds these nodes; every back end (evaluator,
analysis, drawings, compiler) reads them. A node never changes after it is
made: ``named`` and ``annotated`` return a copy with a fresh id.

>>> from rasplab import tokens, indices, select, aggregate
>>> flip = select(indices, indices, "==")
>>> rev = aggregate(flip, tokens).named("same")
>>> rev.label, rev.encoding.value
('same', 'categorical')
"""

from __future__ import annotations

import copy
import enum
import itertools
import re
from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import DefinitionError, RaspTypeError

__all__ = [
    "Atom",
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

Atom = int | float | str | bool
_ids = itertools.count(1)


def is_atom(value: Any) -> bool:
    """True for the values an s-op may hold at a position: int, float, str, bool."""
    return isinstance(value, int | float | str | bool)


class Encoding(enum.Enum):
    """How a compiled model stores an s-op: one-hot per value, or one scalar."""

    CATEGORICAL = "categorical"
    NUMERICAL = "numerical"


class Comparison(enum.Enum):
    """A select predicate, applied as ``predicate(key, query)``."""

    EQ = "=="
    NEQ = "!="
    LT = "<"
    LEQ = "<="
    GT = ">"
    GEQ = ">="
    TRUE = "true"
    FALSE = "false"

    @classmethod
    def parse(cls, predicate: Comparison | str) -> Comparison:
        """Accept a member, its symbol (``"<="``) or its name (``"LEQ"``).

        >>> Comparison.parse("<"), Comparison.parse("TRUE")
        (<Comparison.LT: '<'>, <Comparison.TRUE: 'true'>)
        """
        if isinstance(predicate, Comparison):
            return predicate
        if isinstance(predicate, str):
            text = predicate.strip()
            found = _PREDICATE_ALIASES.get(text) or _PREDICATE_ALIASES.get(text.upper())
            if found is not None:
                return found
        known = ", ".join(repr(c.value) for c in cls)
        raise DefinitionError(f"unknown select predicate {predicate!r}; use one of {known}")

    def __call__(self, key: Any, query: Any) -> bool:
        return bool(_PREDICATE_FUNCTIONS[self](key, query))


_PREDICATE_FUNCTIONS: dict[Comparison, Callable[[Any, Any], Any]] = {
    Comparison.EQ: lambda k, q: k == q,
    Comparison.NEQ: lambda k, q: k != q,
    Comparison.LT: lambda k, q: k < q,
    Comparison.LEQ: lambda k, q: k <= q,
    Comparison.GT: lambda k, q: k > q,
    Comparison.GEQ: lambda k, q: k >= q,
    Comparison.TRUE: lambda k, q: True,
    Comparison.FALSE: lambda k, q: False,
}
_PREDICATE_ALIASES: dict[str, Comparison] = {c.value: c for c in Comparison}
_PREDICATE_ALIASES.update({c.name: c for c in Comparison})
_PREDICATE_ALIASES.update({"TRUE": Comparison.TRUE, "FALSE": Comparison.FALSE, "=": Comparison.EQ})


class AggregationMode(enum.Enum):
    """How an aggregate combines the values its selector picks in one row."""

    MEAN = "mean"  # the paper's semantics (default)
    SUM = "sum"  # raspy's
    MAX = "max"
    MIN = "min"

    @classmethod
    def parse(cls, mode: AggregationMode | str) -> AggregationMode:
        if isinstance(mode, AggregationMode):
            return mode
        try:
            return cls(str(mode).lower())
        except ValueError:
            known = ", ".join(repr(m.value) for m in cls)
            raise DefinitionError(
                f"unknown aggregation mode {mode!r}; use one of {known}"
            ) from None


class Node:
    """A vertex of the program DAG. Immutable once constructed."""

    kind: ClassVar[str] = "node"

    def __init__(self, *, name: str | None = None, encoding: Encoding | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise DefinitionError(f"a node name must be a non-empty string, got {name!r}")
        self._init(id=next(_ids), name=name, encoding=encoding)

    def _init(self, **fields: Any) -> None:
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} nodes are immutable; use .named() or a DSL call"
        )

    __hash__ = object.__hash__  # identity: operators like == build nodes instead

    @property
    def children(self) -> tuple[Node, ...]:
        return ()

    @property
    def label(self) -> str:
        """The user's name if given, else ``kind_id`` (unique in this process)."""
        return self.name if self.name is not None else f"{self.kind}_{self.id}"

    def named(self, name: str) -> Node:
        """A copy of this node carrying a user-facing name."""
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"a node name must be a non-empty string, got {name!r}")
        return self._copy(name=name)

    def annotated(self, *, encoding: Encoding | str) -> Node:
        return self._copy(encoding=Encoding(encoding))

    def _copy(self, **changes: Any) -> Node:
        clone = copy.copy(self)
        clone._init(id=next(_ids), **changes)
        return clone

    def describe(self) -> str:
        """The operation, with children by label (one line, no name)."""
        return self.kind

    def _repr_html_(self) -> str:
        from ..viz.jupyter import node_html

        return node_html(self)

    def __repr__(self) -> str:
        extra = f", {self.encoding.value}" if isinstance(self, SOp) else ""
        return f"<{self.label} = {self.describe()}{extra}>"


class SOp(Node):
    """A sequence operator: input sequence -> one value per position."""

    def __init__(self, *, name: str | None = None, encoding: Encoding | None = None) -> None:
        super().__init__(name=name, encoding=encoding or Encoding.CATEGORICAL)

    __hash__ = Node.__hash__  # defining __eq__ below would otherwise unset it

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

    # Arithmetic, comparisons and logic build maps (atom operand) or zipmaps.
    def __add__(self, other: Any) -> SOp:
        return _binary(self, other, "+")

    def __radd__(self, other: Any) -> SOp:
        return _binary(other, self, "+")

    def __sub__(self, other: Any) -> SOp:
        return _binary(self, other, "-")

    def __rsub__(self, other: Any) -> SOp:
        return _binary(other, self, "-")

    def __mul__(self, other: Any) -> SOp:
        return _binary(self, other, "*")

    def __rmul__(self, other: Any) -> SOp:
        return _binary(other, self, "*")

    def __truediv__(self, other: Any) -> SOp:
        return _binary(self, other, "/")

    def __rtruediv__(self, other: Any) -> SOp:
        return _binary(other, self, "/")

    def __floordiv__(self, other: Any) -> SOp:
        return _binary(self, other, "//")

    def __rfloordiv__(self, other: Any) -> SOp:
        return _binary(other, self, "//")

    def __mod__(self, other: Any) -> SOp:
        return _binary(self, other, "%")

    def __rmod__(self, other: Any) -> SOp:
        return _binary(other, self, "%")

    def __pow__(self, other: Any) -> SOp:
        return _binary(self, other, "**")

    def __rpow__(self, other: Any) -> SOp:
        return _binary(other, self, "**")

    def __eq__(self, other: Any) -> SOp:  # type: ignore[override]
        return _binary(self, other, "==")

    def __ne__(self, other: Any) -> SOp:  # type: ignore[override]
        return _binary(self, other, "!=")

    def __lt__(self, other: Any) -> SOp:
        return _binary(self, other, "<")

    def __le__(self, other: Any) -> SOp:
        return _binary(self, other, "<=")

    def __gt__(self, other: Any) -> SOp:
        return _binary(self, other, ">")

    def __ge__(self, other: Any) -> SOp:
        return _binary(self, other, ">=")

    def __and__(self, other: Any) -> SOp:
        return _binary(self, other, "&")

    def __rand__(self, other: Any) -> SOp:
        return _binary(other, self, "&")

    def __or__(self, other: Any) -> SOp:
        return _binary(self, other, "|")

    def __ror__(self, other: Any) -> SOp:
        return _binary(other, self, "|")

    def __invert__(self) -> SOp:
        return _unary(self, "~")

    def __neg__(self) -> SOp:
        return _unary(self, "-")

    def __pos__(self) -> SOp:
        return _unary(self, "+")

    def __abs__(self) -> SOp:
        return _unary(self, "abs")


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

    def __init__(self, value: Any, **kw: Any) -> None:
        if not (is_atom(value) or value is None):
            raise RaspTypeError(f"a constant s-op holds an atom, got {value!r}")
        super().__init__(**kw)
        self._init(value=value)

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

    def __init__(self, f: Callable[[Any], Any], inner: SOp, *, desc: str | None = None, **kw):
        if not callable(f):
            raise RaspTypeError(f"map needs a function, got {f!r}")
        inner = _require_sop(inner, "map")
        super().__init__(**kw)
        self._init(f=f, inner=inner, desc=desc)

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

    def __init__(self, f: Callable[..., Any], *inputs: SOp, desc: str | None = None, **kw):
        if not callable(f):
            raise RaspTypeError(f"zipmap needs a function, got {f!r}")
        if not inputs:
            raise DefinitionError("zipmap needs at least one s-op")
        inputs = tuple(_as_sop(x, "zipmap") for x in inputs)
        super().__init__(**kw)
        self._init(f=f, inputs=inputs, desc=desc)

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

    def __init__(self, keys: Any, queries: Any, predicate: Comparison | str, **kw):
        keys = _as_sop(keys, "select (keys)")
        queries = _as_sop(queries, "select (queries)")
        # A custom callable ``predicate(key, query) -> bool`` is allowed too (tracr allows it).
        custom = callable(predicate) and not isinstance(predicate, Comparison | str)
        predicate = predicate if custom else Comparison.parse(predicate)
        super().__init__(**kw)
        self._init(keys=keys, queries=queries, predicate=predicate)

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

    def __init__(self, fst: Selector, snd: Selector, **kw):
        fst = _require_selector(fst, f"selector {self.symbol}")
        snd = _require_selector(snd, f"selector {self.symbol}")
        super().__init__(**kw)
        self._init(fst=fst, snd=snd)

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

    def __init__(self, inner: Selector, **kw):
        inner = _require_selector(inner, "selector ~")
        super().__init__(**kw)
        self._init(inner=inner)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.inner,)

    def describe(self) -> str:
        return f"~{self.inner.label}"


class Aggregate(SOp):
    """Per query: default if nothing selected, else the selected values combined by ``mode``."""

    kind = "aggregate"

    def __init__(self, selector: Selector, sop: Any, default: Any = 0, mode: Any = "mean", **kw):
        selector = _require_selector(selector, "aggregate")
        sop = _as_sop(sop, "aggregate (values)")
        if not (default is None or is_atom(default)):
            raise RaspTypeError(f"aggregate default must be an atom or None, got {default!r}")
        mode = AggregationMode.parse(mode)
        super().__init__(**kw)
        self._init(selector=selector, sop=sop, default=default, mode=mode)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.selector, self.sop)

    def describe(self) -> str:
        mode = "" if self.mode is AggregationMode.MEAN else f", mode={self.mode.value}"
        return f"aggregate({self.selector.label}, {self.sop.label}, default={self.default!r}{mode})"


class SelectorWidth(SOp):
    """Per query, the number of keys the selector picks (0..n)."""

    kind = "selector_width"

    def __init__(self, selector: Selector, **kw):
        selector = _require_selector(selector, "selector_width")
        super().__init__(**kw)
        self._init(selector=selector)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.selector,)

    def describe(self) -> str:
        return f"selector_width({self.selector.label})"


# ---------------------------------------------------------------- operators

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "**": lambda a, b: a**b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "&": lambda a, b: bool(a) and bool(b),
    "|": lambda a, b: bool(a) or bool(b),
}
_UNARY: dict[str, Callable[[Any], Any]] = {
    "~": lambda a: not a,
    "-": lambda a: -a,
    "+": lambda a: +a,
    "abs": abs,
}


def _binary(left: Any, right: Any, op: str) -> SOp:
    fn = _BINARY[op]
    if isinstance(left, SOp) and isinstance(right, SOp):
        return ZipMap(fn, left, right, desc=f"{{0}} {op} {{1}}")
    if isinstance(left, SOp) and is_atom(right):
        return Map(lambda x: fn(x, right), left, desc=f"{{0}} {op} {right!r}")
    if isinstance(right, SOp) and is_atom(left):
        return Map(lambda x: fn(left, x), right, desc=f"{left!r} {op} {{0}}")
    odd = right if isinstance(left, SOp) else left
    raise RaspTypeError(
        f"operator {op!r} needs s-ops or atoms (int, float, str, bool), got {odd!r} "
        f"({type(odd).__name__})"
    )


def _unary(sop: SOp, op: str) -> SOp:
    fmt = "abs({0})" if op == "abs" else op + "{0}"
    return Map(_UNARY[op], sop, desc=fmt)
