"""Fuzzing: random and mutated sources raise nothing but ``RaspError`` (syntax errors included)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasplab.errors import RaspError
from rasplab.syntax import Limits, parse
from rasplab.syntax.repl import Repl

ROOT = Path(__file__).parent.parent
CORPUS = [p.read_text() for p in sorted((ROOT / "examples").glob("*.rasp"))] + [
    p.read_text() for p in sorted((ROOT / "tests" / "rasp").glob("*.rasp"))
]
PIECES = [
    "select(",
    "aggregate(",
    "tokens",
    "indices",
    "length",
    "tokens_int",
    "def f(x) {",
    "return",
    "}",
    "{",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "==",
    "<",
    "^",
    "-",
    "not",
    "and",
    "or",
    "if",
    "else",
    "in",
    "for x in",
    "range(",
    "zip(",
    "len(",
    "round(",
    "indicator(",
    '"a"',
    "0",
    "1.5",
    "9",
    "#",
    "\n",
    " ",
    ":",
    "=",
    "True",
    "load",
    "x",
    "f(",
    "full_s",
    "selector_width(",
    "sort(",
    "count(",
    "exit",
    "set example",
    "%",
    "/",
    "*",
    "+",
]
LIMITS = Limits(
    max_call_depth=25,
    max_steps=20_000,
    max_collection=5_000,
    max_int_bits=4_000,
    max_input_length=200,
)
FAST = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def run(source: str) -> None:
    with contextlib.suppress(RaspError):
        parse(source, limits=LIMITS)


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        elif kind == "duplicate":
            text = text[:at] + text[at : at + draw(st.integers(1, 40))] * 2 + text[at + 40 :]
        else:
            end = draw(st.integers(at, len(text)))
            text = text[at:end] + text[:at] + text[end:]
    return text


@FAST
@given(mutated())
def test_mutated_programs_raise_only_rasp_errors(source):
    run(source)


@FAST
@given(st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join))
def test_token_soup_raises_only_rasp_errors(source):
    run(source)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=60))
def test_random_text_raises_only_rasp_errors(source):
    run(source)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(st.lists(mutated().map(lambda s: s[:200]), min_size=1, max_size=3))
def test_the_repl_survives_anything(sources):
    repl = Repl(io.StringIO(), limits=LIMITS)
    for source in sources:
        for line in source.splitlines():
            repl.feed(line)
