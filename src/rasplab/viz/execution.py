"""The execution view: a program run on one input, layer by layer.

The embedding comes first (tokens, indices and the elementwise steps that
need no attention), then every layer of the analysis: each attention head
as a grid of the cells its selector picks for this input (see
:mod:`rasplab.viz.heads`), then the layer's MLP as value rows, its inputs
*before* and each elementwise step's values *after*.

Groups carry ``data-*`` attributes so the picture can be checked by a
program: one ``<g class="layer" data-layer=...>`` per layer (0 is the
embedding), one ``<g class="head">`` per head, one ``<g class="mlp">`` per
MLP (``embedding`` for layer 0), one ``<g class="row" data-sop=...>`` per value row.

>>> from rasplab import evaluate
>>> from rasplab.library import reverse
>>> svg = execution_svg(evaluate(reverse(), "abc", trace=True))
>>> svg.count('class="layer"'), svg.count('class="head"'), svg.count('class="mlp"')
(3, 2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeGuard

from ..analysis import Analysis, analyse
from ..evaluate.trace import Trace
from ..lang.nodes import Constant, Node, Selector, SOp
from .heads import SELECTED, UNSELECTED, HeadGrid
from .labels import cell, operation, plural, sequence_text
from .limits import MAX_POSITIONS, check_positions
from .rows import Row, RowBlock
from .svg import FONT_SIZE, MUTED, Canvas, text_width

__all__ = ["execution_svg", "step_rows", "MAX_WIDTH"]

MAX_WIDTH = 1400  # heads wrap onto a new line past this width
MARGIN = 12
GAP = 24
TITLE = 22
HEADER = 60 + GAP  # the title, the summary line and the legend


@dataclass
class Section:
    """One layer (0: the embedding): a title, heads side by side, then value rows."""

    title: str
    attrs: dict[str, object]
    heads: list[HeadGrid] = field(default_factory=list)
    rows: RowBlock | None = None
    places: list[tuple[float, float]] = field(default_factory=list)
    rows_y: float = 0.0
    height: float = 0.0
    width: float = 0.0

    def arrange(self) -> None:
        """Place heads left to right, wrapping past ``MAX_WIDTH``; rows go underneath."""
        y: float = TITLE
        x, line = 0.0, 0.0
        for head in self.heads:
            if x > 0 and x + head.width > MAX_WIDTH:
                x, y, line = 0.0, y + line + GAP / 2, 0.0
            self.places.append((x, y))
            x += head.width + GAP
            line = max(line, head.height)
            self.width = max(self.width, x - GAP)
        self.rows_y = y + line + (GAP / 2 if self.heads else 0)
        self.height = self.rows_y + (self.rows.height if self.rows else 0)
        self.width = max(self.width, self.rows.width if self.rows else 0, text_width(self.title))


def step_rows(trace: Trace, steps: tuple[SOp, ...]) -> list[Row]:
    """Value rows for elementwise steps: what they read (*before*), what they make (*after*).

    Steps that read nothing (tokens, indices) count as *before*; constants are left out.
    """
    steps = tuple(s for s in steps if _is_value(s))
    made = {s.id for s in steps}
    before: dict[int, SOp] = {}
    for step in steps:
        for child in step.children:
            if _is_value(child) and child.id not in made:
                before.setdefault(child.id, child)
    leaves = {s.id for s in steps if not any(_is_value(ch) for ch in s.children)}
    inputs = list(before.values()) + [s for s in steps if s.id in leaves]
    rows = [_row(trace, s, "in") for s in inputs]
    return rows + [_row(trace, s, "out") for s in steps if s.id not in leaves]


def _is_value(node: Node) -> TypeGuard[SOp]:
    return isinstance(node, SOp) and not isinstance(node, Constant)


def _row(trace: Trace, sop: SOp, role: str) -> Row:
    note = "" if role == "in" else "= " + operation(sop)  # inputs are described where made
    attrs: dict[str, object] = {
        "data-sop": sop.label,
        "data-role": "before" if role == "in" else "after",
    }
    bold = sop is trace.program
    return Row(sop.label, [cell(v) for v in trace[sop]], note, role, attrs=attrs, bold=bold)


def _sections(trace: Trace, analysis: Analysis) -> list[Section]:
    embed = step_rows(trace, analysis.embedding)
    first_attrs: dict[str, object] = {"data-layer": 0, "data-heads": 0, "data-mlp": len(embed)}
    first = Section("Embedding", first_attrs)
    first.rows = RowBlock(embed)
    sections = [first]
    for layer in analysis.layers:
        steps = step_rows(trace, layer.mlp)
        n_steps = sum(r.role == "out" for r in steps)
        attrs: dict[str, object] = {
            "data-layer": layer.index,
            "data-heads": len(layer.heads),
            "data-mlp": n_steps,
        }
        heads = plural(len(layer.heads), "head")
        mlp = f"; MLP: {plural(n_steps, 'step')}" if n_steps else ""
        section = Section(f"Layer {layer.index} · attention: {heads}{mlp}", attrs)
        for i, head in enumerate(layer.heads):
            tag = {"data-layer": layer.index, "data-head": i, "data-selector": head.label}
            tag["data-sops"] = " ".join(s.label for s in head.sops)
            section.heads.append(HeadGrid(trace, head.selector, head.sops, **tag))
        section.rows = RowBlock(steps) if steps else None
        sections.append(section)
    if isinstance(trace.program, Selector):
        tag = {"data-layer": "result", "data-head": 0, "data-selector": trace.program.label}
        last = Section("Result: the selector", {"data-layer": "result", "data-heads": 1})
        last.heads.append(HeadGrid(trace, trace.program, (), **tag))
        sections.append(last)
    return sections


def _header(trace: Trace, analysis: Analysis) -> tuple[str, str]:
    out = trace.output
    shown = "a selector" if isinstance(trace.program, Selector) else sequence_text(out, 60)
    title = f"{trace.program.label} on {sequence_text(trace.input, 60)} → {shown}"
    heads = list(analysis.heads_per_layer)
    info = f"{plural(analysis.n_layers, 'layer')}, heads per layer {heads}"
    return title, info


LEGEND = "not selected · k. key values (top) · q. query values (left) · v. values (below)"


def _draw_header(c: Canvas, title: str, info: str) -> None:
    c.text(MARGIN, MARGIN + 14, title, bold=True, size=FONT_SIZE + 3)
    c.text(MARGIN, MARGIN + 32, info, fill=MUTED)
    y = MARGIN + 50
    c.rect(MARGIN, y - 10, 11, 11, fill=SELECTED, stroke="#ffffff")
    x: float = MARGIN + 15
    c.text(x, y, "selected", fill=MUTED)
    x += text_width("selected") + 12
    c.rect(x, y - 10, 11, 11, fill=UNSELECTED, stroke="#ffffff")
    c.text(x + 15, y, LEGEND, fill=MUTED)


def _legend_width() -> float:
    return 15 + text_width("selected") + 12 + 15 + text_width(LEGEND)


def execution_svg(
    trace: Trace, analysis: Analysis | None = None, *, max_positions: int | None = MAX_POSITIONS
) -> str:
    """The execution view of ``trace`` as an SVG document (a string).

    Past ``max_positions`` positions (None: no limit) it raises ``DrawError``:
    every head is an ``n x n`` grid.
    """
    analysis = analysis or analyse(trace.program)
    n, heads = len(trace.input), sum(analysis.heads_per_layer) + 1
    per_position = heads * n + len(analysis.layers) + 2
    check_positions(
        n, "the execution view", cells_per_position=per_position, max_positions=max_positions
    )
    sections = _sections(trace, analysis)
    for section in sections:
        section.arrange()
    title, info = _header(trace, analysis)
    header_w = max(text_width(title, FONT_SIZE + 3), text_width(info), _legend_width())
    width = max([header_w, *(s.width for s in sections)]) + 2 * MARGIN
    height = MARGIN + HEADER + sum(s.height + GAP for s in sections) + MARGIN
    c = Canvas()
    c.rect(0, 0, width, height, fill="#ffffff", stroke="none")
    _draw_header(c, title, info)
    y: float = MARGIN + HEADER
    for section in sections:
        _draw_section(c, section, MARGIN, y, width - 2 * MARGIN)
        y += section.height + GAP
    return c.render(width, height, class_="rasplab-execution")


def _draw_section(c: Canvas, section: Section, x: float, y: float, width: float) -> None:
    with c.group(class_="layer", **section.attrs):
        c.line(x, y - GAP / 2, x + width, y - GAP / 2, stroke="#cccccc")
        c.text(x, y + 14, section.title, bold=True, size=FONT_SIZE + 1)
        for head, (hx, hy) in zip(section.heads, section.places, strict=True):
            head.draw(c, x + hx, y + hy)
        if section.rows is not None:
            layer = section.attrs["data-layer"]
            with c.group(class_="mlp" if layer else "embedding", **{"data-layer": layer}):
                section.rows.draw(c, x, y + section.rows_y)
