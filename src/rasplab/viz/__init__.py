"""Pictures of RASP programs: program graphs, execution views, value tables, reports.

Everything is drawn by rasplab itself as plain SVG (no graphviz, no
browser); HTML pages inline that SVG; PNG needs the optional ``png`` extra.

* ``draw(program, input=None, kind=..., format=...)``: one picture.
  ``kind`` is ``"graph"`` (the program laid out by layer; no input needed),
  ``"execution"`` (every head as a grid of selected cells and every MLP
  step as value rows, on an input) or ``"values"`` (every named s-op per
  position); ``format`` is ``"svg"``, ``"html"`` (a page around the SVG) or
  ``"png"`` (bytes).
* ``report(program, input=None)``: one self-contained HTML file with the
  analysis, the graph and, given an input, the execution view and values.
* ``text_view(program, input)``: the execution view for a terminal.
* ``save(path, program, input=None, kind=...)``: the format from the suffix.
* ``draw_residual(model, input, format=...)``: a compiled model's residual
  stream on an input, as heatmaps by named direction, stage by stage.

>>> from rasplab.library import sort
>>> svg = draw(sort(), "cab", kind="execution")
>>> svg.startswith("<svg"), svg.count('class="head"')
(True, 2)
>>> print(text_view(sort(), "ba").splitlines()[0])
sort on ba -> ab  (2 layers, heads per layer [1, 1])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..evaluate import evaluate
from ..evaluate.trace import Trace
from ..lang.nodes import Node
from ..model.model import CompiledModel
from . import jupyter
from .execution import execution_svg
from .graph import graph_svg, to_dot
from .html import page, report
from .limits import MAX_POSITIONS, DrawError, check_positions
from .png import MissingExtraError, svg_to_png
from .residual import residual_svg
from .table import values_svg
from .text import grid_text, trace_text

__all__ = [
    "draw",
    "report",
    "text_view",
    "save",
    "format_of",
    "to_dot",
    "graph_svg",
    "execution_svg",
    "values_svg",
    "residual_svg",
    "draw_residual",
    "svg_to_png",
    "grid_text",
    "jupyter",
    "KINDS",
    "FORMATS",
    "DrawError",
    "MissingExtraError",
    "MAX_POSITIONS",
]

KINDS = ("graph", "execution", "values")
FORMATS = ("svg", "html", "png")
_TITLES = {"graph": "program graph", "execution": "execution", "values": "values"}


def _trace(program: Node | Trace, input: Any, kind: str, max_positions: int | None) -> Trace:
    if isinstance(program, Trace):
        return program
    if input is None:
        raise DrawError(f"the {kind} view shows a run of the program: give an input")
    if max_positions is not None and isinstance(input, str | list | tuple):
        # Refuse a long input before running it; the picture checks its size in full.
        check_positions(
            len(input),
            f"the {kind} view",
            cells_per_position=len(input),
            max_positions=max_positions,
        )
    return evaluate(program, input, trace=True)


def _svg(program: Node | Trace, input: Any, kind: str, max_positions: int | None) -> str:
    if kind == "graph":
        node = program.program if isinstance(program, Trace) else program
        if not isinstance(node, Node):
            raise DrawError(f"draw needs an s-op, a selector or a trace, got {node!r}")
        return graph_svg(node)
    if kind == "execution":
        trace = _trace(program, input, kind, max_positions)
        return execution_svg(trace, max_positions=max_positions)
    if kind == "values":
        trace = _trace(program, input, kind, max_positions)
        return values_svg(trace, max_positions=max_positions)
    raise DrawError(f"unknown picture kind {kind!r}; use one of {', '.join(KINDS)}")


def draw(
    program: Node | Trace,
    input: Any = None,
    *,
    kind: str = "graph",
    format: str = "svg",
    scale: float = 1.0,
    max_positions: int | None = MAX_POSITIONS,
) -> str | bytes:
    """One picture of ``program`` (or of a trace): SVG or HTML text, or PNG bytes.

    ``input`` is what ``evaluate`` takes (a string is one token per
    character); it is needed for the ``execution`` and ``values`` kinds
    unless ``program`` is already a trace. ``scale`` enlarges PNGs. A run
    longer than ``max_positions`` (default 256; None: no limit) is refused
    with ``DrawError`` before anything is drawn, since its grids grow as n * n.
    """
    if format not in FORMATS:
        raise DrawError(f"unknown picture format {format!r}; use one of {', '.join(FORMATS)}")
    svg = _svg(program, input, kind, max_positions)
    if format == "svg":
        return svg
    if format == "png":
        return svg_to_png(svg, scale)
    node = program.program if isinstance(program, Trace) else program
    return page(f"{node.label}: {_TITLES[kind]}", [(_TITLES[kind], svg)])


def text_view(
    program: Node | Trace, input: Any = None, *, max_positions: int | None = MAX_POSITIONS
) -> str:
    """The execution view as text: ``#``/``.`` grids per head, value rows per MLP step."""
    trace = _trace(program, input, "text", max_positions)
    return trace_text(trace, max_positions=max_positions)


def format_of(path: str | Path) -> str:
    """The picture format a file name asks for.

    >>> format_of("out.SVG"), format_of("report.html"), format_of("a.png")
    ('svg', 'html', 'png')
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"htm": "html"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise DrawError(f"cannot tell the picture format of {str(path)!r}: use .svg, .html or .png")
    return fmt


def save(
    path: str | Path,
    program: Node | Trace,
    input: Any = None,
    *,
    kind: str = "graph",
    max_positions: int | None = MAX_POSITIONS,
) -> Path:
    """Write one picture to ``path``; the suffix (.svg, .html, .png) picks the format.

    The picture's size is checked (``max_positions``) before anything is drawn or written.
    """
    path = Path(path)
    picture = draw(program, input, kind=kind, format=format_of(path), max_positions=max_positions)
    if isinstance(picture, bytes):
        path.write_bytes(picture)
    else:
        path.write_text(picture, encoding="utf-8")
    return path


def draw_residual(
    model: CompiledModel,
    input: Any,
    *,
    format: str = "svg",
    which: str = "nonzero",
    scale: float = 1.0,
    max_positions: int | None = MAX_POSITIONS,
) -> str | bytes:
    """A compiled model's residual stream on ``input``: SVG or HTML text, or PNG bytes.

    One heatmap per stage (the embedding, then after each attention and MLP
    sublayer); ``which="all"`` also shows directions that stay zero.

    >>> from rasplab.compiler import compile_program
    >>> from rasplab.library import sort
    >>> model = compile_program(sort(), vocab="abc", max_seq_len=4, verify=0)
    >>> html = draw_residual(model, "cab", format="html")
    >>> html.startswith("<!DOCTYPE html>"), html.count('class="stage"')
    (True, 4)
    """
    if format not in FORMATS:
        raise DrawError(f"unknown picture format {format!r}; use one of {', '.join(FORMATS)}")
    svg = residual_svg(model, input, which=which, max_positions=max_positions)
    if format == "svg":
        return svg
    if format == "png":
        return svg_to_png(svg, scale)
    name = model.info.program
    return page(f"{name}: residual stream", [("residual stream", svg)])
