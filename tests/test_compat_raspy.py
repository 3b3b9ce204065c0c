"""raspy's programs on rasplab: the sum rule, recorded raspy outputs, a differential check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from raspy_programs import programs

from rasplab import evaluate, indices, select, tokens
from rasplab.compat import raspy
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


# ---------------------------------------------------------------- recorded raspy outputs

FIXTURE = Path(__file__).parent / "fixtures" / "raspy" / "blog_programs.json"


def typed(value: Any) -> Any:
    """A value with its type, lists item by item (``1``, ``1.0`` and ``True`` differ)."""
    if isinstance(value, list | tuple):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def test_blog_programs_agree_with_recorded_raspy_outputs() -> None:
    recorded = json.loads(FIXTURE.read_text(encoding="utf-8"))["programs"]
    built = programs(raspy)
    assert set(built) == set(recorded), "fixtures and programs name the same programs"
    compared, disagreements = 0, []
    for name, (program, _) in built.items():
        for case in recorded[name]["cases"]:
            assert "output" in case, f"raspy itself failed on {name}: {case}"
            got = program(case["input"])
            got = got.val if isinstance(got, raspy.Sel) else list(got)
            compared += 1
            if typed(got) != typed(case["output"]):
                disagreements.append((name, case["input"], got, case["output"]))
    assert not disagreements, disagreements[:5]
    assert compared == sum(len(p["cases"]) for p in recorded.values()) >= 35 * 30
