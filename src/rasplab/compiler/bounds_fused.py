"""What an MLP should compute, at many combinations of its leaves' values at once.

The output s-op is a tree of maps, zipmaps and constants over the leaves (as
:class:`~.domains.Fused` evaluates it one combination at a time). Here each
node's values are codes into a table of distinct values, so each map's
function runs once per distinct argument tuple, however many combinations
share it. A function that raises marks its combinations as failed (code -1):
the evaluator rejects an input that reaches them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..lang.graph import value_key
from ..lang.nodes import Constant, Map, SOp, ZipMap
from .arithmetic import by_arithmetic
from .combine import unique_inverse
from .domains import Fused

__all__ = ["Column", "evaluate"]

Column = tuple[np.ndarray, list[Any]]  # codes per combination (-1: failed), distinct values


def evaluate(output: SOp, leaves: Mapping[int, Column], nodes: Sequence[SOp]) -> Column:
    """``output``'s value at every combination, given the leaves' values (by node id);
    TypeError where the tree holds something other than maps, zipmaps and constants."""
    known = dict(leaves)
    if output.id in known:
        return known[output.id]
    size = len(next(iter(leaves.values()))[0]) if leaves else 1
    for node in Fused(output, list(nodes)).order:
        known[node.id] = _apply(node, known, size)
    return known[output.id]


def _apply(node: Any, known: dict[int, Column], size: int) -> Column:
    if isinstance(node, Constant):
        return np.zeros(size, dtype=np.int64), [node.value]
    if not isinstance(node, Map | ZipMap):
        raise TypeError(f"{node.label} ({node.kind}) is not a map of the MLP's leaves")
    args = [known[c.id] for c in node.children]
    fast = by_arithmetic(node.f, args)  # the language's + - * on numbers, on whole arrays
    if fast is not None:
        return fast
    radices = [int(codes.max(initial=0)) + 2 for codes, _ in args]
    key, failed = _joint([codes for codes, _ in args], radices)
    distinct, inverse = unique_inverse(key)
    found: dict[tuple, int] = {}
    table: list[Any] = []
    parts = _split(distinct, radices)  # per argument: its code (0: failed) per distinct key
    tables = [values for _, values in args]
    codes_of = np.empty(len(distinct), dtype=np.int64)
    for u, joint in enumerate(zip(*(p.tolist() for p in parts), strict=True)):
        if 0 in joint:
            codes_of[u] = -1
            continue
        values = [t[c - 1] for t, c in zip(tables, joint, strict=True)]
        codes_of[u] = _call(node, values, found, table)
    codes = codes_of[inverse.reshape(-1)]
    codes[failed] = -1
    return codes, table


def _joint(codes: list[np.ndarray], radices: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One int per combination for the arguments' codes together (mixed radix)."""
    failed = np.zeros(len(codes[0]), dtype=bool)
    key = np.zeros(len(codes[0]), dtype=np.int64)
    if np.prod([float(r) for r in radices]) >= 2.0**62:
        raise TypeError("too many combinations of a map's arguments to key as integers")
    for c, radix in zip(codes, radices, strict=True):
        failed |= c < 0
        key = key * radix + (c + 1)
    return key, failed


def _split(keys: np.ndarray, radices: list[int]) -> list[np.ndarray]:
    """Each argument's code (plus one; 0 where it failed) behind mixed-radix ``keys``."""
    parts = []
    for radix in reversed(radices):
        keys, code = np.divmod(keys, radix)
        parts.append(code)
    return parts[::-1]


def _call(node: Map | ZipMap, args: list[Any], found: dict, table: list[Any]) -> int:
    try:
        value = node.f(*args)
    except Exception:  # the evaluator rejects inputs on which a function raises
        return -1
    key = value_key(value)
    if key not in found:
        found[key] = len(table)
        table.append(value)
    return found[key]
