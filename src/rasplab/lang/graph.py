"""Facts about the IR that every layer above needs: node order, value identity, attention.

>>> from rasplab import tokens, map
>>> double = map(lambda x: 2 * x, tokens)
>>> [type(n).__name__ for n in topological_order(double)]
['Tokens', 'Map']
>>> value_key(1) == value_key(1.0)
False
"""

from __future__ import annotations

import math
from typing import Any

from .nodes import Aggregate, Length, Node, SelectorWidth

__all__ = ["topological_order", "value_key", "ATTENTION"]

# The s-ops an attention head computes; every other s-op is an MLP's (or an input).
ATTENTION = (Aggregate, SelectorWidth, Length)


def topological_order(root: Node) -> list[Node]:
    """Every node under ``root``, children before parents (iterative DFS)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node.id in seen:
            continue
        seen.add(node.id)
        stack.append((node, True))
        for child in reversed(node.children):
            if child.id not in seen:
                stack.append((child, False))
    return order


def value_key(value: Any) -> tuple[type, Any]:
    """A dictionary key under which equal values of different types stay apart."""
    t = type(value)
    if t is int or t is str or t is bool or (t is float and value == value):
        return (t, value)  # the common atoms first: evaluators key every value they meet
    if isinstance(value, float) and math.isnan(value):
        return (float, "nan")
    if isinstance(value, tuple):  # composite values (tracr builds tuples in n-ary maps)
        return (tuple, tuple(value_key(v) for v in value))
    return (type(value), value)
