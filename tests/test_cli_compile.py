"""``rasplab compile``: report, JSON, saving, and blockers reported as errors."""

import json

from rasplab.cli.main import main
from rasplab.model.io import load


def test_compile_library_program_text(capsys):
    assert main(["compile", "lib:reverse", "--max-len", "8", "--verify", "20"]) == 0
    out = capsys.readouterr().out
    assert "heads per layer: [1, 1]" in out and "20/20" in out


def test_compile_json_and_save(tmp_path, capsys):
    path = tmp_path / "hist.safetensors"
    args = ["compile", "lib:hist", "--vocab", "a,b", "--max-len", "6", "-o", str(path), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_layers"] == 1 and data["saved"] == str(path)
    assert data["heads_per_layer"] == [1] and data["n_params"] > 0
    assert load(path).info is not None


def test_compile_file_program_needs_vocab(tmp_path, capsys):
    src = tmp_path / "p.py"
    src.write_text("from rasplab import tokens\nup = tokens.map(str.upper).named('up')\n")
    assert main(["compile", f"{src}:up", "--max-len", "4"]) == 2
    assert "--vocab" in capsys.readouterr().err
    assert main(["compile", f"{src}:up", "--vocab", "a,b", "--max-len", "4"]) == 0


def test_causal_refusal_is_a_clean_error(capsys):
    assert main(["compile", "lib:reverse", "--max-len", "6", "--causal"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_compile_refuses_a_huge_max_len_before_allocating(capsys):
    assert main(["compile", "lib:reverse", "--max-len", "100000"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: compiling reverse at max_seq_len 100000 needs at least")
    assert "--max-memory" in err and "Traceback" not in err


def test_compile_max_memory_flag_sets_the_limit(capsys):
    assert main(["compile", "lib:reverse", "--max-len", "300", "--max-memory", "1M"]) == 1
    assert "memory limit of 1.0 MiB" in capsys.readouterr().err
    assert main(["compile", "lib:reverse", "--max-len", "6", "--max-memory", "1G"]) == 0


def test_a_negative_verify_count_is_a_usage_error(capsys):
    assert main(["compile", "lib:hist", "--max-len", "4", "--verify", "-5"]) == 2
    err = capsys.readouterr().err
    assert "--verify: must be at least 0, got -5" in err and "100%" not in err
    assert main(["compile", "lib:hist", "--max-len", "0"]) == 2


def test_bounds_seconds_bounds_the_proof_and_zero_skips_it(capsys):
    argv = ["compile", "lib:reverse", "--max-len", "64", "--verify", "10", "--json"]
    assert main([*argv, "--bounds-seconds", "0"]) == 0
    skipped = json.loads(capsys.readouterr().out)["certificate"]
    assert skipped["status"] == "sampled" and skipped["method"] == "enumeration"
    assert main([*argv, "--bounds-seconds", "0.000001"]) == 0
    late = json.loads(capsys.readouterr().out)["certificate"]
    assert late["status"] == "sampled" and late["method"] == "bounds"
    assert any("--bounds-seconds" in item for item in late["open"])
    assert main([*argv, "--bounds-seconds", "60"]) == 0
    assert json.loads(capsys.readouterr().out)["certificate"]["status"] == "proved"
    assert main([*argv, "--bounds-seconds", "-1"]) == 2


def test_a_proof_in_float64_only_is_reported_as_such(capsys):
    argv = ["compile", "lib:double_hist", "--max-len", "64", "--prove-limit", "0"]
    assert main(argv) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("certificate:"))
    assert line.startswith("certificate: proved by bounds in float64 only, worst margin")
    assert "(run it with float64); in float32 not proved: the bounds" in line
    assert main([*argv, "--json"]) == 0
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert certificate["status"] == "sampled" and certificate["dtype"] == "float64"
    assert certificate["worst_margin"] > 0 and certificate["worst_margin_float32"] is None


def test_a_length_the_sampler_cannot_draw_is_a_message(capsys):
    # sort_unique's inputs are distinct numbers below 100: none has 128 tokens
    assert main(["compile", "lib:sort_unique", "--max-len", "128", "--verify", "8"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the input sampler could not draw an input of length 128")
    assert "no input is longer than 100 tokens" in err and "Traceback" not in err
    # the demo checks it up to the longest input its sampler draws
    assert main(["demo", "lib:sort_unique", "--max-len", "128", "--samples", "5"]) == 0
    assert "1 program, all checks passed" in capsys.readouterr().out
