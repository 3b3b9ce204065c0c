"""Plain-Python specifications of the puzzles: the answer key, with no RASP in it.

Each spec takes one input (a list of tokens) and the puzzle's parameters and
returns the list the solution must produce, one value per position.

>>> reverse(list("abc"))
['c', 'b', 'a']
>>> shift(list("abcd"), i=1, default="_")
['_', 'a', 'b', 'c']
>>> "".join(add(list("95+7")))
'0102'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = [
    "index",
    "shift",
    "length",
    "reverse",
    "histogram",
    "minimum",
    "first",
    "ralign",
    "split",
    "slide",
    "sort",
    "double_histogram",
    "most_frequent",
    "dyck1",
    "dyck2",
    "add",
    "BLANK",
]

BLANK = "-"  # the filler of the puzzles that move tokens around


def index(xs: Sequence[Any], i: int) -> list[Any]:
    """The token at position ``i`` everywhere; ``"_"`` if the input is too short."""
    return [xs[i] if i < len(xs) else "_"] * len(xs)


def shift(xs: Sequence[Any], i: int, default: Any) -> list[Any]:
    """``out[j] = xs[j - i]``, ``default`` where ``j - i`` is outside the input."""
    n = len(xs)
    return [xs[j - i] if 0 <= j - i < n else default for j in range(n)]


def length(xs: Sequence[Any]) -> list[int]:
    """The input length at every position."""
    return [len(xs)] * len(xs)


def reverse(xs: Sequence[Any]) -> list[Any]:
    """The input backwards."""
    return list(xs)[::-1]


def histogram(xs: Sequence[Any]) -> list[int]:
    """How often each position's token occurs in the whole input."""
    counts = Counter(xs)
    return [counts[x] for x in xs]


def minimum(xs: Sequence[Any]) -> list[Any]:
    """The smallest token everywhere."""
    return [min(xs)] * len(xs)


def first(xs: Sequence[Any], token: Any) -> list[int]:
    """Where ``token`` first occurs (-1 if nowhere), everywhere."""
    where = list(xs).index(token) if token in xs else -1
    return [where] * len(xs)


def ralign(xs: Sequence[Any]) -> list[Any]:
    """The non-blank tokens pushed to the right end, in order; blanks on the left."""
    kept = [x for x in xs if x != BLANK]
    return [BLANK] * (len(xs) - len(kept)) + kept


def split(xs: Sequence[Any], part: int) -> list[Any]:
    """Part 0 (before the ``+``) or 1 (after it), right-aligned, padded with blanks.

    Without a ``+`` the whole input is part 0 and part 1 is empty.
    """
    xs = list(xs)
    cut = xs.index("+") if "+" in xs else len(xs)
    piece = xs[:cut] if part == 0 else xs[cut + 1 :]
    return [BLANK] * (len(xs) - len(piece)) + piece


def slide(xs: Sequence[Any]) -> list[Any]:
    """Every ``<`` takes the first non-``<`` token after it (stays ``<`` if none)."""
    out = []
    for j in range(len(xs)):
        later = [y for y in xs[j:] if y != "<"]
        out.append(later[0] if later else "<")
    return out


def sort(xs: Sequence[Any]) -> list[Any]:
    """The tokens in increasing order (repeats kept)."""
    return sorted(xs)


def double_histogram(xs: Sequence[Any]) -> list[int]:
    """How many distinct tokens occur exactly as often as this position's token."""
    counts = Counter(xs)
    with_count = Counter(counts.values())
    return [with_count[counts[x]] for x in xs]


def most_frequent(xs: Sequence[Any]) -> list[Any]:
    """Distinct tokens, most frequent first (ties: first seen first), then blanks."""
    counts = Counter(xs)
    distinct = list(dict.fromkeys(xs))
    ranked = sorted(distinct, key=lambda t: -counts[t])  # stable sort keeps first-seen order
    return ranked + [BLANK] * (len(xs) - len(ranked))


def _dyck(xs: Sequence[Any], pairs: Sequence[str]) -> list[str]:
    closer_of = {p[0]: p[1] for p in pairs}
    stack: list[str] = []
    failed = False
    out = []
    for x in xs:
        if x in closer_of:
            stack.append(closer_of[x])
        elif stack and stack[-1] == x:
            stack.pop()
        else:
            failed = True
        out.append("F" if failed else ("P" if stack else "T"))
    return out


def dyck1(xs: Sequence[Any]) -> list[str]:
    """Per prefix: ``T`` balanced, ``P`` can still be balanced, ``F`` never can."""
    return _dyck(xs, ["()"])


def dyck2(xs: Sequence[Any]) -> list[str]:
    """As :func:`dyck1` with two kinds of brackets, ``()`` and ``{}``, properly nested."""
    return _dyck(xs, ["()", "{}"])


def add(xs: Sequence[Any]) -> list[str]:
    """The digits of ``A + B`` for an input ``A+B``, zero-padded on the left to the input length."""
    a, b = "".join(xs).split("+")
    return list(str(int(a) + int(b)).zfill(len(xs)))
