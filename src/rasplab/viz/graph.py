"""The program graph: the DAG laid out by the analysis schedule, drawn as plain SVG.

Rows from top to bottom: the embedding, then for each layer its attention
heads (one box per head: the selector and the s-ops it makes) and its MLP
(one box per elementwise step). Constants are folded into the operations
that read them. Arrows run from each box to the boxes that read it.

>>> from rasplab.library import reverse
>>> g = GraphLayout(reverse())
>>> [(s.kind, s.layer, len(s.boxes)) for s in g.stages]
[('embedding', 0, 2), ('attention', 1, 1), ('mlp', 1, 2), ('attention', 2, 1)]
>>> svg = graph_svg(reverse())
>>> svg.count('class="node head"'), svg.count('class="layer"')
(2, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis import Analysis, Head, analyse
from ..lang.nodes import Aggregate, Constant, Node, Selector, SelectorWidth, SOp
from .labels import name, operation, plural, selector_expression, selector_inputs
from .layered import Item, layout
from .svg import FONT_SIZE, INK, MUTED, Canvas, text_width

__all__ = ["graph_svg", "to_dot", "GraphLayout", "Box", "Stage"]

MAX_TEXT = 64  # characters per line in a box; longer operations are cut (full text on hover)
LINE = 15
PAD = 8
H_GAP = 18
V_GAP = 46
MARGIN = 12
STAGE_LABEL = 150
EDGE = "#8a8a8a"
STYLE = {  # kind -> (fill, stroke)
    "embedding": ("#f4f4f4", "#888888"),
    "attention": ("#e3ecf7", "#3b6ea8"),
    "mlp": ("#eaf4e6", "#5b8f4e"),
}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass
class Box:
    """One drawn node: an s-op, or a head with the s-ops it makes."""

    key: str
    lines: list[str]
    kind: str
    layer: int
    inputs: list[str]
    attrs: dict[str, object]
    full: str = ""
    bold: bool = False
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        return max(text_width(t) for t in self.lines) + 2 * PAD

    @property
    def height(self) -> float:
        return len(self.lines) * LINE + PAD


@dataclass
class Stage:
    kind: str
    layer: int
    boxes: list[Box] = field(default_factory=list)
    first_row: int = 0

    @property
    def title(self) -> str:
        return "embedding" if self.kind == "embedding" else f"layer {self.layer} {self.kind}"


def _sop_inputs(node: Node) -> list[SOp]:
    return [c for c in node.children if isinstance(c, SOp) and not isinstance(c, Constant)]


def _head_inputs(selector: Selector | None, sops: tuple[SOp, ...]) -> list[SOp]:
    keys, queries = selector_inputs(selector)
    values = [s.sop for s in sops if isinstance(s, Aggregate)]
    return [s for s in keys + queries + values if not isinstance(s, Constant)]


def _made_line(sop: SOp) -> str:
    if isinstance(sop, Aggregate):
        mode = "" if sop.mode.value == "mean" else f" {sop.mode.value}"
        return f"→ {sop.label} = aggregate{mode}({name(sop.sop)}, default={sop.default!r})"
    if isinstance(sop, SelectorWidth):
        return f"→ {sop.label} = selector_width"
    return f"→ {sop.label}"


class GraphLayout:
    """Boxes grouped into stages and rows, ordered and placed by :func:`layered.layout`."""

    def __init__(self, program: Node, analysis: Analysis | None = None):
        self.program = program
        self.analysis = analysis or analyse(program)
        self.owner: dict[int, str] = {}  # s-op id -> key of the box that shows it
        self.stages = self._stages()
        self._place()

    def _sop_box(self, sop: SOp, kind: str, layer: int) -> Box:
        key = f"n{sop.id}"
        self.owner[sop.id] = key
        lines = [sop.label] + ([_cut(operation(sop))] if sop.children else [])
        attrs = {"data-kind": "sop", "data-label": sop.label, "data-layer": layer}
        inputs = [f"n{c.id}" for c in _sop_inputs(sop)]
        full = f"{sop.label} = {operation(sop)}"
        return Box(key, lines, kind, layer, inputs, attrs, full, bold=sop is self.program)

    def _head_box(self, head: Head, index: int, layer: int) -> Box:
        key = f"h{layer}_{index}"
        for sop in head.sops:
            self.owner[sop.id] = key
        expr = selector_expression(head.selector) if head.selector is not None else "select all"
        lines = [f"head {head.label}", _cut(expr), *(_cut(_made_line(s)) for s in head.sops)]
        attrs = {"data-kind": "head", "data-label": head.label, "data-layer": layer}
        attrs.update({"data-head": index, "data-sops": " ".join(s.label for s in head.sops)})
        inputs = [f"n{s.id}" for s in _head_inputs(head.selector, head.sops)]
        full = "\n".join([f"{head.label} = {expr}", *(_made_line(s) for s in head.sops)])
        bold = any(s is self.program for s in head.sops)
        return Box(key, lines, "attention", layer, inputs, attrs, full, bold)

    def _stages(self) -> list[Stage]:
        a = self.analysis
        embed = Stage("embedding", 0)
        shown = [s for s in a.embedding if not isinstance(s, Constant) or s is self.program]
        embed.boxes = [self._sop_box(s, "embedding", 0) for s in shown]
        stages = [embed]
        for layer in a.layers:
            heads = Stage("attention", layer.index)
            heads.boxes = [self._head_box(h, i, layer.index) for i, h in enumerate(layer.heads)]
            mlp = Stage("mlp", layer.index)
            mlp.boxes = [self._sop_box(s, "mlp", layer.index) for s in layer.mlp]
            stages += [heads, mlp]
        if isinstance(self.program, Selector):
            index = a.n_layers + 1
            result = Stage("attention", index)
            result.boxes = [self._head_box(Head(index, self.program, ()), 0, index)]
            stages.append(result)
        for stage in stages:
            for box in stage.boxes:
                box.inputs = list(dict.fromkeys(self.owner[int(k[1:])] for k in box.inputs))
        return [s for s in stages if s.boxes]

    def _rows(self) -> list[list[Box]]:
        """Each stage's boxes in rows: a box sits below the boxes of its own stage it reads."""
        rows: list[list[Box]] = []
        for stage in self.stages:
            level: dict[str, int] = {}
            for box in stage.boxes:  # already in topological order
                inner = [level[k] + 1 for k in box.inputs if k in level]
                level[box.key] = max(inner, default=0)
            stage.first_row = len(rows)
            rows += [[] for _ in range(max(level.values()) + 1)]
            for box in stage.boxes:
                rows[stage.first_row + level[box.key]].append(box)
        return rows

    def _place(self) -> None:
        boxes = self._rows()
        rows = [[Item(b.key, b.width, list(b.inputs)) for b in row] for row in boxes]
        layout(rows, gap=H_GAP)
        self.items = {i.key: i for row in rows for i in row}
        self.row_top: list[float] = []
        self.row_height: list[float] = []
        y: float = MARGIN + 34
        for row in boxes:
            height = max(b.height for b in row)
            for box in row:
                box.x = MARGIN + STAGE_LABEL + self.items[box.key].x
                box.y = y + (height - box.height) / 2
            self.row_top.append(y)
            self.row_height.append(height)
            y += height + V_GAP
        right = max((i.x + i.width for i in self.items.values()), default=0)
        self.width = MARGIN + STAGE_LABEL + right + MARGIN
        self.height = y - V_GAP + MARGIN

    def boxes(self) -> dict[str, Box]:
        return {b.key: b for s in self.stages for b in s.boxes}

    def route(self, src: Box, dst: Box) -> list[tuple[float, float]]:
        """Points of the edge ``src -> dst``: down through the dummies between their rows."""
        points = [(src.x + src.width / 2, src.y + src.height)]
        r0, r1 = self.items[src.key].row, self.items[dst.key].row
        for r in range(r0 + 1, r1):
            x = MARGIN + STAGE_LABEL + self.items[f"~{src.key}@{r}"].centre
            points += [(x, self.row_top[r]), (x, self.row_top[r] + self.row_height[r])]
        return points


def _curve(points: list[tuple[float, float]]) -> str:
    """Vertical segments through rows, smooth S-bends between them."""
    (x, y), rest = points[0], points[1:]
    d = [f"M{x:.1f} {y:.1f}"]
    for i, (nx, ny) in enumerate(rest):
        if i % 2 == 1:  # inside a row: straight down
            d.append(f"L{nx:.1f} {ny:.1f}")
        else:
            bend = max(12.0, (ny - y) / 2)
            d.append(f"C{x:.1f} {y + bend:.1f} {nx:.1f} {ny - bend:.1f} {nx:.1f} {ny:.1f}")
        x, y = nx, ny
    return "".join(d)


def _draw_edges(c: Canvas, g: GraphLayout) -> None:
    boxes = g.boxes()
    with c.group(class_="edges"):
        for dst in boxes.values():
            routes = [g.route(boxes[k], dst) for k in dst.inputs]
            routes.sort(key=lambda pts: pts[-1][0])  # ports left to right, as the sources come
            for j, points in enumerate(routes):
                x = dst.x + dst.width * (j + 1) / (len(routes) + 1)
                _edge(c, points + [(x, dst.y)])


def _edge(c: Canvas, points: list[tuple[float, float]]) -> None:
    x, y = points[-1]
    c.path(_curve(points[:-1] + [(x, y - 5)]), stroke=EDGE, width=1.2)
    c.path(
        f"M{x - 4:.1f} {y - 7:.1f}L{x:.1f} {y:.1f}L{x + 4:.1f} {y - 7:.1f}Z", stroke=EDGE, fill=EDGE
    )


def _draw_box(c: Canvas, box: Box) -> None:
    fill, stroke = STYLE[box.kind]
    css = "node head" if box.attrs["data-kind"] == "head" else "node"
    with c.group(class_=css, **box.attrs):
        c.title(box.full)
        width = 2.2 if box.bold else 1.2
        c.rect(box.x, box.y, box.width, box.height, fill=fill, stroke=stroke, stroke_width=width)
        for i, text in enumerate(box.lines):
            base = box.y + PAD / 2 + (i + 1) * LINE - 4
            c.text(box.x + PAD, base, text, bold=i == 0, fill=MUTED if i else INK)


def _draw_stages(c: Canvas, g: GraphLayout) -> None:
    by_layer: dict[int, list[Stage]] = {}
    for stage in g.stages:
        by_layer.setdefault(stage.layer, []).append(stage)
    for layer, stages in by_layer.items():
        heads = sum(len(s.boxes) for s in stages if s.kind == "attention")
        mlp = sum(len(s.boxes) for s in stages if s.kind != "attention")
        top = g.row_top[stages[0].first_row] - V_GAP / 2
        with c.group(class_="layer", **{"data-layer": layer, "data-heads": heads, "data-mlp": mlp}):
            if layer > 0:
                c.line(MARGIN, top, g.width - MARGIN, top, stroke="#e0e0e0")
            for stage in stages:
                y = g.row_top[stage.first_row] + g.row_height[stage.first_row] / 2 + 4
                c.text(MARGIN, y, stage.title, fill=MUTED)
                for box in stage.boxes:
                    _draw_box(c, box)


def graph_svg(program: Node, analysis: Analysis | None = None) -> str:
    """The program graph of ``program`` as an SVG document (a string)."""
    g = GraphLayout(program, analysis)
    a = g.analysis
    layers = plural(a.n_layers, "layer")
    title = f"{program.label}: {layers}, heads per layer {list(a.heads_per_layer)}"
    width = max(g.width, text_width(title, FONT_SIZE + 3) + 2 * MARGIN)
    c = Canvas()
    c.rect(0, 0, width, g.height, fill="#ffffff", stroke="none")
    c.text(MARGIN, MARGIN + 14, title, bold=True, size=FONT_SIZE + 3)
    _draw_edges(c, g)
    _draw_stages(c, g)
    return c.render(width, g.height, class_="rasplab-graph")


def _quote(text: str) -> str:
    """A DOT string literal (newlines become line breaks)."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def to_dot(program: Node, analysis: Analysis | None = None) -> str:
    """The same graph in graphviz's DOT language, one cluster per stage.

    >>> from rasplab.library import hist
    >>> print(to_dot(hist()).splitlines()[0])
    digraph "hist" {
    """
    g = GraphLayout(program, analysis)
    out = [f"digraph {_quote(program.label)} {{", "  node [shape=box, fontname=monospace];"]
    for i, stage in enumerate(g.stages):
        fill, stroke = STYLE[stage.kind]
        out.append(f'  subgraph cluster_{i} {{ label="{stage.title}"; color="#cccccc";')
        for box in stage.boxes:
            label = _quote("\n".join(box.lines))
            style = f'style=filled, fillcolor="{fill}", color="{stroke}"'
            out.append(f"    {box.key} [label={label}, {style}];")
        out.append("  }")
    for box in g.boxes().values():
        out.extend(f"  {src} -> {box.key};" for src in box.inputs)
    out.append("}")
    return "\n".join(out)
