"""A separable MLP's parts of one sign: their errors in proportion to the sum's value.

A separable plan adds one part per leaf it reads (:mod:`.mlp`), and its bound
(:mod:`.bounds_mlps`) is made part by part, each over its own leaf's values: added
up, the parts' worst cases count as if they came together, which a count split
over digits never does. For any ``r >= 0`` each part's error is at most its
``delta_r + r * |its value|`` (``delta_r``: the most its error exceeds ``r`` times
its value). Where every part's values have one sign (decoded counts, say), they
add up without cancelling, so the output is off by at most the ``delta_r`` summed
plus ``r`` times its own value, and the ``r`` kept is the one smallest at the
output's largest value (``r = 0``: the worst cases added up). At 1,024 positions,
most_freq's position in its sort adds four decoded counts, each off by up to
``6e-5`` of ``B + count`` in float32: in the model kept, as absolute errors
they added up to 0.67, more than the 0.5 its digits' cuts allow, and in
proportion to the sum to 0.46.

Two parts, each off by 0.125 at 0 and 0.25 at 1,024, whose sum is at most 1,024:
0.375 in proportion, against 0.5 added up.

>>> import numpy as np
>>> a = lambda v: np.array([v])
>>> part = Part(1, a(0.125), a(0.0), a(1024.0), a(0.25), a(1.0),
...             {0: (np.array([1024.0]), np.array([0.25]))})
>>> summed_errors([part, part], a(1024.0))  # (delta, relative): 0.25 + 1,024 / 8,192
{0: (0.25, 0.0001220703125)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Part", "summed_errors"]


@dataclass(frozen=True)
class Part:
    """One group of units' bound per direction (:func:`.bounds_mlps._group_error`)."""

    plan: object | None  # the separable plan it is a part of (None: not a part)
    delta: np.ndarray  # [d_model]: the error where its value is 0 ...
    relative: np.ndarray  # [d_model]: ... and more, per unit of its value
    biggest: np.ndarray  # [d_model]: its largest |value|
    whole: np.ndarray  # [d_model]: its error at all
    signs: np.ndarray  # [d_model]: 1 or -1 where every value has that sign, else 0
    samples: Mapping[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # a part's (|value|, error) where its value is not 0, per direction it writes


def summed_errors(groups: Sequence[Part], largest: np.ndarray) -> dict[int, tuple[float, float]]:
    """Direction -> (error, relative) where the parts of one separable plan alone write
    values, all of one sign; ``largest``: each direction's largest exact ``|value|``."""
    found: dict[int, tuple[float, float]] = {}
    for plan in {id(g.plan): g.plan for g in groups if g.plan is not None}.values():
        mine = [g for g in groups if g.plan is plan]
        others = [g.biggest > 0 for g in groups if g.plan is not plan]
        written = np.any([g.biggest > 0 for g in mine], axis=0)
        shared = np.any(others, axis=0) if others else np.zeros_like(written)
        up = np.all([(g.biggest == 0) | (g.signs > 0) for g in mine], axis=0)
        down = np.all([(g.biggest == 0) | (g.signs < 0) for g in mine], axis=0)
        for d in np.flatnonzero(written & ~shared & (up | down)).tolist():
            rest = sum(float(g.whole[d]) for g in groups if g.plan is not plan)
            error, relative = _split(mine, d, float(largest[d]))
            found[d] = (rest + error, relative)
    return found


def _split(parts: Sequence[Part], d: int, largest: float) -> tuple[float, float]:
    """The parts' error at direction ``d`` as (delta, relative), one ``relative`` for
    all: each part's delta is then the most its error exceeds ``relative`` times its
    value. The sum at ``largest`` is convex in ``relative`` and bends only where a
    part's does: at the slopes of the upper hulls of the parts' (value, error) points."""
    points = [_points(p, d) for p in parts]
    slopes = np.unique(np.concatenate([[0.0], *(_hull_slopes(*xy) for xy in points)]))
    slopes = slopes[slopes >= 0]  # [candidates]
    deltas = np.zeros(len(slopes))
    for size, error in points:
        deltas += (error[None, :] - slopes[:, None] * size[None, :]).max(axis=1)
    best = int(np.argmin(deltas + slopes * largest))
    return float(deltas[best]), float(slopes[best])


def _points(part: Part, d: int) -> tuple[np.ndarray, np.ndarray]:
    """A part's (|value|, error) points at ``d``: its error where the value is 0 first."""
    size, error = part.samples.get(d, (np.zeros(0), np.zeros(0)))
    return np.append(0.0, size), np.append(float(part.delta[d]), error)


def _hull_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The slopes of the edges of the upper hull of points ``(x, y)``."""
    order = np.lexsort((-y, x))
    hull: list[tuple[float, float]] = []
    for px, py in zip(x[order].tolist(), y[order].tolist(), strict=True):
        if hull and hull[-1][0] == px:
            continue  # the highest point at this x came first
        while len(hull) >= 2 and _turns_up(hull[-2], hull[-1], (px, py)):
            hull.pop()
        hull.append((px, py))
    return np.array(
        [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(hull[:-1], hull[1:], strict=True)]
    )


def _turns_up(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
    """Whether ``b`` lies on or below the line from ``a`` to ``c`` (then not on the hull)."""
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) >= 0
