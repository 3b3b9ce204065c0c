"""Self-contained HTML: pictures inlined as SVG, a little inline CSS, no script, no network.

Pages are well-formed XML as well as HTML, so they can be checked with any
XML parser.

>>> from rasplab.library import reverse
>>> html = report(reverse(), "abc")
>>> html.startswith("<!DOCTYPE html>"), html.count("<svg"), "<script" in html
(True, 3, False)
"""

from __future__ import annotations

from typing import Any

from ..analysis import Analysis, analyse
from ..evaluate import evaluate
from ..evaluate.trace import Trace
from ..lang.nodes import Constant, Node, Selector
from .execution import execution_svg
from .graph import graph_svg
from .labels import plural, sequence_text
from .limits import MAX_POSITIONS, check_positions
from .svg import FONT_FAMILY, escape
from .table import values_svg

__all__ = ["page", "report", "analysis_table", "summary_table"]

CSS = f"""
body {{ font-family: {FONT_FAMILY}; font-size: 13px; color: #222222; margin: 24px; }}
h1 {{ font-size: 20px; }} h2 {{ font-size: 16px; margin-top: 32px; }}
table {{ border-collapse: collapse; margin: 8px 0; }}
td, th {{ border: 1px solid #cccccc; padding: 3px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
.picture {{ overflow-x: auto; border: 1px solid #e5e5e5; padding: 4px; }}
.note {{ color: #666666; }}
"""


def page(title: str, sections: list[tuple[str, str]], intro: str = "") -> str:
    """A complete HTML document; each section is ``(heading, inner HTML)``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"/>',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if intro:
        parts.append(intro)
    for heading, body in sections:
        parts.append(
            f'<section><h2>{escape(heading)}</h2><div class="picture">{body}</div></section>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(header: list[str] | None, rows: list[list[str]]) -> str:
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _labels(sops) -> str:
    return ", ".join(s.label for s in sops if not isinstance(s, Constant))


def analysis_table(analysis: Analysis) -> str:
    """Per layer: its heads (and what they make) and its MLP steps; constants left out."""
    rows = [["0 (embedding)", "", _labels(analysis.embedding)]]
    for layer in analysis.layers:
        heads = "; ".join(f"{h.label} → {', '.join(s.label for s in h.sops)}" for h in layer.heads)
        rows.append([str(layer.index), heads, _labels(layer.mlp)])
    return _table(["layer", "attention heads → s-ops", "MLP steps"], rows)


def summary_table(program: Node, analysis: Analysis, trace: Trace | None = None) -> str:
    """Program, shape and (with a trace) input and output, as a two-column table."""
    rows = [
        ["program", program.label],
        ["layers", plural(analysis.n_layers, "layer")],
        ["heads per layer", str(list(analysis.heads_per_layer))],
    ]
    if trace is not None:
        rows.append(["input", sequence_text(trace.input)])
        if not isinstance(program, Selector):
            rows.append(["output", sequence_text(trace.output)])
    return _table(None, rows)


def report(
    program: Node | Trace, input: Any = None, *, max_positions: int | None = MAX_POSITIONS
) -> str:
    """An HTML report: summary, analysis, program graph, and with an input the
    execution view and the value table (refused past ``max_positions``)."""
    trace: Trace | None
    node: Node
    if isinstance(program, Trace):
        trace = program
        node = program.program
    else:
        trace = None
        node = program
        if input is not None:
            if max_positions is not None and isinstance(input, str | list | tuple):
                check_positions(
                    len(input),
                    "the report",
                    cells_per_position=len(input),
                    max_positions=max_positions,
                )
            trace = evaluate(program, input, trace=True)
            node = trace.program
    analysis = analyse(node)
    sections = [
        ("Analysis", analysis_table(analysis)),
        ("Program graph", graph_svg(node, analysis)),
    ]
    if trace is not None:
        sections.append(("Execution", execution_svg(trace, analysis, max_positions=max_positions)))
        sections.append(
            ("Values", values_svg(trace, analysis=analysis, max_positions=max_positions))
        )
    title = f"rasplab report: {node.label}"
    return page(title, sections, intro=summary_table(node, analysis, trace))
