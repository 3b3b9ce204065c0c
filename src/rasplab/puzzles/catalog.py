"""The puzzle set, easy to hard.

>>> len(PUZZLES) >= 16, get("sort").number
(True, 11)
"""

from __future__ import annotations

from ..errors import ProgramNotFoundError
from .easy import EASY
from .hard import HARD
from .puzzle import Puzzle

__all__ = ["PUZZLES", "get", "PuzzleNotFound"]

PUZZLES: dict[str, Puzzle] = {p.name: p for p in (*EASY, *HARD)}


class PuzzleNotFound(ProgramNotFoundError):
    """No puzzle by that name (the message lists the names)."""


def get(name: str) -> Puzzle:
    """The puzzle called ``name``."""
    try:
        return PUZZLES[name]
    except KeyError:
        raise PuzzleNotFound(f"no puzzle {name!r}; puzzles: {', '.join(PUZZLES)}") from None
