"""The program graph and its DOT twin."""

import re
import xml.etree.ElementTree as ET

import pytest

from rasplab import aggregate, analyse, indices, length, select, tokens
from rasplab.library import PROGRAMS
from rasplab.viz.check import find_overlaps
from rasplab.viz.graph import GraphLayout, graph_svg, to_dot

SVG = "{http://www.w3.org/2000/svg}"


def programs():
    out = {name: entry.build() for name, entry in PROGRAMS.items()}
    if "add" not in out:
        from rasplab.library.arith import add

        out["add"] = add()
    x = tokens
    for i in range(8):
        x = aggregate(select(indices, indices - 1, "=="), x, "_").named(f"shift{i}")
        x = (x + "!").named(f"mark{i}")
    out["deep"] = x
    return out


PROGRAMS_TO_DRAW = programs()


def nodes(root, kind=None):
    found = [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    return [g for g in found if kind is None or g.get("data-kind") == kind]


@pytest.mark.parametrize("name", sorted(PROGRAMS_TO_DRAW))
def test_graph_has_the_analysis_shape_and_no_overlaps(name):
    program = PROGRAMS_TO_DRAW[name]
    a = analyse(program)
    svg = graph_svg(program)
    root = ET.fromstring(svg)
    layers = [g for g in root.iter(f"{SVG}g") if g.get("class") == "layer"]
    shown = [int(g.get("data-layer")) for g in layers]
    assert shown == sorted(shown) and shown[-1] == a.n_layers
    for layer in a.layers:
        heads = [h for h in nodes(root, "head") if h.get("data-layer") == str(layer.index)]
        assert len(heads) == len(layer.heads)
        assert {h.get("data-label") for h in heads} == {h.label for h in layer.heads}
        sops = {g.get("data-label") for g in nodes(root, "sop")}
        assert {s.label for s in layer.mlp} <= sops
    owners = [
        g for g in nodes(root) if program.label in (g.get("data-sops") or g.get("data-label"))
    ]
    assert owners, "the output is shown"
    assert find_overlaps(svg) == []
    for rect in root.iter(f"{SVG}rect"):
        assert rect.get("fill") and rect.get("stroke")


def test_edges_follow_data_flow():
    flip = select(indices, length - indices - 1, "==").named("flip")
    rev = aggregate(flip, tokens).named("rev")
    g = GraphLayout(rev)
    boxes = g.boxes()
    head = next(b for b in boxes.values() if b.attrs["data-kind"] == "head" and b.layer == 2)
    inputs = {boxes[k].lines[0] for k in head.inputs}
    assert inputs == {"indices", "tokens", "opp_index"} or "tokens" in inputs
    assert len(ET.fromstring(graph_svg(rev)).findall(f".//{SVG}g[@class='edges']/{SVG}path")) > 0


def test_long_edges_pass_through_rows_without_crossing_boxes():
    program = PROGRAMS_TO_DRAW["deep"]
    late = (program + tokens).named("late")  # tokens is read 16 rows further down
    g = GraphLayout(late)
    boxes = g.boxes()
    src = boxes[next(k for k, b in boxes.items() if b.lines[0] == "tokens")]
    dst = boxes[next(k for k, b in boxes.items() if b.lines[0] == "late")]
    points = g.route(src, dst)
    for (x, y0), (_, y1) in zip(points[1::2], points[2::2], strict=True):
        for box in boxes.values():
            inside_x = box.x - 1 < x < box.x + box.width + 1
            inside_y = y0 < box.y + box.height / 2 < y1
            assert not (inside_x and inside_y), box.lines[0]


def test_a_selector_graph_ends_in_a_head():
    sel = select(tokens, tokens, "==").named("same")
    root = ET.fromstring(graph_svg(sel))
    heads = nodes(root, "head")
    assert [h.get("data-label") for h in heads] == ["same"]


def test_dot_output_lists_every_box_and_edge():
    program = PROGRAMS_TO_DRAW["sort"]
    dot = to_dot(program)
    g = GraphLayout(program)
    assert dot.startswith('digraph "sort" {') and dot.rstrip().endswith("}")
    assert len(re.findall(r"^\s+\w+ \[label=", dot, re.M)) == len(g.boxes())
    assert dot.count("->") == sum(len(b.inputs) for b in g.boxes().values())
    assert dot.count("subgraph cluster_") == len(g.stages)
