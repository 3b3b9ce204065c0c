"""The value table: every named s-op's value at every position, for one input.

Cells are coloured by value so patterns show at a glance: booleans (true is
blue), numbers (a light scale from the row's smallest to its largest value)
and other values (one pastel colour per distinct value).

>>> from rasplab import evaluate
>>> from rasplab.library import sort
>>> svg = values_svg(evaluate(sort(), "cab", trace=True))
>>> svg.count('class="row"')  # positions, tokens, indices, sort (plus its named helpers)
5
>>> value_fill(True, []), value_fill(None, [])
('#c6dbef', '#f0f0f0')
"""

from __future__ import annotations

import zlib
from typing import Any

from ..analysis import Analysis, analyse
from ..evaluate.trace import Trace
from ..lang.nodes import Constant, Indices, SOp, Tokens
from .labels import cell, operation, sequence_text
from .limits import MAX_POSITIONS, check_positions
from .rows import Row, RowBlock
from .svg import FONT_SIZE, MUTED, Canvas, text_width

__all__ = ["values_svg", "table_sops", "value_fill", "PALETTE"]

MARGIN = 12
PALETTE = (
    "#fbe3c4",
    "#d5ecd0",
    "#e3dcf2",
    "#fcd9d9",
    "#d4e8f3",
    "#f6efc2",
    "#e8d9cc",
    "#d9f0ec",
    "#f2d9ea",
    "#e4e4e4",
)
LOW, HIGH = (255, 255, 255), (240, 170, 100)


def _blend(t: float) -> str:
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(LOW, HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def value_fill(value: Any, row: list[Any]) -> str:
    """The background of a cell holding ``value`` in a row holding ``row``."""
    if value is None:
        return "#f0f0f0"
    if isinstance(value, bool):
        return "#c6dbef" if value else "#ffffff"
    if isinstance(value, int | float):
        numbers = [v for v in row if isinstance(v, int | float) and not isinstance(v, bool)]
        lo, hi = min(numbers), max(numbers)
        return _blend((value - lo) / (hi - lo)) if hi > lo else _blend(0.0)
    return PALETTE[zlib.crc32(repr(value).encode()) % len(PALETTE)]


def table_sops(trace: Trace, which: str = "named") -> list[SOp]:
    """The s-ops a table shows, in evaluation order (the table sorts them by layer).

    ``"named"``: tokens, indices, every s-op given a name, and the output;
    ``"all"``: every s-op but constants.
    """
    sops = [n for n in trace.nodes if isinstance(n, SOp) and not isinstance(n, Constant)]
    if which == "all":
        return sops
    keep = (Tokens, Indices)
    return [s for s in sops if isinstance(s, keep) or s.name is not None or s is trace.program]


def _rows(trace: Trace, sops: list[SOp], analysis: Analysis) -> list[Row]:
    n = len(trace.input)
    rows = [Row("position", [str(i) for i in range(n)], role="head", attrs={"data-sop": ""})]
    for sop in sops:
        values = trace[sop]
        layer = analysis.layer_of(sop)
        note = f"L{layer}" + (f"  {operation(sop)}" if sop.children else "")
        attrs = {"data-sop": sop.label, "data-layer": layer}
        fills = [value_fill(v, values) for v in values]
        cells = [cell(v) for v in values]
        rows.append(
            Row(sop.label, cells, note, fills=fills, attrs=attrs, bold=sop is trace.program)
        )
    return rows


def values_svg(
    trace: Trace,
    which: str = "named",
    analysis: Analysis | None = None,
    *,
    max_positions: int | None = MAX_POSITIONS,
) -> str:
    """The value table of ``trace`` as an SVG document (a string)."""
    analysis = analysis or analyse(trace.program)
    sops = sorted(table_sops(trace, which), key=analysis.layer_of)  # stable: by layer, then order
    check_positions(
        len(trace.input),
        "the value table",
        cells_per_position=len(sops) + 1,
        max_positions=max_positions,
    )
    block = RowBlock(_rows(trace, sops, analysis))
    title = f"{trace.program.label} on {sequence_text(trace.input, 60)}: values per position"
    width = max(block.width, text_width(title, FONT_SIZE + 2)) + 2 * MARGIN
    height = block.height + 2 * MARGIN + 44
    c = Canvas()
    c.rect(0, 0, width, height, fill="#ffffff", stroke="none")
    c.text(MARGIN, MARGIN + 13, title, bold=True, size=FONT_SIZE + 2)
    c.text(MARGIN, MARGIN + 30, "Ln: the layer that computes the s-op (L0: embedding)", fill=MUTED)
    with c.group(class_="values", **{"data-rows": len(sops), "data-positions": block.n_cells}):
        block.draw(c, MARGIN, MARGIN + 40)
    return c.render(width, height, class_="rasplab-values")
