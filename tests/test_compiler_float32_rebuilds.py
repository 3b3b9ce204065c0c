"""After the certificate: a model proved in float64 only, built again another way
(compiler/float32_rebuilds.py)."""

from __future__ import annotations

from rasplab.compiler import compile_program, verify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.library import get


def test_sort_at_96_is_proved_in_float32_with_its_counts_read_apart():
    # up to about 100 positions sort's two counts are summed near-linearly (B = 2 n^2);
    # at 96 that is at float32's edge and no rebuild of it is proved: with B = n each
    # count is read on its own, and that model's one-hot rebuild is proved
    entry = get("sort")
    first, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 96)
    assert max(h.count_scale or 0 for h in blueprint.layout.heads) == 2 * 96**2
    model = compile_program(entry.build(), list(entry.vocab), 96, sample=entry.sample)
    proof = model.info.certificate
    assert proof is not None and proof.proved and proof.dtype == "float32"
    assert any("are read each with B = n" in note for note in model.info.notes)
    assert model.n_params <= 4 * first.n_params
    checked = verify(model, entry.build(), 200, sample=entry.sample)  # float32
    assert checked.exact and checked.n_inputs == 200


def test_a_model_proved_in_float32_as_first_built_is_not_rebuilt():
    entry = get("hist")
    model = compile_program(entry.build(), list(entry.vocab), 64, sample=entry.sample)
    assert model.info.certificate.dtype == "float32"
    assert not any("chosen after the certificate" in note for note in model.info.notes)
