"""A mean head's set of counted values made a threshold, where the data allow it.

A mean head averages a 0/1 flag of a variable: ``ones`` are the variable's
values counted as 1. Training sets only the values the data make matter; the
rest keep whatever they started with. Over numbers, the sets that generalise
are thresholds (``a < 1/2``: a prefix share of openers below one half, a
depth below zero). So where a threshold keeps the training accuracy, it
replaces the set: the simplest one, its boundary the fraction of smallest
denominator between the two values it falls between (``a < 1/2`` before
``a < 7/15``), then the one that changes fewest values.

>>> simplest_denominator(6 / 13, 1 / 2)  # in (6/13, 1/2]: 1/2
2
>>> simplest_denominator(6 / 13, 7 / 15)  # 7/15 is the simplest fraction there
15
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from .data import Encoded
from .discrete import Program

__all__ = ["simplest_denominator", "threshold_ones"]

MAX_DENOMINATOR = 1000  # boundaries with larger denominators count as this complex
MAX_TRIES = 24  # thresholds tried per head (each one a forward pass over the data)


def simplest_denominator(low: float, high: float) -> int:
    """The smallest ``q`` with a fraction ``p / q`` in ``(low, high]``."""
    lo, hi = Fraction(low).limit_denominator(10**6), Fraction(high).limit_denominator(10**6)
    for q in range(1, MAX_DENOMINATOR):
        p = (lo * q).__floor__() + 1  # the smallest p with p / q > lo
        if Fraction(p, q) <= hi:
            return q
    return MAX_DENOMINATOR


def _numbers(values: tuple[Any, ...]) -> bool:
    return len(values) > 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def _thresholds(values: tuple[Any, ...], ones: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every threshold set over ``values`` (codes below a boundary, or at and above it),
    simplest boundary first, then fewest changes from ``ones``."""
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    current = set(ones)
    found = []
    for cut in range(1, len(values)):
        q = simplest_denominator(values[order[cut - 1]], values[order[cut]])
        for part in (order[:cut], order[cut:]):
            codes = tuple(sorted(int(c) for c in part))
            found.append(((q, len(current.symmetric_difference(codes))), codes))
    found.sort(key=lambda item: item[0])
    return [codes for _, codes in found]


def threshold_ones(
    program: Program, data: Encoded, accuracy: Callable[[Program, Encoded], float]
) -> Program:
    """Each mean head over numbers with its ``ones`` made the simplest threshold that keeps
    ``accuracy(program, data)`` (the head is left as it is where none does)."""
    from .simplify import _swap

    base = accuracy(program, data)
    heads = [h for layer in program.layers for h in layer.heads if h.kind == "mean"]
    for head in heads:
        values = program.variables()[str(head.value)].values
        if not _numbers(values):
            continue
        for ones in _thresholds(values, head.ones)[:MAX_TRIES]:
            if ones == tuple(sorted(head.ones)):
                break  # the head is already the simplest threshold that fits
            changed = _swap(program, {head.name: replace(head, ones=ones)})
            if accuracy(changed, data) >= base:
                program = changed
                break
    return program
