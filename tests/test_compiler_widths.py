"""The paper's BOS-free selector width compiles to one count head, where it is one."""

from __future__ import annotations

import random

from rasplab import aggregate, indices, numerical, select, tokens, zipmap
from rasplab.compiler import compile_program, verify
from rasplab.compiler.value_sets import infer
from rasplab.evaluate import evaluate
from rasplab.library import PROGRAMS
from rasplab.library.helpers import indicator, selector_width_nobos

SAME = select(tokens, tokens, "==")


def _nobos(sel, f):
    """The construction of ``selector_width_nobos`` with map ``f`` of its two means."""
    at0 = select(indices, 0, "==")
    inverted = aggregate(sel | at0, indicator(indices == 0))
    return zipmap(f, inverted, aggregate(sel & at0, 1, 0))


def test_a_bos_free_width_is_one_count_head():
    hist = selector_width_nobos(SAME)
    model = compile_program(hist, "abc", 6)
    assert model.heads_per_layer == (1,)
    assert any("BOS-free" in note for note in model.info.notes)
    assert model.info.certificate.status == "proved"


def test_a_map_that_is_not_the_width_keeps_both_heads():
    # 1 / inv alone is |S or at0|: one more than the width wherever position 0 is not in S
    other = _nobos(SAME, lambda inv, z: round(1 / inv))
    model = compile_program(other, "abc", 6)
    assert sum(model.heads_per_layer) == 2
    assert not any("BOS-free" in note for note in model.info.notes)
    assert verify(model, other, 80).exact


def test_causal_dyck2_is_proved_in_float32():
    entry = PROGRAMS["dyck2"]
    model = compile_program(entry.build(), entry.vocab, 8, causal=True)
    certificate = model.info.certificate
    assert certificate.status == "proved" and certificate.method == "bounds"
    assert certificate.worst_margin_float32 is not None and certificate.worst_margin_float32 > 0.5


def test_the_mean_of_a_first_position_flag_holds_one_over_the_width_only():
    sel = select(tokens, tokens, "==")
    inverted = numerical(aggregate(sel | select(indices, 0, "=="), indicator(indices == 0)))
    n = 40
    values = infer(inverted, "ab", n)
    for i in range(n):  # 1 / w for the widths w of sel | at0, not every j / w
        assert set(values.at(inverted, i)) <= {1 / w for w in range(1, n + 1)} | {0.0}
    rng = random.Random(0)
    for _ in range(200):  # what the evaluator computes lies in the sets
        xs = [rng.choice("ab") for _ in range(rng.randint(1, n))]
        got = evaluate(inverted, xs)
        assert all(v in values.at(inverted, i) for i, v in enumerate(got))
