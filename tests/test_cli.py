"""The ``rasplab`` command line, called in-process (plus one real subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rasplab
from rasplab.cli.main import main
from rasplab.errors import ProgramNotFoundError
from rasplab.library import PROGRAMS
from rasplab.programs import resolve


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def table_rows(text: str) -> dict[str, list[str]]:
    """Rows of a ``run`` table by label (skipping the rule under the header)."""
    rows = {}
    for line in text.splitlines():
        label, *cells = line.split()
        if not set(label) <= {"-"}:
            rows[label] = cells
    return rows


# ---------------------------------------------------------------- run


def test_run_string_input(capsys):
    code, out, err = run_cli(capsys, "run", "lib:sort", "--input", "cab")
    assert code == 0 and err == ""
    rows = table_rows(out)
    assert rows["tokens"] == ["c", "a", "b"]
    assert rows["target_pos"] == ["2", "0", "1"]
    assert rows["sort"] == ["a", "b", "c"]
    assert list(rows)[-1] == "sort"  # the output comes last


def test_run_plain_library_name_and_json_list(capsys):
    code, out, _ = run_cli(capsys, "run", "sort_unique", "--input", "[3,1,2]")
    assert code == 0
    rows = table_rows(out)
    assert rows["tokens"] == ["3", "1", "2"]
    assert rows["sort_unique"] == ["1", "2", "3"]


def test_run_all_shows_unnamed_sops(capsys):
    _, named, _ = run_cli(capsys, "run", "lib:reverse", "-i", "abc")
    _, everything, _ = run_cli(capsys, "run", "lib:reverse", "-i", "abc", "--all")
    assert "indices" not in table_rows(named)
    rows = table_rows(everything)
    assert rows["indices"] == ["0", "1", "2"]
    assert rows["reverse"] == ["c", "b", "a"]


def test_run_json(capsys):
    code, out, _ = run_cli(capsys, "run", "lib:sort", "--input", "[3,1,2]", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["program"] == "sort"
    assert data["input"] == [3, 1, 2]
    assert data["output"] == [1, 2, 3]
    assert data["values"]["target_pos"] == [2, 0, 1]
    assert data["values"]["sort"] == [1, 2, 3]


def test_run_inputs_file_with_a_bad_line(capsys, tmp_path):
    lines = ['"cab"', "[3, 1, 2]", '[1, "a"]', "not json", '"ba"']
    path = tmp_path / "inputs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    argv = ["run", "lib:sort", "--inputs", str(path), "--json"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 1 and err == ""  # some lines failed, but every line was answered
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 5
    assert results[0] == {"input": "cab", "output": ["a", "b", "c"]}
    assert results[1] == {"input": [3, 1, 2], "output": [1, 2, 3]}
    assert results[2]["input"] == [1, "a"] and "mixes types" in results[2]["error"]
    assert "error" in results[3]
    assert results[4] == {"input": "ba", "output": ["a", "b"]}


def test_run_inputs_file_text(capsys, tmp_path):
    path = tmp_path / "inputs.jsonl"
    path.write_text('"cab"\n\n""\n')
    code, out, _ = run_cli(capsys, "run", "lib:sort", "--inputs", str(path))
    assert code == 1
    assert out.splitlines() == [
        "cab -> abc",
        "'' -> error: empty input: a RASP program needs at least one token",
    ]


# ---------------------------------------------------------------- analyse and list


def test_analyse_dyck2_text(capsys):
    code, out, _ = run_cli(capsys, "analyse", "lib:dyck2")
    assert code == 0
    assert out.startswith("dyck2: 4 layers, heads per layer [1, 2, 1, 1] (5 heads)")
    assert "-- match" in out
    assert "opener_for_closer" in out and "matched_opener" in out


def test_analyse_dyck2_json(capsys):
    code, out, _ = run_cli(capsys, "analyse", "lib:dyck2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["program"] == "dyck2"
    assert data["n_layers"] == 4
    assert data["heads_per_layer"] == [1, 2, 1, 1]
    assert [len(layer["heads"]) for layer in data["layers"]] == [1, 2, 1, 1]
    assert data["paper"]["match"] is True


def test_list(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()[2:]]
    assert names == list(PROGRAMS)
    assert any(line.split()[:3] == ["dyck2", "4", "[1,"] for line in out.splitlines())


def test_list_json(capsys):
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    data = {item["name"]: item for item in json.loads(out)}
    assert set(data) == set(PROGRAMS)
    assert data["dyck2"]["heads_per_layer"] == [1, 2, 1, 1]


# ---------------------------------------------------------------- demo


def test_demo(capsys):
    code, out, _ = run_cli(capsys, "demo")
    assert code == 0
    assert out.rstrip().splitlines()[-1] == f"{len(PROGRAMS)} programs, all checks passed"
    assert "cab -> abc" in out
    assert "500/500" in out


def test_demo_json_subset(capsys):
    code, out, _ = run_cli(capsys, "demo", "sort", "dyck2", "--samples", "50", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["failed"] == []
    assert [p["name"] for p in data["programs"]] == ["sort", "dyck2"]
    assert all(p["random_passed"] == p["random_total"] == 50 for p in data["programs"])
    assert [p["compiled_n_layers"] for p in data["programs"]] == [2, 4]  # the analysis depths
    assert all(p["compiled_exact"] == 50 for p in data["programs"])


def test_demo_compiles_unless_told_not_to(capsys):
    code, out, _ = run_cli(capsys, "demo", "reverse", "--samples", "20")
    assert code == 0 and "compiled: 2 layers, exact on 20/20 random inputs" in out
    code, out, _ = run_cli(capsys, "demo", "reverse", "--samples", "20", "--no-compile")
    assert code == 0 and "compiled:" not in out


def test_a_compiled_model_that_misses_fails_the_check():
    from rasplab.cli.demo import ProgramCheck

    check = ProgramCheck(
        "x", random_passed=5, random_total=5, compiled_n_layers=1, compiled_exact=4
    )
    assert not check.ok and ProgramCheck("x", random_passed=5, random_total=5).ok


# ---------------------------------------------------------------- program files


PROGRAM_FILE = """
from rasplab import tokens, indices, length, select, aggregate

flip = select(indices, length - indices - 1, "==").named("flip")
rev = aggregate(flip, tokens).named("rev")

def make_rev():
    return aggregate(flip, tokens).named("made")

answer = 42
"""


@pytest.fixture
def program_file(tmp_path) -> Path:
    path = tmp_path / "myprog.py"
    path.write_text(PROGRAM_FILE)
    return path


def test_file_attribute(capsys, program_file):
    code, out, _ = run_cli(capsys, "run", f"{program_file}:rev", "-i", "abc")
    assert code == 0
    assert table_rows(out)["rev"] == ["c", "b", "a"]


def test_file_factory(capsys, program_file):
    code, out, _ = run_cli(capsys, "run", f"{program_file}:make_rev", "-i", "[1,2]", "--json")
    assert code == 0
    assert json.loads(out)["output"] == [2, 1]
    assert resolve(f"{program_file}:make_rev").sop.name == "made"


def test_file_missing_attribute(capsys, program_file):
    code, _, err = run_cli(capsys, "analyse", f"{program_file}:nope")
    assert code == 2
    assert err.startswith("error:") and "'nope'" in err and "rev" in err


def test_file_attribute_not_an_sop(capsys, program_file):
    code, _, err = run_cli(capsys, "analyse", f"{program_file}:answer")
    assert code == 2
    assert err.startswith("error:") and "must be an s-op" in err


def test_file_with_syntax_error(capsys, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("x = (\n")
    code, _, err = run_cli(capsys, "run", f"{path}:x", "-i", "a")
    assert code == 2
    assert err.startswith("error:") and "SyntaxError" in err and "Traceback" not in err


# ---------------------------------------------------------------- errors


def test_unknown_program(capsys):
    code, out, err = run_cli(capsys, "run", "no_such_program", "-i", "abc")
    assert code == 2 and out == ""
    assert err.startswith("error: unknown program 'no_such_program'")
    assert len(err.strip().splitlines()) == 1
    assert all(name in err for name in PROGRAMS)
    with pytest.raises(ProgramNotFoundError):
        resolve("lib:no_such_program")


@pytest.mark.parametrize("text", ["", '[1,"a"]'])
def test_bad_input_is_an_error_not_a_traceback(capsys, text):
    code, out, err = run_cli(capsys, "run", "lib:sort", "--input", text)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_usage_error(capsys):
    code, _, err = run_cli(capsys, "run", "lib:sort")  # neither --input nor --inputs
    assert code == 2
    assert "usage:" in err


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"rasplab {rasplab.__version__}"


def test_console_script():
    script = Path(sys.executable).with_name("rasplab")
    if not script.exists():
        found = shutil.which("rasplab")
        if found is None:
            pytest.skip("the rasplab console script is not installed")
        script = Path(found)
    done = subprocess.run(
        [str(script), "run", "lib:sort", "--input", "cab", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == ["a", "b", "c"]
