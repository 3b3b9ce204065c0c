"""Rich display in notebooks, with no IPython import: the bodies of ``_repr_html_``.

Each function returns an HTML fragment (a ``<div>`` holding inline SVG):

* :func:`node_html` for an s-op or a selector: its program graph;
* :func:`trace_html` for an evaluation trace: the execution view, and the
  value table below it (folded);
* :func:`analysis_html` for an analysis: its table and the program graph.

>>> from rasplab import evaluate, analyse
>>> from rasplab.library import sort
>>> prog = sort()
>>> [f(x).startswith('<div class="rasplab">') for f, x in
...  [(node_html, prog), (trace_html, evaluate(prog, "cab", trace=True)),
...   (analysis_html, analyse(prog))]]
[True, True, True]
"""

from __future__ import annotations

from ..analysis import Analysis, analyse
from ..evaluate.trace import Trace
from ..lang.nodes import Node
from .execution import execution_svg
from .graph import graph_svg
from .html import analysis_table, summary_table
from .labels import operation
from .svg import escape
from .table import values_svg

__all__ = ["node_html", "trace_html", "analysis_html"]

_SCROLL = '<div style="overflow-x: auto">{}</div>'
MAX_GRID = 64


def _wrap(*parts: str) -> str:
    return '<div class="rasplab">' + "".join(parts) + "</div>"


def node_html(node: Node) -> str:
    """An s-op or selector: its definition on one line, then its program graph."""
    line = f"<p><code>{escape(node.label)} = {escape(operation(node))}</code></p>"
    return _wrap(line, _SCROLL.format(graph_svg(node)))


def trace_html(trace: Trace) -> str:
    """A trace: a summary, the execution view, then the value table (folded).

    Past ``MAX_GRID`` positions the attention grids are left out (each has n * n
    cells); ``viz.draw(trace, kind="execution")`` still draws them on request.
    """
    analysis = analyse(trace.program)
    table = values_svg(trace, analysis=analysis)
    folded = f"<details><summary>values per position</summary>{_SCROLL.format(table)}</details>"
    if len(trace.input) > MAX_GRID:
        note = f"<p>{len(trace.input)} positions: the attention grids are left out here.</p>"
        return _wrap(summary_table(trace.program, analysis, trace), note, _SCROLL.format(table))
    view = _SCROLL.format(execution_svg(trace, analysis))
    return _wrap(summary_table(trace.program, analysis, trace), view, folded)


def analysis_html(analysis: Analysis) -> str:
    """An analysis: the per-layer table, then the program graph."""
    return _wrap(
        summary_table(analysis.program, analysis),
        analysis_table(analysis),
        _SCROLL.format(graph_svg(analysis.program, analysis)),
    )
