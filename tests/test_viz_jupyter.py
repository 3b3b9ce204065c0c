"""Notebook display helpers (the bodies of ``_repr_html_``) and the tour notebook."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rasplab import analyse, evaluate, select, tokens
from rasplab.library import PROGRAMS
from rasplab.viz import jupyter

SVG = "{http://www.w3.org/2000/svg}"
NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "tour.ipynb"


def parse(fragment: str) -> ET.Element:
    root = ET.fromstring(fragment)
    assert root.tag == "div" and root.get("class") == "rasplab"
    assert "<script" not in fragment
    return root


def test_node_html_shows_the_definition_and_graph():
    program = PROGRAMS["sort"].build()
    root = parse(jupyter.node_html(program))
    assert "sort = aggregate(sel_new, tokens" in "".join(root.itertext())
    assert [s.get("class") for s in root.iter(f"{SVG}svg")] == ["rasplab-graph"]
    sel = select(tokens, tokens, "==").named("same")
    assert "[k.tokens == q.tokens]" in "".join(parse(jupyter.node_html(sel)).itertext())


def test_trace_html_shows_the_run():
    trace = evaluate(PROGRAMS["hist"].build(), "hello", trace=True)
    root = parse(jupyter.trace_html(trace))
    classes = [s.get("class") for s in root.iter(f"{SVG}svg")]
    assert classes == ["rasplab-execution", "rasplab-values"]
    assert root.find(".//details") is not None
    assert "hello" in "".join(root.itertext())


def test_long_traces_leave_the_grids_out():
    trace = evaluate(PROGRAMS["hist"].build(), "ab" * 40, trace=True)
    root = parse(jupyter.trace_html(trace))
    assert [s.get("class") for s in root.iter(f"{SVG}svg")] == ["rasplab-values"]


def test_analysis_html_shows_the_layers():
    a = analyse(PROGRAMS["most_freq"].build())
    root = parse(jupyter.analysis_html(a))
    assert len(root.findall(".//table")) == 2
    assert [s.get("class") for s in root.iter(f"{SVG}svg")] == ["rasplab-graph"]


def test_helpers_do_not_need_ipython():
    code = "import rasplab.viz, sys; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_tour_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(html) >= 5
