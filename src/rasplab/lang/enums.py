"""The small vocabularies of the IR: encodings, select predicates, aggregation modes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DefinitionError

__all__ = ["Encoding", "Comparison", "AggregationMode", "NUMPY_COMPARE"]


class Encoding(enum.Enum):
    """How a compiled model stores an s-op: one-hot per value, or one scalar."""

    CATEGORICAL = "categorical"
    NUMERICAL = "numerical"


class Comparison(enum.Enum):
    """A select predicate, applied as ``predicate(key, query)``."""

    EQ = "=="
    NEQ = "!="
    LT = "<"
    LEQ = "<="
    GT = ">"
    GEQ = ">="
    TRUE = "true"
    FALSE = "false"

    @classmethod
    def parse(cls, predicate: Comparison | str) -> Comparison:
        """Accept a member, its symbol (``"<="``) or its name (``"LEQ"``).

        >>> Comparison.parse("<"), Comparison.parse("TRUE")
        (<Comparison.LT: '<'>, <Comparison.TRUE: 'true'>)
        """
        if isinstance(predicate, Comparison):
            return predicate
        if isinstance(predicate, str):
            text = predicate.strip()
            found = _PREDICATE_ALIASES.get(text) or _PREDICATE_ALIASES.get(text.upper())
            if found is not None:
                return found
        known = ", ".join(repr(c.value) for c in cls)
        raise DefinitionError(f"unknown select predicate {predicate!r}; use one of {known}")

    def __call__(self, key: Any, query: Any) -> bool:
        return bool(_PREDICATE_FUNCTIONS[self](key, query))


_PREDICATE_FUNCTIONS: dict[Comparison, Callable[[Any, Any], Any]] = {
    Comparison.EQ: lambda k, q: k == q,
    Comparison.NEQ: lambda k, q: k != q,
    Comparison.LT: lambda k, q: k < q,
    Comparison.LEQ: lambda k, q: k <= q,
    Comparison.GT: lambda k, q: k > q,
    Comparison.GEQ: lambda k, q: k >= q,
    Comparison.TRUE: lambda k, q: True,
    Comparison.FALSE: lambda k, q: False,
}
_PREDICATE_ALIASES: dict[str, Comparison] = {c.value: c for c in Comparison}
_PREDICATE_ALIASES.update({c.name: c for c in Comparison})
_PREDICATE_ALIASES.update({"TRUE": Comparison.TRUE, "FALSE": Comparison.FALSE, "=": Comparison.EQ})


class AggregationMode(enum.Enum):
    """How an aggregate combines the values its selector picks in one row."""

    MEAN = "mean"  # the paper's semantics (default)
    # raspy's rule: the default if none is selected, the one selected value itself (any
    # type: a bool stays a bool, a string a string), else Python's sum (bools count 0/1)
    SUM = "sum"
    MAX = "max"
    MIN = "min"

    @classmethod
    def parse(cls, mode: AggregationMode | str) -> AggregationMode:
        if isinstance(mode, AggregationMode):
            return mode
        try:
            return cls(str(mode).lower())
        except ValueError:
            known = ", ".join(repr(m.value) for m in cls)
            raise DefinitionError(
                f"unknown aggregation mode {mode!r}; use one of {known}"
            ) from None


# The comparisons numpy runs on whole arrays (the evaluator's and the compiler's fast paths).
NUMPY_COMPARE = {
    Comparison.EQ: np.equal,
    Comparison.NEQ: np.not_equal,
    Comparison.LT: np.less,
    Comparison.LEQ: np.less_equal,
    Comparison.GT: np.greater,
    Comparison.GEQ: np.greater_equal,
}
