"""Certificates: a model proved exact by enumeration is exact on every input, and only then.

The enumeration here is the tests' own (``itertools.product`` and ``evaluate``, one
input at a time), so a bug in the certificate code cannot hide a wrong model.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import replace

import numpy as np
import pytest

from rasplab import evaluate, evaluate_batch
from rasplab.cli.main import main
from rasplab.compiler import compile_program
from rasplab.compiler.certify import certify, domain_inputs
from rasplab.compiler.verify import verify
from rasplab.errors import CompileError, InputError
from rasplab.library import get
from rasplab.model import load, save
from rasplab.model.info import Certificate, ModelInfo
from rasplab.model.io import ModelFileError, read_file, write_file

# (library program, tokens, max_seq_len): every input up to length 5 or 6 over 2-3 tokens
SMALL = [
    ("reverse", "abc", 5),
    ("hist", "abc", 5),
    ("sort", "abc", 5),
    ("most_freq", "abc", 5),
    ("dyck1", "()", 6),
    ("frac_prevs", "xab", 5),  # a numerical output: margins in coordinates
    ("shift", "abc", 5),
]


def every_input(vocab, max_seq_len):
    return [
        list(xs) for n in range(1, max_seq_len + 1) for xs in itertools.product(vocab, repeat=n)
    ]


def same(want, got):
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-12)
    return want == got


def mismatches(model, program, rows, dtype, *, batched=False):
    """Inputs where the model (run through its public API) and ``evaluate`` differ
    (``evaluate_batch`` over the whole list when ``batched``: the same evaluator, faster)."""
    got = model.run(rows, dtype)
    want = evaluate_batch(program, rows) if batched else [evaluate(program, xs) for xs in rows]
    return [
        xs
        for xs, w, out in zip(rows, want, got, strict=True)
        if not all(same(a, b) for a, b in zip(w, out, strict=True))
    ]


def compiled(name, vocab, max_seq_len, **kw):
    entry = get(name)
    program = entry.build()
    sampler = {"sample": entry.sample} if entry.sampler is not None else {}
    return program, compile_program(program, list(vocab), max_seq_len, **sampler, **kw)


@pytest.mark.parametrize(("name", "vocab", "max_seq_len"), SMALL, ids=[s[0] for s in SMALL])
def test_a_proved_model_is_exact_on_every_input(name, vocab, max_seq_len):
    program, model = compiled(name, vocab, max_seq_len)
    proof = model.info.certificate
    rows = every_input(vocab, max_seq_len)
    assert proof.status == "proved"
    assert proof.n_domain == proof.n_enumerated == len(rows)
    assert proof.worst_margin > 0.01 and proof.worst_margin_float32 > 0.01
    for dtype in (np.float32, np.float64):
        assert mismatches(model, program, rows, dtype) == []


def test_a_causal_model_is_proved_against_every_prefix():
    program, model = compiled("frac_prevs", "xab", 5, causal=True)
    assert model.info.certificate.status == "proved"
    rows = every_input("xab", 5)
    for xs, got in zip(rows, model.run(rows), strict=True):
        want = [evaluate(program, xs[: i + 1])[-1] for i in range(len(xs))]
        assert all(same(w, g) for w, g in zip(want, got, strict=True))


def test_a_declared_domain_is_enumerated_through_its_pattern():
    program, model = compiled("add", get("add").vocab, 4)
    pattern = model.info.domain.pattern
    rows = [xs for xs in every_input(get("add").vocab, 4) if re.fullmatch(pattern, "".join(xs))]
    proof = model.info.certificate
    assert model.info.domain.kind == "declared" and model.info.assumptions
    assert proof.status == "proved" and proof.n_enumerated == len(rows) == 4321
    assert mismatches(model, program, rows, np.float32, batched=True) == []


# ------------------------------------------------------------ edited weights


def with_w_o(model, layer, change):
    attn = model.blocks[layer].attn
    w_o = attn.W_O.copy()
    change(w_o)
    blocks = list(model.blocks)
    blocks[layer] = replace(blocks[layer], attn=replace(attn, W_O=w_o))
    return replace(model, blocks=tuple(blocks))


# sort's layer 0 counts the keys below each token; its layer 1 moves the token there
@pytest.mark.parametrize(("layer", "written"), [(0, "*"), (1, "sort:b")])
def test_an_edited_head_breaks_the_proof(layer, written):
    program, model = compiled("sort", "abc", 4)
    columns = model.index(written)

    def negate_largest(w_o):  # the entry of largest size among those writing `written`
        part = w_o[..., columns]
        h, j, k = np.unravel_index(np.abs(part).argmax(), part.shape)
        w_o[h, j, columns[k]] *= -4

    edited = with_w_o(model, layer, negate_largest)
    proof = certify(edited, program)
    assert proof.status == "failed" and "disagree" in proof.open[0]
    result = verify(edited, program, exhaustive=True)
    assert result.exhaustive and not result.exact and result.mismatches
    assert mismatches(edited, program, every_input("abc", 4), np.float32)  # really wrong
    assert certify(model, program).status == "proved"  # the copy was edited, not the model


def test_exhaustive_verify_counts_every_input_and_its_margin():
    program, model = compiled("reverse", "abc", 4)
    result = verify(model, program, exhaustive=True, dtype=np.float64)
    assert (result.n_inputs, result.n_exact, result.exhaustive) == (120, 120, True)
    assert result.worst_margin == pytest.approx(model.info.certificate.worst_margin)
    with pytest.raises(InputError, match="not enumerated: 120 inputs over the limit 100"):
        verify(model, program, exhaustive=True, limit=100)
    with pytest.raises(InputError, match="not both"):
        verify(model, program, exhaustive=True, inputs=[["a"]])


# ------------------------------------------------------------ too large: sampled


def test_a_domain_over_the_limit_is_sampled_never_proved():
    _, model = compiled("ralign", get("ralign").vocab, 8)
    proof = model.info.certificate
    assert proof.status == "sampled" and proof.n_enumerated == 0 and proof.dtype is None
    assert proof.method == "bounds"  # too many to enumerate: bounds tried, and not enough
    assert proof.open[0] == "not enumerated: 87,380 inputs over the limit 20,000"
    assert "aggregate ralign" in proof.open[1]
    assert "moves one value is not proved" in proof.open[1]
    assert proof.worst_margin is None
    assert model.info.verified.exact  # the random check still ran


def test_prove_limit_zero_never_enumerates_and_lists_the_assumptions_left_open():
    _, model = compiled("add", get("add").vocab, 4, prove_limit=0)
    proof = model.info.certificate
    assert proof.status == "sampled" and proof.method == "bounds" and proof.n_enumerated == 0
    assert proof.open[0].startswith("not enumerated: up to 16,104 inputs")
    assert proof.open[0].endswith("over the limit 0")
    # the bounds discharge some of the compiler's assumptions, never more than it made
    left = [o for o in proof.open[1:] if "moves one value is not proved" in o]
    assumed = [a.split(" is compiled")[0] for a in model.info.assumptions]
    assert left and all(any(a in o for a in assumed) for o in left)


def test_without_the_blueprint_a_large_domain_lists_the_assumptions():
    program, model = compiled("add", get("add").vocab, 4, prove_limit=0)
    proof = certify(model, program, limit=0)  # no blueprint: nothing but the sample stands
    assert proof.status == "sampled" and proof.method == "enumeration"
    assert [o for o in proof.open if o.startswith("assumption: ")] == [
        f"assumption: {a}" for a in model.info.assumptions
    ]


def test_no_check_no_certificate_and_a_bad_limit_is_refused():
    _, model = compiled("reverse", "ab", 3, verify=0)
    assert model.info.certificate is None
    with pytest.raises(CompileError, match="prove_limit"):
        compiled("reverse", "ab", 3, prove_limit=-1)


def test_a_domain_without_a_pattern_is_not_listed():
    _, model = compiled("reverse", "ab", 3)
    info = replace(model.info, domain=replace(model.info.domain, kind="declared"))
    listing = domain_inputs(replace(model, info=info), 10**6)
    assert listing.rows is None and "has no pattern" in listing.reason


# ------------------------------------------------------------ files


def test_the_certificate_survives_save_and_load(tmp_path):
    _, model = compiled("sort", "abc", 4)
    back = load(save(model, tmp_path / "m.safetensors"))
    assert back.info.certificate == model.info.certificate
    assert ModelInfo.from_json(json.loads(json.dumps(model.info.to_json()))) == model.info


def test_a_tampered_certificate_is_refused(tmp_path):
    _, model = compiled("sort", "abc", 4)
    path = save(model, tmp_path / "m.safetensors")
    data = path.read_bytes()
    at = data.index(b'worst_margin\\": ') + len(b'worst_margin\\": ')
    edited = data[:at] + (b"7" if data[at : at + 1] != b"7" else b"8") + data[at + 1 :]
    path.write_bytes(edited)  # same length, still valid JSON: only the checksum can tell
    with pytest.raises(ModelFileError, match="checksum does not match"):
        load(path)


def test_a_proof_that_does_not_cover_its_domain_is_refused(tmp_path):
    _, model = compiled("sort", "abc", 4)
    path = save(model, tmp_path / "m.safetensors")
    arrays, meta = read_file(path)
    del meta["checksum"]
    meta["info"]["certificate"]["n_enumerated"] = 7  # a crafted file, with a fresh checksum
    write_file(path, arrays, meta)
    with pytest.raises(ModelFileError, match="does not cover its domain"):
        load(path)


def test_a_file_from_before_methods_and_digests_still_loads(tmp_path):
    _, model = compiled("sort", "abc", 4)
    path = save(model, tmp_path / "m.safetensors")
    arrays, meta = read_file(path)
    del meta["checksum"]
    for key in ("method", "weights_sha256"):
        del meta["info"]["certificate"][key]
    write_file(path, arrays, meta)
    proof = load(path).info.certificate
    assert proof.proved and proof.method == "enumeration" and proof.weights_sha256 is None


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "maybe"},
        {"n_enumerated": -1},
        {"worst_margin": "big"},
        {"margin_unit": "m"},
        {"method": "guess"},
        {"weights_sha256": "not hex"},
        {"status": "proved", "method": "bounds"},  # proved, yet something is open
    ],
)
def test_inconsistent_certificates_are_refused(bad):
    record = Certificate("sampled", 10, open=("not enumerated",)).__dict__ | bad
    data = ModelInfo().to_json() | {"certificate": {**record, "open": list(record["open"])}}
    with pytest.raises(ValueError, match="certificate"):
        ModelInfo.from_json(data)


# ------------------------------------------------------------ the compile report


def test_the_report_shows_a_proof(capsys):
    assert main(["compile", "lib:sort", "--vocab", "abc", "--max-len", "4"]) == 0
    text = capsys.readouterr().out
    assert "certificate: proved by enumeration: all 120 inputs exact in float64 and float32" in text
    assert "(proved on all 120 inputs by enumeration)" in text


def test_the_report_says_what_is_open(capsys):
    args = ["compile", "lib:ralign", "--max-len", "4", "--prove-limit", "0"]
    assert main([*args, "--json"]) == 0
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert certificate["status"] == "sampled" and certificate["n_domain"] == 340
    assert certificate["method"] == "bounds"
    assert certificate["open"][0] == "not enumerated: 340 inputs over the limit 0"
    assert "aggregate ralign" in certificate["open"][1]
    assert main(args) == 0
    assert "certificate: sampled, not proved: not enumerated: 340" in capsys.readouterr().out


def test_the_report_shows_a_proof_by_bounds(capsys):
    args = ["compile", "lib:reverse", "--vocab", "abc", "--max-len", "64", "--json"]
    assert main(args) == 0
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert certificate["status"] == "proved" and certificate["method"] == "bounds"
    assert certificate["n_enumerated"] == 0 and certificate["open"] == []
    assert 0 < certificate["worst_margin_float32"] <= certificate["worst_margin"] <= 1
    assert main(args[:-1]) == 0
    text = capsys.readouterr().out
    assert "certificate: proved by bounds: every input of lengths 1 to 64" in text
    assert "(proved on every input by bounds)" in text
