"""Refusals for size, explained: why the program is large there, and what would help.

A compile refused for its parameters, its one-hot widths or too many values
says where a head compares positions by order (:mod:`.triangles`), whether a
decoder would need no position for it (:func:`.causal.causal_hint`), and the
longest length at which its values can be listed (:mod:`.listable`).
"""

from __future__ import annotations

from ..errors import CompileError, ResourceLimitError
from .causal import causal_hint
from .job import Job
from .listable import listable_hint
from .triangles import triangle_note

__all__ = ["explained"]


def explained(err: CompileError | ResourceLimitError, job: Job) -> Exception:
    """A refusal for size (parameters, one-hot directions, too many values) with why:
    where a head compares positions by order (:mod:`.triangles`); for a program that reads
    its prefix and was refused for parameters or one-hot width, that a decoder needs no
    position for it (a refusal for too many values stands either way, as a decoder has
    the same value sets: causal_hint says nothing new there); for too many values, the
    longest max_seq_len found at which they can be listed (:mod:`.listable`)."""
    blockers = err.blockers if isinstance(err, CompileError) else ()
    sized = not isinstance(err, CompileError) or any("one-hot" in b for b in blockers)
    many = any("too many distinct values" in b for b in blockers)
    hint = causal_hint(job.program, job.max_seq_len) if sized and not job.causal else None
    why = triangle_note(job.program, job.max_seq_len, job.causal) if sized or many else None
    length = listable_hint(job) if many else None
    notes = (("why", why), ("hint", hint), ("length", length))
    if all(v is None for _, v in notes):
        return err
    text = str(err) + "".join(f"\n  {k}: {v}" for k, v in notes if v)
    if isinstance(err, CompileError):
        return CompileError(text, blockers=err.blockers)
    return ResourceLimitError(text)
