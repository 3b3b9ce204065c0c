"""The standard library, written in RASP, against plain-Python references."""

from __future__ import annotations

import random

import pytest

from rasplab import analyse, evaluate
from rasplab.syntax import LIBRARY_NAMES, parse, stdlib_source

STDLIB = [
    "full_s",
    "length",
    "selector_width",
    "has_focus",
    "count",
    "contains",
    "max",
    "min",
    "average",
    "load_from_location",
    "shift",
    "mark_first_instance",
    "mark_last_instance",
    "select_from_first",
    "select_from_last",
    "sort",
    "select_next_identical",
]

PROGRAM = parse(
    """
    tokens = tokens_int;
    n = length;
    width_lt = selector_width(select(tokens, tokens, <));
    focus = has_focus(select(tokens, 0, ==));
    n_zeros = count(tokens, 0);
    has_two = contains(tokens, 2);
    bigger = max(tokens, indices);
    smaller = min(tokens, 1);
    mean = average(tokens);
    gathered = load_from_location(tokens, (indices * 2) % length);
    shifted = shift(tokens, 2, -1);
    first_one = mark_first_instance(tokens, 1);
    last_one = mark_last_instance(tokens, 1);
    from_first = aggregate(select_from_first(tokens, 1), indices, -1);
    from_last = aggregate(select_from_last(tokens, 1), indices, -1);
    sorted_desc = sort(tokens, -tokens);
    next_same = aggregate(select_next_identical(tokens), indices, -1);
    everywhere = selector_width(full_s);
    """
)


def mean(xs):
    return xs[0] if len(xs) == 1 else sum(xs) / len(xs)


def references(xs: list[int]) -> dict[str, list]:
    n = len(xs)
    first = xs.index(1) if 1 in xs else None
    last = n - 1 - xs[::-1].index(1) if 1 in xs else None
    return {
        "n": [n] * n,
        "width_lt": [sum(k < q for k in xs) for q in xs],
        "focus": [0 in xs] * n,
        "n_zeros": [xs.count(0)] * n,
        "has_two": [2 in xs] * n,
        "bigger": [max(x, i) for i, x in enumerate(xs)],
        "smaller": [min(x, 1) for x in xs],
        "mean": [mean(xs)] * n,
        "gathered": [xs[(2 * i) % n] for i in range(n)],
        "shifted": [xs[i - 2] if i >= 2 else -1 for i in range(n)],
        "first_one": [i == first for i in range(n)],
        "last_one": [i == last for i in range(n)],
        "from_first": [first if first is not None else -1] * n,
        "from_last": [last if last is not None else -1] * n,
        "sorted_desc": [x for _, x in sorted(((-x, i), x) for i, x in enumerate(xs))],
        "next_same": [next((j for j in range(i + 1, n) if xs[j] == xs[i]), -1) for i in range(n)],
        "everywhere": [n] * n,
    }


def same(got, want):
    return type(got) is type(want) and got == want


@pytest.mark.parametrize("seed", range(40))
def test_stdlib_matches_python_references(seed):
    rng = random.Random(seed)
    xs = [rng.randint(0, 3) for _ in range(rng.randint(1, 9))]
    for name, want in references(xs).items():
        got = PROGRAM.evaluate(xs, name)
        assert all(same(g, w) for g, w in zip(got, want, strict=True)), (name, xs, got, want)


def test_every_library_name_is_available_and_reserved():
    assert set(STDLIB) == LIBRARY_NAMES
    for name in STDLIB:
        assert name in PROGRAM


def test_stdlib_is_rasp_source_shipped_with_the_package():
    source = stdlib_source()
    for name in set(STDLIB) - {"full_s", "length", "selector_width"}:
        assert f"def {name}(" in source


def test_library_costs_match_the_classic_definitions():
    # length: one select-all head; selector_width: one head; count: length and
    # the mean share the select-all head.
    assert analyse(PROGRAM["n"]).heads_per_layer == (1,)
    assert analyse(PROGRAM["width_lt"]).heads_per_layer == (1,)
    assert analyse(PROGRAM["n_zeros"]).heads_per_layer == (1,)
    assert analyse(PROGRAM["sorted_desc"]).heads_per_layer == (1, 1)
    assert analyse(PROGRAM["shifted"]).heads_per_layer == (1,)


def test_sort_is_stable_on_strings():
    prog = parse('s = sort(tokens, tokens == "b");')
    assert evaluate(prog.s, list("abab")) == ["a", "a", "b", "b"]
