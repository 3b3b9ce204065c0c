"""Every s-op the ``.rasp`` example programs check compiles exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rasplab.compiler import compile_program, verify
from rasplab.lang.nodes import SOp

syntax = pytest.importorskip("rasplab.syntax")

HERE = Path(__file__).parent / "rasp"
EXPECT = re.compile(r"^#\s*expect:\s*([A-Za-z_]\w*)\s+(.*?)\s+->\s+(.*)$")


def cases() -> list[tuple[Path, str, list]]:
    found = []
    for path in sorted(HERE.glob("*.rasp")):
        inputs: dict[str, list] = {}
        for line in path.read_text().splitlines():
            match = EXPECT.match(line.strip())
            if match:
                try:
                    xs = json.loads(match.group(2))
                except ValueError:
                    continue
                inputs.setdefault(match.group(1), []).append(list(xs))
        found += [(path, name, xs) for name, xs in inputs.items()]
    return found


def vocab_of(inputs: list[list]) -> list:
    vocab: list = []
    for xs in inputs:
        for t in xs:
            if not any(type(t) is type(v) and t == v for v in vocab):
                vocab.append(t)
    return vocab


@pytest.mark.parametrize(("path", "name", "inputs"), cases(), ids=lambda c: getattr(c, "name", c))
def test_rasp_example_compiles_exactly(path, name, inputs):
    try:
        program = syntax.load(path)
        sop = program[name]
    except Exception:
        pytest.skip("the program does not load or does not define this s-op")
    if not isinstance(sop, SOp):
        pytest.skip("not an s-op")
    n = max(4, max(len(xs) for xs in inputs))
    model = compile_program(sop, vocab_of(inputs), n, verify=40)
    result = verify(model, sop, inputs=inputs)
    if result.n_inputs == 0:  # a comparison of nothing is not a pass
        pytest.skip(f"the evaluator rejects every example input: {result.first_rejection}")
    assert result.exact, str(result)
