"""Blocks of value rows: a label, one cell per position, and a note.

Used for the embedding and MLP steps of the execution view and for the
value table. A block measures itself when built, so layouts can place it
before drawing it.

>>> from rasplab.viz.svg import Canvas
>>> block = RowBlock([Row("tokens", ["a", "b"]), Row("out", ["1", "22"], note="f(tokens)")])
>>> block.n_cells, block.cell_width
(2, 21)
>>> c = Canvas()
>>> block.draw(c, 0, 0)
>>> sum(p.startswith('<g class="row"') for p in c.parts)
2
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .svg import FONT_SIZE, MUTED, Canvas, text_width

__all__ = ["Row", "RowBlock", "ROW_HEIGHT", "PAD"]

ROW_HEIGHT = 18
PAD = 6
ROLE_FILL = {"in": "#ffffff", "out": "#eef5ea", "": "#ffffff", "head": "#f3f3f3"}
ROLE_TAG = {"in": "before", "out": "after"}
BORDER = "#dddddd"


@dataclass
class Row:
    """One row: ``cells`` are texts; ``fills`` (optional) colour each cell's box."""

    label: str
    cells: list[str]
    note: str = ""
    role: str = ""  # "in" (before a step), "out" (after), "head" (a header row), or ""
    fills: list[str] | None = None
    attrs: dict[str, object] = field(default_factory=dict)
    bold: bool = False


class RowBlock:
    """Rows aligned on a common grid of cells, with an optional role column.

    Cells are as wide as the widest value, unless that would make the cells
    wider than ``max_cells`` pixels in all: then cells stay narrow and rows
    holding wide values are drawn with their values turned to read upwards.
    """

    def __init__(
        self, rows: list[Row], *, min_cell: int = 20, notes: bool = True, max_cells: int = 1200
    ):
        self.rows = rows
        self.n_cells = max((len(r.cells) for r in rows), default=0)
        widest = [max((text_width(t) for t in r.cells), default=0) for r in rows]
        self.cell_width = max(min_cell, math.ceil(max(widest, default=0) + PAD))
        self.turned = self.n_cells * self.cell_width > max_cells
        if self.turned:
            self.cell_width = min_cell
        fits = self.cell_width - PAD / 2
        self.heights = [
            math.ceil(w + 2 * PAD) if self.turned and w > fits else ROW_HEIGHT for w in widest
        ]
        self.show_roles = any(r.role in ROLE_TAG for r in rows)
        self.role_width = text_width("before") + PAD if self.show_roles else 0
        self.label_width = max((text_width(r.label) for r in rows), default=0) + 2 * PAD
        self.cells_x = self.role_width + self.label_width
        note_width = max((text_width(r.note) for r in rows if r.note), default=0)
        self.note_x = self.cells_x + self.n_cells * self.cell_width + PAD
        self.width = self.note_x + (note_width + PAD if notes and note_width else 0)
        self.height = sum(self.heights)
        self.notes = notes

    def draw(self, c: Canvas, x: float, y: float) -> None:
        """Paint the block with its top-left corner at ``(x, y)``."""
        for row, height in zip(self.rows, self.heights, strict=True):
            with c.group(class_="row", **row.attrs):
                self._draw_row(c, row, x, y, height)
            y += height

    def _draw_row(self, c: Canvas, row: Row, x: float, y: float, height: float) -> None:
        c.rect(x, y, self.width, height, fill=ROLE_FILL.get(row.role, "#ffffff"), stroke=BORDER)
        base = y + height - ROW_HEIGHT / 2 + FONT_SIZE * 0.35  # labels sit on the bottom line
        if self.show_roles and row.role in ROLE_TAG:
            c.text(x + PAD / 2, base, ROLE_TAG[row.role], fill=MUTED, size=FONT_SIZE - 1)
        label_end = x + self.cells_x - PAD
        c.text(label_end, base, row.label, anchor="end", bold=row.bold or row.role == "head")
        cw = self.cell_width
        left = x + self.cells_x
        if row.fills is not None:
            for k, fill in enumerate(row.fills):
                c.rect(left + k * cw, y + 1, cw, height - 2, fill=fill, stroke="#ffffff")
        if height > ROW_HEIGHT:  # turned values, reading upwards from the bottom
            for k, text in enumerate(row.cells):
                cx = left + (k + 0.5) * cw + FONT_SIZE * 0.35
                c.text(cx, y + height - PAD, text, bold=row.bold, rotate=True)
        else:
            with c.group(text_anchor="middle"):
                for k, text in enumerate(row.cells):
                    c.text(left + (k + 0.5) * cw, base, text, bold=row.bold)
        if self.notes and row.note:
            c.text(x + self.note_x, base, row.note, fill=MUTED)
