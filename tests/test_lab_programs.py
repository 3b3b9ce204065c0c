"""The lab's programs: each library program in the surface language agrees with lib:NAME."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from rasplab import analyse
from rasplab.evaluate import evaluate
from rasplab.lab.programs import catalog_programs, program_source
from rasplab.library import PROGRAMS
from rasplab.syntax import parse

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = 60  # random inputs per program, lengths 1 to 8, from the library's own sampler


def _same(a: list, b: list, numerical: bool) -> bool:
    if not numerical:
        return a == b
    if len(a) != len(b):
        return False
    return all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(a, b, strict=True))


def test_every_library_program_has_a_surface_language_version():
    assert {p["name"] for p in catalog_programs()["library"]} == set(PROGRAMS)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_surface_version_gives_the_library_outputs(name):
    entry = PROGRAMS[name]
    program = parse(program_source("library", name))
    ours, theirs = program.output, entry.build()
    rng = random.Random(name)
    for _ in range(SAMPLES):
        xs = list(entry.sample(rng, rng.randint(max(1, entry.min_len), 8)))
        got = evaluate(ours, program.read_input(xs))
        want = evaluate(theirs, xs)
        assert _same(got, want, entry.numerical), (name, xs, got, want)
    for example in entry.examples:
        xs = list(example)
        assert _same(evaluate(ours, program.read_input(xs)), entry.reference(xs), entry.numerical)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_surface_version_has_the_library_layers_and_heads(name):
    program = parse(program_source("library", name))
    ours = analyse(program.output).heads_per_layer
    assert ours == analyse(PROGRAMS[name].build()).heads_per_layer


def test_shipped_examples_are_the_repository_examples():
    shipped = {p["name"]: p["source"] for p in catalog_programs()["examples"]}
    repository = {p.stem: p.read_text() for p in (ROOT / "examples").glob("*.rasp")}
    assert shipped == repository


def test_each_example_runs_on_its_own_input():
    for example in catalog_programs()["examples"]:
        program = parse(example["source"])
        assert program.evaluate(example["input"]), example["name"]
