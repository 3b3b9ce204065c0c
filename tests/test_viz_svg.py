"""SVG primitives, labels, the layered layout and the overlap checker."""

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasplab import aggregate, indices, select, tokens
from rasplab.viz.check import find_overlaps
from rasplab.viz.labels import cell, operation, selector_expression, selector_inputs
from rasplab.viz.layered import Item, isotonic, layout
from rasplab.viz.rows import Row, RowBlock
from rasplab.viz.svg import Canvas, escape, num, text_width

SVG = "{http://www.w3.org/2000/svg}"


def test_canvas_output_is_well_formed_and_escaped():
    c = Canvas()
    with c.translated(3, 4, class_="head", data_label='a"<b>&'):
        c.rect(0, 0, 5, 5, fill="#fff", stroke="#000")
        c.text(1, 2, "<&>", anchor="end", rotate=True)
    root = ET.fromstring(c.render(10, 10))
    g = root.find(f"{SVG}g")
    assert g.get("data-label") == 'a"<b>&'
    assert g.find(f"{SVG}text").text == "<&>"
    assert root.get("fill") and root.get("font-family")


def test_every_rect_has_explicit_fill_and_stroke():
    c = Canvas()
    with pytest.raises(TypeError):
        c.rect(0, 0, 1, 1)  # fill and stroke are required
    c.rect(0, 0, 1, 1, fill="#123", stroke="none")
    rect = ET.fromstring(c.render(1, 1)).find(f"{SVG}rect")
    assert rect.get("fill") == "#123" and rect.get("stroke") == "none"


def test_text_width_and_numbers():
    assert text_width("abc", 10) == pytest.approx(3 * 6.4)
    assert text_width("中a", 10) == pytest.approx(3 * 6.4)
    assert num(1.04) == "1" and num(-2.26) == "-2.3" and num(5) == "5"
    assert escape('<>&"') == "&lt;&gt;&amp;&quot;"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "T"),
        (False, "F"),
        (3, "3"),
        (2.5, "2.5"),
        (1 / 3, "0.333"),
        (None, "-"),
        ("", "''"),
        ("  ", "␣␣"),
        ("x" * 20, "xxxxxxxx…"),
    ],
)
def test_cell_texts(value, text):
    assert cell(value) == text


def test_operation_inlines_constants_and_tolerates_braces():
    closer = (tokens == "}").named("closer")
    assert operation(closer) == "tokens == '}'"
    sel = select(tokens, "+", "==")
    assert operation(aggregate(sel, indices, -1)) == (
        "aggregate([k.tokens == q.'+'], indices, default=-1)"
    )


def test_selector_expressions_and_inputs():
    a = select(tokens, tokens, "<")
    b = select(indices, indices, "<") & select(tokens, tokens, "==")
    sel = a | b
    assert selector_expression(sel) == (
        "[k.tokens < q.tokens] | ([k.indices < q.indices] & [k.tokens == q.tokens])"
    )
    assert selector_expression(~a) == "~[k.tokens < q.tokens]"
    assert selector_expression(a | b.named("tie")) == "[k.tokens < q.tokens] | tie"
    keys, queries = selector_inputs(sel)
    assert [k.label for k in keys] == ["tokens", "indices"]
    assert [q.label for q in queries] == ["tokens", "indices"]


@given(st.lists(st.floats(-100, 100), max_size=30))
def test_isotonic_is_monotone_and_keeps_the_mean(values):
    fitted = isotonic(values)
    assert len(fitted) == len(values)
    assert all(a <= b + 1e-9 for a, b in zip(fitted, fitted[1:], strict=False))
    assert sum(fitted) == pytest.approx(sum(values), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_layout_never_overlaps_and_routes_long_edges(data):
    n_rows = data.draw(st.integers(1, 6))
    rows, keys = [], []
    for r in range(n_rows):
        row = []
        for i in range(data.draw(st.integers(1, 5))):
            inputs = data.draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
            row.append(Item(f"r{r}i{i}", data.draw(st.floats(5, 200)), inputs))
        keys += [item.key for item in row]
        rows.append(row)
    laid = layout(rows, gap=10)
    for row in laid:
        for a, b in zip(row, row[1:], strict=False):
            assert a.x + a.width < b.x
    everything = {i.key: i for row in laid for i in row}
    for item in everything.values():  # every edge now joins adjacent rows
        assert all(everything[k].row == item.row - 1 for k in item.above)


def test_overlap_checker_sees_texts_over_grids_and_nodes():
    c = Canvas()
    with c.group(class_="cells"):
        c.rect(0, 0, 16, 16, fill="#36a", stroke="#fff")
    c.text(4, 12, "x")
    with c.group(class_="node"):
        c.rect(40, 0, 50, 20, fill="#eee", stroke="#000")
        c.text(44, 14, "inside")
    c.text(60, 30, "below")
    found = find_overlaps(c.render(100, 40))
    assert [(a.kind, b.kind) for a, b in found] == [("grid", "text")]


def test_row_block_measures_from_its_widest_value():
    block = RowBlock([Row("a", ["1", "123456"], role="in"), Row("bb", ["x", "y"], "= f(a)", "out")])
    assert block.cell_width >= text_width("123456") + 6
    c = Canvas()
    block.draw(c, 0, 0)
    root = ET.fromstring(c.render(block.width, block.height))
    assert len(root.findall(f"{SVG}g[@class='row']")) == 2
    assert not find_overlaps(c.render(block.width, block.height))
