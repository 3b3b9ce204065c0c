"""Counts no two positions of one class share (compiler/ranks.py ``class_rank``), and the
proof they give: dyck2's opener is one key, so dyck2 is proved by bounds; ``first``'s
flag holds at one position, so its select is one key (``one_key``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_compiler_bounds import bounded, every_input

from rasplab import indices, select, selector_width, tokens, zipmap
from rasplab.compiler import bounds, compile_program
from rasplab.compiler.bounds_space import Stream, _combinations
from rasplab.compiler.certify import certify, compare, reference_outputs
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.ranks import class_rank, one_key
from rasplab.compiler.value_sets import infer
from rasplab.lang.dsl import aggregate
from rasplab.library import get
from rasplab.library.helpers import indicator, selector_width_nobos

UP_TO = select(indices, indices, "<=")
SAME = select(tokens, tokens, "==")


def _rank_of(width):
    found = class_rank(width, infer(width, "abc", 6))
    return None if found is None else found.node


def test_a_count_up_to_each_position_within_a_class_is_a_class_rank():
    assert _rank_of(selector_width(SAME & UP_TO)) is tokens
    assert _rank_of(selector_width(select(indices, indices, "<") & SAME)) is tokens
    assert _rank_of(selector_width_nobos(SAME & UP_TO)) is tokens  # the paper's construction


def test_a_count_of_the_positions_a_test_keeps_is_a_class_rank():
    flagged = select(tokens, "a", "==")
    found = class_rank(selector_width(flagged & UP_TO), infer(tokens, "abc", 6))
    assert found is not None and found.node is tokens
    codes = np.array([0, 1, 2, 0])  # tokens a, b, c, a: the two a's share a class
    assert found.ids(codes, ["a", "b", "c"]).tolist() == [0, -2, -3, 0]


def test_counts_that_two_positions_of_a_class_may_share_are_not():
    assert _rank_of(selector_width(SAME)) is None  # every copy counts them all
    assert _rank_of(selector_width(select(indices, indices, ">=") & SAME)) is None
    assert _rank_of(selector_width(select(tokens, indices, "==") & UP_TO)) is None
    assert _rank_of(selector_width(~SAME & UP_TO)) is None


def test_a_bos_free_width_with_another_function_is_not_taken_for_one():
    sel = SAME & UP_TO
    at0 = select(indices, 0, "==")
    inverted = aggregate(sel | at0, indicator(indices == 0))
    at_zero = aggregate(sel & at0, 1, 0)
    width = zipmap(lambda inv, z: round(1 / inv - 1 + z), inverted, at_zero)
    assert _rank_of(width) is tokens
    assert _rank_of(zipmap(lambda inv, z: round(1 / inv + z), inverted, at_zero)) is None
    assert _rank_of(zipmap(lambda inv, z: round(1 / inv - 1 + z), at_zero, inverted)) is None


def test_slide_is_proved_as_its_next_kept_key_is_one_key():
    program = get("slide").build()
    model, _, proof = bounded(program, "ab<", 6)
    assert proof.proved and proof.dtype == "float32"
    rows = every_input(model.vocab, model.max_seq_len)
    for dtype in (np.float64, np.float32):
        result = compare(model, rows, reference_outputs(model, program, rows), dtype)
        assert result.n_inputs > 0 and result.exact


def test_dyck2_is_proved_by_its_class_ranks_and_not_without_them(monkeypatch):
    program = get("dyck2").build()
    model, blueprint, proof = bounded(program, "(){}", 6)
    assert proof.dtype == "float64" and proof.worst_margin is not None and proof.worst_margin > 0
    assert all(item.startswith("float32: ") for item in proof.open)
    rows = every_input(model.vocab, model.max_seq_len)
    wide = compare(model, rows, reference_outputs(model, program, rows), np.float64)
    assert wide.n_inputs == 5460 and wide.exact
    monkeypatch.setattr("rasplab.compiler.ranks.class_rank", lambda *args: None)
    unranked = certify(model, program, blueprint=blueprint, method="bounds")
    assert unranked.dtype is None
    assert "may select several keys" in " ".join(unranked.open)


def test_a_map_of_a_node_in_a_space_takes_its_value_from_it():
    flag = tokens.map(lambda t: t in "ab").map(lambda b: int(b))  # through another map
    stream = Stream({"one": 0}, (), {}, np.zeros(1), np.zeros(1), np.zeros(1), maps={flag.id: flag})
    values = (("a", "b", "c"), (0, 1))
    combos = _combinations(stream, (tokens.id, flag.id), values, 100, ("test", 4))
    assert sorted(map(tuple, combos.tolist())) == [(0, 1), (1, 1), (2, 0)]  # 3, not 6
    outside = {flag.id: tokens.map(lambda t: 2)}  # a value outside the set: left free
    free = _combinations(replace(stream, maps=outside), (tokens.id, flag.id), values, 100, ("x", 4))
    assert len(free) == 6


@pytest.mark.slow
def test_dyck2_at_32_is_proved_through_its_levels_digits():
    # level's 65 values are two digits (digits.py): the opener's keys agree on both, on
    # their level, and on depth_index, so it moves one value
    entry = get("dyck2")
    model = compile_program(entry.build(), entry.vocab, 32, causal=True, verify=50)
    assert any(n.startswith("level == level tested as two digits") for n in model.info.notes)
    certificate = model.info.certificate
    assert certificate.dtype in ("float64", "float32") and certificate.worst_margin is not None
    assert not any("moves one value" in item for item in certificate.open)


def test_a_class_rank_split_into_parts_by_its_order_digits_is_still_one(monkeypatch):
    # past ORDER_DIGITS_ABOVE positions (dyck2 at 512) depth_index's "indices <= indices"
    # is tested on digits and its count is a sum of two parts; that sum is still the
    # user's BOS-free width, a rank within each level, so the opener moves one value
    monkeypatch.setattr("rasplab.compiler.order_digits.ORDER_DIGITS_ABOVE", 4)
    program = get("dyck2").build()
    model, blueprint, proof = bounded(program, "(){}", 6)
    parts = [h.output.name for h in blueprint.layout.heads if h.output.name.startswith("depth")]
    assert parts == ["depth_index.part0.attn", "depth_index.part1.attn"]
    assert proof.dtype in ("float64", "float32") and proof.worst_margin is not None
    assert not any("moves one value" in item for item in proof.open)
    rows = every_input(model.vocab, model.max_seq_len)
    wide = compare(model, rows, reference_outputs(model, program, rows), np.float64)
    assert wide.n_inputs == 5460 and wide.exact


IS_A = (tokens == "a").named("is_a")
A_BEFORE = selector_width(select(IS_A, True, "==") & select(indices, indices, "<"))


@pytest.mark.parametrize(
    ("flag", "one"),
    [
        (IS_A & (A_BEFORE == 0), True),  # the first a
        ((A_BEFORE == 2) & IS_A, True),  # the third a, the rank on the left
        (IS_A & (A_BEFORE < 2), False),  # the first two
        ((tokens == "b") & (A_BEFORE == 0), False),  # every b before the first a
        (A_BEFORE == 0, False),  # the positions up to the first a
        # the first a and the first b: a rank within each token tells apart one token's
        # positions, not all
        ((tokens != "c") & (selector_width(SAME & select(indices, indices, "<")) == 0), False),
    ],
)
def test_a_flag_holds_at_one_position_where_a_class_rank_takes_one_value(flag, one):
    sel = select(flag, True, "==")
    width = selector_width(sel)
    assert one_key(sel, infer(width, "abc", 6)) is one
    found = {w for xs in every_input("abc", 6) for w in width(xs)}  # on every input
    assert found <= {0, 1} if one else max(found) > 1


def test_a_class_test_and_one_rank_value_apart_pick_one_key_too():
    kept = select(IS_A, True, "==")
    for rank_test, one in [(select(A_BEFORE, 0, "=="), True), (select(A_BEFORE, 1, "<="), False)]:
        sel = kept & rank_test
        width = selector_width(sel)
        assert one_key(sel, infer(width, "abc", 6)) is one
        found = {w for xs in every_input("abc", 6) for w in width(xs)}
        assert found <= {0, 1} if one else max(found) > 1
    other = select(tokens, "b", "==") & select(A_BEFORE, 0, "==")  # every b before the first a
    assert not one_key(other, infer(selector_width(other), "abc", 6))


def test_first_is_proved_in_float32_at_256_as_its_select_is_one_key(monkeypatch):
    program = get("first").build()
    model, blueprint = compile_with_blueprint(program, list("abc"), 256)
    proof = certify(model, program, blueprint=blueprint, method="bounds")
    assert proof.proved and proof.dtype == "float32"
    monkeypatch.setattr(bounds, "one_key", lambda *args: False)
    plain = certify(model, program, blueprint=blueprint, method="bounds")
    assert plain.dtype == "float64"  # the selected keys' spread, times the index's range
