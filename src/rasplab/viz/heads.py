"""One attention head on one input, as a grid.

Keys run across the top (their values above the grid), queries down the
left side (their values beside the grid); a cell is filled where the query
selects the key. Below the grid are the values the head aggregates, under
the keys they come from; at the right, the head's outputs, one per query.

>>> from rasplab import tokens, select, selector_width, evaluate
>>> from rasplab.viz.svg import Canvas
>>> same = select(tokens, tokens, "==").named("same")
>>> trace = evaluate(selector_width(same), "aba", trace=True)
>>> grid = HeadGrid(trace, same, (trace.program,))
>>> grid.n_selected, len(grid.keys), len(grid.outputs)
(5, 1, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..evaluate.trace import Trace
from ..lang.nodes import Aggregate, Selector, SOp
from .labels import cell, name, selector_expression, selector_inputs
from .svg import FONT_SIZE, MUTED, Canvas, text_width

__all__ = ["HeadGrid", "SELECTED", "UNSELECTED", "CELL"]

CELL = 16
SELECTED = "#36a"  # short hex keeps big grids small: 1024 cells at length 32
UNSELECTED = "#eee"
GRID_STROKE = "#fff"
SMALL = FONT_SIZE - 1
LINE = 15
GAP = 6


@dataclass
class Strip:
    """A row of values (above or below the grid) or a column (beside it)."""

    label: str
    texts: list[str]
    size: float  # row height, or column width
    rotated: bool = False
    bold: bool = False


def _row_strip(label: str, values: list, size: float = SMALL) -> Strip:
    texts = [cell(v) for v in values]
    widest = max((text_width(t, size) for t in texts), default=0)
    if widest <= CELL - 3:
        return Strip(label, texts, CELL)
    return Strip(label, texts, math.ceil(widest + 8), rotated=True)


def _column_strip(label: str, values: list, bold: bool = False) -> Strip:
    texts = [cell(v) for v in values]
    widest = max([text_width(label, SMALL), *(text_width(t, SMALL) for t in texts)])
    return Strip(label, texts, math.ceil(widest + 8), bold=bold)


class HeadGrid:
    """A measured head; ``draw`` paints it with its top-left corner at a point."""

    def __init__(self, trace: Trace, selector: Selector | None, sops: tuple[SOp, ...], **attrs):
        n = len(trace.input)
        self.n = n
        self.attrs = attrs
        if selector is None:  # the select-all head of ``length``
            self.matrix = np.ones((n, n), dtype=bool)
            positions = list(range(n))
            self.keys = [_row_strip("k.position", positions)]
            self.queries = [_column_strip("q.position", positions)]
            self.title, self.subtitle = "select_all", "every query selects every key"
        else:
            self.matrix = np.asarray(trace.array(selector), dtype=bool)
            keys, queries = selector_inputs(selector)
            self.keys = [_row_strip("k." + name(k), trace[k]) for k in keys]
            self.queries = [_column_strip("q." + name(q), trace[q]) for q in queries]
            self.title, self.subtitle = selector.label, selector_expression(selector)
        value_sops = {s.sop.id: s.sop for s in sops if isinstance(s, Aggregate)}
        self.values = [_row_strip("v." + name(v), trace[v]) for v in value_sops.values()]
        out = trace.program
        self.outputs = [_column_strip(s.label, trace[s], bold=s is out) for s in sops]
        self._measure()

    def _measure(self) -> None:
        strips = self.keys + self.values
        label_w = max((text_width(s.label, SMALL) for s in strips), default=0) + GAP
        self.left = math.ceil(max(label_w, sum(q.size for q in self.queries)) + GAP)
        self.top = math.ceil(2 * LINE + 4 + sum(k.size for k in self.keys) + LINE)
        grid_right = self.left + self.n * CELL
        self.width = grid_right + GAP + sum(o.size for o in self.outputs)
        title_w = max(text_width(self.title, FONT_SIZE + 1), text_width(self.subtitle, SMALL))
        self.width = max(self.width, title_w) + GAP
        self.height = self.top + self.n * CELL + sum(v.size for v in self.values) + GAP

    @property
    def n_selected(self) -> int:
        return int(self.matrix.sum())

    def draw(self, c: Canvas, x: float, y: float) -> None:
        """Paint the head inside a translated group carrying its ``data-*`` attributes."""
        attrs = {"data-queries": self.n, "data-keys": self.n, "data-selected": self.n_selected}
        with c.translated(x, y, class_="head", font_size=SMALL, **self.attrs, **attrs):
            c.title(f"{self.title} = {self.subtitle}")
            c.text(0, LINE - 3, self.title, bold=True, size=FONT_SIZE + 1)
            c.text(0, 2 * LINE - 2, self.subtitle, fill=MUTED)
            y0: float = 2 * LINE + 4
            for strip in self.keys:
                self._draw_row_strip(c, strip, y0)
                y0 += strip.size
            self._draw_columns(c, y0)
            self._draw_cells(c, y0 + LINE)
            y0 += LINE + self.n * CELL
            for strip in self.values:
                self._draw_row_strip(c, strip, y0)
                y0 += strip.size

    def _draw_row_strip(self, c: Canvas, strip: Strip, y: float) -> None:
        bottom = y + strip.size
        label_y = bottom - 4 if strip.rotated else y + CELL / 2 + SMALL * 0.35
        c.text(self.left - GAP, label_y, strip.label, anchor="end", fill=MUTED)
        with c.group(text_anchor="start" if strip.rotated else "middle"):
            for k, text in enumerate(strip.texts):
                cx = self.left + (k + 0.5) * CELL
                if strip.rotated:
                    c.text(cx + SMALL * 0.35, bottom - 4, text, rotate=True)
                else:
                    c.text(cx, label_y, text)

    def _draw_columns(self, c: Canvas, header_y: float) -> None:
        """Query columns at the left, output columns at the right, headers above them."""
        grid_top = header_y + LINE
        x = self.left - GAP - sum(q.size for q in self.queries)
        columns: list[tuple[Strip, str | None]] = [(q, MUTED) for q in self.queries]
        starts = []
        for strip, _ in columns:
            starts.append(x)
            x += strip.size
        x = self.left + self.n * CELL + GAP
        for strip in self.outputs:
            columns.append((strip, None))
            starts.append(x)
            x += strip.size
        for (strip, colour), x0 in zip(columns, starts, strict=True):
            c.text(
                x0 + 4, header_y + LINE - 4, strip.label, fill=colour, size=SMALL, bold=strip.bold
            )
            for q, text in enumerate(strip.texts):
                base = grid_top + (q + 0.5) * CELL + SMALL * 0.35
                c.text(x0 + 4, base, text, size=SMALL, bold=strip.bold)

    def _draw_cells(self, c: Canvas, top: float) -> None:
        """``n * n`` cells in row-major order (query by query), each with its own fill."""
        parts = ['<g class="cells">']
        left = self.left
        for q, row in enumerate(self.matrix.tolist()):
            y = f"{top + q * CELL:g}"
            for k, chosen in enumerate(row):
                fill = SELECTED if chosen else UNSELECTED
                parts.append(
                    f'<rect x="{left + k * CELL:g}" y="{y}" width="{CELL}" height="{CELL}"'
                    f' fill="{fill}" stroke="{GRID_STROKE}"/>'
                )
        parts.append("</g>")
        c.parts.append("\n".join(parts))
