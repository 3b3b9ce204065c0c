"""Heads that compare several equalities of integers as numbers, and counts that do."""

from __future__ import annotations

from rasplab import aggregate, indices, select, selector_width, tokens
from rasplab.compiler import compile_program, verify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.quadratic import joint_plan, quadratic_plan
from rasplab.library import PROGRAMS


def test_one_term_plans_as_before():
    single = quadratic_plan(range(0, 1024), range(-1, 1023), 1024)
    centres, joint = joint_plan([(range(0, 1024), range(-1, 1023))], 1024, False)
    assert centres == [single.centre] and joint == single


def test_terms_add_their_integers_and_a_count_needs_rounding_below_its_steps():
    sides = [(range(0, 64), range(0, 64))] * 2
    _, one = joint_plan(sides[:1], 64, computed=True)
    _, two = joint_plan(sides, 64, computed=True)
    assert two.largest == 2 * one.largest and two.rounding == 2 * one.rounding
    _, count = joint_plan(sides[:1], 64, computed=True, count=True)
    assert count.dtype == "float64" and count.rounding * 8 * 64 < 1  # float32 rounds too far


def test_a_count_of_positions_with_an_equal_number_is_exact_as_numbers():
    pair = indices.map(lambda i: i // 3).named("pair")
    width = selector_width(select(pair, pair, "==")).named("width")
    model = compile_program(width, "ab", 48, verify=100)
    assert any(n.startswith("width: keys == queries compared as numbers") for n in model.info.notes)
    assert not any(d.startswith("pair:") for d in model.directions)  # no one-hot pair
    assert model.info.certificate.status == "proved"


def test_causal_dyck2_compares_level_and_index_as_numbers_in_one_head():
    # as first built (proved in float64; a rebuild in digits is proved in float32)
    entry = PROGRAMS["dyck2"]
    model, _ = compile_with_blueprint(entry.build(), entry.vocab, 64, causal=True)
    # level's 129 values: two digits (digits.py), compared as numbers with depth_index
    (note,) = [n for n in model.info.notes if n.startswith("matched_opener: 3 equalities")]
    assert "its other tests one-hot" in note and "needs float32" in note
    assert any(n.startswith("level == level tested as two digits") for n in model.info.notes)
    assert {"depth_index", "depth_index^2", "level.low", "level.high"} <= set(model.directions)
    assert verify(model, entry.build(), 300, sample=entry.sample).exact
    assert model.n_params < 200_000  # one-hot level and index: 2,270,778


def test_a_flag_and_an_equality_select_one_key():
    even = tokens == "a"
    previous_a = aggregate(
        select(even, True, "==") & select(indices, indices - 1, "=="), tokens, "-"
    )
    model = compile_program(previous_a, "ab", 40, verify=200)
    assert any("its other tests one-hot" in n for n in model.info.notes)
    assert verify(model, previous_a, 200).exact
