"""The paper's programs in examples/: values, and the paper's layer/head analysis."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest

from rasplab import analyse
from rasplab import library as lib
from rasplab.cli.rasp_file import run_file
from rasplab.syntax import load, parse

EXAMPLES = Path(__file__).parent.parent / "examples"

# The paper's figures (layers, heads per layer), as the spec lists them.
PAPER = {
    "hist.rasp": (1, (1,)),
    "reverse.rasp": (2, (1, 1)),
    "sort.rasp": (2, (1, 1)),
    "double_hist.rasp": (2, (2, 1)),
    "sort_by_freq.rasp": (3, (2, 1, 1)),
    "dyck1.rasp": (2, (1, 1)),
    "dyck2.rasp": (4, (1, 2, 1, 1)),
}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_analysis_matches_the_paper(name):
    result = analyse(load(EXAMPLES / name).output)
    assert (result.n_layers, result.heads_per_layer) == PAPER[name]


def test_dyck2_with_the_builtin_selector_width_needs_one_head_less():
    source = (EXAMPLES / "dyck2.rasp").read_text()
    source = source.replace("rank = _width_without_bos(", "rank = selector_width(")
    result = analyse(parse(source).output)
    assert result.heads_per_layer == (1, 1, 1, 1)


def test_long_addition_analysis_and_values():
    prog = load(EXAMPLES / "long_addition.rasp")
    assert analyse(prog.output).n_layers == 4
    rng = random.Random(3)
    for _ in range(60):
        a = rng.randint(0, 10 ** rng.randint(1, 6))
        b = rng.randint(a, 10 ** (len(str(a)) + rng.randint(0, 2)))
        text = f"{a}+{b}"
        digits = prog.evaluate(text)
        plus = text.index("+")
        assert digits[:plus] == [0] * plus
        assert int("".join(map(str, digits[plus:]))) == a + b, text


def words(alphabet: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(count)]


@pytest.mark.parametrize(
    ("name", "program", "alphabet"),
    [
        ("hist.rasp", lib.hist(), "abcd"),
        ("reverse.rasp", lib.reverse(), "abcd"),
        ("sort.rasp", lib.sort(), "abcd"),
        ("double_hist.rasp", lib.double_hist(), "abc"),
        ("sort_by_freq.rasp", lib.most_freq(), "abc"),
        ("dyck1.rasp", lib.dyck1(), "()"),
        ("dyck2.rasp", lib.dyck2(), "(){}"),
    ],
)
def test_examples_agree_with_the_python_library(name, program, alphabet):
    inputs = words(alphabet, 80, seed=len(name))
    from rasplab import evaluate_batch

    assert load(EXAMPLES / name).evaluate_batch(inputs) == evaluate_batch(program, inputs)


USAGE = re.compile(r"^#\s+rasplab run examples/(\S+) --input (\S+)\s+->\s+\[(.*)\]$", re.M)


def test_usage_lines_in_the_examples_are_right():
    checked = 0
    for path in sorted(EXAMPLES.glob("*.rasp")):
        for file, raw, shown in USAGE.findall(path.read_text()):
            assert file == path.name
            out = io.StringIO()
            assert run_file(path, input=raw.strip('"'), out=out) == 0
            assert f"= [{shown}]" in out.getvalue(), (path.name, out.getvalue())
            checked += 1
    assert checked >= 8
