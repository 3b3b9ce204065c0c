"""The program library: every catalogue program against its plain-Python reference."""

from __future__ import annotations

import math
import random
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rasplab.library as library
from rasplab import analyse, evaluate_batch
from rasplab.library import PROGRAMS, LibraryProgram, get
from rasplab.library.catalog import _entry

NAMES = sorted(PROGRAMS)
BATCH = 200
MAX_LEN = 24

# The programs the library must offer, each under its catalogue name.
REQUIRED = {
    "length", "reverse", "hist", "double_hist", "sort", "sort_unique", "most_freq",
    "frac_prevs", "shift", "dyck1", "dyck2", "dyck3", "pair_balance", "count", "minimum",
    "first", "index", "ralign", "split", "split_after", "slide", "add",
}  # fmt: skip

# What the analysis reports for the programs beyond the paper's (its docstrings say so too).
SHAPES = {
    "length": (1,),
    "sort_unique": (1, 1),
    "dyck3": (1, 2, 1, 1),
    "frac_prevs": (1,),
    "pair_balance": (1,),
    "count": (1,),
    "index": (1,),
    "shift": (1,),
    "minimum": (1, 1),
    "first": (1, 1),
    "ralign": (1, 1),
    "split": (1, 1, 1),
    "split_after": (1,),
    "slide": (1, 1),
    "add": (2, 1, 1, 1),
}


@cache
def program(name: str):
    return PROGRAMS[name].build()


def same(entry: LibraryProgram, got: list, want: list) -> bool:
    if len(got) != len(want):
        return False
    if entry.numerical:
        return all(
            math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12) for g, w in zip(got, want, strict=True)
        )
    return got == want and [type(g) for g in got] == [type(w) for w in want]


def draw_inputs(entry: LibraryProgram, seed: int, max_len: int) -> list[list]:
    rng = random.Random(seed)
    low = max(1, entry.min_len)
    return [entry.sample(rng, rng.randint(low, max(low, max_len))) for _ in range(BATCH)]


def test_catalogue_has_every_required_program():
    assert not REQUIRED - set(PROGRAMS)
    for name in REQUIRED - {"split_after", "dyck3"}:
        assert name in library.__all__, name


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), max_len=st.integers(1, MAX_LEN))
def test_program_matches_reference_on_random_batches(name, seed, max_len):
    entry = PROGRAMS[name]
    inputs = draw_inputs(entry, seed, max_len)
    outputs = evaluate_batch(program(name), inputs)
    for xs, got in zip(inputs, outputs, strict=True):
        want = entry.reference(list(xs))
        assert same(entry, got, want), f"{name} on {xs!r}: got {got!r}, want {want!r}"


@pytest.mark.parametrize("name", NAMES)
def test_examples_run_and_match(name):
    entry = PROGRAMS[name]
    assert len(entry.examples) >= 2 and entry.summary
    for xs in entry.examples:
        got = entry.build()(xs)
        assert same(entry, got, entry.reference(list(xs))), (name, xs, got)


@pytest.mark.parametrize("name", [n for n in NAMES if PROGRAMS[n].paper is not None])
def test_paper_programs_have_the_papers_shape(name):
    a = analyse(PROGRAMS[name].build())
    assert (a.n_layers, a.heads_per_layer) == PROGRAMS[name].paper


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_other_programs_have_their_documented_shape(name):
    assert PROGRAMS[name].paper is None
    assert analyse(PROGRAMS[name].build()).heads_per_layer == SHAPES[name]


@pytest.mark.parametrize("name", NAMES)
def test_samplers_respect_the_length_and_vocabulary(name):
    entry = PROGRAMS[name]
    rng = random.Random(7)
    for n in range(max(1, entry.min_len), MAX_LEN + 1):
        xs = entry.sample(rng, n)
        assert len(xs) == n
        if name not in ("minimum", "slide"):  # these two mix in tokens beyond the vocab
            assert set(xs) <= set(entry.vocab), (name, xs)


def test_addition_sampler_makes_valid_sums_with_long_carries():
    entry = get("add")
    rng = random.Random(1)
    longest = 0
    for _ in range(500):
        text = "".join(entry.sample(rng, rng.randint(1, MAX_LEN)))
        a, plus, b = text.partition("+")
        assert plus == "+" and (a + b).isdigit() or text == "+"
        nines = max((len(run) for run in text.replace("+", "0").split("0")), default=0)
        longest = max(longest, nines)
    assert longest >= 5


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("683+345", "0001028"),
        ("19492+23919", "00000043411"),
        ("99+1", "0100"),
        ("1+9999", "010000"),
        ("+", "0"),
        ("7+", "07"),
        ("+7", "07"),
        ("0009+0001", "000000010"),
    ],
)
def test_add_examples(text, want):
    assert "".join(library.add()(text)) == want


def test_parameters_change_the_program():
    assert library.shift(offset=2, default=0)([1, 2, 3]) == [0, 0, 1]
    assert library.count(token=2)([2, 1, 2]) == [2, 2, 2]
    assert library.first(token="b", default=None)("aab") == [2, 2, 2]
    assert library.index(-2)("abc") == ["b"] * 3
    assert library.index(-4)("abc") == ["_"] * 3
    assert library.ralign(blank=0)([0, 5, 0, 6]) == [0, 0, 5, 6]
    assert library.split(sep=",", blank="0")("12,3") == list("0012")
    assert library.slide(match="<", default="?")("a<<") == ["a", "?", "?"]
    assert library.pair_balance(open="[", close="]")("[]") == [1, 0.0]
    with pytest.raises(ValueError, match="part"):
        library.split(part=2)


def test_entry_summary_comes_from_the_docstring_unless_given():
    plain = _entry("r", library.reverse, list, "ab", ["ab", "ba"])
    assert plain.summary.startswith("The input backwards")
    assert _entry("r", library.reverse, list, "ab", ["a"], summary="s").summary == "s"


def test_a_program_is_found_by_its_command_line_name_too():
    from rasplab.library.catalog import get

    assert get("lib:sort") is get("sort")
