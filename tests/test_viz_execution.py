"""The execution view and the value table, checked by parsing their SVG."""

import random
import re
import xml.etree.ElementTree as ET

import pytest

from rasplab import aggregate, analyse, evaluate, indices, select, selector_width, tokens
from rasplab.library import PROGRAMS
from rasplab.viz.check import find_overlaps
from rasplab.viz.execution import execution_svg
from rasplab.viz.heads import SELECTED, UNSELECTED
from rasplab.viz.labels import cell
from rasplab.viz.table import table_sops, value_fill, values_svg

SVG = "{http://www.w3.org/2000/svg}"


def add_program():
    if "add" in PROGRAMS:
        return PROGRAMS["add"].build()
    from rasplab.library.arith import add

    return add()


def deep_program(depth=8):
    """``depth`` layers: each shifts the previous result right and bumps it."""
    x = tokens
    for i in range(depth):
        x = aggregate(select(indices, indices - 1, "=="), x, "_").named(f"shift{i}")
        x = x.map(lambda v: v, name=f"copy{i}")
    return x.named("deep")


def cases():
    rng = random.Random(7)
    out = [("add", add_program(), list("683+345"))]
    for name, entry in sorted(PROGRAMS.items()):
        if name != "add":
            out.append((name, entry.build(), entry.sample(rng, 32)))
    out.append(("deep", deep_program(), list("abcdefgh" * 4)))
    return out


CASES = cases()
IDS = [c[0] for c in CASES]


def groups(root, css):
    return [g for g in root.iter(f"{SVG}g") if css in g.get("class", "").split()]


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def drawn(request):
    name, program, xs = request.param
    trace = evaluate(program, xs, trace=True)
    svg = execution_svg(trace)
    return trace, analyse(program), svg, ET.fromstring(svg)


def test_one_group_per_layer_and_head(drawn):
    trace, a, _, root = drawn
    layers = groups(root, "layer")
    assert [g.get("data-layer") for g in layers] == [str(i) for i in range(a.n_layers + 1)]
    for layer, g in zip(a.layers, layers[1:], strict=True):
        heads = groups(g, "head")
        assert len(heads) == len(layer.heads) == int(g.get("data-heads"))
        assert [h.get("data-selector") for h in heads] == [h.label for h in layer.heads]
        assert [h.get("data-sops") for h in heads] == [
            " ".join(s.label for s in h.sops) for h in layer.heads
        ]


def test_cells_are_coloured_from_the_trace(drawn):
    trace, a, _, root = drawn
    n = len(trace.input)
    for layer, g in zip(a.layers, groups(root, "layer")[1:], strict=True):
        for head, hg in zip(layer.heads, groups(g, "head"), strict=True):
            rects = groups(hg, "cells")[0].findall(f"{SVG}rect")
            assert len(rects) == n * n == int(hg.get("data-queries")) * int(hg.get("data-keys"))
            matrix = [[True] * n] * n if head.selector is None else trace[head.selector]
            want = [SELECTED if x else UNSELECTED for row in matrix for x in row]
            assert [r.get("fill") for r in rects] == want
            assert int(hg.get("data-selected")) == sum(map(sum, matrix))


def test_every_filled_shape_says_its_fill_and_stroke(drawn):
    *_, root = drawn
    for rect in root.iter(f"{SVG}rect"):
        assert rect.get("fill") and rect.get("stroke"), ET.tostring(rect)[:80]
    assert not list(root.iter(f"{SVG}style")) and not list(root.iter(f"{SVG}script"))


def test_labels_and_values_are_present(drawn):
    trace, a, svg, root = drawn
    texts = {t.text for t in root.iter(f"{SVG}text")}
    for layer in a.layers:
        for head in layer.heads:
            assert head.label in texts
            assert all(s.label in texts for s in head.sops)
    n = len(trace.input)
    for layer, g in zip(a.layers, groups(root, "layer")[1:], strict=True):
        rows = {r.get("data-sop"): r for r in groups(g, "row")}
        for sop in layer.mlp:
            texts = [t.text for t in rows[sop.label].iter(f"{SVG}text")]  # role, label, cells, note
            assert texts[:2] == ["after", sop.label]
            assert texts[2 : 2 + n] == [cell(v) for v in trace[sop]]


def test_mlp_rows_show_before_and_after(drawn):
    trace, a, _, root = drawn
    for layer, g in zip(a.layers, groups(root, "layer")[1:], strict=True):
        mlp = groups(g, "mlp")
        if not layer.mlp:
            assert not mlp
            continue
        roles = {r.get("data-sop"): r.get("data-role") for r in groups(mlp[0], "row")}
        assert all(roles[s.label] == "after" for s in layer.mlp)
        made = {s.id for s in layer.mlp}
        for s in layer.mlp:
            for child in s.children:
                if child.id not in made and child.kind != "full":
                    assert roles[child.label] == "before"


def test_nothing_overlaps(drawn):
    *_, svg, _ = drawn
    assert find_overlaps(svg) == []


def test_size_is_bounded(drawn):
    trace, a, svg, root = drawn
    width, height = float(root.get("width")), float(root.get("height"))
    assert width < 2500 and height < 12000
    cells = len(trace.input) ** 2 * a.n_heads
    assert len(svg) < 70 * cells + 150_000  # the grids dominate: about 64 bytes a cell


def test_add_fits_raspys_size():
    trace = evaluate(add_program(), "683+345", trace=True)
    svg = execution_svg(trace)
    assert len(svg.encode()) < 275_000
    assert "0001028" in svg  # the output in the title


def test_a_selector_program_draws_its_selector():
    sel = select(tokens, tokens, "==").named("same")
    trace = evaluate(sel, "abca", trace=True)
    root = ET.fromstring(execution_svg(trace))
    heads = groups(root, "head")
    assert [h.get("data-layer") for h in heads] == ["result"]
    assert int(heads[0].get("data-selected")) == 6


def test_value_table_rows_and_colours():
    hist = selector_width(select(tokens, tokens, "==")).named("hist")
    trace = evaluate((hist > 1).named("repeated"), "abcab", trace=True)
    root = ET.fromstring(values_svg(trace))
    rows = groups(root, "row")
    assert [r.get("data-sop") for r in rows] == ["", "tokens", "hist", "repeated"]
    repeated = rows[-1]
    fills = [r.get("fill") for r in repeated.findall(f"{SVG}rect")][1:]
    assert fills == [value_fill(v, trace["repeated"]) for v in trace["repeated"]]
    assert [r.get("data-layer") for r in rows[1:]] == ["0", "1", "1"]
    assert len(table_sops(trace, "all")) == 3
    assert find_overlaps(values_svg(trace)) == []


def test_value_table_for_a_library_program_at_length_32():
    entry = PROGRAMS["sort"]
    xs = entry.sample(random.Random(3), 32)
    svg = values_svg(evaluate(entry.build(), xs, trace=True), which="all")
    root = ET.fromstring(svg)
    assert root.find(f".//{SVG}g[@class='values']").get("data-positions") == "32"
    assert find_overlaps(svg) == []
    assert re.search(r'width="\d+', svg)


def test_wide_values_at_length_32_are_turned_not_stretched():
    x = tokens
    for i in range(4):
        x = (aggregate(select(indices, indices - 1, "=="), x, "_") + "!").named(f"grow{i}")
    trace = evaluate(x, list("abcdefgh" * 4), trace=True)
    for svg in (execution_svg(trace), values_svg(trace)):
        root = ET.fromstring(svg)
        assert float(root.get("width")) < 1700
        turned = [t for t in root.iter(f"{SVG}text") if "rotate" in t.get("transform", "")]
        assert any(t.text == "_!!!!" for t in turned)
        assert find_overlaps(svg) == []


def test_value_table_is_ordered_by_layer():
    trace = evaluate(add_program(), "683+345", trace=True)
    layers = [int(g.get("data-layer")) for g in groups(ET.fromstring(values_svg(trace)), "row")[1:]]
    assert layers == sorted(layers)
