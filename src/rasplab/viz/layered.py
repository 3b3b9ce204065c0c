"""A small layered-graph layout (Sugiyama style) with no dependencies.

Items sit in rows; every edge between rows more than one apart is routed
through thin *dummy* items in the rows between, which take part in the
ordering and placement like boxes, so edges never cross a box. Rows are
ordered by the barycentre heuristic, then placed by isotonic regression:
each item as close as possible to the mean of its neighbours, in order,
never overlapping.

>>> rows = [[Item("a", 40)], [Item("b", 40, ["a"]), Item("c", 30)], [Item("d", 40, ["a", "c"])]]
>>> lay = layout(rows, gap=10)
>>> [i.key for i in lay[1]]  # a dummy carries a -> d past row 1
['b', '~a@1', 'c']
>>> all(r[k].x + r[k].width < r[k + 1].x for r in lay for k in range(len(r) - 1))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Item", "layout", "isotonic", "DUMMY_WIDTH"]

DUMMY_WIDTH = 4.0


@dataclass
class Item:
    """A box (or a dummy, ``dummy=True``) with the keys of the items it reads."""

    key: str
    width: float
    inputs: list[str] = field(default_factory=list)
    dummy: bool = False
    x: float = 0.0  # left edge, set by ``layout``
    row: int = 0
    below: list[str] = field(default_factory=list)  # items in the next row reading this one
    above: list[str] = field(default_factory=list)  # items in the previous row this one reads

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


def isotonic(values: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``values`` in least squares (pool adjacent violators).

    >>> isotonic([1.0, 3.0, 2.0, 4.0])
    [1.0, 2.5, 2.5, 4.0]
    """
    blocks: list[list[float]] = []  # [mean, count]
    for v in values:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, n2 = blocks.pop()
            m1, n1 = blocks[-1]
            blocks[-1] = [(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2]
    out: list[float] = []
    for mean, count in blocks:
        out.extend([mean] * int(count))
    return out


def _route(rows: list[list[Item]]) -> dict[str, Item]:
    """Insert dummies so that every edge joins adjacent rows; fill ``above``/``below``."""
    items = {i.key: i for r, row in enumerate(rows) for i in row}
    for r, row in enumerate(rows):
        for item in row:
            item.row = r
    for row in list(rows):
        for item in row:
            for src in item.inputs:
                prev = items[src]
                for r in range(prev.row + 1, item.row):
                    key = f"~{src}@{r}"
                    if key not in items:
                        items[key] = Item(key, DUMMY_WIDTH, dummy=True, row=r)
                        rows[r].append(items[key])
                        _link(prev, items[key])
                    prev = items[key]
                _link(prev, item)
    return items


def _link(upper: Item, lower: Item) -> None:
    if upper.key not in lower.above:
        lower.above.append(upper.key)
        upper.below.append(lower.key)


def _order(rows: list[list[Item]], items: dict[str, Item], sweeps: int = 4) -> None:
    def rank(row: list[Item]) -> None:
        for k, item in enumerate(row):
            item.x = k

    for row in rows:
        rank(row)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for row in rows if down else rows[::-1]:

            def bary(item: Item, down: bool = down) -> float:
                near = item.above if down else item.below
                return sum(items[k].x for k in near) / len(near) if near else item.x

            row.sort(key=bary)
            rank(row)


def _place_row(row: list[Item], items: dict[str, Item], gap: float, down: bool) -> None:
    offsets, total = [], 0.0
    for item in row:
        offsets.append(total)
        total += item.width + (gap if not item.dummy else gap / 2)
    wanted = []
    for item in row:
        near = item.above if down else item.below
        centre = sum(items[k].centre for k in near) / len(near) if near else item.centre
        wanted.append(centre - item.width / 2)
    fitted = isotonic([w - o for w, o in zip(wanted, offsets, strict=True)])
    for item, f, o in zip(row, fitted, offsets, strict=True):
        item.x = f + o


def layout(rows: list[list[Item]], gap: float = 16.0, passes: int = 3) -> list[list[Item]]:
    """Order and place ``rows`` in place (dummies added); the leftmost item ends at x = 0."""
    items = _route(rows)
    _order(rows, items)
    for row in rows:  # start packed
        x = 0.0
        for item in row:
            item.x, x = x, x + item.width + gap
    for p in range(passes):
        order = rows[1:] if p % 2 == 0 else rows[-2::-1]
        for row in order:
            _place_row(row, items, gap, down=p % 2 == 0)
    left = min((i.x for row in rows for i in row), default=0.0)
    for row in rows:
        for item in row:
            item.x -= left
    return rows
