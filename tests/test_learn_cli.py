"""``rasplab learn``: a run folder from examples, and clear errors with nothing half-written."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

pytest.importorskip("torch")

from rasplab import load  # noqa: E402
from rasplab.cli.main import main  # noqa: E402
from rasplab.errors import TrainingError  # noqa: E402

QUICK = ("--layers", "1", "--steps", "400", "--restarts", "4", "--set", 'kinds=["width"]')
QUICK += ("--set", "n_train=800", "--set", "n_val=200", "--set", "n_test=200", "--quiet")


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _hist_rows(n: int = 1200):
    rng = random.Random(0)
    rows = []
    for _ in range(n):
        xs = [rng.choice("abc") for _ in range(rng.randint(1, 4))]
        rows.append({"input": "".join(xs), "output": [xs.count(x) for x in xs]})
    return rows


def _nothing_written(folder: Path) -> bool:
    leftovers = [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}-")]
    return not leftovers and (not folder.exists() or not any(folder.iterdir()))


@pytest.mark.slow
def test_learns_hist_from_jsonl_and_writes_a_usable_folder(capsys, tmp_path):
    data = _write_jsonl(tmp_path / "hist.jsonl", _hist_rows())
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "learn", data, "-o", out, *QUICK, "--seeds", "0,1,2", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["test_acc"] == 1.0
    assert all(check["equal"] for check in report["readout"].values())
    assert report["size_after"]["heads"] == 1 and report["size_after"]["layers"] == 1
    for name in ("metrics.json", "results.md", "program.rasp", "program.py", "full.rasp"):
        assert (out / name).is_file(), name
    program = load(out / "program.rasp")
    name = program.output_name if hasattr(program, "output_name") else "output"
    assert program[name](list("abca")) == [2, 1, 1, 2]
    assert cli(capsys, "analyse", out / "program.rasp")[0] == 0
    assert cli(capsys, "analyse", f"{out / 'program.py'}:program")[0] == 0
    picture = tmp_path / "hist.svg"
    assert cli(capsys, "draw", out / "program.rasp", "--input", "abca", "-o", picture)[0] == 0
    code, _, err = cli(capsys, "compile", out / "program.rasp", "--vocab", "abc", "--max-len", "4")
    assert code == 0, err


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([{"input": "ab", "output": [1]}], "one value per input token"),
        ([{"input": [1, "a"], "output": [1, 1]}], "mix types"),
        ([{"input": "ab", "output": [1, 1]}, {"input": "ab", "output": [1, 2]}], "not a function"),
        ([{"in": "ab"}], "expected"),
    ],
)
def test_bad_examples_are_refused_and_nothing_is_written(capsys, tmp_path, rows, needle):
    good = [{"input": "abc", "output": [1, 1, 1]}] * 3
    data = _write_jsonl(tmp_path / "bad.jsonl", good + rows)
    out = tmp_path / "run"
    code, _, err = cli(capsys, "learn", data, "-o", out, *QUICK)
    assert code == 2, err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert _nothing_written(out)


def test_a_grid_too_small_reports_its_best_accuracy_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "run"
    argv = ("learn", "lib:sort", "-o", out, "--layers", "1", "--steps", "20", "--restarts", "1")
    code, _, err = cli(capsys, *argv, "--set", "n_train=200", "--set", "n_val=100", "--quiet")
    assert code == 1, err
    assert "best validation accuracy was" in err and "Nothing was written" in err
    assert _nothing_written(out)


def test_a_non_empty_folder_is_refused_before_any_work(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = cli(capsys, "learn", "lib:hist", "-o", out, *QUICK)
    assert code == 1 and "--force" in err
    assert (out / "keep.txt").read_text() == "mine"


def test_bad_grid_values_are_errors(capsys, tmp_path):
    code, _, err = cli(capsys, "learn", "lib:hist", "-o", tmp_path / "r", "--layers", "x")
    assert code == 1 and "comma-separated integers" in err
    code, _, err = cli(capsys, "learn", "lib:nothing", "-o", tmp_path / "r", *QUICK)
    assert code == 2 and "no library program" in err


def test_the_size_line_counts_in_the_singular_where_one() -> None:
    from rasplab.cli.learn import _size

    one = {"layers": 1, "heads": 1, "table_entries": 1, "lines": 1}
    assert _size(one) == "1 layer, 1 head, 1 table entry, 1 line"
    many = {"layers": 2, "heads": 0, "table_entries": 9, "lines": 3}
    assert _size(many) == "2 layers, 0 heads, 9 table entries, 3 lines"


def test_set_takes_nested_json_lists_as_tuples() -> None:
    from rasplab.cli.learn import learn_changes
    from rasplab.learn.config import LearnConfig

    changes = learn_changes(['plan=[["width", "width"], ["cat"]]', "layers=2", 'kinds=["cat"]'])
    assert changes["plan"] == (("width", "width"), ("cat",)) and changes["kinds"] == ("cat",)
    config = LearnConfig().replace(**changes)
    config.check()
    assert config.layer_kinds() == (("width", "width"), ("cat",))


def test_set_refuses_a_value_of_the_wrong_kind_quoting_it(capsys, tmp_path) -> None:
    import pytest

    from rasplab.cli.learn import learn_changes
    from rasplab.errors import TrainingError

    for item, kind in [
        ("polish=maybe", "bool"),
        ("steps=1.5", "int"),
        ("steps=true", "int"),
        ("kinds=cat", "tuple"),
    ]:
        with pytest.raises(TrainingError, match=f"--set '{item}': expected a {kind}, got "):
            learn_changes([item])
    assert learn_changes(["lr=1"]) == {"lr": 1.0}  # an int where a float goes
    out = tmp_path / "run"
    code, _, err = cli(capsys, "learn", "lib:hist", "-o", out, "--set", "polish=maybe")
    assert code == 1 and "expected a bool, got 'maybe'" in err and not out.exists()


def test_the_quick_settings_are_valid_and_fit_the_time_budget() -> None:
    from rasplab.learn.experiment import TASKS, setting

    limits = []
    for task in TASKS:
        config = setting(task, quick=True).config
        config.check()
        assert 0 < config.time_limit <= 120, task
        limits.append(config.time_limit)
        assert setting(task, quick=False).config.time_limit == 0.0  # the full setting: no limit
    # three seeds, two fits at a time: the limits leave room within 15 minutes for the rest
    assert 3 * sum(limits) / 2 <= 12 * 60
    with pytest.raises(TrainingError, match="not a task"):
        setting("nothing", quick=True)
