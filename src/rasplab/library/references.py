"""Plain-Python specifications of the library's programs, one per position list.

These are the oracles the tests compare the RASP programs against: written
directly from the task's definition, with no RASP in sight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..errors import InputError

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
    "ref_dyck3",
    "ref_count",
    "ref_frac_prevs",
    "ref_pair_balance",
    "ref_shift",
    "ref_index",
    "ref_minimum",
    "ref_first",
    "ref_ralign",
    "ref_split",
    "ref_slide",
    "ref_add",
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
    """Python's sort is stable, as the program is. NaN has no place in an order, so it is
    refused, as the evaluator refuses it; infinities sort as numbers.

    >>> ref_sort([float("inf"), 1.0, float("-inf")])
    [-inf, 1.0, inf]
    """
    _refuse_nan(xs)
    return sorted(xs)


def ref_sort_unique(xs: Sequence[Any]) -> list[Any]:
    _refuse_nan(xs)
    return sorted(xs)


def _refuse_nan(xs: Sequence[Any]) -> None:
    for pos, x in enumerate(xs):
        if x != x:  # only NaN differs from itself
            raise InputError(f"token {x!r} at position {pos} of input {list(xs)!r} is NaN")


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


def ref_dyck3(xs: Sequence[Any]) -> list[str]:
    return ref_dyck_k(xs, ("()", "{}", "[]"))


def ref_count(xs: Sequence[Any], token: Any = "a") -> list[int]:
    return [list(xs).count(token)] * len(xs)


def ref_frac_prevs(xs: Sequence[Any], token: Any = "x") -> list[float]:
    out = []
    seen = 0
    for i, x in enumerate(xs):
        seen += x == token
        out.append(seen / (i + 1))
    return out


def ref_pair_balance(xs: Sequence[Any], open: Any = "(", close: Any = ")") -> list[float]:
    out = []
    depth = 0
    for i, x in enumerate(xs):
        depth += (x == open) - (x == close)
        out.append(depth / (i + 1))
    return out


def ref_shift(xs: Sequence[Any], offset: int = 1, default: Any = "_") -> list[Any]:
    n = len(xs)
    return [xs[i - offset] if 0 <= i - offset < n else default for i in range(n)]


def ref_index(xs: Sequence[Any], i: int = 0, default: Any = "_") -> list[Any]:
    n = len(xs)
    value = xs[i] if -n <= i < n else default
    return [value] * n


def ref_minimum(xs: Sequence[Any]) -> list[Any]:
    return [min(xs)] * len(xs)


def ref_first(xs: Sequence[Any], token: Any = "a", default: Any = -1) -> list[Any]:
    where = list(xs).index(token) if token in xs else default
    return [where] * len(xs)


def ref_ralign(xs: Sequence[Any], blank: Any = "-") -> list[Any]:
    kept = [x for x in xs if x != blank]
    return [blank] * (len(xs) - len(kept)) + kept


def ref_split(xs: Sequence[Any], sep: Any = "+", part: int = 0, blank: Any = "-") -> list[Any]:
    xs = list(xs)
    cut = xs.index(sep) if sep in xs else len(xs)
    piece = xs[:cut] if part == 0 else xs[cut + 1 :]
    return [blank] * (len(xs) - len(piece)) + piece


def ref_slide(xs: Sequence[Any], match: Any = "<", default: Any = None) -> list[Any]:
    filler = match if default is None else default
    out = []
    for i, x in enumerate(xs):
        if x != match:
            out.append(x)
        else:
            later = [y for y in xs[i + 1 :] if y != match]
            out.append(later[0] if later else filler)
    return out


def ref_add(xs: Sequence[Any]) -> list[str]:
    text = "".join(str(x) for x in xs)
    if text.count("+") > 1:
        raise ValueError(f"an addition has at most one '+': {text!r}")
    a, _, b = text.rpartition("+")
    total = int(a or "0") + int(b or "0")
    return list(str(total).zfill(len(text)))
