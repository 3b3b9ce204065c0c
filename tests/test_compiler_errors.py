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


# ------------------------------------------------ a check that compares nothing is not a pass


def test_a_program_the_evaluator_always_rejects_is_not_verified():
    """The audit's case: every sampled input fails in the evaluator, so nothing was compared."""
    with pytest.raises(CompileError) as err:
        compile_program(map(lambda x: 1 / 0, tokens), [1, 2, 3], 4)
    text = str(err.value)
    assert "the evaluator rejected all 64 sampled inputs" in text
    assert "ZeroDivisionError" in text and "verify=0" in text


def test_a_negative_verify_is_refused_by_name():
    with pytest.raises(CompileError, match=r"verify must be a non-negative int .* got -5"):
        compile_program(tokens, "ab", 4, verify=-5)


def test_verification_of_no_input_is_not_exact():
    from rasplab.compiler import verify

    double = map(lambda x: 2 * x, tokens)
    model = compile_program(double, [1, 2, 3], 4)
    strict = map(lambda x: 1 / (x - 1), tokens)
    result = verify(model, strict, inputs=[[1], [2, 1]])
    assert not result.exact
    assert (result.n_inputs, result.n_rejected) == (0, 2)
    assert result.first_rejection.startswith("[1]: EvaluationError")
    assert result.fraction == 0.0


def test_rejected_inputs_are_counted_apart_in_the_model_info():
    strict = map(lambda x: 1 / (x - 1), tokens)  # rejects every input holding a 1
    model = compile_program(strict, [1, 2, 3], 4, verify=64)
    checked = model.info.verified
    assert checked.n_rejected > 0 and checked.n_inputs > 0
    assert checked.n_inputs + checked.n_rejected == 64
    assert checked.n_exact == checked.n_inputs and checked.exact


# ------------------------------------------------ memory limits


def test_a_huge_max_seq_len_is_refused_before_allocating():
    from rasplab.errors import ResourceLimitError

    with pytest.raises(ResourceLimitError) as err:
        compile_program(tokens, "ab", 100_000)
    text = str(err.value)
    assert "max_seq_len 100000" in text and "max_bytes=" in text and "--max-memory" in text


def test_the_memory_limit_is_an_argument():
    from rasplab.errors import ResourceLimitError

    reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
    with pytest.raises(ResourceLimitError, match="memory limit of 1000 bytes"):
        compile_program(reverse, "ab", 64, max_bytes=1000)
    assert compile_program(reverse, "ab", 64, max_bytes=None)("ab") == ["b", "a"]
    with pytest.raises(CompileError, match="max_bytes must be a positive int"):
        compile_program(reverse, "ab", 64, max_bytes=0)


def test_the_memory_estimate_is_a_lower_bound():
    """A refusal is never a false alarm: the compile really allocates at least the estimate."""
    import tracemalloc

    from rasplab.compiler.budget import compile_bytes

    reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
    counts = selector_width(select(tokens, tokens, "==") & select(indices, indices, "<="))
    for program in (reverse, counts, tokens):
        tracemalloc.start()
        compile_program(program, "ab", 120, verify=0, max_bytes=None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert sum(compile_bytes(program, 120).values()) <= peak
