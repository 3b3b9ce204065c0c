"""An MLP's bound over many combinations is taken a block of combinations at a time.

Each combination's bound is its own (its activation pattern's, or with the
pattern threshold ``PATTERN_CELLS`` at 0 each unit by itself), so splitting the
combinations into blocks must give the same certificate, to the bit, whatever the
block size: here the threshold is lowered so that small models take that path,
and blocks of one combination are compared with one block of all.
"""

from __future__ import annotations

import pytest

from rasplab.compiler import bounds_mlps
from rasplab.compiler.certify import certify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.library import get

CASES = [("dyck1", "()", 6), ("double_hist", "abc", 5), ("reverse", "abc", 5)]


def _proof(name, vocab, n, monkeypatch, pattern_cells, chunk_cells):
    monkeypatch.setattr(bounds_mlps, "PATTERN_CELLS", pattern_cells)
    monkeypatch.setattr(bounds_mlps, "CHUNK_CELLS", chunk_cells)
    program = get(name).build()
    model, blueprint = compile_with_blueprint(program, list(vocab), n)
    return certify(model, program, blueprint=blueprint, method="bounds")


@pytest.mark.parametrize(("name", "vocab", "n"), CASES)
def test_blocks_of_combinations_give_the_same_certificate(name, vocab, n, monkeypatch):
    whole = _proof(name, vocab, n, monkeypatch, 0, 10**12)
    blocks = _proof(name, vocab, n, monkeypatch, 0, 1)
    assert blocks.status == whole.status and blocks.open == whole.open
    assert blocks.worst_margin == whole.worst_margin
    assert blocks.worst_margin_float32 == whole.worst_margin_float32


def test_the_looser_bound_still_proves_what_it_proved():
    """Below the threshold (the default here) the activation patterns give a tighter
    bound; the unit-by-unit one is looser but must still prove these small models."""
    program = get("reverse").build()
    model, blueprint = compile_with_blueprint(program, list("abc"), 5)
    tight = certify(model, program, blueprint=blueprint, method="bounds")
    assert tight.proved
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bounds_mlps, "PATTERN_CELLS", 0)
        mp.setattr(bounds_mlps, "CHUNK_CELLS", 3)
        model, blueprint = compile_with_blueprint(program, list("abc"), 5)
        loose = certify(model, program, blueprint=blueprint, method="bounds")
    assert loose.proved and loose.worst_margin <= tight.worst_margin
