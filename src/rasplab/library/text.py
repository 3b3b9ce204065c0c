"""Text-layout programs from raspy's challenges: right-align, split, slide.

raspy (Sasha Rush's Python RASP, written up with Gail Weiss in the blog post
"Thinking Like Transformers") poses these as steps towards addition. raspy
aggregates by *sum*; these versions use the paper's *mean*, and every
aggregate that moves a token selects exactly one key, so tokens of any type
pass through unchanged.
"""

from __future__ import annotations

from typing import Any

from ..lang.dsl import aggregate, indices, select, selector_width, tokens
from ..lang.nodes import SOp
from .helpers import indicator, next_where, where

__all__ = ["ralign", "split", "slide"]


def ralign(sop: SOp = tokens, blank: Any = "-") -> SOp:
    """Non-blank tokens moved to the right end in their order, blanks to the left (2 layers).

    A stable partition: ``out`` is ``k`` blanks followed by the non-blank
    tokens of ``sop`` in input order, where ``k`` is the number of blanks.
    For a padded input (blanks only at the end) this is raspy's ``ralign``:
    the tokens shift right by the padding. Layer 1 counts the blanks after
    each position; a non-blank token moves right by that many places, and
    layer 2 gathers it (2 layers, [1, 1]).

    >>> "".join(ralign()("xyz---"))
    '---xyz'
    >>> "".join(ralign()("x-y-z"))
    '--xyz'
    """
    is_blank = (sop == blank).named("is_blank")
    later_blanks = select(is_blank, True, "==") & select(indices, indices, ">")
    blanks_after = selector_width(later_blanks.named("blanks_after")).named("n_blanks_after")
    target = where(is_blank, -1, indices + blanks_after).named("ralign_target")
    return aggregate(select(target, indices, "==").named("to_target"), sop, blank).named("ralign")


def split(sop: SOp = tokens, sep: Any = "+", part: int = 0, blank: Any = "-") -> SOp:
    """The tokens before (``part=0``) or after (``part=1``) the first ``sep``, right-aligned.

    With ``m`` the position of the first ``sep`` (``m = n`` if there is
    none), part 0 is ``sop[:m]`` and part 1 is ``sop[m+1:]``; the result is
    that part at the right end of a length-``n`` sequence, ``blank`` on its
    left. Later separators belong to part 1. raspy's ``split`` pads with
    ``"0"`` to feed its addition; pass ``blank="0"`` for that.

    Part 1 already sits at the right end: one prefix head finds the
    positions after a separator (1 layer, [1]). Part 0 must move right by
    ``n - m`` places: layer 1 marks the positions at or after the first
    separator, layer 2 counts them, layer 3 moves each earlier token by
    that count (3 layers, [1, 1, 1]).

    >>> "".join(split(part=0)("xyz+ab"))
    '---xyz'
    >>> "".join(split(part=1)("xyz+ab"))
    '----ab'
    """
    if part not in (0, 1):
        raise ValueError(f"split part must be 0 (before the separator) or 1 (after), got {part!r}")
    is_sep = indicator(sop == sep).named("is_sep")
    if part == 1:
        before_me = select(indices, indices, "<").named("strictly_before")
        after_sep = (aggregate(before_me, is_sep) > 0).named("after_sep")
        return where(after_sep, sop, blank).named("split1")
    up_to_me = select(indices, indices, "<=").named("prefix")
    dropped = (aggregate(up_to_me, is_sep) > 0).named("from_sep")
    n_dropped = selector_width(select(dropped, True, "==").named("dropped")).named("n_dropped")
    target = where(dropped, -1, indices + n_dropped).named("split0_target")
    to_target = select(target, indices, "==").named("to_target")
    return aggregate(to_target, sop, blank).named("split0")


def slide(sop: SOp = tokens, match: Any = "<", default: Any = None) -> SOp:
    """Each ``match`` token replaced by the nearest non-``match`` token to its right (2 layers).

    Other tokens stay. A ``match`` with only ``match`` tokens to its right
    becomes ``default``, or stays ``match`` when ``default`` is None.
    2 layers, [1, 1]: layer 1 counts the kept tokens up to each position,
    layer 2 fetches the kept token whose count is one more.

    >>> "".join(slide()("xxxh<<<l"))
    'xxxhllll'
    >>> "".join(slide()("a<b<<"))
    'abb<<'
    """
    keep = (sop != match).named("keep")
    filler = match if default is None else default
    incoming = next_where(keep, sop, filler).named("next_kept")
    return where(keep, sop, incoming).named("slide")
