"""Which output values decode alike: values that compare equal do not compete.

>>> equal_classes([2, "a", 1, 2.0])
[[2], [0, 3], [1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .verify import same_values

__all__ = ["equal_classes"]


def equal_classes(values: Sequence[Any]) -> list[list[int]]:
    """Indices of ``values`` grouped by equality as verification compares them: numbers
    sorted, each joining the class of the number before it when equal to that class's
    first (floats within 1e-9); other values by ``==``. Numbers come first, in order."""
    numbers = sorted(
        (i for i, v in enumerate(values) if isinstance(v, (int, float))), key=lambda i: values[i]
    )
    classes: list[list[int]] = []
    for i in numbers:
        if classes and same_values([values[classes[-1][0]]], [values[i]]):
            classes[-1].append(i)
        else:
            classes.append([i])
    others: dict[Any, list[int]] = {}
    for i, v in enumerate(values):
        if not isinstance(v, (int, float)):
            others.setdefault(_hashable(v), []).append(i)
    return classes + list(others.values())


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
