"""Tables over numbers that are a few comparisons with constants, printed as such.

A learned table of two shares prints as thousands of entries. Where, on every
entry the training data reach, it is a short chain of tests of one input
against a constant, it prints as that chain: dyck1's output over the share of
openers so far (``a``) and the share of earlier places that went below one half
(``b``) becomes

    "F" if b > 0 else ("F" if a < 1/2 else ("P" if a > 1/2 else "T"))

in place of its 6,561 entries. A mean head's set of counted values is printed
the same way where it is exactly the values passing one test (``x < 1/2``).

Tests are tried simplest constant first (the fraction of smallest denominator
between two neighbouring values, as in :mod:`.thresholds`), so where the data
leave a boundary open it falls on the simplest number. Entries the data never
reach take the chain's value.

>>> shares = [(0.0,), (0.25,), (0.5,), (0.75,), (1.0,)]
>>> chain = decision_list(shares, ["F", "F", "T", "P", "P"], [True] * 5)
>>> chain[0]
'"F" if a < 1/2 else ("P" if a > 1/2 else "T")'
>>> [chain[1](x) for x in (0.4, 0.5, 0.6)]
['F', 'T', 'P']
>>> ones_test((0.0, 0.25, 0.5, 0.75), (0, 1))
'x < 1/2'
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["decision_list", "ones_test", "MAX_TESTS"]

MAX_TESTS = 3  # comparisons in a chain: four outcomes at most
MAX_CELLS = 20_000_000  # (test, entry) pairs the search may hold (bools)
BRANCHES = 6  # tests tried at each step of the search (simplest first)
MAX_DENOMINATOR = 1000  # a constant needing a larger one is not printed as a fraction

Test = tuple[int, str, Fraction]  # (input, comparison, constant)
_PYTHON = {"<": operator.lt, ">": operator.gt, "==": operator.eq}
_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<": np.less,
    ">": np.greater,
    "==": np.equal,
}


def decision_list(
    grid: Sequence[tuple[Any, ...]], old: Sequence[Any], seen: Sequence[bool] | np.ndarray
) -> tuple[str, Callable[..., Any]] | None:
    """A chain of at most MAX_TESTS tests equal to ``old`` wherever ``seen``: its text over
    ``a`` (and ``b``) and its function; None if there is none or an input is not a number."""
    points = np.asarray(grid, dtype=object)
    if not all(_number(v) for v in points.flatten()):
        return None
    x = points.astype(np.float64)  # [entries, inputs]
    first: dict[tuple[str, Any], int] = {}
    codes = np.asarray([first.setdefault(_key(v), i) for i, v in enumerate(old)])
    rows = np.flatnonzero(np.asarray(seen, dtype=bool))
    tests = _tests(x)
    if len(tests) * len(x) > MAX_CELLS:
        return None  # a table this large stays a table
    masks = np.stack([_holds(x, t) for t in tests]) if tests else np.zeros((0, len(x)), bool)
    found = None
    for depth in range(1, MAX_TESTS + 1):  # the shortest chain there is
        found = _chain(masks, codes, rows, depth)
        if found is not None:
            break
    if found is None or not rows.size:
        return None
    steps, last = found
    chain = [(tests[i], old[int(c)]) for i, c in steps]
    return _text(chain, old[last]), _function(chain, old[last])


def ones_test(values: Sequence[Any], ones: Sequence[int]) -> str | None:
    """``ones`` (codes of ``values``) as one test of ``x``, where exactly the values passing
    it are counted; None if no test is."""
    if len(values) < 3 or not all(_number(v) for v in values):
        return None
    x = np.asarray(values, dtype=np.float64)[:, None]
    want = np.isin(np.arange(len(values)), list(ones))
    for test in _tests(x):
        if (_holds(x, test) == want).all():
            return _test_text(test, "x")
    return None


Chain = tuple[list[tuple[int, int]], int]  # (test index, label code) per step, last label


def _chain(masks: np.ndarray, codes: np.ndarray, rows: np.ndarray, depth: int) -> Chain | None:
    """((test, label code) per step, last label code) on ``rows`` in at most ``depth``
    tests, or None. At each step the first BRANCHES tests (simplest first) that send
    some rows, all of one label, out of the chain are tried."""
    present = np.unique(codes[rows])
    if len(present) <= 1:
        return [], int(present[0]) if len(present) else 0
    if depth == 0:
        return None
    hits = masks[:, rows]  # [tests, rows]
    onehot = codes[rows][:, None] == present[None, :]  # [rows, labels]
    counts = hits.astype(np.int64) @ onehot  # [tests, labels]
    n = hits.sum(axis=1)
    pure = np.flatnonzero(((counts > 0).sum(axis=1) == 1) & (n > 0) & (n < len(rows)))
    for i in pure[:BRANCHES].tolist():
        rest = _chain(masks, codes, rows[~hits[i]], depth - 1)
        if rest is not None:
            label = int(present[np.argmax(counts[i])])
            return [(i, label), *rest[0]], rest[1]
    return None


def _tests(x: np.ndarray) -> list[Test]:
    """Every test of one input against a constant, simplest constant first: below or
    above a boundary between neighbouring values, or equal to a value."""
    found: list[tuple[tuple[int, int], Test]] = []
    for j in range(x.shape[1]):
        values = np.unique(x[:, j])
        for v in values:
            c = _fraction(float(v))
            if c is not None:
                found.append(((c.denominator, 2), (j, "==", c)))
        for low, high in zip(values[:-1], values[1:], strict=True):
            below = _between(float(low), float(high), upper=True)  # x < c: x <= low
            if below is not None:
                found.append(((below.denominator, 0), (j, "<", below)))
            above = _between(float(low), float(high), upper=False)  # x > c: x >= high
            if above is not None:
                found.append(((above.denominator, 1), (j, ">", above)))
    found.sort(key=lambda item: item[0])
    return [t for _, t in found]


def _between(low: float, high: float, upper: bool) -> Fraction | None:
    """The fraction of smallest denominator in ``(low, high]`` (``upper``) or in
    ``[low, high)``, its float in there too, so that the printed test splits the values
    where the search did."""
    for q in range(1, MAX_DENOMINATOR):
        p = math.floor(low * q) + (1 if upper else 0)
        for k in (p, p + 1):
            c = k / q
            if (low < c <= high) if upper else (low <= c < high):
                return Fraction(k, q)
    return None


def _fraction(v: float) -> Fraction | None:
    """``v`` as a fraction whose printed form ``p/q`` evaluates to ``v`` exactly."""
    c = Fraction(v).limit_denominator(MAX_DENOMINATOR)
    return c if c.numerator / c.denominator == v else None


def _holds(x: np.ndarray, test: Test) -> np.ndarray:
    j, op, c = test
    return _OPS[op](x[:, j], c.numerator / c.denominator)


def _test_text(test: Test, name: str) -> str:
    j, op, c = test
    constant = str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"
    return f"{name} {op} {constant}"


def _text(chain: list[tuple[Test, Any]], last: Any) -> str:
    text = _literal(last)
    for test, label in reversed(chain):
        inner = f"({text})" if " if " in text else text
        text = f"{_literal(label)} if {_test_text(test, 'ab'[test[0]])} else {inner}"
    return text


def _function(chain: list[tuple[Test, Any]], last: Any) -> Callable[..., Any]:
    def decide(*args: Any) -> Any:
        for (j, op, c), label in chain:
            # as the printed lambda compares: the input as it is, against p / q
            if _PYTHON[op](args[j], c.numerator / c.denominator):
                return label
        return last

    return decide


def _literal(v: Any) -> str:
    """A label as Python and RASP both read it (strings in double quotes)."""
    return json.dumps(v) if isinstance(v, str) else repr(v)


def _number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _key(v: Any) -> tuple[str, Any]:
    return ("bool", v) if isinstance(v, bool) else ("value", v)
