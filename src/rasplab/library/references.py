"""Plain-Python specifications of the library's programs, one per position list.

These are the oracles the tests compare the RASP programs against: written
directly from the task's definition, with no RASP in sight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ref_length",
    "ref_reverse",
    "ref_hist",
    "ref_double_hist",
    "ref_sort",
    "ref_sort_unique",
    "ref_most_freq",
    "ref_dyck1",
    "ref_dyck_k",
    "ref_dyck2",
]


def ref_length(xs: Sequence[Any]) -> list[int]:
    return [len(xs)] * len(xs)


def ref_reverse(xs: Sequence[Any]) -> list[Any]:
    return list(xs)[::-1]


def ref_hist(xs: Sequence[Any]) -> list[int]:
    counts = Counter(xs)
    return [counts[x] for x in xs]


def ref_double_hist(xs: Sequence[Any]) -> list[int]:
    counts = Counter(xs)
    how_many_with = Counter(counts.values())
    return [how_many_with[counts[x]] for x in xs]


def ref_sort(xs: Sequence[Any]) -> list[Any]:
    return sorted(xs)  # Python's sort is stable, as the program is


def ref_sort_unique(xs: Sequence[Any]) -> list[Any]:
    return sorted(xs)


def ref_most_freq(xs: Sequence[Any], filler: Any = "-") -> list[Any]:
    counts = Counter(xs)
    firsts = list(dict.fromkeys(xs))  # distinct, in order of first appearance
    ranked = sorted(firsts, key=lambda t: -counts[t])  # stable: ties stay first-seen first
    return ranked + [filler] * (len(xs) - len(ranked))


def ref_dyck_k(xs: Sequence[Any], pairs: Sequence[str] = ("()", "{}")) -> list[str]:
    closer_of = {p[0]: p[1] for p in pairs}
    closers = {p[1] for p in pairs}
    stack: list[str] = []
    failed = False
    out = []
    for x in xs:
        if not failed:
            if x in closer_of:
                stack.append(closer_of[x])
            elif x in closers:
                if stack and stack[-1] == x:
                    stack.pop()
                else:
                    failed = True
        out.append("F" if failed else ("T" if not stack else "P"))
    return out


def ref_dyck1(xs: Sequence[Any]) -> list[str]:
    return ref_dyck_k(xs, ("()",))


def ref_dyck2(xs: Sequence[Any]) -> list[str]:
    return ref_dyck_k(xs, ("()", "{}"))
