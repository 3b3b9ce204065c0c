"""One CompileError lists every blocker with its fix; bad arguments are refused clearly."""

from __future__ import annotations

import pytest

from rasplab import (
    aggregate,
    indices,
    length,
    map,
    numerical,
    select,
    selector_width,
    tokens,
    zipmap,
)
from rasplab.compiler import compile_program
from rasplab.errors import CompileError, RaspError


def test_compile_error_is_a_rasp_error():
    assert issubclass(CompileError, RaspError)


def test_every_causal_blocker_in_one_error():
    reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
    with pytest.raises(CompileError) as err:
        compile_program(reverse, "abc", 6, causal=True)
    text = str(err.value)
    assert "2 blockers" in text
    assert "length depends on the whole input" in text
    assert "select(indices, indices, '<=')" in text


def test_too_many_values_is_a_blocker_with_advice():
    weight = numerical(map(lambda t: {"a": 0.1, "b": 0.37, "c": 2.9, "d": -1.3}[t], tokens))
    smaller = numerical(aggregate(select(tokens, tokens, "<"), weight))
    with pytest.raises(CompileError) as err:
        compile_program(smaller, "abcd", 64)
    assert "too many distinct values" in str(err.value)
    assert "smaller max_seq_len" in str(err.value)


def test_blockers_from_several_stages_are_merged():
    weight = numerical(map(lambda t: {"a": 0.1, "b": 0.37, "c": 2.9, "d": -1.3}[t], tokens))
    smaller = numerical(aggregate(select(tokens, tokens, "<"), weight))
    with pytest.raises(CompileError) as err:
        compile_program(smaller + length, "abcd", 64, causal=True)
    text = str(err.value)
    assert "length depends" in text and "too many distinct values" in text
    assert text.count("\n  - ") >= 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((tokens, "", 4), "vocabulary is empty"),
        ((tokens, "ab", 0), "max_seq_len"),
        ((select(tokens, tokens, "=="), "ab", 4), "needs an s-op"),
        ((tokens, [["a"]], 4), "vocabulary tokens"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(CompileError, match=message):
        compile_program(*args)


def test_a_count_compiles_where_tracr_needs_care():
    """A width whose values the MLP decodes is exact even for one distinct token."""
    model = compile_program(selector_width(select(tokens, tokens, "==")), "a", 16)
    assert model(["a"] * 16) == [16] * 16


def test_average_with_a_default_that_is_not_a_number_is_a_blocker():
    """The first query selects nothing, so the average would be None there."""
    earlier_a = numerical(
        aggregate(select(indices, indices, "<"), numerical(tokens == "a"), default=None)
    )
    with pytest.raises(CompileError, match="give it a numerical default"):
        compile_program(earlier_a, "ab", 6)
    always = numerical(
        aggregate(select(indices, indices, "<="), numerical(tokens == "a"), default=None)
    )
    assert compile_program(always, "ab", 6)("aab") == [1, 1, 2 / 3]  # BOS never wins


def test_values_apart_by_rounding_only_are_named():
    """a + b gives 2.1666666666666665 and 2.166666666666667 for different pairs: one-hot
    cannot tell them apart, and the blocker says which and how to fix it."""
    third = aggregate(select(length, tokens, "TRUE") | select(length, length, ">"), tokens)
    total = zipmap(lambda a, b: a + b, third, length)
    with pytest.raises(CompileError, match=r"2\.16666666666666\d+ and .* apart; round"):
        compile_program(total, [0, 1, 2], 7)
