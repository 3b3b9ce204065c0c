"""The paper's BOS-free selector width compiles to one count head, where it is one."""

from __future__ import annotations

from rasplab import aggregate, indices, select, tokens, zipmap
from rasplab.compiler import compile_program, verify
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
