"""Stages 1-3 of a build, kept as plain data: what planning starts from.

The aggregate policy (stage 2, asked by stage 1 as it meets each aggregate),
the value sets per position (stage 1) and the lowered program with its own
value sets (stage 3). A rebuild that only plans another way (after the
certificate, :mod:`.driver`) starts from the same front; at long lengths the
value sets are most of a compile.

>>> from rasplab.library import reverse
>>> from rasplab.compiler.job import make_job
>>> front = front_of(make_job(reverse(), "ab", 4, False, 0, None, 0, None, None), [])
>>> front.lowered.program.label, len(front.values.sets) > 0
('reverse', True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from ..lang.nodes import Node, SOp
from .copies import copied_counts
from .digits import split_equalities
from .encodings import AggregatePolicy
from .job import Job
from .lower import Lowered, lower
from .matches import rank_matches
from .value_sets import ValueSets, infer
from .widths import Rewritten, bos_free_widths, select_all_widths

__all__ = ["Base", "Front", "Fronts", "base_of", "front_for", "front_of"]


@dataclass(frozen=True)
class Front:
    """Stages 1-3 of one build."""

    policy: AggregatePolicy
    lowered: Lowered
    values: ValueSets  # of the lowered program (its rebuilt nodes keep their sets)
    base: Base  # what it started from, which another front for the same evidence shares


@dataclass(frozen=True)
class Base:
    """Stages 1-2 and the first rewrites (BOS-free widths, select-all widths), which no
    rebuild's options change: every front built for the same evidence starts from it."""

    policy: AggregatePolicy
    program: SOp  # the user's program, its widths rebuilt
    values: ValueSets
    origin: dict[int, Node]
    notes: tuple[str, ...]


# (the options a build asked for, its evidence) -> its front; ("base", evidence) -> Base
Fronts = dict[tuple, Front | Base]


def front_for(job: Job, evidence: list[list[Any]], fronts: Fronts | None) -> Front:
    """:func:`front_of`, kept in ``fronts`` (with its :class:`Base`) for another build of
    the same program: a rebuild asking for other options recomputes only what they change
    (at 1,024 positions each value-set pass takes seconds)."""
    asked = (job.digits, job.far_counts, job.copies)
    seen = tuple(map(tuple, evidence))
    key = (*(a is not None for a in asked), *seen)
    found = fronts.get(key) if fronts is not None else None
    if isinstance(found, Front):
        return found
    base = fronts.get(("base", *seen)) if fronts is not None else None
    front = front_of(job, evidence, base if isinstance(base, Base) else None)
    if fronts is not None:
        fronts[key] = front
        fronts[("base", *seen)] = front.base
    return front


def base_of(job: Job, evidence: list[list[Any]]) -> Base:
    """Stages 1-2 for ``job``, then its BOS-free widths rebuilt as counts and (without a
    causal mask) the widths of select-all selectors as the length (:mod:`.widths`)."""
    program, vocab, n = job.program, job.vocab, job.max_seq_len
    # 2. the aggregate policy, asked by stage 1 as it meets each aggregate
    policy = AggregatePolicy(program, vocab, n, job.sample, seed=job.seed, evidence=evidence)
    # 1. value sets per position
    values = infer(program, vocab, n, policy)
    origin: dict[int, Node] = {}
    notes: tuple[str, ...] = ()
    # then widths of select-all selectors as the length (not under a causal mask)
    rewrites: list[Callable[[SOp], Rewritten | None]] = [partial(bos_free_widths, values=values)]
    rewrites += [] if job.causal else [select_all_widths]
    for rewrite in rewrites:
        found = rewrite(program)
        if found is None:
            continue
        origin = _composed(origin, found.origin)
        values = infer(found.program, vocab, n, policy.through(origin), values, found.origin)
        program, notes = found.program, (*notes, *found.notes)
    return Base(policy, program, values, origin, notes)


def front_of(job: Job, evidence: list[list[Any]], base: Base | None = None) -> Front:
    """Stages 1-3 for ``job``; ``evidence``: inputs on which an aggregate averaged;
    ``base``: :func:`base_of` for them, where already made."""
    vocab, n = job.vocab, job.max_seq_len
    base = base_of(job, evidence) if base is None else base
    policy, original = base.policy, base.values
    # 3. lower: rewrites that keep every value but that later stages can build; first
    # those that change what the program computes with (widths.py, digits.py)
    start, origin, notes = base.program, base.origin, list(base.notes)
    digits = partial(split_equalities, causal=job.causal, always=job.digits)
    for rewrite in (digits, partial(_copies, why=job.copies)):
        found = rewrite(start, original)
        if found is not None:
            ask = policy.through(_composed(origin, found.origin))
            original = infer(found.program, vocab, n, ask, original, found.origin)
            start, origin, notes = (
                found.program,
                _composed(origin, found.origin),
                [*notes, *found.notes],
            )
    lowered = lower(start, original, job.causal, job.far_counts)
    rebuilt = lowered.origin  # of start's nodes; the user's are below
    lowered = replace(
        lowered, origin=_composed(origin, lowered.origin), notes=(*notes, *lowered.notes)
    )
    values = original
    if lowered.program is not start:  # rebuilt nodes over unchanged inputs keep their sets
        ask = policy.through(lowered.origin)  # a rebuilt aggregate keeps its decision
        values = infer(lowered.program, vocab, n, ask, original, rebuilt)
    # what the sets alone cannot show: a rank that numbers the positions matches each one
    return Front(policy, lowered, rank_matches(values), base)


def _copies(program: SOp, values: ValueSets, why: str | None) -> Rewritten | None:
    """What a count compares read through an exact copy, where asked (:mod:`.copies`)."""
    return None if why is None else copied_counts(program, why)


def _composed(first: dict[int, Node], then: dict[int, Node]) -> dict[int, Node]:
    """Node id -> the user's node, after a rewrite ``then`` of a rewrite ``first``."""
    return {**first, **{nid: first.get(node.id, node) for nid, node in then.items()}}
