"""The execution view of one input: every s-op's values, position by position.

Uses the visualiser's text view when this installation has one, else a
compact table of its own.

>>> from rasplab import tokens, select, selector_width
>>> hist = selector_width(select(tokens, tokens, "==")).named("hist")
>>> print(own_view(hist, list("aba")))
input       a  b  a
hist        2  1  2
"""

from __future__ import annotations

from typing import Any

from ..errors import RaspError
from ..evaluate import evaluate
from ..lang.nodes import Constant, Node, SOp, Tokens

__all__ = ["text_view", "own_view", "html_view"]

MAX_ROWS = 30
LABEL_WIDTH = 12


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _label(node: SOp, program: Node) -> str:
    if node.name is not None or node is program:
        return node.label
    text = f"{node.label} = {node.describe()}"
    return text if len(text) <= 40 else text[:37] + "..."


def own_view(program: Node, xs: list[Any]) -> str:
    """A table with the input, then every s-op in evaluation order (the output last)."""
    try:
        trace = evaluate(program, xs, trace=True)
    except Exception as err:  # a broken program still gets its report
        shown = str(err) if isinstance(err, RaspError) else f"{type(err).__name__}: {err}"
        return f"(no execution view: {shown})"
    rows = [("input", [_cell(x) for x in xs])]
    for node in trace.nodes:
        if isinstance(node, SOp) and not isinstance(node, Tokens | Constant):
            rows.append((_label(node, program), [_cell(v) for v in trace[node]]))
    if len(rows) > MAX_ROWS:
        rows = rows[: MAX_ROWS - 1] + [("...", [])] + rows[-1:]
    width = max(len(c) for _, cells in rows for c in cells) if xs else 1
    label_width = max(LABEL_WIDTH, *(len(label) + 1 for label, _ in rows))
    return "\n".join(
        (label.ljust(label_width) + "  ".join(c.rjust(width) for c in cells)).rstrip()
        for label, cells in rows
    )


def text_view(program: Node, xs: list[Any]) -> str:
    """The visualiser's text view if available, else :func:`own_view`."""
    try:
        from ..viz import text_view as viz_text_view
    except ImportError:
        return own_view(program, xs)
    try:
        shown = viz_text_view(program, xs)
    except Exception:  # the visualiser's trouble must not hide the counterexample
        return own_view(program, xs)
    return shown if isinstance(shown, str) else str(shown)


def html_view(program: Node, xs: list[Any]) -> str | None:
    """The visualiser's execution picture (SVG) of one input, or ``None`` without one."""
    try:
        from ..viz import draw
    except ImportError:
        return None
    try:
        shown = draw(program, xs, kind="execution", format="svg")
    except Exception:  # no picture is better than a broken report
        return None
    return shown if isinstance(shown, str) else None
