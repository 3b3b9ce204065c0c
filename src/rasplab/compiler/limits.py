"""The whole compile's time and memory, checked as it goes.

:mod:`.budget` refuses a compile whose largest arrays would not fit, before they
are allocated; it cannot see everything (Python objects, temporaries, a float32
retry's second model), and it says nothing of time. So the stages also call
:func:`checkpoint` between units of work (a node's value set, a layer's MLPs, a
chunk of the check): past the time limit, or past ``max_bytes`` of memory grown
since the compile started, the compile stops with a ResourceLimitError that
names the stage, the limit and the flag that raises it.

The limits are held for the running compile in a context variable, so a
compile in one thread leaves another's alone, and code outside a compile (a
test of one stage) runs unlimited.

>>> with compile_limits("reverse", 1024, seconds=None, max_bytes=None):
...     checkpoint("value sets")
>>> with compile_limits("dyck2", 1024, seconds=0.0, max_bytes=None):
...     checkpoint("value sets")
Traceback (most recent call last):
...
rasplab.errors.ResourceLimitError: compiling dyck2 at max_seq_len 1024 took longer than...
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import CompileError, ResourceLimitError

__all__ = [
    "DEFAULT_MAX_SECONDS",
    "compile_limits",
    "checkpoint",
    "seconds_left",
    "check_seconds",
    "MLP_STAGE",
]

DEFAULT_MAX_SECONDS = 600.0  # ten minutes: longer than any library compile takes at 1,024
MLP_STAGE = "building the MLPs (stage 4)"  # where a compile past its limits stops, there
MEMORY_EVERY = 0.05  # seconds between two reads of the process's memory (a file read each)


@dataclass
class _Limits:
    label: str
    max_seq_len: int
    seconds: float | None
    deadline: float | None  # time.monotonic() past which the compile stops
    max_bytes: int | None
    base_bytes: int  # resident memory when the compile started
    next_memory_check: float = 0.0  # the one mutable field: when to read the memory again


_CURRENT: contextvars.ContextVar[_Limits | None] = contextvars.ContextVar(
    "rasplab_compile_limits", default=None
)


def check_seconds(seconds: Any) -> float | None:
    """``seconds`` as given (None: no limit); CompileError naming it unless a number >= 0."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise CompileError(f"max_seconds must be a number >= 0 (or None), got {seconds!r}")
    return float(seconds)


@contextlib.contextmanager
def compile_limits(
    label: str, max_seq_len: int, seconds: float | None, max_bytes: int | None
) -> Iterator[None]:
    """Hold these limits for the compile run in the body (an enclosing compile's stand)."""
    if _CURRENT.get() is not None:  # a compile inside a compile keeps the outer limits
        yield
        return
    now = time.monotonic()
    deadline = None if seconds is None else now + seconds
    limits = _Limits(label, max_seq_len, seconds, deadline, max_bytes, _resident_bytes())
    token = _CURRENT.set(limits)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def checkpoint(stage: str, node: Any = None) -> None:
    """Raise ResourceLimitError if the running compile is past its time or memory;
    ``stage`` (and the ``node`` being worked on, if any) say where it stopped."""
    limits = _CURRENT.get()
    if limits is None:
        return
    now = time.monotonic()
    if limits.deadline is not None and now > limits.deadline:
        raise ResourceLimitError(
            f"compiling {limits.label} at max_seq_len {limits.max_seq_len} took longer than "
            f"the time limit of {limits.seconds:g} s (stopped in {_where(stage, node)}); raise "
            "it with max_seconds= (command line: --time-limit), or compile for a smaller "
            "max_seq_len"
        )
    if limits.max_bytes is None or now < limits.next_memory_check:
        return
    limits.next_memory_check = now + MEMORY_EVERY
    grown = _resident_bytes() - limits.base_bytes
    if grown > limits.max_bytes:
        raise ResourceLimitError(
            f"compiling {limits.label} at max_seq_len {limits.max_seq_len} used "
            f"{grown / 2**30:.2f} GiB, over the memory limit of "
            f"{limits.max_bytes / 2**30:.3g} GiB (stopped in {_where(stage, node)}); raise it "
            "with max_bytes= (command line: --max-memory), or compile for a smaller max_seq_len"
        )


def _where(stage: str, node: Any) -> str:
    if node is None:
        return stage
    label = str(getattr(node, "label", node))
    return f"{stage}, at {label if len(label) <= 60 else label[:57] + '...'}"


def seconds_left(default: float) -> float:
    """What is left of the running compile's time (``default`` if it has no limit), so
    that work with its own allowance (the bounds) ends in time."""
    limits = _CURRENT.get()
    if limits is None or limits.deadline is None:
        return default
    return max(0.0, min(default, limits.deadline - time.monotonic()))


def _resident_bytes() -> int:
    """The process's resident memory now (Linux), else its peak so far (0 if unknown)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
    except ImportError:  # Windows: memory is bounded by the estimates alone
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
