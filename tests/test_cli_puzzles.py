"""``rasplab puzzles`` in-process: list, show, start, check (table, JSON, hints, exit codes)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from rasplab.cli.puzzles import add_parser, main
from rasplab.puzzles import PUZZLES

REFERENCE = Path(__file__).parent / "puzzle_solutions"
NOTEBOOK = Path(__file__).parents[1] / "examples" / "puzzles.ipynb"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_json(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "dyck2" in out and "4 layers, 1 head per layer" in out
    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)["puzzles"]
    assert [r["name"] for r in rows] == list(PUZZLES)
    assert rows[2]["name"] == "length" and "length" not in rows[2]["allowed"]


def test_show(capsys):
    code, out, _ = run(capsys, "show", "split")
    assert code == 0 and "Puzzle 9" in out and "split(part=0) on 'ab+c'" in out


def test_start_writes_stubs_and_keeps_existing_files(capsys, tmp_path):
    code, out, _ = run(capsys, "start", tmp_path)
    assert code == 0
    stubs = sorted(tmp_path.glob("*.py"))
    assert len(stubs) == len(PUZZLES) and (tmp_path / "README.md").exists()
    text = (tmp_path / "02_shift.py").read_text()
    assert "def shift(i, default):" in text and "raise NotImplementedError" in text
    assert "Budget: 1 layer, 1 head per layer." in text
    for stub in stubs:  # a docstring and a stub, never a solution
        assert stub.read_text().count("raise NotImplementedError") == 1
    (tmp_path / "02_shift.py").write_text("# mine\n")
    run(capsys, "start", tmp_path)
    assert (tmp_path / "02_shift.py").read_text() == "# mine\n"
    run(capsys, "start", tmp_path, "--force")
    assert "def shift" in (tmp_path / "02_shift.py").read_text()


def test_check_fresh_stubs_is_unsolved(capsys, tmp_path):
    run(capsys, "start", tmp_path)
    code, out, _ = run(capsys, "check", tmp_path)
    assert code == 1
    assert " 1  index             no      -/1     -/1    todo" in out
    assert out.rstrip().endswith(f"solved 0 of {len(PUZZLES)}")


def test_check_reference_solutions_exit_zero_with_table(capsys):
    code, out, _ = run(capsys, "check", REFERENCE, "reverse", "dyck2")
    assert code == 0
    assert "reverse           yes     2/2     1/1    solved" in out
    assert "dyck2             yes     3/3     1/1    solved" in out
    assert "solved 2 of 2" in out


def test_check_json(capsys, tmp_path):
    shutil.copy(REFERENCE / "11_sort.py", tmp_path / "11_sort.py")
    (tmp_path / "04_reverse.py").write_text("from rasplab import tokens\n\nreverse = tokens\n")
    code, out, _ = run(capsys, "check", tmp_path, "sort", "reverse", "--json")
    assert code == 1
    data = json.loads(out)
    assert (data["solved"], data["total"], data["all_solved"]) == (1, 2, False)
    by_name = {row["puzzle"]: row for row in data["puzzles"]}
    assert by_name["sort"]["status"] == "solved" and by_name["sort"]["layers"] == 2
    wrong = by_name["reverse"]
    assert wrong["status"] == "wrong" and wrong["counterexample"]["input"] == ["a", "b"]


def test_check_wrong_solution_prints_report_and_hints(capsys, tmp_path):
    (tmp_path / "reverse.py").write_text("from rasplab import tokens\n\nreverse = tokens\n")
    code, out, _ = run(capsys, "check", tmp_path, "reverse", "--hint")
    assert code == 1
    assert "FAIL   4 reverse: wrong" in out and "expected: ['b', 'a']" in out
    assert "hints:" in out and "`length` costs a head" in out
    assert "Traceback" not in out


def test_check_usage_errors(capsys, tmp_path):
    code, _, err = run(capsys, "check", tmp_path, "no_such_puzzle")
    assert code == 2 and "no puzzle 'no_such_puzzle'" in err
    code, _, err = run(capsys, "check", tmp_path / "absent")
    assert code == 2 and "is not a directory" in err
    assert run(capsys, "frobnicate")[0] == 2


def test_add_parser_wires_into_a_parent_command(capsys):
    parser = argparse.ArgumentParser(prog="rasplab")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["puzzles", "list", "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["puzzles"][0]["name"] == "index"


# ---------------------------------------------------------------- the notebook


def _code_cells() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_notebook_runs_with_nbclient():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()


def test_notebook_code_runs_in_order(capsys):
    namespace: dict = {}
    for source in _code_cells():
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    capsys.readouterr()


def test_check_gives_up_on_a_looping_solution_and_checks_the_rest(capsys, tmp_path):
    run(capsys, "start", tmp_path)
    shutil.copy(REFERENCE / "02_shift.py", tmp_path / "02_shift.py")
    (tmp_path / "01_index.py").write_text(
        "from rasplab import map, tokens\n\n\n"
        "def spin(x):\n    while True:\n        pass\n\n\n"
        "def index(i):\n    return map(spin, tokens)\n"
    )
    code, out, _ = run(capsys, "check", tmp_path, "index", "shift", "--time-limit", "2")
    assert code == 1
    assert "time limit of 2 s" in out and "--time-limit" in out
    rows = {line.split()[1]: line for line in out.splitlines() if line[:3].strip().isdigit()}
    assert "solved" in rows["shift"] and "solved" not in rows["index"]
