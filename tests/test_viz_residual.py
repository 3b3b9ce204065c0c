"""The residual-stream heatmaps of compiled models, and ``rasplab draw --compiled``."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from rasplab import aggregate, indices, map, numerical, select, tokens
from rasplab.cli.main import main
from rasplab.compiler import compile_program
from rasplab.errors import RaspError
from rasplab.library import get
from rasplab.model.forward import _attention
from rasplab.viz import DrawError, draw_residual, residual_svg
from rasplab.viz.check import find_overlaps
from rasplab.viz.residual import CHANGED, TOLERANCE, residual_stages, value_text

NS = "{http://www.w3.org/2000/svg}"


def _library(name, max_len=8):
    entry = get(name)
    return compile_program(entry.build(), list(entry.vocab), max_len, sample=entry.sample)


@pytest.fixture(scope="module")
def sort_model():
    return _library("sort")


@pytest.fixture(scope="module")
def reverse_model():
    return _library("reverse")


@pytest.fixture(scope="module")
def signed_model():
    """Numerical directions holding negative, fractional and positive values."""
    weight = numerical(map(lambda t: {"a": -1.5, "b": 0.25, "c": 3}[t], tokens)).named("weight")
    mean = numerical(aggregate(select(indices, indices, "<="), weight, default=0)).named("mean")
    return compile_program(mean, vocab="abc", max_seq_len=8)


@pytest.fixture(scope="module")
def deep_model():
    """Eight layers of attention, one after another, for inputs up to length 32."""
    x, before = tokens, map(lambda i: max(i - 1, 0), indices)
    for k in range(8):
        x = aggregate(select(indices, before, "=="), x).named(f"step{k}")
    return compile_program(x, vocab="ab", max_seq_len=32, verify=8)


def _stages(root):
    return [g for g in root.iter(NS + "g") if g.get("class") == "stage"]


def _expected_stages(model):
    kinds = ["embed"]
    for block in model.blocks:
        kinds += ["attn"] * bool(block.attn.n_heads) + ["mlp"] * bool(block.mlp.d_mlp)
    return kinds


def _cells(stage):
    """``(row, position) -> (fill, stroke, text)`` for the cells drawn in one panel."""
    grid = next(g for g in stage.iter(NS + "g") if g.get("class") == "cells")
    w, h = (float(v) for v in grid.get("data-cell").split())
    out = {}
    for rect in grid.findall(NS + "rect"):
        if rect.get("class") != "frame":
            key = (round(float(rect.get("y")) / h), round(float(rect.get("x")) / w))
            out[key] = [rect.get("fill"), rect.get("stroke"), None]
    for text in grid.iter(NS + "text"):
        key = (int(float(text.get("y")) // h), int(float(text.get("x")) // w))
        out[key][2] = text.text
    return out


def _sign_of(fill):
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return 0 if (r, g, b) == (255, 255, 255) else (1 if b > r else -1)


def _shown(model, stages):
    peak = np.max([np.abs(s.values).max(axis=0) for s in stages], axis=0)
    return [i for i in range(model.d_model) if peak[i] >= TOLERANCE]


def test_well_formed_with_one_group_per_stage(sort_model, reverse_model):
    for model, x in ((sort_model, "cabedaeb"), (reverse_model, "abcdeabc")):
        root = ET.fromstring(residual_svg(model, x))
        assert root.tag == NS + "svg"
        stages = _stages(root)
        assert [g.get("data-stage") for g in stages] == _expected_stages(model)
        assert [int(g.get("data-block")) for g in stages][0] == -1
        assert stages[1].get("data-layer") == "1"
        summary = next(g for g in root.iter(NS + "g") if g.get("class") == "residual")
        assert summary.get("data-stages") == str(len(stages))
        assert summary.get("data-positions") == str(len(x) + 1)


def test_reverse_stages_are_embedding_attention_mlp_attention(reverse_model):
    root = ET.fromstring(residual_svg(reverse_model, "abc"))
    titles = [g.find(NS + "text").text for g in _stages(root)]
    assert titles == ["embedding", "layer 1 · attention", "layer 1 · MLP", "layer 2 · attention"]


def test_stages_are_the_models_forward_pass(sort_model):
    ids = sort_model.encode("cabedaeb")[None]
    cache = {}
    sort_model.forward(ids, np.float64, cache)
    stages, output = residual_stages(sort_model, "cabedaeb")
    assert output == list("aabbcdee") == sort_model("cabedaeb")
    ends = [cache[f"resid_pre.{i}"][0] for i in range(sort_model.n_layers)]
    ends.append(cache["resid_final"][0])
    w = sort_model.weights(np.float64)
    for i, block in enumerate(sort_model.blocks):
        (attn,) = [s for s in stages if s.kind == "attn" and s.block == i]
        mlps = [s for s in stages if s.kind == "mlp" and s.block == i]
        assert len(mlps) == (block.mlp.d_mlp > 0)  # a layer without MLP units has no stage
        mixed = _attention(ends[i][None], w, f"blocks.{i}.attn.", sort_model.causal)[0]
        np.testing.assert_allclose(attn.values, ends[i] + mixed, atol=1e-9)
        np.testing.assert_allclose((mlps or [attn])[0].values, ends[i + 1], atol=1e-9)
        assert attn.heads == block.attn.names
    np.testing.assert_allclose(stages[0].values, ends[0])


def test_row_labels_are_direction_names_grouped_by_sop(sort_model):
    stages, _ = residual_stages(sort_model, "cab")
    root = ET.fromstring(residual_svg(sort_model, "cab"))
    labels = next(g for g in root.iter(NS + "g") if g.get("class") == "labels")
    names = [t.text for t in labels.iter(NS + "text") if t.get("class") == "direction"]
    shown = [sort_model.directions[i] for i in _shown(sort_model, stages)]
    assert sorted(names) == sorted(shown) and len(names) < sort_model.d_model
    groups = [g for g in labels.iter(NS + "g") if g.get("class") == "group"]
    assert [g.get("data-sop") for g in groups][:3] == ["bos", "one", "tokens"]
    for group in groups:
        rows = [t.text for t in group.iter(NS + "text") if t.get("class") == "direction"]
        assert len(rows) == int(group.get("data-rows"))
        assert {r.split(":", 1)[0] for r in rows} == {group.get("data-sop")}
    bold = {t.text for t in labels.iter(NS + "text") if t.get("font-weight") == "bold"}
    assert {"tokens", "indices", "sort"} <= bold
    assert {"target_pos", "target_pos^2"} <= set(names)  # a number and its square


def test_which_all_shows_every_direction(sort_model):
    root = ET.fromstring(residual_svg(sort_model, "cab", which="all"))
    labels = next(g for g in root.iter(NS + "g") if g.get("class") == "labels")
    names = [t.text for t in labels.iter(NS + "text") if t.get("class") == "direction"]
    assert sorted(names) == sorted(sort_model.directions)
    with pytest.raises(RaspError, match="which"):
        residual_svg(sort_model, "cab", which="some")


@pytest.mark.parametrize("name", ["sort", "signed"])
def test_cell_colours_follow_the_activations(name, sort_model, signed_model):
    model, x = (sort_model, "cabedaeb") if name == "sort" else (signed_model, "abcab")
    stages, _ = residual_stages(model, x)
    rows = _shown(model, stages)
    root = ET.fromstring(residual_svg(model, x))
    signs_seen = set()
    for k, (stage, panel) in enumerate(zip(stages, _stages(root), strict=True)):
        cells = _cells(panel)
        values = stage.values[:, rows].T  # [row, position]
        before = stages[k - 1].values[:, rows].T if k else np.zeros_like(values)
        for r, p in np.ndindex(values.shape):
            v = values[r, p]
            fill, stroke, text = cells.get((r, p), ["#ffffff", None, None])
            sign = 0 if abs(v) < TOLERANCE else int(np.sign(v))
            assert _sign_of(fill) == sign, (stage.title, r, p, v, fill)
            signs_seen.add(sign)
            moved = k > 0 and abs(v - before[r, p]) >= TOLERANCE
            assert (stroke == CHANGED) == moved, (stage.title, r, p)
            if text is not None:
                assert text == value_text(v)
    assert signs_seen == ({-1, 0, 1} if name == "signed" else {0, 1})


def test_values_are_printed_in_cells(signed_model):
    svg = residual_svg(signed_model, "abc")
    assert ">-1.5</text>" in svg and ">.25</text>" in svg and ">3</text>" in svg


@pytest.mark.parametrize(
    "name,x", [("sort", "cabedaeb"), ("reverse", "a"), ("sort", "abcde" * 6 + "ab")]
)
def test_no_overlaps(name, x):
    model = _library(name, max(8, len(x)))
    assert find_overlaps(residual_svg(model, x)) == []


def test_no_overlaps_at_eight_layers_and_length_32(deep_model):
    assert deep_model.n_layers == 8
    svg = residual_svg(deep_model, "ab" * 16)
    root = ET.fromstring(svg)
    assert len(_stages(root)) == 9
    assert find_overlaps(svg) == []
    assert float(root.get("height")) < 20000  # fits a PNG


def test_wide_tokens_turn_their_headers():
    program = aggregate(select(indices, indices, "=="), tokens)
    model = compile_program(program, vocab=["alpha", "beta"], max_seq_len=6)
    svg = residual_svg(model, ["alpha", "beta", "beta"])
    assert 'transform="rotate(-90' in svg
    assert find_overlaps(svg) == []


def test_draw_residual_formats(reverse_model):
    svg = draw_residual(reverse_model, "abc")
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
    html = draw_residual(reverse_model, "abc", format="html")
    ET.fromstring(html.split("\n", 1)[1])  # well-formed after the doctype
    assert html.count("<svg") == 1 and "reverse: residual stream" in html
    with pytest.raises(DrawError, match="format"):
        draw_residual(reverse_model, "abc", format="gif")


def test_draw_residual_png(reverse_model):
    pytest.importorskip("cairosvg")
    png = draw_residual(reverse_model, "abcdeabc", format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 500 and height > 300


def test_cli_draw_compiled(tmp_path, capsys):
    out = tmp_path / "sort.svg"
    argv = ["draw", "lib:sort", "--input", "cab", "--compiled", "--max-len", "5", "-o", str(out)]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "residual"
    root = ET.fromstring(out.read_text())
    assert [g.get("data-stage") for g in _stages(root)] == ["embed", "attn", "mlp", "attn"]
    assert "sort, compiled" in out.read_text()


def test_cli_draw_compiled_with_vocab_and_kind(tmp_path):
    out = tmp_path / "reverse.html"
    argv = [
        "draw",
        "lib:reverse",
        "-i",
        "abc",
        "-k",
        "residual",
        "--vocab",
        "a,b,c",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    assert "tokens:c" in out.read_text() and "tokens:d" not in out.read_text()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--compiled"], "--input"),
        (["-i", "abz", "--compiled"], "vocabulary"),
        (["-i", "ab", "--vocab", "a,b"], "--compiled"),
        (["-i", "ab", "--compiled", "-k", "graph"], "residual"),
    ],
)
def test_cli_draw_compiled_errors(tmp_path, capsys, argv, message):
    assert main(["draw", "lib:sort", *argv, "-o", str(tmp_path / "x.svg")]) == 2  # usage
    assert message in capsys.readouterr().err
