"""Plain SVG, written by hand: rectangles, text, lines and groups.

Every picture uses one monospace font, so the width of a text is its number
of characters times a fixed fraction of the font size; layouts are computed
from that estimate and never rely on the renderer to measure text. Every
filled shape carries explicit ``fill`` and ``stroke`` attributes; there is
no CSS, no script and nothing fetched.

>>> c = Canvas()
>>> c.rect(0, 0, 10, 10, fill="#ffffff", stroke="#000000")
>>> c.text(5, 20, "a<b", anchor="middle")
>>> print(c.render(20, 30))  # doctest: +NORMALIZE_WHITESPACE
<svg xmlns="http://www.w3.org/2000/svg" width="20" height="30" viewBox="0 0 20 30"
 font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11" fill="#222222">
<rect x="0" y="0" width="10" height="10" fill="#ffffff" stroke="#000000"/>
<text x="5" y="20" text-anchor="middle">a&lt;b</text>
</svg>
>>> text_width("abcd", 10)
25.6
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "Canvas",
    "FONT_FAMILY",
    "FONT_SIZE",
    "CHAR_WIDTH",
    "INK",
    "MUTED",
    "text_width",
    "escape",
    "num",
]

FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE = 11
CHAR_WIDTH = 0.64  # advance of one monospace character (0.6 em), rounded up for hinting
INK = "#222222"
MUTED = "#666666"

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape(text: str) -> str:
    """Text made safe for XML content and attribute values.

    >>> escape('<a href="x">&</a>')
    '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;'
    """
    return text.translate(_ESCAPES)


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimated width in pixels of ``text`` at ``size`` (wide East Asian characters count 2).

    >>> text_width("ab", 10), text_width("中", 10)
    (12.8, 12.8)
    """
    if text.isascii():
        return len(text) * CHAR_WIDTH * size
    return sum(_columns(c) for c in text) * CHAR_WIDTH * size


def num(value: float) -> str:
    """A coordinate with at most one decimal, and no trailing ``.0``.

    >>> num(3.0), num(2.25), num(-0.04)
    ('3', '2.2', '0')
    """
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _attrs(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f' {name}="{escape(str(value))}"')
    return "".join(parts)


class Canvas:
    """An SVG document under construction; shapes are appended in painting order."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str, stroke: str, **attrs):
        """A rectangle; ``fill`` and ``stroke`` are required so renderers never guess."""
        self.parts.append(
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}"'
            f' fill="{fill}" stroke="{stroke}"{_attrs(attrs)}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        anchor: str | None = None,
        size: float | None = None,
        fill: str | None = None,
        bold: bool = False,
        rotate: bool = False,
    ) -> None:
        """Text with its baseline at ``y``; ``rotate`` turns it to read bottom-up.

        ``anchor``, ``size`` and ``fill`` left as ``None`` are inherited from the
        enclosing groups (the document sets the font, its size and ``INK``).
        """
        extra = "" if anchor is None else f' text-anchor="{anchor}"'
        if size is not None:
            extra += f' font-size="{num(size)}"'
        if fill is not None:
            extra += f' fill="{fill}"'
        if bold:
            extra += ' font-weight="bold"'
        if rotate:
            extra += f' transform="rotate(-90 {num(x)} {num(y)})"'
        self.parts.append(f'<text x="{num(x)}" y="{num(y)}"{extra}>{escape(text)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, *, stroke: str, width=1) -> None:
        self.parts.append(
            f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"'
            f' stroke="{stroke}" stroke-width="{width}"/>'
        )

    def path(self, d: str, *, stroke: str, fill: str = "none", width: float = 1) -> None:
        self.parts.append(f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>')

    def title(self, text: str) -> None:
        """A tooltip for the enclosing group (shown on hover by most viewers)."""
        self.parts.append(f"<title>{escape(text)}</title>")

    @contextmanager
    def group(self, **attrs: object) -> Iterator[None]:
        """``<g>`` around whatever is drawn inside the ``with`` block."""
        self.parts.append(f"<g{_attrs(attrs)}>")
        try:
            yield
        finally:
            self.parts.append("</g>")

    def translated(self, dx: float, dy: float, **attrs: object):
        """A group shifted by ``(dx, dy)``."""
        return self.group(transform=f"translate({num(dx)},{num(dy)})", **attrs)

    def render(self, width: float, height: float, **attrs: object) -> str:
        """The finished ``<svg>`` element (no XML declaration, so it can be inlined in HTML)."""
        w, h = num(width), num(height)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"'
            f' viewBox="0 0 {w} {h}"{_attrs(attrs)}\n font-family="{FONT_FAMILY}"'
            f' font-size="{FONT_SIZE}" fill="{INK}">'
        )
        return "\n".join([head, *self.parts, "</svg>"])
