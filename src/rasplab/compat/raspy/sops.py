"""raspy's s-ops as rasplab nodes: ``wrap``, ``raw``, ``repeat``, ``where`` and the operators.

Every s-op built here is an ordinary rasplab node (a subclass of ``Tokens``,
``Map``, ``ZipMap``... that only adds raspy's methods), so the evaluator, the
analysis, the drawings and the compiler take it as they take any other.
Values follow raspy, which applies Python's ``operator`` functions: ``&`` and
``|`` are bitwise (``True & 1 == 1``) and ``~True == -2``.

>>> from rasplab.compat.raspy import tokens, indices
>>> (tokens * 2 - 1)([1, 2, 3])
[1, 3, 5]
>>> where(tokens == "a", indices, "-")("abca")
[0, '-', '-', 3]
>>> (tokens + [10, 20])([1, 2])
[11, 22]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ...errors import RaspTypeError
from ...lang import nodes
from ...lang.base import is_atom
from ...lang.operators import _BINARY

__all__ = ["RaspySOp", "SOp", "tokens", "indices", "identity", "wrap", "raw", "repeat", "where"]

SOpLike = Any  # raspy's: an s-op, a number, a one-character string, a list or a string


class _Name(str):
    """A node's name that, called as raspy's ``sop.name("x")``, names a copy instead."""

    owner: nodes.SOp

    def __call__(self, name: str) -> nodes.SOp:
        return _rename(self.owner, name)


class _Unnamed:
    """No name yet (false, like ``None``); called as ``sop.name("x")``, names a copy."""

    def __init__(self, owner: nodes.SOp) -> None:
        self.owner = owner

    def __bool__(self) -> bool:
        return False

    def __call__(self, name: str) -> nodes.SOp:
        return _rename(self.owner, name)

    def __repr__(self) -> str:
        return "None"


def _rename(sop: nodes.SOp, name: Any) -> nodes.SOp:
    if not isinstance(name, str) or not name:
        raise RaspTypeError(f"raspy .name(name) expects a non-empty string, got {name!r}")
    return sop.named(name)


class _NameField:
    """The ``name`` field of raspy's s-ops: stored as rasplab stores it, read as callable."""

    def __get__(self, sop: Any, owner: type | None = None) -> Any:
        if sop is None:
            return self
        stored = sop.__dict__.get("name")
        if stored is None:
            return _Unnamed(sop)
        name = _Name(stored)
        name.owner = sop
        return name

    def __set__(self, sop: Any, value: str | None) -> None:
        sop.__dict__["name"] = None if value is None else str(value)


class RaspySOp:
    """raspy's methods and operators, mixed into rasplab's s-op node classes."""

    __slots__ = ()
    __hash__ = object.__hash__  # nodes hash by identity; == builds an s-op

    # raspy names an s-op with ``.name("x")``, rasplab reads the field ``name``: one
    # attribute serves both (see _NameField); ``label`` reads the stored field itself.
    name = _NameField()

    @property
    def label(self) -> str:
        stored = self.__dict__.get("name")
        if stored is not None:
            return str(stored)
        kind = _self(self).kind
        if isinstance(self, nodes.Tokens | nodes.Indices | nodes.Length):
            return kind
        return f"{kind}_{_self(self).id}"

    def map(self, f: Callable[[Any], Any], *, name: str | None = None) -> Map:
        """``sop.map(f)``: ``f`` at every position."""
        if not callable(f):
            raise RaspTypeError(f"raspy .map(f) expects a function of one value, got {f!r}")
        return Map(f, _self(self), name=name)

    def round(self) -> Map:
        """``sop.round()``: ``int(round(x))`` at every position."""
        return Map(lambda x: int(round(x)), _self(self), desc="round({0})")

    def has(self, values: Any) -> Map:
        """``sop.has(v)``: ``x in v`` at every position."""
        try:
            iter(values)
        except TypeError:
            raise RaspTypeError(
                f"raspy .has(v) expects a collection to test membership in, got {values!r}"
            ) from None
        return Map(lambda x: x in values, _self(self), desc=f"{{0}} in {values!r}")

    def __call__(self, inp: Any) -> Any:
        """Run on one input: a list-like ``Seq`` (raspy's result type) that draws itself."""
        from .display import run

        return run(_self(self), inp)

    def input(self, inp: Any) -> Any:
        """``sop.input(x)``: the same as ``sop(x)``; in Jupyter it shows the execution."""
        return self(inp)

    def _repr_html_(self) -> str:
        from .display import example_html

        return example_html(_self(self))

    def __repr__(self) -> str:
        from .display import example_repr

        return example_repr(_self(self))


def _self(sop: RaspySOp) -> nodes.SOp:
    assert isinstance(sop, nodes.SOp)  # the mixin is only ever part of an s-op class
    return sop


def _operators() -> None:
    """raspy's operators (Python's own on the values), plus the reflected and unary ones."""
    binary = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "truediv": operator.truediv,
        "floordiv": operator.floordiv,
        "mod": operator.mod,
        "pow": operator.pow,
        "and": operator.and_,
        "or": operator.or_,
    }
    symbols = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//"}
    symbols |= {"mod": "%", "pow": "**", "and": "&", "or": "|"}
    for op, fn in binary.items():
        _install(op, fn, symbols[op])
        _install(op, fn, symbols[op], reflected=True)
    comparisons = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
    for op, symbol in comparisons.items():
        _install(op, getattr(operator, op), symbol)
    unary: dict[str, tuple[Callable[[Any], Any], str]] = {
        "invert": (operator.invert, "~{0}"),
        "neg": (operator.neg, "-{0}"),
        "pos": (operator.pos, "+{0}"),
        "abs": (abs, "abs({0})"),
    }
    for op, (one, text) in unary.items():
        setattr(RaspySOp, f"__{op}__", lambda self, one=one, text=text: lift(one, [self], text))


def _install(op: str, fn: Callable[[Any, Any], Any], symbol: str, reflected: bool = False) -> None:
    if reflected:
        method = lambda self, other: lift(fn, [other, self], f"{{0}} {symbol} {{1}}")  # noqa: E731
    else:
        method = lambda self, other: lift(fn, [self, other], f"{{0}} {symbol} {{1}}")  # noqa: E731
    setattr(RaspySOp, f"__{'r' if reflected else ''}{op}__", method)


# Python's + - * of two values: the language's own (compiler.arithmetic.arithmetic_op)
_LANGUAGE_OPS = {operator.add: _BINARY["+"], operator.sub: _BINARY["-"], operator.mul: _BINARY["*"]}


def lift(fn: Callable[..., Any], args: list[Any], template: str) -> nodes.SOp:
    """``fn`` position by position over raspy-wrapped ``args``; constants are folded in.

    One s-op left makes a map, several a zipmap, none a constant.
    """
    sops = [wrap(a, "an operator") for a in args]
    live = [s for s in sops if not isinstance(s, nodes.Constant)]
    holes = iter(range(len(live)))
    shown = [repr(s.value) if isinstance(s, nodes.Constant) else f"{{{next(holes)}}}" for s in sops]
    desc = template.format(*shown)

    def at(*values: Any) -> Any:
        it = iter(values)
        return fn(*[s.value if isinstance(s, nodes.Constant) else next(it) for s in sops])

    if len(live) == len(sops) == 2 and fn in _LANGUAGE_OPS:  # the compiler's arrays read it
        at.numbers_as = _LANGUAGE_OPS[fn]  # type: ignore[attr-defined]
    if not live:
        return Constant(at())
    if len(live) == 1:
        return Map(at, live[0], desc=desc)
    return ZipMap(at, *live, desc=desc)


_operators()


class SOp(RaspySOp, nodes.SOp):
    """raspy's ``SOp`` name; ``SOp.zip(f, *sops)`` combines s-ops position by position."""

    @staticmethod
    def zip(f: Callable[..., Any], *sops: SOpLike) -> nodes.SOp:
        if not callable(f):
            raise RaspTypeError(f"raspy SOp.zip(f, *sops) expects a function first, got {f!r}")
        return lift(f, list(sops), getattr(f, "__name__", "zip") + "(" + _holes(len(sops)) + ")")


def _holes(count: int) -> str:
    return ", ".join(f"{{{i}}}" for i in range(count))


class Tokens(RaspySOp, nodes.Tokens):
    pass


class Indices(RaspySOp, nodes.Indices):
    pass


class Constant(RaspySOp, nodes.Constant):
    pass


class Map(RaspySOp, nodes.Map):
    pass


class ZipMap(RaspySOp, nodes.ZipMap):
    pass


class Aggregate(RaspySOp, nodes.Aggregate):
    pass


tokens = Tokens()
identity = tokens  # raspy's other name for the input
indices = Indices()


def repeat(value: Any) -> Constant:
    """``repeat(v)``: ``v`` at every position.

    >>> repeat(7)("abc")
    [7, 7, 7]
    """
    if not is_atom(value):
        raise RaspTypeError(
            f"raspy repeat(v) expects one value (a number, a string or a bool), got {value!r}"
        )
    return Constant(value)


def raw(values: Any) -> Map:
    """``raw(xs)``: the fixed sequence ``xs`` whatever the input (as long as the input).

    >>> raw([3, 1, 2])("abc")
    [3, 1, 2]
    """
    if not isinstance(values, list | tuple | str) or not all(is_atom(v) for v in values):
        raise RaspTypeError(f"raspy raw(xs) expects a list or string of values, got {values!r}")
    fixed = tuple(values)

    def at(i: int) -> Any:
        if i >= len(fixed):
            raise IndexError(f"raw({list(fixed)!r}) has {len(fixed)} values, the input is longer")
        return fixed[i]

    return Map(at, indices, desc=f"raw({list(fixed)!r})")


def wrap(value: SOpLike, where: str = "wrap") -> nodes.SOp:
    """raspy's ``wrap``: s-ops pass; a number, bool or one character repeats; a list or a
    longer string is a ``raw`` sequence."""
    if isinstance(value, nodes.SOp):
        return value
    if isinstance(value, int | float) or (isinstance(value, str) and len(value) == 1):
        return repeat(value)
    if isinstance(value, list | tuple | str):
        return raw(value)
    shown = value.label if isinstance(value, nodes.Node) else repr(value)
    raise RaspTypeError(
        f"raspy {where} expects an s-op, a number, a one-character string or a list, got {shown}"
    )


def where(pred: SOpLike, if_true: SOpLike, if_false: SOpLike) -> nodes.SOp:
    """``where(p, t, f)``: ``t`` where ``p`` holds, else ``f``, position by position."""
    args = [wrap(x, "where(pred, t, f)") for x in (pred, if_true, if_false)]
    return lift(lambda p, t, f: t if p else f, args, "where({0}, {1}, {2})")
