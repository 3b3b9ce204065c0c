"""Check a drawing for overlaps, from its SVG text alone.

Every ``<text>`` gets a box from the same width estimate the layouts use,
every attention grid (``<g class="cells">``) and every graph node
(``<g class="node">``) gets its rectangle; then no two texts may overlap,
and no text may overlap a grid or a node it is not inside. Groups'
``translate`` transforms are followed; rotated texts are turned.

>>> from rasplab.viz.svg import Canvas
>>> c = Canvas()
>>> c.text(0, 10, "hello")
>>> c.text(20, 10, "world")
>>> [(a.text, b.text) for a, b in find_overlaps(c.render(100, 20))]
[('hello', 'world')]
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .svg import FONT_SIZE, text_width

__all__ = ["Box", "find_overlaps", "boxes"]

_NS = "{http://www.w3.org/2000/svg}"
_TRANSLATE = re.compile(r"translate\(([-\d.]+)[ ,]([-\d.]+)\)")
TOLERANCE = 0.5


@dataclass(frozen=True)
class Box:
    """An axis-aligned box; ``kind`` is ``text``, ``grid`` or ``node``."""

    kind: str
    x0: float
    y0: float
    x1: float
    y1: float
    text: str = ""
    owner: int = -1  # for texts: the node or grid they belong to

    def meets(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 - TOLERANCE
            and other.x0 < self.x1 - TOLERANCE
            and self.y0 < other.y1 - TOLERANCE
            and other.y0 < self.y1 - TOLERANCE
        )


def _text_box(el: ET.Element, dx: float, dy: float, size: float, anchor: str, owner: int) -> Box:
    text = el.text or ""
    x, y = float(el.get("x", 0)) + dx, float(el.get("y", 0)) + dy
    size = float(el.get("font-size", size))
    anchor = el.get("text-anchor", anchor)
    w = text_width(text, size)
    start = {"start": 0.0, "middle": -w / 2, "end": -w}[anchor]
    if "rotate" in el.get("transform", ""):  # reads bottom-up from (x, y)
        return Box("text", x - 0.8 * size, y - start - w, x + 0.2 * size, y - start, text, owner)
    return Box("text", x + start, y - 0.8 * size, x + start + w, y + 0.2 * size, text, owner)


def _rect(el: ET.Element, dx: float, dy: float) -> tuple[float, float, float, float]:
    x, y = float(el.get("x", 0)) + dx, float(el.get("y", 0)) + dy
    return x, y, x + float(el.get("width", 0)), y + float(el.get("height", 0))


def boxes(svg: str) -> list[Box]:
    """The boxes of every text, attention grid and graph node in a drawing."""
    out: list[Box] = []
    counter = [0]

    def walk(el: ET.Element, dx: float, dy: float, size: float, anchor: str, owner: int) -> None:
        m = _TRANSLATE.search(el.get("transform", "")) if el.tag == _NS + "g" else None
        if m:
            dx, dy = dx + float(m[1]), dy + float(m[2])
        size = float(el.get("font-size", size))
        anchor = el.get("text-anchor", anchor)
        css = el.get("class", "").split()
        if "cells" in css or "node" in css:
            x0, y0, x1, y1 = zip(*(_rect(r, dx, dy) for r in el.iter(_NS + "rect")), strict=True)
            counter[0] += 1
            owner = counter[0]
            kind = "grid" if "cells" in css else "node"
            out.append(Box(kind, min(x0), min(y0), max(x1), max(y1), owner=owner))
        if el.tag == _NS + "text":
            out.append(_text_box(el, dx, dy, size, anchor, owner))
        for child in el:
            walk(child, dx, dy, size, anchor, owner)

    walk(ET.fromstring(svg), 0.0, 0.0, FONT_SIZE, "start", -1)
    return out


def _buckets(items: list[Box], size: float = 64.0) -> dict[tuple[int, int], list[int]]:
    grid: dict[tuple[int, int], list[int]] = {}
    for i, b in enumerate(items):
        for gx in range(int(b.x0 // size), int(b.x1 // size) + 1):
            for gy in range(int(b.y0 // size), int(b.y1 // size) + 1):
                grid.setdefault((gx, gy), []).append(i)
    return grid


def find_overlaps(svg: str) -> list[tuple[Box, Box]]:
    """Pairs that overlap: any two boxes, except a text and the grid or node it belongs to."""
    items = boxes(svg)
    pairs: set[tuple[int, int]] = set()
    for members in _buckets(items).values():
        for k, i in enumerate(members):
            for j in members[k + 1 :]:
                a, b = items[i], items[j]
                mine = "text" in (a.kind, b.kind) and a.kind != b.kind and a.owner == b.owner
                if not mine and a.meets(b):
                    pairs.add((i, j))
    return [(items[i], items[j]) for i, j in sorted(pairs)]
