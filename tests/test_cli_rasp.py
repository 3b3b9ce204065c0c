"""``.rasp`` files through the command line: run, analyse, draw, and the REPL."""

import json
import subprocess
import sys
from pathlib import Path

from rasplab.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_run_rasp_file(capsys):
    assert main(["run", str(EXAMPLES / "sort.rasp"), "--input", "cab"]) == 0
    assert "[a, b, c]" in capsys.readouterr().out


def test_run_rasp_file_json_and_output_name(tmp_path, capsys):
    src = tmp_path / "p.rasp"
    src.write_text("tokens = tokens_int;\ndouble = tokens * 2;\nplus = tokens + 1;\n")
    assert main(["run", str(src), "--input", "[1,2]", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == [2, 3]
    assert main(["run", str(src), "--sop", "double", "--input", "[1,2]", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == [2, 4]
    assert main(["run", f"{src}:double", "--input", "1,2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == [2, 4]


def test_run_rasp_inputs_file(tmp_path, capsys):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('"hello"\n"ab"\n')
    assert main(["run", str(EXAMPLES / "hist.rasp"), "--inputs", str(inputs), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["output"] for x in lines] == [[1, 1, 2, 2, 1], [1, 1]]


def test_analyse_and_draw_rasp(tmp_path, capsys):
    assert main(["analyse", str(EXAMPLES / "dyck2.rasp"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["heads_per_layer"] == [1, 2, 1, 1]
    out = tmp_path / "d.svg"
    assert main(["draw", str(EXAMPLES / "reverse.rasp"), "-i", "abc", "-o", str(out)]) == 0
    assert out.read_text().startswith("<svg")


def test_syntax_error_is_reported_with_caret(tmp_path, capsys):
    src = tmp_path / "bad.rasp"
    src.write_text('x = tokens == "a"\n')
    assert main(["run", str(src), "--input", "ab"]) != 0
    err = capsys.readouterr().err
    assert "line" in err and "^" in err and "Traceback" not in err


def test_repl_subcommand_reads_statements():
    script = 'x = tokens == "l";\nexit\n'
    done = subprocess.run(
        [sys.executable, "-m", "rasplab", "repl"], input=script, capture_output=True, text=True
    )
    assert done.returncode == 0 and 'x("hello")' in done.stdout
