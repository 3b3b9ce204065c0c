"""Balanced-bracket languages: Dyck-1 and Dyck-k, as prefix status T/P/F.

Each position reports its prefix: ``T`` balanced, ``P`` could still be
completed to a balanced string, ``F`` can never be (a closer came with no
matching opener).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..lang.dsl import aggregate, indices, select, tokens
from ..lang.nodes import Map, SOp
from .helpers import indicator, selector_width_nobos, where

__all__ = ["dyck1", "dyck2", "dyck_k"]


def _ptf(failed: SOp, balance: SOp) -> SOp:
    return where(failed, "F", where(balance == 0, "T", "P"))


def _round(sop: SOp) -> SOp:
    return Map(round, sop, desc="round({0})")


def dyck1(sop: SOp = tokens, pair: str = "()") -> SOp:
    """Prefix status of a single bracket pair (2 layers, [1, 1]).

    >>> dyck1()("(()))(")
    ['P', 'P', 'P', 'T', 'F', 'F']
    """
    up_to_self = select(indices, indices, "<=").named("up_to_self")
    opens = _round((indices + 1) * aggregate(up_to_self, indicator(sop == pair[0])))
    closes = _round((indices + 1) * aggregate(up_to_self, indicator(sop == pair[1])))
    balance = (opens - closes).named("balance")
    prev_negative = aggregate(up_to_self, indicator(balance < 0)).named("prev_negative")
    return _ptf(prev_negative > 0, balance).named("dyck1")


def dyck_k(pairs: Sequence[str] = ("()", "{}"), sop: SOp = tokens) -> SOp:
    """Prefix status for several bracket kinds, the paper's construction (4 layers, [1, 2, 1, 1]).

    Each closer finds its opener: the last earlier opener at the depth it
    closes. ``depth_index`` numbers the positions sharing one depth level, so
    that opener is the one whose index is one less. ``depth_index`` uses the
    paper's BOS-free selector width, which is why layer 2 has two heads.

    >>> dyck_k(["()", "{}"])("({)}")
    ['P', 'P', 'F', 'F']
    """
    pairs = [str(p) for p in pairs]
    openers = [p[0] for p in pairs]
    closers = [p[1] for p in pairs]
    opens = indicator(Map(lambda t: t in openers, sop, desc=f"{{0}} in {openers!r}"))
    closes = indicator(Map(lambda t: t in closers, sop, desc=f"{{0}} in {closers!r}"))
    up_to_self = select(indices, indices, "<=").named("up_to_self")
    n_opens = _round((indices + 1) * aggregate(up_to_self, opens))
    n_closes = _round((indices + 1) * aggregate(up_to_self, closes))
    depth = (n_opens - n_closes).named("depth")
    level = (depth + closes).named("level")  # a closer sits at the level it closes
    same_level = select(level, level, "==")
    depth_index = selector_width_nobos(same_level & up_to_self).named("depth_index")
    opener_for_closer = (
        select(opens, 1, "==") & same_level & select(depth_index, depth_index - 1, "==")
    ).named("opener_for_closer")
    matched = aggregate(opener_for_closer, sop, "-").named("matched_opener")
    pair_ok = Map(lambda s: s in pairs, matched + sop, desc=f"{{0}} in {pairs!r}")
    mismatch = (closes == 1) & ~pair_ok
    bad = indicator(mismatch | (depth < 0)).named("bad")
    failed = (aggregate(up_to_self, bad) > 0).named("failed")
    return _ptf(failed, depth).named(f"dyck{len(pairs)}")


def dyck2(sop: SOp = tokens) -> SOp:
    """Dyck-2 over ``()`` and ``{}`` (4 layers, [1, 2, 1, 1]).

    >>> dyck2()("({})")
    ['P', 'P', 'P', 'T']
    """
    return dyck_k(("()", "{}"), sop)
