"""Nodes that are functions of another: a map of a map of a number, a digit of it, a low
digit read beside the high one. Two such values at one position come from one value,
so only the pairs the functions make occur (:func:`~.domains.derived_leaves`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..lang.nodes import Map, Node, SOp, ZipMap

__all__ = ["map_chain", "through", "only_of", "value_of"]


def map_chain(node: Any, ids: Sequence[int]) -> tuple[int, list[Any]] | None:
    """``(id, functions)``: the node among ``ids`` that ``node`` is a map of (through
    maps not among ``ids``), itself no map of another, and the functions outermost
    first; None where there is none."""
    steps = []
    while isinstance(node, Map):
        steps.append(node.f)
        node = node.inner
        if node.id in ids:
            below = map_chain(node, ids) if isinstance(node, Map) else None
            return None if below is not None else (node.id, steps)
    return None


def through(steps: Sequence[Any], value: Any) -> Any:
    """``value`` through ``steps`` (outermost first)."""
    for f in reversed(steps):
        value = f(value)
    return value


def only_of(n: Node, x: SOp, origin: Mapping[int, Node]) -> bool:
    """Whether ``n`` is ``x``, or a map or zipmap of such nodes only (a digit, or a low
    digit read beside its high one)."""
    if origin.get(n.id, n) is x:
        return True
    if isinstance(n, Map):
        return only_of(n.inner, x, origin)
    return isinstance(n, ZipMap) and all(only_of(i, x, origin) for i in n.inputs)


def value_of(n: Node, x: SOp, origin: Mapping[int, Node], v: Any) -> Any:
    """What ``n`` (:func:`only_of` ``x``) holds where ``x`` holds ``v``."""
    if origin.get(n.id, n) is x:
        return v
    if isinstance(n, Map):
        return n.f(value_of(n.inner, x, origin, v))
    assert isinstance(n, ZipMap), f"{n.label} is no function of {x.label}"
    return n.f(*(value_of(i, x, origin, v) for i in n.inputs))
