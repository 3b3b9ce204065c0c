"""The geometry of the residual-stream view: rows, columns, cell sizes, lines of panels.

Every panel of :func:`~rasplab.viz.residual.residual_svg` shares one
:class:`Grid`: the direction groups as rows (``ROW`` pixels each), the
positions as columns (``bos`` first, each headed by its input token, turned
upwards where a header is wider than a cell), cells just wide enough for the
widest value shown, and the label column's widths. :func:`panel_lines` wraps
the panels into lines no wider than ``MAX_WIDTH``, unless the picture would
then grow taller than ``MAX_HEIGHT``.

>>> from rasplab.compiler import compile_program
>>> from rasplab.library import reverse
>>> from rasplab.viz.residual_data import residual_stages
>>> model = compile_program(reverse(), vocab="abc", max_seq_len=4, verify=0)
>>> stages, _ = residual_stages(model, "abc")
>>> grid = grid_of(model, "abc", stages, list(range(model.d_model)), 1e-6)
>>> grid.headers, grid.turned, len(grid.rows) == model.d_model
(['bos', 'a', 'b', 'c'], False, True)
>>> [len(line) for line in panel_lines(grid, stages)]  # four panels fit on one line
[4]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model.model import CompiledModel
from .labels import cell
from .residual_data import Stage, direction_groups, value_text
from .svg import FONT_SIZE, text_width

__all__ = [
    "Grid",
    "grid_of",
    "labelled",
    "panel_width",
    "panel_lines",
    "line_width",
    "ROW",
    "GAP",
    "SMALL",
    "TINY",
]

MAX_WIDTH = 1400  # panels wrap onto a new line past this width...
MAX_HEIGHT = 16000  # ...unless the picture would get taller than this
GAP = 18  # between panels, and between the labels and the first panel
ROW = 14  # height of one direction's row
SMALL = FONT_SIZE - 1  # labels and column headers
TINY = FONT_SIZE - 2  # values in cells
MIN_CELL, MAX_CELL = 22, 34
PANEL_HEAD = 34  # a panel's title and subtitle, above its column headers


@dataclass
class Grid:
    """The shared geometry of every panel: rows, columns, cell size, header height."""

    groups: list[tuple[str, list[int]]]
    headers: list[str]
    cell_w: int
    turned: bool  # column headers read upwards
    header_h: float
    group_w: float
    label_w: float

    @property
    def rows(self) -> list[int]:
        return [i for _, members in self.groups for i in members]

    @property
    def grid_w(self) -> float:
        return len(self.headers) * self.cell_w

    @property
    def grid_h(self) -> float:
        return len(self.rows) * ROW

    @property
    def labels_w(self) -> float:
        return self.group_w + self.label_w

    @property
    def top(self) -> float:
        """The grid's top edge, below the panel title and the column headers."""
        return PANEL_HEAD + self.header_h


def grid_of(
    model: CompiledModel, input: Any, stages: list[Stage], keep: list[int], tol: float
) -> Grid:
    groups = direction_groups(model.directions, keep)
    tokens = list(input)
    headers = ["bos"] + [cell(t, 6) for t in tokens]
    shown = np.concatenate([s.values[:, keep].ravel() for s in stages])
    texts = {value_text(v) for v in shown[np.abs(shown) >= tol].tolist()}
    widest_value = max((text_width(t, TINY) for t in texts), default=0)
    cell_w = min(MAX_CELL, max(MIN_CELL, math.ceil(widest_value + 4)))
    widest_header = max(text_width(h, SMALL) for h in headers)
    turned = widest_header > cell_w - 2
    header_h = math.ceil(widest_header + 6) if turned else ROW + 2
    names = [g for g, members in groups if labelled(g, members, model.directions)]
    group_w = max((text_width(g, SMALL) for g in names), default=0) + 10
    label_w = max((text_width(model.directions[i], SMALL) for i in keep), default=0) + 6
    return Grid(groups, headers, cell_w, turned, header_h, group_w, label_w)


def labelled(name: str, members: list[int], directions: tuple[str, ...]) -> bool:
    """Whether a group shows its name: not when its one row already has that name.

    >>> labelled("length", [3], ("bos", "one", "x:1", "length"))
    False
    """
    return not (len(members) == 1 and directions[members[0]] == name)


def panel_width(grid: Grid, stage: Stage) -> float:
    return max(grid.grid_w, text_width(stage.title, FONT_SIZE) + 2)


def panel_lines(grid: Grid, stages: list[Stage]) -> list[list[Stage]]:
    """Stages in lines of panels: as many as fit in ``MAX_WIDTH`` (at least one), or
    more where that would make the picture taller than ``MAX_HEIGHT``."""
    widest = GAP + max(panel_width(grid, s) for s in stages)
    fits = max(1, int((MAX_WIDTH - grid.labels_w) // widest))
    max_lines = max(1, int(MAX_HEIGHT // (grid.top + grid.grid_h + GAP)))
    per_line = max(fits, math.ceil(len(stages) / max_lines))
    return [stages[i : i + per_line] for i in range(0, len(stages), per_line)]


def line_width(grid: Grid, line: list[Stage]) -> float:
    return grid.labels_w + sum(GAP + panel_width(grid, s) for s in line)
