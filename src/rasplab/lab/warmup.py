"""Warm a process for the lab's jobs: the parser's tables, the standard library, the pictures.

The worker pool's fork server imports this module once; every worker forked
from it then starts with these caches filled, so the first job a fresh
worker gets (after a runaway one was stopped, say) is as fast as any other
instead of paying a second or so of set-up inside its time limit.

>>> warm()
"""

from __future__ import annotations

from .jobs import compile_job, run_job
from .limits import LabLimits

__all__ = ["warm"]

_PROGRAM = "same = select(tokens, tokens, ==);\nhist = selector_width(same);"


def warm() -> None:
    """Run one tiny program and compile it (their answers are thrown away)."""
    limits = LabLimits()
    run_job({"program": _PROGRAM, "input": "ab"}, limits)
    compile_job({"program": _PROGRAM, "input": "ab", "vocab": "ab", "max_len": 2}, limits)


warm()
