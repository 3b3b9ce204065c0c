"""What raspy's calls return and how they display: ``Seq`` and ``Sel``, drawn by rasplab.viz.

raspy shows an s-op in Jupyter by running it on ``"hello"`` and drawing every
attention layer; here the drawing is rasplab's execution view (SVG).

>>> from rasplab.compat.raspy import tokens, indices, key, query
>>> out = (tokens + indices).input([1, 2, 3])
>>> out, out.val, out._repr_svg_().startswith("<svg")
([1, 3, 5], [1, 3, 5], True)
>>> (key(indices) < query(indices))([0, 0]).val
[[False, True], [False, False]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import RaspError, RaspTypeError
from ...evaluate import evaluate
from ...lang import nodes

__all__ = ["EXAMPLE", "Seq", "Sel", "run", "run_selector"]

EXAMPLE = "hello"  # what raspy runs an s-op on to show it


def _input(inp: Any, called: str) -> list[Any]:
    if isinstance(inp, str | list | tuple):
        return list(inp)
    raise RaspTypeError(f"raspy {called} expects an input list or string, got {inp!r}")


class Seq(list[Any]):
    """raspy's result of running an s-op: the values (a list), the input as ``bind``."""

    def __init__(self, values: list[Any], program: nodes.SOp, bind: list[Any]) -> None:
        super().__init__(values)
        self.program = program
        self.bind = bind

    @property
    def val(self) -> list[Any]:
        return list(self)

    def toseq(self) -> list[Any]:
        return list(self)

    def _repr_svg_(self) -> str:
        return _draw(self.program, self.bind)


@dataclass(frozen=True)
class Sel:
    """raspy's result of running a selector: ``val[key][query]`` (rasplab's is transposed)."""

    val: list[list[bool]]
    program: nodes.Selector
    bind: list[Any]

    def tomat(self) -> list[list[bool]]:
        return self.val

    def _repr_svg_(self) -> str:
        return _draw(self.program, self.bind)


def run(program: nodes.SOp, inp: Any) -> Seq:
    xs = _input(inp, f"{program.label}(input)")
    return Seq(evaluate(program, xs), program, xs)


def run_selector(program: nodes.Selector, inp: Any) -> Sel:
    xs = _input(inp, f"{program.label}(input)")
    by_query = evaluate(program, xs)
    by_key = [list(row) for row in zip(*by_query, strict=True)] if by_query else []
    return Sel(by_key, program, xs)


def _draw(program: nodes.Node, xs: list[Any]) -> str:
    from ...viz import draw

    svg = draw(program, xs, kind="execution")
    assert isinstance(svg, str)  # format="svg" is text
    return svg


def example_repr(program: nodes.SOp) -> str:
    """raspy's repr: the values on ``"hello"``, or the node where that input does not run."""
    try:
        return repr(evaluate(program, list(EXAMPLE)))
    except RaspError:
        return f"<{program.label} = {program.describe()}>"


def example_html(program: nodes.Node) -> str:
    """Jupyter's view: the execution on ``"hello"``, or the node's own view if that fails."""
    try:
        return _draw(program, list(EXAMPLE))
    except RaspError:
        from ...viz.jupyter import node_html

        return node_html(program)


def side_html(side: str, sop: nodes.SOp) -> str:
    """``key(x)`` / ``query(x)`` in Jupyter: the side's values on ``"hello"``."""
    from html import escape

    try:
        values = evaluate(sop, list(EXAMPLE))
    except RaspError:
        return f"<code>{side}({escape(sop.label)})</code>"
    cells = "".join(f"<td>{escape(str(v))}</td>" for v in values)
    return f"<table><tr><th>{side}</th>{cells}</tr></table>"
