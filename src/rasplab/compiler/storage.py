"""How a value sits in the residual stream, and which stored view of an s-op a feature is.

A :class:`Storage` says how a feature, an MLP leaf or an MLP target is laid
out: one direction per value (``ONE_HOT``) or one direction holding a number
(``SCALAR``). A :class:`View` names which version of an s-op the planner
stores: its one-hot, its scalar, or - for a count - the raw ``B / (B + width)``
its head writes, a scalar that an MLP decodes.

>>> View.COUNT_WEIGHT.storage
<Storage.SCALAR: 'scalar'>
>>> sorted([View.COUNT_WEIGHT, View.ONE_HOT, View.SCALAR], key=View.rank)
[<View.ONE_HOT: 'one-hot'>, <View.SCALAR: 'scalar'>, <View.COUNT_WEIGHT: 'count-weight'>]
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Storage", "View"]


class Storage(Enum):
    ONE_HOT = "one-hot"  # one direction per value, 1 on the value held
    SCALAR = "scalar"  # one direction holding a number per value


class View(Enum):
    ONE_HOT = "one-hot"  # the s-op one-hot
    SCALAR = "scalar"  # the s-op's value as one number
    COUNT_WEIGHT = "count-weight"  # a count head's raw output, B / (B + width)
    SQUARE = "square"  # the s-op's value squared: a quadratic score's second number

    @property
    def storage(self) -> Storage:
        return Storage.ONE_HOT if self is View.ONE_HOT else Storage.SCALAR

    def rank(self) -> int:
        """A fixed order of views, so that plans list their MLPs the same way every time."""
        return _RANKS[self]


_RANKS = {view: k for k, view in enumerate(View)}
