"""The execution view as plain text, for terminals: ``#`` where a query selects a key.

>>> from rasplab import tokens, select, selector_width, evaluate
>>> hist = selector_width(select(tokens, tokens, "==").named("same")).named("hist")
>>> print(trace_text(evaluate(hist, "aba", trace=True)))
hist on aba -> [2, 1, 2]  (1 layer, heads per layer [1])
<BLANKLINE>
embedding
  before  tokens  a b a
<BLANKLINE>
layer 1
  head same: [k.tokens == q.tokens]
    k.tokens  a b a
    q.tokens         hist
    a         # . #  2
    b         . # .  1
    a         # . #  2
"""

from __future__ import annotations

from ..analysis import Analysis, analyse
from ..evaluate.trace import Trace
from ..lang.nodes import Selector
from .execution import step_rows
from .heads import HeadGrid
from .labels import plural, sequence_text
from .limits import MAX_POSITIONS, check_positions
from .rows import Row

__all__ = ["trace_text", "grid_text", "rows_text"]


def grid_text(matrix, on: str = "#", off: str = ".") -> str:
    """A boolean matrix ``[query][key]`` as lines of ``#`` and ``.``.

    >>> print(grid_text([[True, False], [True, True]]))
    # .
    # #
    """
    return "\n".join(" ".join(on if x else off for x in row) for row in matrix)


def rows_text(rows: list[Row], indent: str = "  ") -> list[str]:
    """Value rows aligned in columns: role, label, one column per position, note."""
    cw = max((len(t) for r in rows for t in r.cells), default=1)
    lw = max((len(r.label) for r in rows), default=0)
    role = {"in": "before", "out": "after"}
    rw = max((len(role.get(r.role, "")) for r in rows), default=0)
    lines = []
    for r in rows:
        cells = " ".join(t.rjust(cw) for t in r.cells)
        note = f"  = {r.note[2:]}" if r.note.startswith("= ") else (f"  {r.note}" if r.note else "")
        head = role.get(r.role, "").ljust(rw) + ("  " if rw else "")
        lines.append(f"{indent}{head}{r.label.rjust(lw)}  {cells}{note}".rstrip())
    return lines


def _head_text(grid: HeadGrid, indent: str = "    ") -> list[str]:
    strips = grid.keys + grid.values
    cw = max([1, *(len(t) for s in strips for t in s.texts)])
    widths = [max(len(q.label), *(len(t) for t in q.texts)) for q in grid.queries]
    left = max([sum(w + 2 for w in widths), *(len(s.label) + 2 for s in strips)])

    def row(label: str, texts: list[str]) -> str:
        return indent + label.rjust(left - 2) + "  " + " ".join(t.rjust(cw) for t in texts)

    lines = [row(s.label, s.texts) for s in grid.keys]
    grid_w = grid.n * (cw + 1) - 1
    qhead = "".join(q.label.ljust(w + 2) for q, w in zip(grid.queries, widths, strict=True))
    lines.append(
        indent + qhead.ljust(left) + " " * grid_w + "  " + "  ".join(o.label for o in grid.outputs)
    )
    for i, chosen in enumerate(grid.matrix.tolist()):
        qs = "".join(q.texts[i].ljust(w + 2) for q, w in zip(grid.queries, widths, strict=True))
        cells = " ".join(("#" if x else ".").rjust(cw) for x in chosen)
        outs = "  ".join(o.texts[i].ljust(len(o.label)) for o in grid.outputs)
        lines.append((indent + qs.ljust(left) + cells + "  " + outs).rstrip())
    lines += [row(s.label, s.texts) for s in grid.values]
    return [line.rstrip() for line in lines]


def trace_text(
    trace: Trace, analysis: Analysis | None = None, *, max_positions: int | None = MAX_POSITIONS
) -> str:
    """Every layer of ``trace``: heads as ``#``/``.`` grids, MLP steps as value rows."""
    a = analysis or analyse(trace.program)
    n = len(trace.input)
    per_position = (sum(a.heads_per_layer) + 1) * n / 50  # a grid character is 1 byte, not 100
    check_positions(
        n, "the text view", cells_per_position=per_position, max_positions=max_positions
    )
    out = trace.output
    shown = "(a selector)" if isinstance(trace.program, Selector) else sequence_text(out)
    heads = list(a.heads_per_layer)
    lines = [
        f"{trace.program.label} on {sequence_text(trace.input)} -> {shown}  "
        f"({plural(a.n_layers, 'layer')}, heads per layer {heads})",
        "",
        "embedding",
        *rows_text(step_rows(trace, a.embedding)),
    ]
    for layer in a.layers:
        lines += ["", f"layer {layer.index}"]
        for head in layer.heads:
            grid = HeadGrid(trace, head.selector, head.sops)
            lines.append(f"  head {grid.title}: {grid.subtitle}")
            lines += _head_text(grid)
        if layer.mlp:
            lines += ["  mlp", *rows_text(step_rows(trace, layer.mlp), "    ")]
    if isinstance(trace.program, Selector):
        grid = HeadGrid(trace, trace.program, ())
        lines += ["", f"selector {grid.title}: {grid.subtitle}", *_head_text(grid, "  ")]
    return "\n".join(lines)
