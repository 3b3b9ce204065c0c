"""tracr's operators on s-ops and selectors, and what every compat node shares.

tracr builds each operator as a ``Map`` or ``SequenceMap`` around one plain
lambda (``x and y``, not ``bool(x) and bool(y)``), so ``&`` on numbers gives
numbers and maps pass ``None`` through. The mixins here build exactly those
nodes; ``exprs`` supplies the node classes.

>>> from rasplab.compat import tracr as rasp
>>> (rasp.tokens & rasp.indices)([3, 0, 2])
[0, 0, 2]
>>> (rasp.tokens | 5)([3, 0, 2])
[3, 5, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Self

from ...errors import DefinitionError, RaspTypeError
from ...lang.nodes import Encoding, Node, Selector
from ...lang.operators import _BINARY

if TYPE_CHECKING:
    from .exprs import Map, SequenceMap

__all__ = ["TracrExpr", "TracrSOpOperators", "TracrSelectorOperators"]


class TracrExpr:
    """What tracr's ``RASPExpr`` offers beyond rasplab's ``Node``: calls, copies, annotations."""

    __slots__ = ()

    def __call__(self, xs: Any) -> Any:
        from .evaluator import evaluate

        return evaluate(self, xs)  # type: ignore[arg-type]  # the mixin is only part of a Node

    @property
    def unique_id(self) -> int:
        return self.id  # type: ignore[attr-defined]

    def copy(self) -> Self:
        """A shallow copy with a fresh id (tracr's ``RASPExpr.copy``)."""
        return self._copy()  # type: ignore[attr-defined]

    @property
    def annotations(self) -> Mapping[str, Any]:
        """tracr's two annotations: ``name`` (the label) and ``encoding`` (s-ops only)."""
        node: Any = self
        found = {"name": node.label}
        if node.encoding is not None:
            found["encoding"] = node.encoding
        return found

    def annotated(self, **annotations: Any) -> Self:
        """``expr.annotated(name=..., encoding=...)``, as tracr's ``annotate`` does."""
        unknown = set(annotations) - {"name", "encoding"}
        if unknown:
            raise DefinitionError(
                f"rasp.annotate: got the annotations {sorted(unknown)!r}; rasplab keeps only "
                "'name' and 'encoding'"
            )
        changes: dict[str, Any] = {}
        if "name" in annotations:
            changes["name"] = _require_name(annotations["name"])
        if "encoding" in annotations:
            changes["encoding"] = _require_encoding(self, annotations["encoding"])
        return self._copy(**changes)  # type: ignore[attr-defined]


def _require_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise DefinitionError(f"rasp.annotate: a name is a non-empty string, got {name!r}")
    return name


def _require_encoding(expr: Any, encoding: Any) -> Encoding:
    if not isinstance(encoding, Encoding):
        raise RaspTypeError(
            f"rasp.annotate: encoding must be rasp.Encoding.CATEGORICAL or .NUMERICAL, "
            f"got {encoding!r}"
        )
    if isinstance(expr, Selector):
        raise RaspTypeError(f"rasp.annotate: the selector {expr.label} has no encoding")
    return encoding


def _value(other: Any, op: str) -> Any:
    """tracr compares and combines an s-op with a plain value; a selector is a mistake."""
    if isinstance(other, Selector):
        raise RaspTypeError(
            f"rasp: `sop {op} other` needs an s-op or a value, got the selector {other.label}"
        )
    return other


def _compared(other: Any, op: str) -> Any:
    """tracr's comparisons take one value; with an s-op they would compare with the node itself."""
    if isinstance(other, Node):
        raise RaspTypeError(
            f"rasp: `sop {op} other` compares every value with one value (tracr builds "
            f"Map(lambda x: x {op} other, sop)), got {other.label}; to compare two s-ops write "
            f"rasp.SequenceMap(lambda x, y: x {op} y, a, b)"
        )
    return other


class TracrSOpOperators:
    """tracr's ``SOp`` operators, lambda for lambda (see tracr's ``rasp.py``). ``+ - *``
    of two s-ops are the language's own (``x - y`` as tracr's lambda has it), so the
    compiler computes them on whole arrays where the values are numbers."""

    __slots__ = ()

    def _map(self, f: Callable[[Any], Any]) -> Map:
        from .exprs import Map

        return Map(f, self)  # type: ignore[arg-type]  # the mixin is only part of an SOp

    def _pair(self, f: Callable[[Any, Any], Any], fst: Any, snd: Any) -> SequenceMap:
        from .exprs import SequenceMap

        return SequenceMap(f, fst, snd)

    def __lt__(self, other: Any) -> Map:
        other = _compared(other, "<")
        return self._map(lambda x: x < other)

    def __le__(self, other: Any) -> Map:
        other = _compared(other, "<=")
        return self._map(lambda x: x <= other)

    def __eq__(self, other: Any) -> Map:  # type: ignore[override]
        other = _compared(other, "==")
        return self._map(lambda x: x == other)

    def __ne__(self, other: Any) -> Map:  # type: ignore[override]
        other = _compared(other, "!=")
        return self._map(lambda x: x != other)

    def __gt__(self, other: Any) -> Map:
        other = _compared(other, ">")
        return self._map(lambda x: x > other)

    def __ge__(self, other: Any) -> Map:
        other = _compared(other, ">=")
        return self._map(lambda x: x >= other)

    __hash__ = Node.__hash__  # defining __eq__ above would unset it

    def __add__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "+"), Node):
            return self._pair(_BINARY["+"], self, other)
        return self._map(lambda x: x + other)

    def __radd__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "+"), Node):
            return self._pair(_BINARY["+"], other, self)
        return self._map(lambda x: other + x)

    def __sub__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "-"), Node):
            return self._pair(_BINARY["-"], self, other)
        return self._map(lambda x: x - other)

    def __rsub__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "-"), Node):
            return self._pair(_BINARY["-"], other, self)
        return self._map(lambda x: other - x)

    def __mul__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "*"), Node):
            return self._pair(_BINARY["*"], self, other)
        return self._map(lambda x: x * other)

    def __rmul__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "*"), Node):
            return self._pair(_BINARY["*"], other, self)
        return self._map(lambda x: other * x)

    def __truediv__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "/"), Node):
            return self._pair(lambda x, y: x / y, self, other)
        return self._map(lambda x: x / other)

    def __rtruediv__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "/"), Node):
            return self._pair(lambda x, y: x / y, other, self)
        return self._map(lambda x: other / x)

    def __invert__(self) -> Map:
        return self._map(lambda x: not x)

    def __and__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "&"), Node):
            return self._pair(lambda x, y: x and y, self, other)
        return self._map(lambda x: x and other)

    def __or__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "|"), Node):
            return self._pair(lambda x, y: x or y, self, other)
        return self._map(lambda x: x or other)

    def __rand__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "&"), Node):
            return self._pair(lambda x, y: x and y, other, self)
        return self._map(lambda x: other and x)

    def __ror__(self, other: Any) -> Map | SequenceMap:
        if isinstance(_value(other, "|"), Node):
            return self._pair(lambda x, y: x or y, other, self)
        # tracr writes ``x or other`` here (not ``other or x``): kept, values included.
        return self._map(lambda x: x or other)

    # rasplab's s-ops have these too; tracr's do not, so a tracr program never means them.
    def __floordiv__(self, other: Any) -> NoReturn:
        _no_operator("//")

    def __rfloordiv__(self, other: Any) -> NoReturn:
        _no_operator("//")

    def __mod__(self, other: Any) -> NoReturn:
        _no_operator("%")

    def __rmod__(self, other: Any) -> NoReturn:
        _no_operator("%")

    def __pow__(self, other: Any) -> NoReturn:
        _no_operator("**")

    def __rpow__(self, other: Any) -> NoReturn:
        _no_operator("**")

    def __neg__(self) -> NoReturn:
        _no_operator("-x")

    def __pos__(self) -> NoReturn:
        _no_operator("+x")

    def __abs__(self) -> NoReturn:
        _no_operator("abs")


def _no_operator(op: str) -> NoReturn:
    raise RaspTypeError(
        f"rasp: tracr's SOp has no operator {op!r}; write it as a map, e.g. "
        "rasp.Map(lambda x: x // 2, sop)"
    )


class TracrSelectorOperators:
    """``&``, ``|`` and ``~`` on selectors go through tracr's simplifying combinators."""

    __slots__ = ()

    def __and__(self, other: Any) -> Any:
        from .selectors import selector_and

        return selector_and(self, other)  # type: ignore[arg-type]

    def __rand__(self, other: Any) -> Any:
        from .selectors import selector_and

        return selector_and(other, self)  # type: ignore[arg-type]

    def __or__(self, other: Any) -> Any:
        from .selectors import selector_or

        return selector_or(self, other)  # type: ignore[arg-type]

    def __ror__(self, other: Any) -> Any:
        from .selectors import selector_or

        return selector_or(other, self)  # type: ignore[arg-type]

    def __invert__(self) -> Any:
        from .selectors import selector_not

        return selector_not(self)  # type: ignore[arg-type]
