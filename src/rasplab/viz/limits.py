"""How big a per-position picture may get, checked before anything is drawn.

An attention grid has ``n * n`` cells, each about a hundred bytes of SVG: at
2,000 tokens one execution view is hundreds of megabytes. Pictures drawn
position by position (execution views, value tables, text views, residual
streams) are therefore refused past ``MAX_POSITIONS`` positions, with the
estimated size and how to raise the limit.

>>> check_positions(8, "the execution view", cells_per_position=20, max_positions=100)
>>> try:
...     check_positions(2000, "the execution view", cells_per_position=4000, max_positions=200)
... except DrawError as err:
...     print(str(err).split(";")[0])
the execution view of 2000 positions would be about 763 MiB, over the limit of 200 positions
"""

from __future__ import annotations

from ..errors import RaspError

__all__ = ["DrawError", "MAX_POSITIONS", "check_positions", "BYTES_PER_CELL"]

MAX_POSITIONS = 256  # an execution view of a 2-head program at this length: about 13 MB
BYTES_PER_CELL = 100  # one grid cell or one value box of SVG, give or take


class DrawError(RaspError, ValueError):
    """A picture asked for wrongly (unknown kind or format, no input, too many positions)."""


def check_positions(
    n: int, picture: str, *, cells_per_position: float, max_positions: int | None
) -> None:
    """Refuse to draw ``picture`` of ``n`` positions past ``max_positions`` (None: no limit).

    ``cells_per_position`` estimates the output's size (grids grow with
    ``n`` per position, value rows do not) for the message.
    """
    if max_positions is None or n <= max_positions:
        return
    size = n * cells_per_position * BYTES_PER_CELL
    raise DrawError(
        f"{picture} of {n} positions would be about {_megabytes(size)}, over the limit of "
        f"{max_positions} positions; draw a shorter input, or raise the limit with "
        "max_positions= (command line: --max-positions)"
    )


def _megabytes(size: float) -> str:
    return f"{size / 2**20:.0f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
