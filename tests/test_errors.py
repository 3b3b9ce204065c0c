"""Every way bad input can fail raises a RaspError naming the operation, position and values."""

import pytest

from rasplab import aggregate, evaluate, evaluate_batch, indices, map, select, tokens, zipmap
from rasplab.errors import (
    AggregateError,
    EmptyInputError,
    EvaluationError,
    InputError,
    RaspError,
    RaspTypeError,
)

ALL = select(tokens, tokens, "true")


def test_empty_input():
    with pytest.raises(EmptyInputError, match="empty input"):
        evaluate(tokens, "")
    with pytest.raises(EmptyInputError):
        evaluate_batch(tokens, ["ab", []])


def test_token_of_the_wrong_type():
    with pytest.raises(InputError, match=r"token \[1\] at position 1 .* is a list"):
        evaluate(tokens, [0, [1]])
    with pytest.raises(InputError, match="token None at position 0"):
        evaluate(tokens, [None])
    with pytest.raises(InputError, match="a string .* or a list of tokens, got int"):
        evaluate(tokens, 5)


def test_mixed_types_in_one_sequence():
    with pytest.raises(InputError, match=r"mixes types: position 0 is 1 \(number\) .* 'a' \(str\)"):
        evaluate(tokens, [1, "a"])
    with pytest.raises(InputError, match=r"position 1 is True \(bool\)"):
        evaluate(tokens, [1, True])


def test_averaging_non_numbers():
    agg = aggregate(ALL, tokens).named("avg_tokens")
    with pytest.raises(
        AggregateError, match=r"aggregate avg_tokens .* non-numeric values \['a', 'b'\]"
    ):
        evaluate(agg, "ab")


def test_categorical_aggregate_selecting_several_values_names_position():
    upto = select(indices, indices, "<=")
    agg = aggregate(upto, tokens).named("grab")
    with pytest.raises(
        AggregateError, match=r"grab .*\['x', 'y'\] selected at position 1 of input \['x', 'y'\]"
    ):
        evaluate(agg, "xy")


def test_sum_of_strings():
    agg = aggregate(ALL, tokens, mode="sum").named("total")
    with pytest.raises(AggregateError, match=r"total .* can only sum numbers, got \['a', 'b'\]"):
        evaluate(agg, "ab")


def test_max_of_incomparable_values():
    mixed = zipmap(lambda t, i: t if i else 0, tokens, indices)
    agg = aggregate(ALL, mixed, mode="max").named("biggest")
    with pytest.raises(AggregateError, match="biggest"):
        evaluate(agg, "ab")


def test_map_failure_names_map_value_and_position():
    inv = map(lambda x: 1 / x, indices - 1).named("inverse")
    with pytest.raises(
        EvaluationError, match=r"map inverse .* failed on value 0 at position 1 .*ZeroDivisionError"
    ):
        evaluate(inv, "abc")


def test_zipmap_failure_names_values():
    div = zipmap(lambda a, b: a // b, tokens, indices).named("quot")
    with pytest.raises(EvaluationError, match=r"zipmap quot .* values \(5, 0\) at position 0"):
        evaluate(div, [5, 6])


def test_map_returning_a_non_value():
    bad = map(lambda x: [x], tokens).named("listify")
    with pytest.raises(
        RaspTypeError, match=r"map listify .* returned \['a'\] \(list\) at position 0"
    ):
        evaluate(bad, "ab")


def test_select_on_incomparable_values():
    sel = select(tokens, 1, "<").named("cmp")
    with pytest.raises(RaspTypeError, match=r"select cmp .* cannot compare key 'a' < query 1"):
        evaluate(sel, "a")


def test_evaluate_rejects_non_programs():
    with pytest.raises(RaspTypeError, match="needs an s-op or a selector"):
        evaluate("tokens", "ab")


def test_every_error_is_a_rasp_error():
    for cls in (AggregateError, EmptyInputError, EvaluationError, InputError, RaspTypeError):
        assert issubclass(cls, RaspError)
