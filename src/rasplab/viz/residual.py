"""The residual stream of a compiled model on one input, as heatmaps by named direction.

One panel per stage: the embedding, then the stream after each layer's
attention and after its MLP (a sublayer a layer does not have is left
out). Rows are the model's named directions (``tokens:a``, ``indices:3``,
``length``), grouped by the s-op that owns them, the group's name at the
left; columns are positions, BOS first, each headed by its input token.
Positive values are blue, negative ones red, deeper for larger magnitudes;
zero is blank. Values are printed in the cells where they fit, and the
cells a sublayer changed are outlined in dark ink.

Only directions that are non-zero somewhere on this input are shown
unless ``which="all"``. Groups carry ``data-*`` attributes so the
picture can be checked by a program: one ``<g class="stage">`` per panel
(``data-stage`` is ``embed``, ``attn`` or ``mlp``; ``data-layer`` counts
from 1 like the execution view, ``data-block`` from 0 like the weights);
inside it one ``<g class="cells">``, translated to the grid's corner and
carrying ``data-cell="WIDTH HEIGHT"``, holds a rectangle for each non-zero
or changed cell (zero cells show the white panel beneath). Each line of
panels starts with a ``<g class="labels">``: one ``<g class="group"
data-sop=...>`` per s-op and one ``<text class="direction">`` per row.

The numbers come from :mod:`.residual_data`, the panels' geometry from
:mod:`.residual_grid`.

>>> from rasplab.compiler import compile_program
>>> from rasplab.library import reverse
>>> model = compile_program(reverse(), vocab="abc", max_seq_len=4, verify=0)
>>> stages, output = residual_stages(model, "abc")
>>> [s.title for s in stages], output
(['embedding', 'layer 1 · attention', 'layer 1 · MLP', 'layer 2 · attention'], ['c', 'b', 'a'])
>>> svg = residual_svg(model, "abc")
>>> svg.startswith("<svg"), svg.count('class="stage"')
(True, 4)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..errors import RaspError
from ..model.model import CompiledModel
from .labels import plural, sequence_text
from .limits import MAX_POSITIONS, check_positions
from .residual_data import (
    TOLERANCE,
    ZERO,
    Stage,
    _scale,
    direction_groups,
    group_of,
    residual_stages,
    value_fill,
    value_text,
)
from .residual_grid import (
    GAP,
    ROW,
    SMALL,
    TINY,
    Grid,
    grid_of,
    labelled,
    line_width,
    panel_lines,
    panel_width,
)
from .svg import FONT_SIZE, MUTED, Canvas, escape, num, text_width

__all__ = [
    "residual_svg",
    "residual_stages",
    "Stage",
    "direction_groups",
    "value_fill",
    "value_text",
    "TOLERANCE",
    "ZERO",
]

MARGIN = 12
HEADER = 78  # the picture's title, info line and legend
CHANGED = "#222222"
SEPARATOR = "#bbbbbb"


# ------------------------------------------------------------------ drawing


def _fit(text: str, width: float, size: float) -> str:
    """``text`` cut short with ``…`` to fit ``width`` pixels at ``size``.

    >>> _fit("writes: alpha, beta", 80, 10)
    'writes: alp…'
    """
    if text_width(text, size) <= width:
        return text
    keep = max(0, int(width / text_width("x", size)) - 1)
    return text[:keep] + "…"


def _subtitle(stage: Stage, before: Stage | None, directions: tuple[str, ...], tol: float) -> str:
    """What a stage adds: the heads' s-ops, or the s-ops an MLP changed at a token."""
    if before is None:
        return "tokens + positions"
    if stage.kind == "attn":
        return "heads: " + ", ".join(stage.heads)
    moved = np.abs(stage.values[1:] - before.values[1:]).max(axis=0, initial=0) >= tol
    groups = dict.fromkeys(group_of(directions[i]) for i in np.flatnonzero(moved))
    if groups:
        return "writes: " + ", ".join(groups)
    at_bos = np.abs(stage.values[0] - before.values[0]).max(initial=0) >= tol
    return "changes only bos" if at_bos else "changes nothing"


def _draw_labels(c: Canvas, model: CompiledModel, grid: Grid, hidden: Counter) -> None:
    """Group names (with a bracket) and direction names, left of a line of panels."""
    with c.group(class_="labels", font_size=SMALL):
        y = grid.top
        for name, members in grid.groups:
            _draw_group(c, model, grid, name, members, hidden.get(name, 0), y)
            y += len(members) * ROW


def _draw_group(
    c: Canvas,
    model: CompiledModel,
    grid: Grid,
    name: str,
    members: list[int],
    hidden: int,
    y: float,
) -> None:
    with c.group(class_="group", **{"data-sop": name, "data-rows": len(members)}):
        if labelled(name, members, model.directions):
            c.text(0, y + ROW - 4, name, bold=True)
            bracket = grid.group_w - 5
            c.line(bracket, y + 2, bracket, y + len(members) * ROW - 2, stroke=SEPARATOR)
        if hidden and len(members) > 1:
            c.text(0, y + 2 * ROW - 4, f"{len(members)} of {len(members) + hidden}", fill=MUTED)
        for k, i in enumerate(members):
            base = num(y + (k + 1) * ROW - 4)
            c.parts.append(
                f'<text class="direction" x="{num(grid.labels_w)}" y="{base}"'
                f' text-anchor="end">{escape(model.directions[i])}</text>'
            )


def _draw_headers(c: Canvas, grid: Grid) -> None:
    """The column headers: ``bos``, then the input tokens; turned upwards when wide."""
    with c.group(class_="positions", text_anchor="start" if grid.turned else "middle"):
        for k, text in enumerate(grid.headers):
            cx = (k + 0.5) * grid.cell_w
            fill = MUTED if k == 0 else None
            if grid.turned:
                c.text(cx + SMALL * 0.35, grid.top - 4, text, fill=fill, rotate=True)
            else:
                c.text(cx, grid.top - 5, text, fill=fill)


def _cell_rect(x: float, y: float, w: float, fill: str, stroke: str) -> str:
    return (
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{ROW}"'
        f' fill="{fill}" stroke="{stroke}"/>'
    )


def _draw_cells(
    c: Canvas, grid: Grid, stage: Stage, before: Stage | None, scale: float, tol: float
) -> None:
    """One rectangle per non-zero or changed cell, unchanged ones first; then the values."""
    values = stage.values[:, grid.rows].T  # [row, position]
    changed = np.zeros_like(values, dtype=bool)
    if before is not None:
        changed = np.abs(values - before.values[:, grid.rows].T) >= tol
    w, frame = grid.cell_w, f"{grid.cell_w} {ROW}"
    parts = [f'<g class="cells" transform="translate(0,{num(grid.top)})" data-cell="{frame}">']
    parts.append(_frame(grid))
    texts = []
    for outline in (False, True):
        for r, k in zip(*np.nonzero((np.abs(values) >= tol) | changed), strict=True):
            if changed[r, k] != outline:
                continue
            v = float(values[r, k])
            fill = value_fill(v, scale, tol)
            parts.append(_cell_rect(k * w, r * ROW, w, fill, CHANGED if outline else ZERO))
            text = value_text(v) if abs(v) >= tol else ""
            if text and text_width(text, TINY) <= w - 3:
                colour = ZERO if abs(v) > 0.55 * scale else None
                texts.append(_value(k * w + w / 2, (r + 1) * ROW - 4, text, colour))
    parts += [f'<g text-anchor="middle" font-size="{TINY}">', *texts, "</g>", "</g>"]
    c.parts.append("\n".join(parts))


def _frame(grid: Grid) -> str:
    return (
        f'<rect class="frame" x="0" y="0" width="{num(grid.grid_w)}" height="{num(grid.grid_h)}"'
        f' fill="{ZERO}" stroke="#cccccc"/>'
    )


def _value(x: float, y: float, text: str, colour: str | None) -> str:
    fill = f' fill="{colour}"' if colour else ""
    return f'<text x="{num(x)}" y="{num(y)}"{fill}>{escape(text)}</text>'


def _draw_separators(c: Canvas, grid: Grid) -> None:
    """Lines between the groups, across the grid."""
    y = grid.top
    for _, members in grid.groups[:-1]:
        y += len(members) * ROW
        c.line(0, y, grid.grid_w, y, stroke=SEPARATOR)


def _draw_panel(
    c: Canvas,
    model: CompiledModel,
    grid: Grid,
    stages: tuple[Stage, Stage | None],
    x: float,
    scale: float,
    tol: float,
) -> None:
    """One stage's heatmap, its title and subtitle above, with its left edge at ``x``."""
    stage, before = stages
    layer = 0 if stage.kind == "embed" else stage.block + 1
    attrs = {"data-stage": stage.kind, "data-layer": layer, "data-block": stage.block}
    width = panel_width(grid, stage)
    with c.translated(x, 0, class_="stage", **attrs):
        c.title(f"{stage.title}: the residual stream after it")
        c.text(0, 13, stage.title, bold=True)
        subtitle = _subtitle(stage, before, model.directions, tol)
        c.text(0, 27, _fit(subtitle, width, SMALL), fill=MUTED, size=SMALL)
        with c.group(font_size=SMALL):
            _draw_headers(c, grid)
        _draw_cells(c, grid, stage, before, scale, tol)
        _draw_separators(c, grid)


def _draw_legend(c: Canvas, x: float, y: float, scale: float, tol: float) -> float:
    """Swatches from ``-scale`` to ``+scale``, a changed cell's outline, notes; the right end."""
    with c.group(class_="legend", font_size=SMALL):
        x = _legend_text(c, x, y, f"value {value_text(-scale)}")
        for v in np.linspace(-scale, scale, 7):
            c.rect(x, y - 10, 13, 12, fill=value_fill(v, scale, tol), stroke="#cccccc")
            x += 13
        x = _legend_text(c, x + 4, y, value_text(scale)) + 12
        c.rect(x, y - 10, 13, 12, fill=ZERO, stroke=CHANGED)
        return _legend_text(c, x + 18, y, LEGEND.format(tol=tol))


def _legend_text(c: Canvas, x: float, y: float, text: str) -> float:
    c.text(x, y, text, fill=MUTED)
    return x + text_width(text, SMALL) + 4


LEGEND = "changed by this sublayer · blank: zero (|v| < {tol:g}) · colours deepest from ± the ends"


def _header(model: CompiledModel, input: Any, output: list[Any], keep: list[int]) -> list[str]:
    """The title and the info line."""
    name = model.info.program
    tokens = sequence_text(list(input), 60)
    title = f"{name}, compiled: residual stream on {tokens} → {sequence_text(output, 60)}"
    d = model.d_model
    shown = "all shown" if len(keep) == d else f"{len(keep)} non-zero on this input shown"
    info = (
        f"{plural(model.n_layers, 'layer')}, heads per layer {list(model.heads_per_layer)},"
        f" d_model {d} ({shown}); columns: positions, bos first"
    )
    return [title, info]


def _kept(stages: list[Stage], which: str, tol: float) -> list[int]:
    if which not in ("nonzero", "all"):
        raise RaspError(f"which must be 'nonzero' or 'all', got {which!r}")
    d = stages[0].values.shape[1]
    if which == "all":
        return list(range(d))
    peak = np.max([np.abs(s.values).max(axis=0) for s in stages], axis=0)
    return [i for i in range(d) if peak[i] >= tol]


def residual_svg(
    model: CompiledModel,
    input: Any,
    *,
    which: str = "nonzero",
    tol: float = TOLERANCE,
    max_positions: int | None = MAX_POSITIONS,
) -> str:
    """The residual stream of ``model`` on ``input`` as an SVG document (a string).

    ``input`` is a sequence of tokens (a string is one token per character).
    ``which="all"`` shows every direction, also those zero everywhere; values
    smaller than ``tol`` count as zero. Past ``max_positions`` it raises ``DrawError``.
    """
    per_position = len(model.directions) * 3  # a cell per direction, in a few stages
    check_positions(
        len(input),
        "the residual view",
        cells_per_position=per_position,
        max_positions=max_positions,
    )
    stages, output = residual_stages(model, input)
    keep = _kept(stages, which, tol)
    grid = grid_of(model, input, stages, keep, tol)
    scale = _scale(np.stack([s.values[:, keep] for s in stages]), tol)
    lines = panel_lines(grid, stages)
    title, info = _header(model, input, output, keep)
    legend_w = _draw_legend(Canvas(), 0, 0, scale, tol)
    widths = [text_width(title, FONT_SIZE + 3), text_width(info), legend_w]
    width = max(widths + [line_width(grid, line) for line in lines]) + 2 * MARGIN
    height = MARGIN + HEADER + len(lines) * (grid.top + grid.grid_h + GAP) + MARGIN
    c = Canvas()
    c.rect(0, 0, width, height, fill="#ffffff", stroke="none")
    c.text(MARGIN, MARGIN + 14, title, bold=True, size=FONT_SIZE + 3)
    c.text(MARGIN, MARGIN + 32, info, fill=MUTED)
    _draw_legend(c, MARGIN, MARGIN + 54, scale, tol)
    shown = set(keep)
    hidden = Counter(group_of(d) for i, d in enumerate(model.directions) if i not in shown)
    attrs = {"data-stages": len(stages), "data-rows": len(keep)}
    with c.group(class_="residual", **attrs, **{"data-positions": len(grid.headers)}):
        _draw_lines(c, model, grid, lines, hidden, scale, tol)
    return c.render(width, height, class_="rasplab-residual")


def _draw_lines(
    c: Canvas,
    model: CompiledModel,
    grid: Grid,
    lines: list[list[Stage]],
    hidden: Counter,
    scale: float,
    tol: float,
) -> None:
    """Every line of panels, each starting with the row labels."""
    y: float = MARGIN + HEADER
    before = None
    for line in lines:
        with c.translated(MARGIN, y, class_="line"):
            _draw_labels(c, model, grid, hidden)
            x = grid.labels_w + GAP
            for stage in line:
                _draw_panel(c, model, grid, (stage, before), x, scale, tol)
                x += panel_width(grid, stage) + GAP
                before = stage
        y += grid.top + grid.grid_h + GAP
