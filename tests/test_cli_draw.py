"""``rasplab draw``, ``rasplab report`` and ``rasplab run --view``."""

import json
import xml.etree.ElementTree as ET

from rasplab.cli.main import main


def test_draw_execution_svg(tmp_path, capsys):
    out = tmp_path / "sort.svg"
    assert main(["draw", "lib:sort", "--input", "cab", "-o", str(out)]) == 0
    root = ET.fromstring(out.read_text())
    assert root.tag.endswith("svg")
    assert "execution" in capsys.readouterr().out


def test_draw_graph_without_input_and_json(tmp_path, capsys):
    out = tmp_path / "g.html"
    assert main(["draw", "lib:dyck2", "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "graph" and data["bytes"] == out.stat().st_size
    assert "<svg" in out.read_text()


def test_draw_needs_input_for_execution(tmp_path, capsys):
    out = tmp_path / "x.svg"
    assert main(["draw", "lib:sort", "--kind", "execution", "-o", str(out)]) == 2
    assert "error:" in capsys.readouterr().err


def test_draw_unknown_suffix(tmp_path, capsys):
    assert main(["draw", "lib:sort", "-i", "ab", "-o", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert "x.gif" in err and ".svg, .html or .png" in err


def test_report(tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", "lib:reverse", "--input", "abc", "-o", str(out)]) == 0
    text = out.read_text()
    assert "<svg" in text and "reverse" in text and "http" not in text.split("<svg", 1)[0].lower()


def test_run_view_shows_grids(capsys):
    assert main(["run", "lib:sort", "--input", "cab", "--view"]) == 0
    out = capsys.readouterr().out
    assert "layer 1" in out and "#" in out


def test_draw_refuses_long_inputs_and_names_the_flag(tmp_path, capsys):
    from rasplab.cli.main import main

    out = tmp_path / "x.svg"
    code = main(["draw", "lib:reverse", "-i", "ab" * 200, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "--max-positions" in err and not out.exists()
    code = main(["draw", "lib:reverse", "-i", "ab" * 20, "-o", str(out), "--max-positions", "30"])
    assert code == 1 and "30 positions" in capsys.readouterr().err
    assert main(["draw", "lib:reverse", "-i", "ab" * 20, "-o", str(out)]) == 0
