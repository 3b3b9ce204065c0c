"""``rasplab run FILE.rasp`` semantics, through the runner's Python API."""

from __future__ import annotations

import io
import json

import pytest

from rasplab.cli.rasp_file import read_cli_input, read_json_input, run_file, run_program
from rasplab.errors import InputError
from rasplab.syntax import parse
from rasplab.syntax.runner import RunResult, run_inputs


def run(path, **kw):
    out, err = io.StringIO(), io.StringIO()
    code = run_file(path, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def hist_file(tmp_path):
    path = tmp_path / "hist.rasp"
    path.write_text("same = select(tokens, tokens, ==);\nhist = selector_width(same);\n")
    return path


def test_one_plain_input_is_one_token_per_character(hist_file):
    code, out, err = run(hist_file, input="hello")
    assert code == 0 and err == ""
    assert out == 'hist("hello") = [1, 1, 2, 2, 1] (ints)\n'


def test_json_output(hist_file):
    code, out, _ = run(hist_file, input="a(b", as_json=True)
    assert json.loads(out) == {"input": "a(b", "output": [1, 1, 1]}


def test_a_malformed_json_input_is_a_usage_error(hist_file):
    code, out, err = run(hist_file, input="[ab")
    assert code == 2 and out == ""
    assert "'[ab' is not a valid JSON list" in err and "character 1" in err


def test_output_flag_and_output_comment(tmp_path):
    path = tmp_path / "p.rasp"
    path.write_text('# output: a\na = tokens + "!";\nb = indices;\n')
    assert run(path, input="xy")[1] == 'a("xy") = [x!, y!] (strings)\n'
    assert run(path, input="xy", sop="b")[1] == 'b("xy") = [0, 1] (ints)\n'


def test_last_sop_is_the_default_output(tmp_path):
    path = tmp_path / "p.rasp"
    path.write_text("a = tokens;\nb = indices;\nc = 5;\n")
    assert run(path, input="xy", as_json=True)[1] == '{"input": "xy", "output": [0, 1]}\n'


def test_inputs_file(tmp_path):
    path = tmp_path / "p.rasp"
    path.write_text("tokens = tokens_int;\ndouble = tokens * 2;\n")
    lines = tmp_path / "in.jsonl"
    lines.write_text('[1, 2]\n"34"\n\n[1, "x"]\n{"a": 1}\nnot json\n[]\n')
    code, out, _ = run(path, inputs=lines, as_json=True)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert records[0] == {"input": [1, 2], "output": [2, 4]}
    assert records[1] == {"input": "34", "output": [6, 8]}
    assert "token 'x' at position 1 cannot be read as int" in records[2]["error"]
    assert "a JSON string or list" in records[3]["error"]
    assert "not JSON" in records[4]["error"] and records[4]["input"] == "not json"
    assert "empty input" in records[5]["error"]
    assert len(records) == 6


def test_inputs_from_standard_input(tmp_path, monkeypatch, hist_file):
    monkeypatch.setattr("sys.stdin", io.StringIO('"aa"\n["x", "y"]\n'))
    code, out, _ = run(hist_file, inputs="-", as_json=True)
    assert code == 0 and len(out.splitlines()) == 2


def test_evaluation_errors_stay_with_their_input(tmp_path):
    path = tmp_path / "p.rasp"
    path.write_text('table = {"a": 1};\nv = table[tokens];\n')
    code, out, _ = run(path, inputs=_write(tmp_path, '"aa"\n"ab"\n"a"\n'), as_json=True)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert records[0]["output"] == [1, 1] and records[2]["output"] == [1]
    assert "key 'b' is not in the dict" in records[1]["error"]
    _, text, _ = run(path, input="ab")
    assert text.startswith('v("ab") fails: map v')


def _write(tmp_path, text):
    path = tmp_path / "inputs.jsonl"
    path.write_text(text)
    return path


def test_program_errors_exit_2(tmp_path, hist_file):
    bad = tmp_path / "bad.rasp"
    bad.write_text("x = tokens + 1")
    code, out, err = run(bad, input="a")
    assert code == 2 and out == ""
    assert "missing ';'" in err and "^" in err
    assert run(hist_file, input="a", sop="nope")[0] == 2
    assert "defines no 'nope'" in run(hist_file, input="a", sop="nope")[2]
    assert run(tmp_path / "none.rasp", input="a")[0] == 2
    assert "cannot read inputs" in run(hist_file, inputs=tmp_path / "none.jsonl")[2]
    assert "give an input" in run(hist_file)[2]


def test_a_set_example_line_is_the_default_input(tmp_path):
    path = tmp_path / "p.rasp"
    path.write_text('set example "abc"\nx = indices;\n')
    assert run(path)[1] == 'x("abc") = [0, 1, 2] (ints)\n'
    path.write_text("set example [5, 6]\ntokens = tokens_int;\nx = tokens + 1;\n")
    assert run(path, as_json=True)[1] == '{"input": [5, 6], "output": [6, 7]}\n'


def test_read_cli_input_follows_the_one_token_rule():
    assert read_cli_input("123") == "123"  # one token per character, shown as written
    assert read_cli_input("[1,2]") == [1, 2]
    assert read_cli_input("1,2") == [1, 2]
    assert read_cli_input("ab,cd") == ["ab", "cd"]
    with pytest.raises(InputError, match="not a valid JSON list"):
        read_cli_input("{")


def test_read_json_input():
    assert read_json_input('["a"]') == ["a"]
    with pytest.raises(InputError):
        read_json_input("3")


def test_run_inputs_api():
    prog = parse("tokens = tokens_int; y = 10 / tokens;")
    results = run_inputs(prog, ["12", "10", "x"])
    assert results[0] == RunResult("12", output=[10.0, 5.0])
    assert "division by zero" in results[1].error
    assert "cannot be read as int" in results[2].error


def test_run_program_human_output():
    prog = parse('y = tokens == "a";')
    out = io.StringIO()
    assert run_program(prog, input="ab", out=out) == 0
    assert out.getvalue() == 'y("ab") = [T, F] (bools)\n'
