"""What one request to the lab may ask for: sizes, times and memory, in one place.

The defaults keep a class of learners on one small machine responsive: every
number below bounds either the work one request can cause or the size of the
answer it gets back. ``rasplab lab`` prints them on start.

>>> limits = LabLimits()
>>> limits.max_input_tokens, limits.max_compile_len
(64, 10)
>>> LabLimits(workers=0)
Traceback (most recent call last):
...
rasplab.errors.InputError: lab limit workers must be positive, got 0
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from ..errors import InputError

__all__ = ["LabLimits", "default_workers"]


def default_workers() -> int:
    """Two workers per core, 4 to 16.

    A runaway program holds its worker (and a core) until its time is up. With
    more workers than cores, requests that arrive meanwhile still find a free
    worker and share the CPU with it, instead of queueing behind it.
    """
    return max(4, min(16, 2 * (os.cpu_count() or 2)))


@dataclass(frozen=True)
class LabLimits:
    """Per-request limits of the lab's server (every one is checked before work starts)."""

    # A request body larger than this is refused unread (413); programs are small text.
    max_body_bytes: int = 256 * 1024
    # Characters of RASP source: the largest library program is under 3,000.
    max_program_chars: int = 20_000
    # Tokens of one input; execution views grow with the square of the length.
    max_input_tokens: int = 64
    # Wall-clock seconds for one run (parse, evaluate, draw); past it the worker is killed.
    run_seconds: float = 5.0
    # Wall-clock seconds for one compile or one puzzle check (both verify on many inputs).
    check_seconds: float = 30.0
    # Address space of one worker process, and the evaluator's and compiler's own budget.
    worker_memory_bytes: int = 2 * 2**30
    evaluator_bytes: int = 256 * 2**20
    # The longest input a compiled model takes, and the largest vocabulary it reads:
    # compile time and model size grow with both.
    max_compile_len: int = 10
    max_vocab: int = 16
    # A compiled model larger than this is reported but not offered for download.
    max_model_bytes: int = 16 * 2**20
    # Worker processes, so this many jobs run at once; a job waits at most queue_seconds
    # for a free worker before the server answers 503 (busy).
    workers: int = field(default_factory=default_workers)
    queue_seconds: float = 30.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value <= 0:
                raise InputError(f"lab limit {item.name} must be positive, got {value}")

    def describe(self) -> str:
        """One line per limit, for the start-up message."""
        return "\n".join(
            [
                f"  request body      {self.max_body_bytes:,} bytes",
                f"  program           {self.max_program_chars:,} characters",
                f"  input             {self.max_input_tokens} tokens",
                f"  run               {self.run_seconds:g} s per request",
                f"  compile / check   {self.check_seconds:g} s per request, max length "
                f"{self.max_compile_len}, vocabulary {self.max_vocab} tokens",
                f"  memory            {self.worker_memory_bytes / 2**30:g} GiB per worker, "
                f"{self.workers} workers",
            ]
        )
