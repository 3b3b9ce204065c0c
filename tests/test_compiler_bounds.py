"""Certificates by bound propagation: a model the bounds call proved is exact on every input.

The bounds never run an input; here every input up to a small length is run
through the model (float64 and float32) and the evaluator, so a bound that
claims too much shows up as a mismatch. The bounds are forced even where
enumeration would also do (``method="bounds"``). Edited weights must lose
the proof, and a saved file whose weights no longer match its certificate
is refused.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
from test_compiler_fuzz import random_letter_program, random_program

from rasplab import aggregate, indices, numerical, select, tokens
from rasplab.compiler.bounds import propagate
from rasplab.compiler.certify import certify, compare, reference_outputs
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.errors import CompileError
from rasplab.lang.graph import topological_order
from rasplab.library import get
from rasplab.model import load, save
from rasplab.model.io import ModelFileError, read_file, write_file

# (library program, tokens, max_seq_len): every input up to length 5 or 6 over 2-3 tokens
SMALL = [
    ("length", "abc", 5),
    ("reverse", "abc", 5),
    ("hist", "abc", 5),
    ("double_hist", "abc", 5),
    ("sort", "abc", 5),
    ("sort_unique", "abc", 5),
    ("most_freq", "abc", 5),
    ("dyck1", "()", 6),
    ("dyck2", "()[", 5),
    ("frac_prevs", "xab", 5),
    ("pair_balance", "()x", 5),
    ("count", "abc", 5),
    ("index", "abc", 5),
    ("shift", "abc", 5),
    ("minimum", "abc", 5),
    ("first", "abc", 5),
    ("ralign", "abc", 5),
    ("split_after", "ab-", 5),
    ("slide", "abc", 5),
]
# proved by bounds at these sizes; the rest rest on selects the value sets cannot show
# to pick one key (most_freq, ...) or are proved in float64 only (dyck2: its opener is
# one key by test_compiler_class_ranks.py), and must say so
EXPECTED_PROVED = {
    "length",
    "reverse",
    "hist",
    "double_hist",
    "sort",  # its select picks one key: target_pos is a rank (compiler/ranks.py)
    "dyck1",
    "frac_prevs",
    "count",
    "index",
    "shift",
}


def every_input(vocab, max_seq_len):
    return [
        list(xs) for n in range(1, max_seq_len + 1) for xs in itertools.product(vocab, repeat=n)
    ]


def mismatches(model, program) -> tuple[int, int]:
    """(inputs compared, inputs where the model disagrees in float64 or float32)."""
    rows = every_input(model.vocab, model.max_seq_len)
    expected = reference_outputs(model, program, rows)
    results = [compare(model, rows, expected, t) for t in (np.float64, np.float32)]
    return results[0].n_inputs, sum(r.n_inputs - r.n_exact for r in results)


def bounded(program, vocab, max_seq_len, causal=False):
    model, blueprint = compile_with_blueprint(program, list(vocab), max_seq_len, causal)
    return model, blueprint, certify(model, program, blueprint=blueprint, method="bounds")


def test_library_programs_proved_by_bounds_are_exact_on_every_input():
    proved = set()
    for name, vocab, n in SMALL:
        program = get(name).build()
        model, _, proof = bounded(program, vocab, n)
        assert proof.method == "bounds" and proof.n_enumerated == 0
        if proof.proved:
            compared, wrong = mismatches(model, program)
            assert compared > 0 and wrong == 0, f"{name}: proved, yet {wrong} mismatches"
            margins = (proof.worst_margin, proof.worst_margin_float32)
            assert all(m is None or m > 0 for m in margins), (name, margins)
            proved.add(name)
        else:
            assert proof.open, f"{name}: not proved, and nothing said why"
    assert proved >= EXPECTED_PROVED, f"not proved: {sorted(EXPECTED_PROVED - proved)}"


def test_sort_is_proved_by_its_ranks_and_not_without_them(monkeypatch):
    program = get("sort").build()
    model, blueprint, proof = bounded(program, "abc", 6)
    assert proof.proved
    compared, wrong = mismatches(model, program)
    assert compared == 1092 and wrong == 0

    def widths(values):  # of sel_new: target_pos numbers the positions, one key per query
        (sel,) = [n for n in topological_order(values.program) if n.label == "sel_new"]
        return set().union(*values.widths[sel.id])

    assert widths(blueprint.values) == {1}
    monkeypatch.setattr("rasplab.compiler.ranks._order_of", lambda *args: None)
    _, blind, unranked = bounded(program, "abc", 6)  # the ranks unknown to the compiler too
    assert widths(blind.values) == set(range(7))
    assert not unranked.proved
    assert "may select several keys" in " ".join(unranked.open)


def test_a_proof_in_float64_only_says_so_and_holds_in_float64():
    program = get("most_freq").build()
    model, _, proof = bounded(program, "abc", 5)
    assert proof.status == "sampled" and proof.dtype == "float64"
    assert proof.worst_margin is not None and proof.worst_margin > 0
    assert all(item.startswith("float32: ") for item in proof.open)
    rows = every_input(model.vocab, model.max_seq_len)
    wide = compare(model, rows, reference_outputs(model, program, rows), np.float64)
    assert wide.n_inputs == 363 and wide.exact


def test_causal_models_are_proved_with_the_causal_mask():
    proved = []
    for name, vocab, n in [("frac_prevs", "xab", 5), ("dyck1", "()", 6), ("count", "abc", 5)]:
        program = get(name).build()
        try:
            model, _, proof = bounded(program, vocab, n, causal=True)
        except CompileError:
            continue  # not a causal program
        if proof.proved:
            compared, wrong = mismatches(model, program)
            assert compared > 0 and wrong == 0, f"{name} (causal): {wrong} mismatches"
            proved.append(name)
    assert len(proved) >= 2, proved


def test_a_causal_model_too_long_to_enumerate_is_proved_by_bounds():
    from rasplab.compiler import compile_program, verify

    program = get("shift").build()
    model = compile_program(program, "abc", 256, causal=True)
    proof = model.info.certificate
    assert proof.proved and proof.method == "bounds" and proof.worst_margin_float32 > 0.5
    assert verify(model, program, 300, dtype=np.float32, seed=3).exact


def test_random_programs_proved_by_bounds_are_exact_on_every_input():
    proved = other = 0
    for seed in range(60):
        program = random_program(seed)
        try:
            model, _, proof = bounded(program, (0, 1, 2), 4)
        except CompileError:
            continue
        compared, wrong = mismatches(model, program)
        if proof.proved and compared:
            assert wrong == 0, f"seed {seed}: proved, yet {wrong} mismatches"
            proved += 1
        else:
            other += 1
            assert proof.proved or proof.open
    assert proved >= 20, (proved, other)


def test_random_letter_programs_proved_by_bounds_are_exact_on_every_input():
    """Letters, tuples, max/min and every fifth one causal."""
    proved = extremes = 0
    for seed in range(40):
        program, causal = random_letter_program(seed), seed % 5 == 0
        try:
            model, blueprint, proof = bounded(program, ("a", "b", "c"), 4, causal)
        except CompileError:
            continue
        if proof.proved:
            compared, wrong = mismatches(model, program)
            assert wrong == 0, f"seed {seed}: proved, yet {wrong} mismatches"
            proved += 1
            extremes += any(h.kind in ("max", "min") for h in blueprint.layout.heads)
        else:
            assert proof.open
    assert proved >= 25 and extremes >= 4, (proved, extremes)


def test_a_select_of_keys_no_two_positions_share_moves_one_value():
    position = indices.map(lambda i: i + 1)  # one value per position: one key per value
    wanted = tokens.map(lambda t: "abc".index(t) + 1)
    program = aggregate(select(position, wanted, "=="), tokens, default="a")
    model, _, proof = bounded(program, "abc", 5)
    assert proof.proved, proof.open
    assert mismatches(model, program) == (363, 0)


def test_a_select_that_may_average_different_values_is_not_proved():
    picks = select(tokens, tokens, "<")  # several keys, different letters
    program = aggregate(picks, tokens, default="a")
    model, _, proof = bounded(program, "abc", 4)
    assert proof.status == "sampled"
    assert any("aggregate" in o and "moves one value is not proved" in o for o in proof.open)
    averaged = numerical(aggregate(select(tokens, tokens, "=="), tokens.map(ord), default=0))
    assert bounded(averaged, "abc", 4)[2].proved  # averaging heads are bounded as such


def test_every_stored_feature_gets_an_error_bound():
    model, blueprint = compile_with_blueprint(get("reverse").build(), list("abc"), 64)
    wide, narrow = (propagate(model, blueprint, float32=f) for f in (False, True))
    names = {f.name for f in blueprint.layout.features}
    assert set(wide.feature_errors) == set(narrow.feature_errors) == names
    assert wide.feature_errors["tokens"] == narrow.feature_errors["tokens"] == 0.0  # embedded
    assert 0 < wide.feature_errors["length"] < narrow.feature_errors["length"] < 0.01
    assert wide.smallest_gap > 10 and not wide.open and not narrow.open


def test_a_sublayer_the_bounds_refuse_leaves_the_rest_of_the_stream_bounded():
    # with a limit of one combination the first head is refused: what it writes (and
    # what is computed from it) has no bound, but the embedding's directions stay exact
    model, blueprint = compile_with_blueprint(get("sort").build(), list("abcde"), 6)
    found = propagate(model, blueprint, float32=True, limit=1)
    assert found.open and "over the limit 1" in found.open[0]
    assert found.feature_errors["tokens"] == found.feature_errors["indices"] == 0.0
    errors = [sum(pair) for pair in found.errors.values()]
    assert errors and all(not np.isnan(e) and e > 1e300 for e in errors)  # none NaN
    assert "target_pos.part0.attn" in found.errors


# ------------------------------------------------------------ edited weights


def _edited(model, block, part, name, index, delta):
    sub = getattr(model.blocks[block], part)
    array = getattr(sub, name).copy()
    array[index] += delta
    blocks = list(model.blocks)
    blocks[block] = replace(blocks[block], **{part: replace(sub, **{name: array})})
    return replace(model, blocks=tuple(blocks))


def test_perturbing_a_query_weight_loses_the_proof_and_names_the_head():
    program = get("reverse").build()
    model, blueprint, proof = bounded(program, "abc", 5)
    assert proof.proved
    block = next(b for b, blk in enumerate(model.blocks) if "reverse" in blk.attn.names)
    row = model.directions.index("opp_index")  # the query, compared as a number
    used = np.flatnonzero(model.blocks[block].attn.W_Q[0, row])[0]
    bad = _edited(model, block, "attn", "W_Q", (0, row, used), -30.0)
    broken = certify(bad, program, blueprint=blueprint, method="bounds")
    assert not broken.proved
    assert "head reverse (layer 1): up to" in " ".join(broken.open)
    assert mismatches(bad, program)[1] > 0  # the edit really breaks the model


def test_perturbing_an_mlp_output_weight_loses_the_proof():
    program = get("reverse").build()
    model, blueprint, proof = bounded(program, "abc", 5)
    assert proof.proved
    block = next(b for b, blk in enumerate(model.blocks) if blk.mlp.d_mlp)
    w_out = model.blocks[block].mlp.W_out
    unit, column = np.argwhere(w_out != 0)[0]
    bad = _edited(model, block, "mlp", "W_out", (unit, column), 0.6)
    broken = certify(bad, program, blueprint=blueprint, method="bounds")
    assert not broken.proved
    assert "MLP writing opp_index (layer 0): up to" in " ".join(broken.open)


def test_a_tiny_edit_keeps_the_proof_with_a_smaller_margin():
    program = get("reverse").build()
    model, blueprint, proof = bounded(program, "abc", 5)
    row = model.directions.index("tokens:a")
    block = next(b for b, blk in enumerate(model.blocks) if "reverse" in blk.attn.names)
    col = np.flatnonzero(model.blocks[block].attn.W_V[0, row])[0]
    bad = _edited(model, block, "attn", "W_V", (0, row, col), 1e-3)
    nudged = certify(bad, program, blueprint=blueprint, method="bounds")
    assert nudged.proved and nudged.worst_margin < proof.worst_margin
    assert nudged.weights_sha256 != proof.weights_sha256


def test_a_file_whose_weights_were_edited_after_its_proof_is_refused(tmp_path):
    from rasplab.compiler import compile_program
    from rasplab.model.filecheck import checksum

    model = compile_program(get("reverse").build(), "abc", 64)
    assert model.info.certificate.proved and model.info.certificate.method == "bounds"
    path = save(model, tmp_path / "reverse.safetensors")
    assert load(path).info.certificate == model.info.certificate
    arrays, meta = read_file(path)
    arrays["blocks.1.attn.W_V"] = arrays["blocks.1.attn.W_V"] + 0.25
    meta["checksum"] = checksum(arrays, meta)  # a valid file: only the proof is stale
    write_file(path, arrays, meta)
    with pytest.raises(ModelFileError, match="certificate does not match its weights"):
        load(path)
    assert json.loads(json.dumps(meta))["info"]["certificate"]["method"] == "bounds"


# ------------------------------------------------------------ long inputs


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reverse", "shift", "index", "length"])
def test_long_inputs_are_proved_in_float32(name):
    program = get(name).build()
    model, blueprint = compile_with_blueprint(program, list("abc"), 1024)
    proof = certify(model, program, blueprint=blueprint)  # far too many inputs to list
    assert proof.method == "bounds" and proof.proved, proof.open
    assert proof.worst_margin_float32 > 0


@pytest.mark.slow
def test_hist_at_1024_is_proved_in_float64():
    """In float32 the count's rounding is bounded for any summation order (gamma_1029 of
    the weight), which may be more than the decoding MLP tolerates next to 1,024: then
    that, and only that, is open."""
    program = get("hist").build()
    model, blueprint = compile_with_blueprint(program, list("abc"), 1024)
    assert not propagate(model, blueprint, float32=False).open
    proof = certify(model, program, blueprint=blueprint)
    assert proof.proved or all(o.startswith(("not enumerated", "float32:")) for o in proof.open)
