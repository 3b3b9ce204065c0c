"""Equalities of wide computed integers tested digit by digit (digits.py)."""

from __future__ import annotations

from rasplab import aggregate, indices, select, selector_width, tokens
from rasplab.compiler import compile_program, verify
from rasplab.compiler.digits import DIGITS_ABOVE, split_equalities
from rasplab.compiler.value_sets import infer

VOCAB = list(range(100))
SHIFTED = tokens.map(lambda t: 3 * t - 150).named("shifted")  # -150 .. 147, 100 values


def test_a_count_over_a_wide_equality_is_proved_on_every_input():
    same = selector_width(select(SHIFTED, SHIFTED, "==")).named("same")
    model = compile_program(same, VOCAB, 2, verify=50)  # 10,100 inputs: all compared
    certificate = model.info.certificate
    assert certificate.status == "proved" and certificate.n_enumerated == 10_100
    assert any("tested as two digits in base 18" in n for n in model.info.notes)
    assert not any(d.startswith("shifted:") for d in model.directions)
    assert {"shifted.low", "shifted.high"} <= set(model.directions)  # the digits as numbers


def test_keys_and_queries_of_different_s_ops_share_one_offset_and_base():
    # float32 keeps the gap of a select of numbers up to about +-550 only: these split
    wide = tokens.map(lambda t: 20 * t - 1000).named("wide")
    later = tokens.map(lambda t: 20 * t - 980).named("later")  # wide + 20
    moved = aggregate(select(wide, later, "=="), tokens, default=-1)
    model = compile_program(moved, VOCAB, 3, verify=300)
    assert any(n.startswith("wide == later tested as two digits") for n in model.info.notes)
    assert verify(model, moved, 300).exact


def test_narrow_or_positional_equalities_stay_as_they_are():
    narrow = selector_width(select(tokens, tokens, "=="))
    assert split_equalities(narrow, infer(narrow, list(range(DIGITS_ABOVE)), 4), False) is None
    wide = selector_width(select(SHIFTED, SHIFTED, "=="))
    assert split_equalities(wide, infer(wide, VOCAB, 4), False) is not None


def test_an_equality_under_an_or_stays_whole():
    # sort's tie-break: lowering counts the two exclusive parts with two heads
    ties = select(SHIFTED, SHIFTED, "==") & select(indices, indices, "<")
    rank = selector_width(select(SHIFTED, SHIFTED, "<") | ties)
    assert split_equalities(rank, infer(rank, VOCAB, 4), False) is None


def test_after_a_float32_failure_numbers_that_would_compare_are_split_too():
    # 70 values: float32 compares them as numbers, so only `always` splits them
    moderate = tokens.map(lambda t: t + 1).named("moderate")
    program = aggregate(select(moderate, moderate, "=="), tokens, default=-1)
    vocab = list(range(70))
    values = infer(program, vocab, 4)
    assert split_equalities(program, values, False) is None
    found = split_equalities(program, values, False, always="as a test asks")
    assert found is not None and found.notes[0].endswith(": as a test asks")
    # positions compare exactly in any float type: they stay whole even then
    positions = aggregate(select(indices, indices, "=="), tokens, default=-1)
    at_100 = infer(positions, [0, 1], 100)
    assert split_equalities(positions, at_100, False, always="as a test asks") is None


def test_keys_agreeing_on_both_digits_of_the_position_are_one_key():
    from rasplab.library import PROGRAMS

    entry = PROGRAMS["add"]  # indices == a_source is tested as two digits at 64
    model = compile_program(entry.build(), list(entry.vocab), 64, sample=entry.sample)
    assert any(n.startswith("indices == a_source tested as two digits") for n in model.info.notes)
    still_open = model.info.certificate.open
    assert not any("a_digits" in item for item in still_open), still_open
    # one '+' per input is the declared domain's, which no value set shows: that stays open
    assert any("aggregate plus_at" in item for item in still_open)


def _wide_enough_for_float32():
    """A computed equality over 70 values: float32 compares it as numbers at length 4."""
    moderate = tokens.map(lambda t: t + 1).named("moderate")
    return aggregate(select(moderate, moderate, "=="), tokens, default=-1)


def test_a_model_exact_in_float64_only_is_built_again_in_digits(monkeypatch):
    from rasplab.compiler import driver

    real = driver._verified

    def first_drifts(job, *built):  # the first build drifts in float32; digits do not
        if job.all_digits is None:
            raise driver._Float32Only("moderate drifts", "3/64")
        return real(job, *built)

    monkeypatch.setattr(driver, "_verified", first_drifts)
    model = compile_program(_wide_enough_for_float32(), list(range(70)), 4)
    chosen = [n for n in model.info.notes if "chosen after the check" in n]
    assert len(chosen) == 1 and chosen[0].startswith("moderate == moderate tested as two")


def test_when_digits_drift_too_the_refusal_says_what_was_tried(monkeypatch):
    import pytest

    from rasplab.compiler import driver
    from rasplab.errors import CompileError

    def drifts(job, *built):
        raise driver._Float32Only("moderate drifts", "3/64")

    monkeypatch.setattr(driver, "_verified", drifts)
    with pytest.raises(CompileError) as err:
        compile_program(_wide_enough_for_float32(), list(range(70)), 4)
    text = str(err.value)
    assert text.startswith("moderate drifts\n")
    assert text.endswith(
        "(built again with its equalities of computed integers over 64 values tested as "
        "digits: exact in float64 only again (3/64 sampled inputs in float32))"
    )
    assert type(err.value) is CompileError  # not the private class


def test_with_nothing_to_split_the_first_refusal_stands_alone(monkeypatch):
    import pytest

    from rasplab.compiler import driver
    from rasplab.errors import CompileError

    def drifts(job, *built):
        raise driver._Float32Only("tokens drift", "0/64")

    monkeypatch.setattr(driver, "_verified", drifts)
    narrow = aggregate(select(tokens, tokens, "=="), tokens, default=-1)
    with pytest.raises(CompileError, match=r"^tokens drift$"):
        compile_program(narrow, [0, 1, 2], 4)


def test_a_side_that_is_the_other_plus_a_constant_is_read_as_its_digits_moved():
    # dyck2's opener compares depth_index with depth_index - 1: the query's digits are
    # depth_index's own, offset by one, never a decoded depth_index - 1
    plus3 = SHIFTED.map(lambda v: v + 3).named("plus3")
    program = aggregate(select(SHIFTED, plus3, "=="), tokens, default=-1)
    found = split_equalities(program, infer(program, VOCAB, 3), False, always="as asked")
    assert found is not None
    reads = {n.label: n for n in _nodes(found.program)}
    assert "plus3.high.cut" in reads and "plus3" not in reads
    assert reads["plus3.high.cut"].inner.label == "shifted"  # read from shifted itself
    assert reads["plus3.low.cut"].inputs[0].label == "shifted"
    assert split_equalities(program, infer(program, VOCAB, 3), False) is None  # numbers do
    model = compile_program(found.program, VOCAB, 3, verify=300)
    assert "plus3" not in model.directions
    assert verify(model, program, 300).exact  # against the program as written


def _nodes(program):
    from rasplab.lang.graph import topological_order

    return topological_order(program)
