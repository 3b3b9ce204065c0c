"""Every ``tests/rasp/*.rasp`` program, checked against the expectations it carries.

Expectation comments (values are JSON, so ``1`` and ``1.0`` and ``true`` differ):

* ``# expect: NAME INPUT -> OUTPUT``: the s-op (or selector) NAME on INPUT.
* ``# expect: NAME = VALUE``: an eagerly computed value.
* ``# expect-error: NAME INPUT -> ErrorClass: text``: evaluating NAME fails so.
* ``# expect-load-error: ErrorClass: text``: running the file fails so.
* ``# expect-token-type: TYPE``, ``# expect-output: NAME``, ``# expect-missing: NAME``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import rasplab.errors
import rasplab.syntax.errors
from rasplab.syntax import load

HERE = Path(__file__).parent / "rasp"
PROGRAMS = sorted(HERE.glob("*.rasp"))
EXPECT = re.compile(r"^#\s*(expect[a-z-]*):\s*(.*?)\s*$")
CALL = re.compile(r"^([A-Za-z_]\w*)\s+(.*?)\s+->\s+(.*)$")
VALUE = re.compile(r"^([A-Za-z_]\w*)\s*=\s*(.*)$")


def expectations(path: Path) -> list[tuple[str, str]]:
    found = []
    for line in path.read_text().splitlines():
        match = EXPECT.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


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


def error_class(name: str) -> type:
    for module in (rasplab.errors, rasplab.syntax.errors):
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"unknown error class {name}")


def check_error(err: Exception, spec: str) -> None:
    cls_name, _, text = spec.partition(":")
    assert isinstance(err, error_class(cls_name.strip())), repr(err)
    assert text.strip() in str(err), str(err)


def test_there_are_enough_programs():
    assert len(PROGRAMS) >= 40
    for path in PROGRAMS:
        assert expectations(path), f"{path.name} has no expectations"


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program(path: Path):
    specs = expectations(path)
    load_errors = [s for kind, s in specs if kind == "expect-load-error"]
    if load_errors:
        with pytest.raises(rasplab.errors.RaspError) as info:
            load(path)
        check_error(info.value, load_errors[0])
        return
    prog = load(path)
    for kind, spec in specs:
        check_one(prog, kind, spec)


def check_one(prog, kind: str, spec: str) -> None:
    if kind == "expect-token-type":
        assert prog.token_type == spec
    elif kind == "expect-output":
        assert prog.output_name == spec
    elif kind == "expect-missing":
        assert spec not in prog
    elif kind == "expect-error":
        name, raw, outcome = CALL.match(spec).groups()
        with pytest.raises(rasplab.errors.RaspError) as info:
            prog.evaluate(json.loads(raw), name)
        check_error(info.value, outcome)
    elif kind == "expect" and CALL.match(spec):
        name, raw, want = CALL.match(spec).groups()
        got = evaluate_named(prog, name, json.loads(raw))
        assert same(got, json.loads(want)), f"{name}({raw}) = {got!r}, want {want}"
    elif kind == "expect":
        name, want = VALUE.match(spec).groups()
        assert same(prog[name], json.loads(want)), f"{name} = {prog[name]!r}, want {want}"
    else:
        raise AssertionError(f"unknown expectation {kind}")


def evaluate_named(prog, name: str, raw):
    from rasplab import evaluate
    from rasplab.lang.nodes import Selector

    node = prog[name]
    if isinstance(node, Selector):
        return evaluate(node, prog.read_input(raw))
    return prog.evaluate(raw, name)
