"""The longest ``max_seq_len`` at which a refused program's values can be listed.

A compile refused because an s-op "can take too many distinct values" is no use
to its user without a length that would do: the value sets grow with
``max_seq_len`` (a count of ``n`` positions averaged over ``n`` keys has about
``n^2 / 2`` values), so some shorter length lists them all. This searches for
the longest one by running stages 1-3 only (value sets and lowering, the
stages that found the blocker) at shorter lengths: halving until one lists,
then bisecting between the last that lists and the first that does not. It
assumes that a shorter length never has more values, which holds for value
sets (every input of a shorter length is one of a longer model's) but is
checked only at the lengths tried: the answer is the longest *found*, with the
one above it that was refused, as close as 1/64 of that one (the lengths
between are not tried). A length counts where every value lists and the
parameters estimated from the value sets (:func:`.size.early_estimate`) are
within ``max_params``; no plan is tried there, and one may still be refused
(for its size, or for a blocker of its own), which the message says.

The search stops at ``seconds`` (or the compile's own time limit), reporting
what it found by then.

>>> from rasplab import tokens, indices, select, aggregate, numerical
>>> from rasplab.compiler.job import make_job
>>> mean = numerical(aggregate(select(indices, indices, "<="), tokens * indices))
>>> found = longest_listable(make_job(mean.named("m"), [0, 1, 2, 3], 128, False, 0,
...                                   None, 0, None, None), seconds=30)
>>> found.fits, found.refused, found.complete
(34, 35, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from ..errors import CompileError, ResourceLimitError
from .front import front_of
from .job import Job
from .limits import checkpoint
from .size import early_estimate, too_many_blockers

__all__ = ["Listable", "longest_listable", "listable_hint"]

SEARCH_SECONDS = 20.0  # at most this long spent looking for a length that lists
CLOSE = 64  # the search stops once the two lengths are within 1/CLOSE of the refused one


@dataclass(frozen=True)
class Listable:
    """What the search found: ``fits`` lists every value (0: none found), ``refused``
    is the shortest length tried that does not; ``complete``: the two are as close as
    the search goes."""

    fits: int
    refused: int
    seconds: float

    @property
    def complete(self) -> bool:
        """The two are adjacent, or within 1/CLOSE of the refused length (at 1,024 a few
        lengths more cost a second or two each and change little)."""
        return 0 < self.refused - self.fits <= max(1, self.refused // CLOSE)


def lists(job: Job, n: int) -> bool:
    """Whether every s-op of ``job``'s program has a listable value set at length ``n``,
    and the parameters estimated from those sets are within ``job.max_params``."""
    checkpoint("looking for a max_seq_len that compiles")
    try:
        front = front_of(replace(job, max_seq_len=n), [])
    except CompileError:  # refused there for another reason: not a length to name
        return False
    program, origin = front.lowered.program, front.lowered.origin
    if too_many_blockers(program, front.values, origin, n):
        return False
    estimate = early_estimate(program, front.values, origin)
    return estimate is None or job.max_params is None or estimate.total <= job.max_params


def longest_listable(job: Job, seconds: float = SEARCH_SECONDS) -> Listable:
    """The longest length below ``job.max_seq_len`` whose value sets list (halving,
    then bisecting), as far as ``seconds`` allow."""
    start = time.perf_counter()
    fits, refused = 0, job.max_seq_len  # refused at the length asked for
    try:
        while refused > 1 and time.perf_counter() - start < seconds:
            if fits and Listable(fits, refused, 0.0).complete:
                break
            n = refused // 2 if fits == 0 else (fits + refused) // 2
            if lists(job, n):
                fits = n
            else:
                refused = n
    except (ResourceLimitError, MemoryError):  # the compile's limits: say what was found
        pass
    return Listable(fits, refused, round(time.perf_counter() - start, 2))


def listable_hint(job: Job, seconds: float = SEARCH_SECONDS) -> str:
    """The search's answer in words, for a refusal for too many values."""
    found = longest_listable(job, seconds)
    if found.refused == 1:
        return (
            "its values cannot be listed even at max_seq_len 1: use a smaller vocabulary "
            "(or give the s-op fewer distinct values)"
        )
    if found.refused == job.max_seq_len:  # not one shorter length tried
        return (
            "no time was left to look for a max_seq_len at which every value can be listed "
            f"(the search runs for at most {seconds:g} s, within the compile's time limit: "
            "max_seconds=, on the command line --time-limit): compile for a smaller "
            "max_seq_len"
        )
    if found.fits == 0:
        return (
            f"no max_seq_len at which every value can be listed was found down to "
            f"{found.refused:,} (the search stopped after {found.seconds} s)"
        )
    if found.complete:
        between = "" if found.fits + 1 == found.refused else ", the lengths between untried"
        return (
            f"every value can be listed at max_seq_len {found.fits:,} but not at "
            f"{found.refused:,}{between}: compile for max_seq_len {found.fits:,} or less "
            f"(found in {found.seconds} s from the value sets alone: no plan was tried "
            "there, and one may still be refused, for its size or another blocker)"
        )
    return (
        f"every value can be listed at max_seq_len {found.fits:,} (not at {found.refused:,}; "
        f"the search between them stopped after {found.seconds} s)"
    )
