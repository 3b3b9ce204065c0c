"""The command line's one convention (docs/cli.md), checked as a new user meets it.

Every test calls ``rasplab.cli.main.main`` with the words a user would type
and reads the exit code, stdout and stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path

import pytest

from rasplab.cli import common
from rasplab.cli.main import build_parser, main
from rasplab.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("run", "analyse", "list", "demo", "draw", "report", "repl", "puzzles", "compile")
COMMANDS += ("train", "experiment")
MISSING_DIR = "/nonexistent/dir"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


# ---------------------------------------------------------------- one token rule


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("abc", ["a", "b", "c"]),
        ("a,b,c", ["a", "b", "c"]),
        ("ab, cd", ["ab", "cd"]),
        ("1,2,3", [1, 2, 3]),
        ("0.5,1", [0.5, 1]),
        ("123", ["1", "2", "3"]),
        ('["ab", 1]', ["ab", 1]),
        ('[",", "a"]', [",", "a"]),
    ],
)
def test_one_token_rule(text, tokens):
    assert common.parse_tokens(text) == tokens


def test_vocab_abc_is_three_tokens_in_compile(capsys):
    code, out, _ = cli(capsys, "compile", "lib:hist", "--vocab", "abc", "--max-len", "4", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["vocab"] == ["a", "b", "c"] and data["d_vocab"] == 4  # three tokens and BOS


def test_vocab_abc_is_three_tokens_in_train_and_draw(tmp_path, capsys):
    from rasplab.cli.train import config_from_args

    parser = build_parser()
    args = parser.parse_args(["train", "lib:hist", "--vocab", "abc", "-o", str(tmp_path / "r")])
    assert config_from_args(args, "hist").vocab == ("a", "b", "c")
    out = tmp_path / "r.svg"
    argv = ["draw", "lib:hist", "-i", "ab", "--compiled", "--vocab", "abc", "-o", out, "--json"]
    code, _, err = cli(capsys, *argv)
    assert code == 0, err


def test_run_reads_comma_separated_and_json_inputs(capsys):
    code, out, _ = cli(capsys, "run", "lib:sort_unique", "--input", "3,1,2", "--json")
    assert code == 0 and json.loads(out)["output"] == [1, 2, 3]
    code, out, _ = cli(capsys, "run", "lib:sort_unique", "--input", "[3, 1, 2]", "--json")
    assert code == 0 and json.loads(out)["output"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[1,2", ["'[1,2'", "not a valid JSON list", "character 4"]),
        ('{"a":1}', ["'{\"a\":1}'", "JSON dict, not a list"]),
        ("a,,b", ["empty token between commas"]),
    ],
)
def test_malformed_inputs_are_usage_errors(capsys, text, needles):
    code, out, err = cli(capsys, "run", "lib:sort", "--input", text)
    assert out == ""
    assert_usage_error(code, err, *needles)


def test_malformed_vocab_is_a_usage_error(capsys):
    code, _, err = cli(capsys, "compile", "lib:hist", "--vocab", "[a", "--max-len", "4")
    assert_usage_error(code, err, "--vocab '[a'")


# ---------------------------------------------------------------- vocabulary of library programs


def test_tokens_outside_a_library_vocabulary_are_refused(capsys):
    code, out, err = cli(capsys, "run", "lib:dyck2", "--input", "hello")
    assert out == ""
    assert_usage_error(code, err, "'hello'", "'h'", "'o'", "'('", "--any-tokens")


def test_any_tokens_lets_them_through(capsys):
    code, out, _ = cli(capsys, "run", "lib:dyck1", "--input", "(a)", "--any-tokens", "--json")
    assert code == 0 and len(json.loads(out)["output"]) == 3


def test_programs_defined_on_any_token_take_any_token(capsys):
    code, out, _ = cli(capsys, "run", "lib:reverse", "--input", "hello", "--json")
    assert code == 0 and json.loads(out)["output"] == list("olleh")
    code, out, _ = cli(capsys, "run", "lib:sort", "--input", "[3,1,2]", "--json")
    assert code == 0 and json.loads(out)["output"] == [1, 2, 3]
    code, _, err = cli(capsys, "run", "lib:add", "--input", "12+x")
    assert code == 2 and "'x'" in err


def test_file_programs_have_no_vocabulary_check(capsys, tmp_path):
    path = tmp_path / "p.py"
    path.write_text("from rasplab import tokens\nup = tokens.map(str.upper).named('up')\n")
    code, out, _ = cli(capsys, "run", f"{path}:up", "--input", "xyz", "--json")
    assert code == 0 and json.loads(out)["output"] == ["X", "Y", "Z"]


def test_inputs_file_lines_outside_the_vocabulary_fail_alone(capsys, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('"()"\n"hi"\n')
    code, out, _ = cli(capsys, "run", "lib:dyck1", "--inputs", path, "--json")
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 1 and "output" in first and "outside lib:dyck1" in second["error"]


def test_draw_checks_the_vocabulary_too(capsys, tmp_path):
    code, _, err = cli(capsys, "draw", "lib:dyck1", "-i", "ab", "-o", tmp_path / "d.svg")
    assert_usage_error(code, err, "outside lib:dyck1")


# ---------------------------------------------------------------- inputs files


def test_inputs_from_standard_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'"cab"\n"ba"\n')))
    code, out, _ = cli(capsys, "run", "lib:sort", "--inputs", "-")
    assert code == 0 and out.splitlines() == ["cab -> abc", "ba -> ab"]


def test_an_endless_inputs_file_is_refused_at_the_limit(capsys):
    code, _, err = cli(
        capsys, "run", "lib:sort", "--inputs", "/dev/zero", "--max-input-bytes", "4K"
    )
    assert_usage_error(code, err, "/dev/zero", "4,096 bytes", "--max-input-bytes")


def test_the_default_input_limit_stops_dev_zero(capsys):
    code, _, err = cli(capsys, "run", "lib:sort", "--inputs", "/dev/zero")
    assert_usage_error(code, err, f"{common.DEFAULT_MAX_INPUT_BYTES:,} bytes", "--max-input-bytes")


def test_an_endless_inputs_file_for_a_rasp_program(capsys):
    program = ROOT / "examples" / "sort.rasp"
    argv = ["run", program, "--inputs", "/dev/zero", "--max-input-bytes", "1K"]
    code, _, err = cli(capsys, *argv)
    assert_usage_error(code, err, "--max-input-bytes")


def test_a_missing_inputs_file(capsys, tmp_path):
    code, _, err = cli(capsys, "run", "lib:sort", "--inputs", tmp_path / "none.jsonl")
    assert_usage_error(code, err, "cannot read inputs file", "none.jsonl")


# ---------------------------------------------------------------- output files


@pytest.mark.parametrize(
    "argv",
    [
        ["compile", "lib:hist", "--max-len", "4", "-o", f"{MISSING_DIR}/x.safetensors"],
        ["draw", "lib:hist", "-o", f"{MISSING_DIR}/x.svg"],
        ["report", "lib:hist", "-o", f"{MISSING_DIR}/x.html"],
        ["train", "lib:hist", "--max-len", "3", "--steps", "1", "-o", f"{MISSING_DIR}/x.st"],
    ],
)
def test_an_output_path_that_cannot_be_written(capsys, argv):
    code, out, err = cli(capsys, *argv)
    assert out == ""
    assert_usage_error(code, err, "cannot write", MISSING_DIR)
    assert not Path(MISSING_DIR).exists()


@pytest.mark.parametrize(
    ("argv", "accepted"),
    [
        (["compile", "lib:hist", "--max-len", "4", "-o", "x.txt"], ".safetensors"),
        (["draw", "lib:hist", "-o", "x.gif"], ".svg, .html or .png"),
        (["report", "lib:hist", "-o", "x.svg"], ".html"),
    ],
)
def test_an_output_suffix_the_command_cannot_write(capsys, tmp_path, monkeypatch, argv, accepted):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *argv)
    assert_usage_error(code, err, argv[-1], accepted)
    assert list(tmp_path.iterdir()) == []  # nothing written in another format


def test_a_write_that_fails_late_is_still_one_line(capsys, tmp_path):
    target = tmp_path / "taken.svg"
    target.mkdir()  # a directory where the picture should go
    code, _, err = cli(capsys, "draw", "lib:hist", "-o", target)
    assert_usage_error(code, err, "cannot write", "taken.svg")


def test_o_is_always_an_output_file():
    parser = build_parser()
    for name, sub in _subparsers(parser).items():
        for action in sub._actions:
            if "-o" in action.option_strings:
                assert "--output" in action.option_strings, name
    run = _subparsers(parser)["run"]
    assert not any("-o" in a.option_strings for a in run._actions)
    assert any("--sop" in a.option_strings for a in run._actions)


# ---------------------------------------------------------------- JSON keys


def test_compile_json_keys(capsys):
    code, out, _ = cli(capsys, "compile", "lib:reverse", "--max-len", "5", "--json")
    assert code == 0
    data = json.loads(out)
    shape = ("n_layers", "heads_per_layer", "d_model", "d_mlp", "n_params", "n_ctx")
    assert set(shape + ("max_seq_len", "d_vocab", "verified", "domain")) <= set(data)
    assert "layers" not in data and "params" not in data
    assert data["n_layers"] == 2 and data["heads_per_layer"] == [1, 1]
    assert data["max_seq_len"] == 5 and data["n_ctx"] == 6  # BOS takes a position


def test_analyse_list_demo_and_puzzles_share_the_names(capsys):
    code, out, _ = cli(capsys, "analyse", "lib:hist", "--json")
    assert code == 0 and json.loads(out)["n_layers"] == 1
    code, out, _ = cli(capsys, "list", "--json")
    assert {"n_layers", "heads_per_layer"} <= set(json.loads(out)[0])
    code, out, _ = cli(capsys, "demo", "hist", "--samples", "3", "--json")
    check = json.loads(out)["programs"][0]
    assert code == 0 and check["n_layers"] == check["compiled_n_layers"] == 1
    code, out, _ = cli(capsys, "puzzles", "list", "--json")
    assert {"n_layers", "heads_per_layer"} <= set(json.loads(out)["puzzles"][0])


# ---------------------------------------------------------------- exit codes


def test_exit_codes(capsys, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from rasplab import tokens\nbad = tokens.map(lambda t: 1 // 0).named('bad')\n")
    cases = [
        (["run", "lib:sort", "--bogus-flag"], 2),
        (["run", "no_such_program", "-i", "a"], 2),
        (["run", "lib:sort", "-i", ""], 2),
        (["run", f"{bad}:bad", "-i", "a"], 1),  # the program failed while it ran
        (["compile", "lib:length", "--max-len", "4", "--causal"], 1),  # the compiler refused
        (["run", "lib:sort", "-i", "cab"], 0),
    ]
    for argv, expected in cases:
        assert cli(capsys, *argv)[0] == expected, argv


def test_a_memory_limit_is_a_failed_job(capsys):
    code, _, err = cli(capsys, "run", "lib:sort", "-i", "ab" * 300, "--max-memory", "100K")
    assert code == 1 and "--max-memory" in err and "Traceback" not in err


def test_a_bad_memory_size_is_a_usage_error(capsys):
    code, _, err = cli(capsys, "run", "lib:sort", "-i", "ab", "--max-memory", "lots")
    assert code == 2 and "not a size: 'lots'" in err


def test_sizes():
    assert common.parse_size("64M") == 64 * 2**20 and common.parse_size("2GiB") == 2 * 2**30
    with pytest.raises(argparse.ArgumentTypeError):
        common.parse_size("-1")


# ---------------------------------------------------------------- program files


def test_a_program_file_that_calls_sys_exit(capsys, tmp_path):
    path = tmp_path / "quits.py"
    path.write_text("import sys\nsys.exit(3)\n")
    code, out, err = cli(capsys, "run", f"{path}:x", "-i", "a")
    assert out == ""
    assert_usage_error(code, err, str(path), "sys.exit(3)")


def test_ctrl_c_while_loading_a_program_file_is_not_swallowed(tmp_path):
    from rasplab.programs import resolve

    path = tmp_path / "interrupted.py"
    path.write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        resolve(f"{path}:x")


def test_a_folder_the_system_refuses_is_a_message_not_a_traceback(capsys, monkeypatch, tmp_path):
    import rasplab.learn.experiment as experiment

    def refused(out, **_):  # as mkdir under /proc answers
        raise FileNotFoundError(2, "No such file or directory", str(out / "dyck1"))

    monkeypatch.setattr(experiment, "run_experiment", refused)
    code, out, err = cli(capsys, "experiment", "learn", "--quick", "-o", str(tmp_path / "out"))
    assert code == 1 and out == ""
    assert err.strip() == f"error: No such file or directory: {tmp_path / 'out' / 'dyck1'}"


def test_a_folder_no_file_can_be_made_in_is_refused_before_any_training(
    capsys, monkeypatch, tmp_path
):
    import tempfile

    import rasplab.learn.run as run

    def never(*args, **kwargs):
        raise AssertionError("trained before finding out the output cannot be written")

    def refused(*args, **kwargs):  # what creating anything under /proc answers as root
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(run, "learn", never)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", refused)
    code, out, err = cli(capsys, "learn", "lib:reverse", "-o", str(tmp_path / "x"))
    assert code == 2 and out == ""
    assert err.strip() == f"error: cannot write '{tmp_path / 'x'}': No such file or directory"


# ---------------------------------------------------------------- help and words


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_examples_in_its_help(capsys, command):
    code, out, _ = cli(capsys, command, "--help")
    assert code == 0 and "examples:" in out and f"rasplab {command}" in out


def test_run_help_shows_the_rasp_form():
    assert "file.rasp[:NAME]" in _help("run")


def test_run_help_examples_work(capsys):
    lines = re.findall(r"^  (rasplab run (?:lib:|examples/)\S+ --input \S+.*?)(?:\s{2,}|$)",
                       _help("run"), re.M)  # fmt: skip
    assert len(lines) >= 4
    for line in lines:
        argv = [w.strip("'") for w in line.split()[1:]]
        argv = [str(ROOT / w) if w.startswith("examples/") else w for w in argv]
        code, _, err = cli(capsys, *argv)
        assert code == 0, (line, err)


def test_singular_layer_and_input(capsys):
    code, out, _ = cli(capsys, "analyse", "lib:hist")
    assert code == 0 and "1 layer," in out and "(1 head)" in out
    code, out, _ = cli(capsys, "demo", "hist", "--samples", "1")
    assert "1/1 random input " in out and "compiled: 1 layer," in out
    assert not re.search(r"\b1 (layers|heads|inputs|blockers)\b", out)


# ---------------------------------------------------------------- compile report


def test_compile_report_names_the_domain_and_rejected_inputs(capsys):
    # no enumeration: reverse is proved by bounds, ralign (a select the value sets cannot
    # show picks one key) rests on the random inputs alone
    argv = ["compile", "lib:reverse", "--max-len", "5", "--verify", "10", "--prove-limit", "0"]
    code, out, _ = cli(capsys, *argv)
    assert code == 0
    assert "verified: 10/10 random inputs exact (100%)" in out
    assert re.search(r"^exact on: .+ \(proved on every input by bounds\)$", out, re.M)
    code, out, _ = cli(capsys, *argv[:1], "lib:ralign", *argv[2:])
    assert code == 0
    # 10 first, then more where the certificate leaves float32 open (compiler/wider.py)
    checked = re.search(r"^exact on: .+ \(checked on (\d+) random inputs, not proved\)$", out, re.M)
    assert checked and int(checked.group(1)) > 10


def test_compile_report_says_when_every_input_was_enumerated(capsys):
    code, out, _ = cli(capsys, "compile", "lib:reverse", "--max-len", "5", "--verify", "10")
    assert code == 0
    # 5 tokens, lengths 1 to 5: 5 + 25 + 125 + 625 + 3125 inputs
    assert re.search(r"^exact on: .+ \(proved on all 3,905 inputs by enumeration\)$", out, re.M)


def test_compile_report_never_claims_100_percent_of_nothing(capsys):
    code, out, _ = cli(capsys, "compile", "lib:reverse", "--max-len", "5", "--verify", "0")
    assert code == 0 and "100%" not in out
    assert "verified: not checked" in out and "not checked against the evaluator" in out


def test_verified_line_with_rejected_inputs():
    from rasplab.cli.compile import _verified_line

    line = _verified_line({"n_inputs": 0, "n_exact": 0, "n_rejected": 1})
    assert line == "verified: no input compared; 1 sampled input rejected by the evaluator"
    line = _verified_line({"n_inputs": 4, "n_exact": 4, "n_rejected": 2})
    assert line.endswith("(100%); 2 sampled inputs rejected by the evaluator")


# ---------------------------------------------------------------- the documentation


def test_docs_describe_every_command():
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in COMMANDS:
        assert f"### rasplab {command}" in text, command
    assert "docs/cli.md" in (ROOT / "README.md").read_text()


def test_check_vocabulary_ignores_programs_without_an_entry():
    class FileProgram:
        entry = None

    common.check_vocabulary(FileProgram(), ["anything"], any_tokens=False)
    with pytest.raises(InputError):
        from rasplab.programs import resolve

        common.check_vocabulary(resolve("lib:dyck1"), ["x"], any_tokens=False)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help(command: str) -> str:
    return _subparsers(build_parser())[command].format_help()
