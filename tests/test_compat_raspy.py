"""raspy's programs on rasplab: the sum rule, recorded raspy outputs, a differential check."""

from __future__ import annotations

import pytest

from rasplab import evaluate, indices, select, tokens
from rasplab.evaluate.naive import naive_evaluate
from rasplab.lang.nodes import Aggregate

# ---------------------------------------------------------------- the aggregation rule

SUM_CASES = {
    # input, selector predicate (indices vs indices), expected (typed)
    "none selected gives the default": ([1, 2], "false", ["-", "-"]),
    "one bool stays a bool": ([True, False, True], "<", ["-", True, 1]),
    "several bools sum as ints": ([True, True, True], "true", [3, 3, 3]),
    "one string is returned": (["a", "b"], "==", ["a", "b"]),
    "ints and floats sum as Python does": ([1, 2.5, 3], "<=", [1, 3.5, 6.5]),
}


@pytest.mark.parametrize("label", sorted(SUM_CASES))
def test_sum_mode_is_raspys_rule(label: str) -> None:
    xs, predicate, want = SUM_CASES[label]
    program = Aggregate(select(indices, indices, predicate), tokens, default="-", mode="sum")
    for got in (evaluate(program, xs), naive_evaluate(program, xs)):
        assert [(type(v), v) for v in got] == [(type(v), v) for v in want], label
