"""Counts over a wide order of positions, as counts over the positions' digits
(order_digits.py)."""

from __future__ import annotations

import itertools

import pytest

from rasplab import indices, select, selector_width, tokens
from rasplab.compiler import compile_program, verify
from rasplab.compiler.certify import certify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.formulas import All, AnyOf, Truth, holds
from rasplab.compiler.order_digits import digit_formula, digit_node, disjunctive_parts
from rasplab.compiler.selectors import formula
from rasplab.evaluate import evaluate
from rasplab.library import get

ORDERS = ["<", "<=", ">", ">="]
SPLIT = "tested on two digits of each side"


def _digits_hold(f, made, k, q):
    env = {(side, d.id): d.f(v) for d in made.values() for side, v in (("k", k), ("q", q))}
    return holds(f, env)


@pytest.mark.parametrize("negated", [False, True])
@pytest.mark.parametrize("order", ORDERS)
def test_the_digit_formula_is_the_order_on_every_pair(order, negated):
    sel = select(indices, indices, order)
    lit = formula(~sel if negated else sel)
    made = {}

    def digit(sop, offset, base, place):
        return made.setdefault((offset, base, place), digit_node(sop, offset, base, place))

    offset, base = 3, 7  # positions 3 .. 51: 49 values, two digits of base 7
    digits = digit_formula(lit, (offset, base), digit)
    for k, q in itertools.product(range(3, 52), repeat=2):
        assert _digits_hold(digits, made, k, q) == lit.holds(k, q), (k, q)


def test_and_is_distributed_over_or_and_parts_that_never_hold_are_dropped():
    a, b, c = (formula(select(tokens, tokens, op)) for op in ("==", "<", ">"))
    parts = disjunctive_parts(All((a, AnyOf((b, All((c, Truth(True))))))), 8)
    assert [len(p.children) for p in parts] == [2, 2]
    assert disjunctive_parts(AnyOf((a, All((b, Truth(False))))), 8) == [a]
    wide = All(tuple(AnyOf((a, b)) for _ in range(4)))  # 16 parts
    assert disjunctive_parts(wide, 8) is None


def test_every_input_of_a_sort_whose_tie_break_is_in_digits(monkeypatch):
    # the split starts above 256 positions; lowered here so that every input can be run
    monkeypatch.setattr("rasplab.compiler.order_digits.ORDER_DIGITS_ABOVE", 2)
    program = get("sort").build()
    model = compile_program(program, list("ab"), 5, verify=20)
    certificate = model.info.certificate
    assert certificate.status == "proved" and certificate.method == "enumeration"
    assert certificate.n_enumerated == 2 + 4 + 8 + 16 + 32
    assert any(SPLIT in n for n in model.info.notes)
    assert model.heads_per_layer[0] == 3  # tokens <, and the tie-break's two digit parts
    assert not any(d.startswith("indices:") for d in model.directions)


def test_an_any_over_positions_in_digits_takes_one_head_per_part(monkeypatch):
    monkeypatch.setattr("rasplab.compiler.order_digits.ORDER_DIGITS_ABOVE", 2)
    program = get("most_freq").build()
    model = compile_program(program, list("abc"), 5, verify=20)
    assert model.info.certificate.status == "proved"
    assert model.info.certificate.n_enumerated == 3 + 9 + 27 + 81 + 243
    notes = [n for n in model.info.notes if "'any key selected?';" in n]
    assert notes and "2 heads answer exactly 0 or 1" in notes[0]


def test_at_80_positions_sort_stores_digits_not_positions(monkeypatch):
    monkeypatch.setattr("rasplab.compiler.order_digits.ORDER_DIGITS_ABOVE", 64)
    program = get("sort").build()
    model = compile_program(program, list("abc"), 80, verify=200)
    assert model.info.verified.n_exact == model.info.verified.n_inputs >= 200
    assert {"indices.high9:0", "indices.low9:8"} <= set(model.directions)
    assert not any(d.startswith("indices:") for d in model.directions)
    edge = [["a"] * 80, ["c"] * 40 + ["a"] * 40, list("cba" * 26) + ["a", "b"]]
    assert model.run(edge) == [evaluate(program, x) for x in edge]  # ties everywhere


def test_orders_split_only_past_the_threshold_computed_numbers_by_a_chain(monkeypatch):
    monkeypatch.setattr("rasplab.compiler.order_digits.ORDER_DIGITS_ABOVE", 40)
    earlier = select(tokens, tokens, "==") & select(indices, indices, "<")
    count = selector_width(earlier)
    notes = [compile_program(count, list("ab"), n, verify=20).info.notes for n in (40, 41)]
    assert [any(SPLIT in x for x in found) for found in notes] == [False, True]
    by_tokens = selector_width(select(tokens, tokens, "<"))  # 80 tokens: split, and exact
    model = compile_program(by_tokens, list(range(80)), 3, verify=0)
    assert any(SPLIT in x for x in model.info.notes)
    assert verify(model, by_tokens, 200).exact
    hist = selector_width(select(tokens, tokens, "==")).named("hist")
    by_count = selector_width(select(hist, hist, "<"))  # 49 counts, from a head
    model = compile_program(by_count, list("ab"), 49, verify=50)
    assert any(SPLIT in x for x in model.info.notes)
    # the count's digits are written by MLPs: the high one cut, then copied exactly
    stored = {d.split(":")[0] for d in model.directions}
    assert {"hist.high.cut", "hist.high", "hist.low"} <= stored
    checked = verify(model, by_count, 300)  # float32
    assert checked.exact and checked.n_inputs >= 300


@pytest.mark.slow
def test_most_freqs_key_is_ordered_by_its_digits_and_proved(monkeypatch):
    # past the threshold the key (minus a count) is counted over its two digits, which
    # MLPs write through the digit chain; the bounds prove the model (float64 at least),
    # the one-key select of its rank included (total_orders.py)
    monkeypatch.setattr("rasplab.compiler.order_digits.ORDER_DIGITS_ABOVE", 40)
    entry = get("most_freq")
    model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 48)
    assert any("freq_key < freq_key (49 values) in base 7" in n for n in model.info.notes)
    stored = {d.split(":")[0] for d in model.directions}
    assert {"freq_key.high.cut", "freq_key.high", "freq_key.low"} <= stored
    proof = certify(model, entry.build(), blueprint=blueprint, method="bounds", bounds_seconds=120)
    assert proof.worst_margin is not None and proof.worst_margin > 0  # float64 at least
    checked = verify(model, entry.build(), 200, sample=entry.sample, seed=3)  # float32
    assert checked.exact and checked.n_inputs == 200
