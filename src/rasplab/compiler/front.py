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
from .widths import Rewritten, bos_free_widths

__all__ = ["Front", "Fronts", "front_of"]


@dataclass(frozen=True)
class Front:
    """Stages 1-3 of one build."""

    policy: AggregatePolicy
    lowered: Lowered
    values: ValueSets  # of the lowered program (its rebuilt nodes keep their sets)


Fronts = dict[tuple, Front]  # (digits asked for, the evidence a build was given) -> front


def front_of(job: Job, evidence: list[list[Any]]) -> Front:
    """Stages 1-3 for ``job``; ``evidence``: inputs on which an aggregate averaged."""
    program, vocab, n = job.program, job.vocab, job.max_seq_len
    # 2. the aggregate policy, asked by stage 1 as it meets each aggregate
    policy = AggregatePolicy(program, vocab, n, job.sample, seed=job.seed, evidence=evidence)
    # 1. value sets per position
    original = infer(program, vocab, n, policy)
    # 3. lower: rewrites that keep every value but that later stages can build; first
    # those that change what the program computes with (widths.py, digits.py)
    start, origin, notes = program, dict[int, Node](), list[str]()
    digits = partial(split_equalities, causal=job.causal, always=job.all_digits)
    for rewrite in (bos_free_widths, digits, partial(_copies, why=job.copies)):
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
    return Front(policy, lowered, rank_matches(values))


def _copies(program: SOp, values: ValueSets, why: str | None) -> Rewritten | None:
    """What a count compares read through an exact copy, where asked (:mod:`.copies`)."""
    return None if why is None else copied_counts(program, why)


def _composed(first: dict[int, Node], then: dict[int, Node]) -> dict[int, Node]:
    """Node id -> the user's node, after a rewrite ``then`` of a rewrite ``first``."""
    return {**first, **{nid: first.get(node.id, node) for nid, node in then.items()}}
