"""rasplab against outputs recorded from the original RASP interpreter.

``tests/rasp/reference_outputs.json`` holds what the reference interpreter
printed for the paper's programs and for the ``tests/rasp`` programs, on the
same inputs; rasplab must give the same values, with the same types.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rasplab import evaluate
from rasplab.syntax import load

ROOT = Path(__file__).parent.parent
FIXTURE = json.loads((ROOT / "tests" / "rasp" / "reference_outputs.json").read_text())
EXAMPLES = sorted(FIXTURE["examples"])
PROGRAMS = sorted(FIXTURE["programs"])


def same(got, want) -> bool:
    """Equal values of the same types (ints, floats and bools kept apart)."""
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    if type(got) is not type(want):
        return False
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    return got == want


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_matches_reference(example: str):
    prog = load(ROOT / "examples" / example)
    cases = FIXTURE["examples"][example]["cases"]
    got = prog.evaluate_batch([case["input"] for case in cases])
    for case, values in zip(cases, got, strict=True):
        assert same(values, case["output"]), (case["input"], values, case["output"])


@pytest.mark.parametrize("program", PROGRAMS)
def test_program_matches_reference(program: str):
    prog = load(ROOT / "tests" / "rasp" / f"{program}.rasp")
    for case in FIXTURE["programs"][program]:
        if case["input"] is None:
            got = prog[case["name"]]
        else:
            got = evaluate(prog[case["name"]], prog.read_input(case["input"]))
        assert same(got, case["output"]), (case, got)


def test_every_example_has_reference_outputs():
    on_disk = {p.name for p in (ROOT / "examples").glob("*.rasp")}
    assert on_disk == set(EXAMPLES)
