"""Ramps that leave room for their inputs' float32 errors.

An MLP's clamped ramps (:mod:`.axis`) put each threshold midway between the
neighbouring values of ``z`` and make every ramp as steep as the closest
pair needs, so a point may move a third of that gap and change nothing. The
inputs' float32 errors are not alike across points: a count head's weight
``B / (B + w)`` is off by an amount in proportion to itself, so the point
where both counts are 0 moves four times as far as the tightest pair, and
may cross a threshold that sits in the middle of the tightest pair's gap.

Where the bounds of a first build found how far each direction can be off
(its ``delta``, plus ``relative`` times its value), a rebuild places each
threshold in the middle of the room the points leave *after* their errors,
and makes the ramp steep enough for that room: every point on the low side
stays below it, every point on the high side above it, error included.

>>> z = np.array([0.0, 1.0, 2.0])
>>> room(z, np.zeros(3))  # no errors: midpoints and gaps
[(0.5, 1.0), (1.5, 1.0)]
>>> room(z, np.array([0.4, 0.0, 0.0]))  # the first point may reach 0.4
[(0.7, 0.6), (1.5, 1.0)]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .storage import Storage
from .units import Leaf

__all__ = ["Errors", "leaf_errors", "room", "room_at", "room_and_crossed"]

Errors = Mapping[str, tuple[float, float]]  # direction -> (delta, relative): |error| bound


def leaf_errors(leaf: Leaf, errors: Errors) -> np.ndarray:
    """How far the number an MLP reads from ``leaf`` can be off, per value index.

    A scalar leaf reads its directions through its readout; a one-hot leaf read as
    a number (:mod:`.axis` weighs each value's indicator by its coordinate) reads
    every value's indicator, so all of them add their errors."""
    if leaf.kind is Storage.SCALAR:
        reads = [(1.0, leaf.readouts[0])]
    else:
        reads = list(zip(leaf.coords or (1.0,) * leaf.size, leaf.readouts, strict=True))
    sizes = np.zeros(leaf.size)
    for coord, readout in reads:
        for d, w in readout.items():
            delta, relative = errors.get(d, (0.0, 0.0))
            if relative:  # in proportion to what each value holds there
                content = np.array([abs(write.get(d, 0.0)) for write in leaf.writes])
                sizes += abs(coord * w) * (delta + relative * content)
            elif delta:
                sizes += abs(coord * w) * delta
    return sizes


def room(z: np.ndarray, error: np.ndarray) -> list[tuple[float, float]]:
    """``(threshold, gap)`` between each pair of neighbouring points of ``z`` (sorted):
    the middle and the width of the room between the highest any point at or below
    the pair's lower one can reach and the lowest any point at or above its upper one
    can reach. Where errors leave no room, the plain midpoint and gap (the bounds will
    then say the ramp can be crossed)."""
    return room_at(z, error, np.arange(max(len(z) - 1, 0)))


def room_at(z: np.ndarray, error: np.ndarray, pairs: np.ndarray) -> list[tuple[float, float]]:
    """:func:`room` for the pairs ``(i, i + 1)``, ``i`` in ``pairs`` only: an MLP's ramps
    sit where its output changes, a few pairs among up to a million points."""
    return room_and_crossed(z, error, pairs)[0]


def room_and_crossed(
    z: np.ndarray, error: np.ndarray, pairs: np.ndarray
) -> tuple[list[tuple[float, float]], int]:
    """:func:`room_at`, and how many of its pairs have no room: a point on one side may
    reach as far as a point on the other (the bounds cannot keep such a ramp).

    >>> room_and_crossed(np.array([0.0, 1.0, 2.0]), np.array([0.6, 0.0, 0.0]), np.arange(2))[1]
    0
    >>> room_and_crossed(np.array([0.0, 1.0, 2.0]), np.array([0.6, 0.5, 0.0]), np.arange(2))[1]
    1
    """
    lo, hi = _reach(z, error, pairs)
    crossed = hi <= lo
    lo = np.where(crossed, z[pairs], lo)
    hi = np.where(crossed, z[pairs + 1], hi)
    found = list(zip(((lo + hi) / 2).tolist(), (hi - lo).tolist(), strict=True))
    return found, int(np.count_nonzero(crossed))


def _reach(z: np.ndarray, error: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair ``(i, i + 1)``: the highest a point up to ``i`` can reach, and the lowest
    a point from ``i + 1`` on can."""
    lows = np.maximum.accumulate(z + error)
    highs = np.minimum.accumulate((z - error)[::-1])[::-1]
    return lows[pairs], highs[pairs + 1]
