"""Operators on s-ops: arithmetic, comparisons and logic build maps and zipmaps.

An atom on either side is folded into a one-input map (``tokens + 1``,
``1 - indices``); two s-ops make a zipmap.

>>> from rasplab import tokens, indices
>>> (1 - indices).describe(), (tokens == indices).describe()
('1 - indices', 'tokens == indices')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..errors import RaspTypeError

if TYPE_CHECKING:
    from .nodes import SOp

__all__ = ["SOpOperators"]


class SOpOperators:
    """Mixin giving ``SOp`` its operators (kept apart so nodes.py stays about the IR)."""

    __slots__ = ()

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
    from .nodes import Map, SOp, ZipMap, is_atom

    fn = _BINARY[op]
    if isinstance(left, SOp) and isinstance(right, SOp):
        return ZipMap(fn, left, right, desc=f"{{0}} {op} {{1}}")
    if isinstance(left, SOp) and is_atom(right):
        with_right = _known(lambda x: fn(x, right), op, right, 1)
        return Map(with_right, left, desc=f"{{0}} {op} {right!r}")
    if isinstance(right, SOp) and is_atom(left):
        with_left = _known(lambda x: fn(left, x), op, left, 0)
        return Map(with_left, right, desc=f"{left!r} {op} {{0}}")
    odd = right if isinstance(left, SOp) else left
    raise RaspTypeError(
        f"operator {op!r} needs s-ops or atoms (int, float, str, bool), got {odd!r} "
        f"({type(odd).__name__})"
    )


def _known(f: Callable[[Any], Any], op: str, constant: Any, at: int) -> Callable[[Any], Any]:
    """``f``, marked as the operator ``op`` with ``constant`` as its argument ``at`` (0: the
    left one): the compiler runs the language's own comparisons on whole arrays of numbers
    (a prefix mean at 1,024 positions holds 320,000 distinct values)."""
    setattr(f, "with_constant", (op, constant, at))  # noqa: B010 (a function's attribute)
    return f


def _unary(operand: SOpOperators, op: str) -> SOp:
    from .nodes import Map

    fmt = "abs({0})" if op == "abs" else op + "{0}"
    # The mixin is only ever part of an SOp (and Map checks that again).
    return Map(_UNARY[op], cast("SOp", operand), desc=fmt)
