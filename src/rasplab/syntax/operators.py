"""The language's operators on every kind of value.

On atoms, lists and dicts they run at once (Python semantics, with size
guards); on s-ops they build the same IR nodes the Python DSL builds; on
selectors only ``and``, ``or`` and ``not`` apply.

>>> from rasplab import tokens, evaluate
>>> binary("+", 2, 3), binary("^", 2, 10), binary("or", 0, "a")
(5, 1024, 'a')
>>> evaluate(binary("==", tokens, "a"), "abca")
[True, False, False, True]
>>> evaluate(contains(tokens, ["a", "c"]), "abc")
[True, False, True]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from ..errors import EvaluationError, RaspTypeError
from ..lang.nodes import (
    Aggregate,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SOp,
    ZipMap,
    is_atom,
)
from .errors import LookupFailedError, LoopLimitError
from .values import Limits, show

__all__ = ["binary", "unary", "contains", "lift", "where", "rounded", "indicator"]

_EAGER: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
    "^": operator.pow,
    "==": operator.eq,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_ELEMENTWISE: dict[str, Callable[[Any, Any], Any]] = {
    **_EAGER,
    "and": operator.and_,
    "or": operator.or_,
}


_DEFAULT_LIMITS = Limits()


def binary(op: str, left: Any, right: Any, limits: Limits = _DEFAULT_LIMITS) -> Any:
    """``left op right`` for any values the language allows."""
    if op in ("and", "or"):
        return _logic(op, left, right)
    for side in (left, right):
        if isinstance(side, Selector):
            raise RaspTypeError(f"cannot apply {op!r} to {show(side)} (only and/or/not)")
    if isinstance(left, SOp) or isinstance(right, SOp):
        return _elementwise(op, left, right)
    return _eager(op, left, right, limits)


def _logic(op: str, left: Any, right: Any) -> Any:
    selectors = [isinstance(x, Selector) for x in (left, right)]
    if all(selectors):
        return SelectorAnd(left, right) if op == "and" else SelectorOr(left, right)
    if any(selectors):
        other = right if selectors[0] else left
        raise RaspTypeError(f"cannot combine a selector with {show(other)} using {op!r}")
    if isinstance(left, SOp) or isinstance(right, SOp):
        return _elementwise(op, left, right)
    return (left and right) if op == "and" else (left or right)


def _elementwise(op: str, left: Any, right: Any) -> SOp:
    for side in (left, right):
        if not (isinstance(side, SOp) or is_atom(side)):
            raise RaspTypeError(
                f"cannot apply {op!r} to an s-op and {show(side)}: an s-op combines "
                "only with s-ops and atoms"
            )
    return _ELEMENTWISE[op](left, right)


def _eager(op: str, left: Any, right: Any, limits: Limits) -> Any:
    _check_size(op, left, right, limits)
    try:
        result = _EAGER[op](left, right)
    except ZeroDivisionError:
        raise EvaluationError(f"division by zero in {left!r} {op} {right!r}") from None
    except OverflowError:
        raise EvaluationError(f"{left!r} {op} {right!r} is too large to compute") from None
    except (TypeError, ValueError) as err:
        raise RaspTypeError(
            f"cannot apply {op!r} to {show(left)} and {show(right)}: {err}"
        ) from None
    if isinstance(result, complex):
        raise RaspTypeError(f"{left!r} {op} {right!r} is not a real number")
    return result


_BITS = " (max_int_bits); raise it with Limits(max_int_bits=...)"
_ITEMS = " (max_collection); raise it with Limits(max_collection=...)"


def _check_size(op: str, left: Any, right: Any, limits: Limits) -> None:
    ints = [isinstance(x, int) for x in (left, right)]
    bits, items = limits.max_int_bits, limits.max_collection
    big_power = all(ints) and abs(left) > 1 and right > 0 and right * math.log2(abs(left)) > bits
    if op == "^" and big_power:
        raise LoopLimitError(f"{left} ^ {right} is too large (over {bits} bits){_BITS}")
    if op == "*" and all(ints) and left.bit_length() + right.bit_length() > bits:
        raise LoopLimitError(f"* would build an integer over {bits} bits{_BITS}")
    if op == "*" and any(ints):
        seq, count = (left, right) if ints[1] else (right, left)
        if isinstance(seq, str | list) and len(seq) * max(count, 0) > items:
            raise LoopLimitError(f"* would build more than {items} elements{_ITEMS}")
    sequences = isinstance(left, str | list) and isinstance(right, str | list)
    if op == "+" and sequences and len(left) + len(right) > items:
        raise LoopLimitError(f"+ would build more than {items} elements{_ITEMS}")


def unary(op: str, value: Any) -> Any:
    """``-x``, ``+x`` and ``not x``."""
    if isinstance(value, Selector):
        if op == "not":
            return SelectorNot(value)
        raise RaspTypeError(f"cannot apply unary {op!r} to {show(value)}")
    if isinstance(value, SOp):
        return ~value if op == "not" else (-value if op == "-" else +value)
    if op == "not":
        return not value
    if not is_atom(value) or isinstance(value, str):
        raise RaspTypeError(f"cannot apply unary {op!r} to {show(value)}")
    return -value if op == "-" else +value


def contains(item: Any, container: Any) -> Any:
    """``item in container``: elementwise for an s-op item, one head for an s-op container."""
    if isinstance(item, SOp):
        if not isinstance(container, list) or not all(is_atom(v) for v in container):
            raise RaspTypeError(
                f"'[s-op] in X' needs X to be a list of atoms, got {show(container)}"
            )
        members = list(container)
        return Map(lambda v: v in members, item, desc=f"{{0}} in {_fmt(members)}")
    if is_atom(item):
        if isinstance(container, list):
            return any(is_atom(v) and v == item for v in container)
        if isinstance(container, dict):
            return item in container
        if isinstance(container, str) and isinstance(item, str):
            return item in container
        if isinstance(container, SOp):
            hits = Map(lambda v: 1 if v == item else 0, container, desc=f"{{0}} == {_fmt(item)}")
            everything = Select(container, container, "true")
            return Aggregate(everything, hits) > 0
        raise RaspTypeError(f"'[atom] in X' needs X to be a list or an s-op, got {show(container)}")
    raise RaspTypeError(
        f"'A in X' needs A to be an s-op or an atom, got {show(item)} "
        "(selectors and functions cannot be compared)"
    )


def _fmt(value: Any) -> str:
    return repr(value).replace("{", "{{").replace("}", "}}")


def lift(fn: Callable[..., Any], args: list[Any], desc: str) -> SOp:
    """An elementwise node over the s-ops in ``args``; atoms are closed over.

    ``desc`` uses ``{0}, {1}, ...`` for every argument, s-op or atom.
    """
    slots = [i for i, a in enumerate(args) if isinstance(a, SOp)]
    sops = [args[i] for i in slots]
    shown = [f"{{{slots.index(i)}}}" if i in slots else _fmt(a) for i, a in enumerate(args)]
    text = desc.format(*shown)

    def apply(*values: Any) -> Any:
        full = list(args)
        for i, v in zip(slots, values, strict=True):
            full[i] = v
        return fn(*full)

    if len(sops) == 1:
        return Map(apply, sops[0], desc=text)
    return ZipMap(apply, *sops, desc=text)


def where(cond: SOp, if_true: Any, if_false: Any) -> SOp:
    """Elementwise ``if_true if cond else if_false``."""
    for branch in (if_true, if_false):
        if not (isinstance(branch, SOp) or is_atom(branch)):
            raise RaspTypeError(
                f"'x if c else y' with an s-op condition needs s-op or atom branches, "
                f"got {show(branch)}"
            )
    return lift(lambda c, a, b: a if c else b, [cond, if_true, if_false], "{1} if {0} else {2}")


def rounded(value: Any) -> Any:
    """``round(x)``: half to even, an int."""
    if isinstance(value, SOp):
        return Map(round, value, desc="round({0})")
    if isinstance(value, int | float):
        try:
            return round(value)
        except (OverflowError, ValueError) as err:
            raise EvaluationError(f"round({value!r}) failed: {err}") from None
    raise RaspTypeError(f"round needs an s-op or a number, got {show(value)}")


def indicator(value: Any) -> Any:
    """``indicator(x)``: 1 where x is truthy, else 0."""
    if isinstance(value, SOp):
        return Map(lambda v: 1 if v else 0, value, desc="indicator({0})")
    if is_atom(value):
        return 1 if value else 0
    raise RaspTypeError(f"indicator needs an s-op or an atom, got {show(value)}")


def index(container: Any, key: Any, length: SOp) -> Any:
    """``container[key]``; ``length`` serves negative s-op positions."""
    if isinstance(container, SOp):
        return _index_sop(container, key, length)
    if isinstance(container, list | str):
        return _index_sequence(container, key)
    if isinstance(container, dict):
        return _index_dict(container, key)
    raise RaspTypeError(f"can only index a list, dict, string or s-op, not {show(container)}")


def _index_sop(sop: SOp, key: Any, length: SOp) -> SOp:
    if not isinstance(key, int) or isinstance(key, bool):
        raise RaspTypeError(f"an s-op's index must be an int, got {show(key)}")
    from ..lang.dsl import indices

    where_from = key if key >= 0 else length + key
    picked = Aggregate(Select(indices, where_from, "=="), sop)
    return picked


def _index_sequence(seq: list | str, key: Any) -> Any:
    what = "list" if isinstance(seq, list) else "string"
    if isinstance(key, SOp):
        frozen = tuple(seq) if isinstance(seq, list) else seq
        return Map(lambda i: _item(frozen, i, what), key, desc=f"{what}[{{0}}]")
    if isinstance(key, Node):
        raise RaspTypeError(f"a {what}'s index must be an int or an s-op, got {show(key)}")
    return _item(seq, key, what)


def _item(seq: Any, i: Any, what: str) -> Any:
    if not isinstance(i, int):
        raise RaspTypeError(f"{what} index must be an int, got {i!r} ({type(i).__name__})")
    if not -len(seq) <= i < len(seq):
        raise LookupFailedError(f"index {i!r} is out of range for a {what} of length {len(seq)}")
    return seq[i]


def _index_dict(table: dict, key: Any) -> Any:
    if isinstance(key, SOp):
        frozen = dict(table)
        return Map(lambda k: _entry(frozen, k), key, desc="dict[{0}]")
    if not is_atom(key):
        raise RaspTypeError(f"a dict's key must be an atom or an s-op, got {show(key)}")
    return _entry(table, key)


def _entry(table: dict, key: Any) -> Any:
    if key not in table:
        keys = ", ".join(repr(k) for k in list(table)[:10])
        raise LookupFailedError(f"key {key!r} is not in the dict (its keys: {keys})")
    return table[key]
