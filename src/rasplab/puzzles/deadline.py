"""A time limit around one check, so a solution that loops forever fails instead of hanging.

A Python loop cannot be stopped from another thread, so the limit is a
``SIGALRM`` timer that raises inside the running code. That needs Unix and
the main thread; anywhere else the check runs without a limit and says so.

>>> with time_limit(5.0, "checking reverse"):
...     pass
>>> try:
...     with time_limit(0.05, "checking spin"):
...         while True:
...             pass
... except ResourceLimitError as err:
...     print(str(err).split(";")[0])
checking spin took longer than the time limit of 0.05 s
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from ..errors import ResourceLimitError

__all__ = ["time_limit", "can_limit_time", "DEFAULT_TIME_LIMIT"]

DEFAULT_TIME_LIMIT = 10.0  # seconds per puzzle: a correct solution takes well under one


class _Expired(BaseException):
    """Raised by the timer inside the check; a BaseException so user ``except`` clauses miss it."""


def can_limit_time() -> bool:
    """Whether a time limit can interrupt a check here (Unix, main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Run the body for at most ``seconds``, then raise ``ResourceLimitError`` naming ``what``.

    ``None`` (or where no timer is available) runs the body without a limit.
    A limit already running around this one is left alone.
    """
    if seconds is None or not can_limit_time() or signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield
        return

    def expire(signum, frame):
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise ResourceLimitError(
            f"{what} took longer than the time limit of {seconds:g} s; a map, a select "
            "or the solution's code may loop forever. Raise the limit with time_limit= "
            "(seconds per puzzle; --time-limit in `rasplab puzzles check`)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
