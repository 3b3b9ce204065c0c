"""Progress bars for long commands, drawn by ``tqdm.auto`` (a terminal or Jupyter).

One place decides whether a bar is shown, so every command behaves alike: a
bar appears only where someone watches it, that is when its stream (stderr)
is a terminal or the code runs in a Jupyter kernel, and never under
``quiet`` (the commands pass ``--quiet`` or ``--json`` here). Elsewhere (a
pipe, a log file, CI) the bar is disabled and writes nothing, so captured
output stays clean.

>>> import io
>>> with bar(range(3), desc="steps", stream=io.StringIO()) as steps:
...     total = sum(steps)
>>> total, steps.disable
(3, True)
>>> shows(quiet=False, stream=io.StringIO()), shows(quiet=True)
(False, False)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from tqdm.auto import tqdm

__all__ = ["bar", "shows", "note", "waiting"]


def _in_notebook() -> bool:
    """Running inside a Jupyter kernel, where tqdm.auto draws a widget, not text."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and getattr(get(), "kernel", None) is not None


def shows(quiet: bool = False, stream: IO[str] | None = None) -> bool:
    """Whether a bar on ``stream`` (stderr by default) would be drawn."""
    if quiet:
        return False
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or _in_notebook()


def bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    quiet: bool = False,
    unit: str = "it",
    stream: IO[str] | None = None,
) -> Any:
    """A ``tqdm`` bar over ``iterable`` (or updated by hand up to ``total``),
    disabled (silent, but still iterating) where :func:`shows` says no."""
    stream = sys.stderr if stream is None else stream
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=stream,
        disable=not shows(quiet, stream),
        leave=False,  # the command's own report follows; the bar is gone when done
        dynamic_ncols=True,
    )


def note(text: str, stream: IO[str] | None = None) -> None:
    """Print a line to ``stream`` (stderr by default) above any live bar, which tqdm
    clears and draws again below it."""
    tqdm.write(text, file=sys.stderr if stream is None else stream)


@contextmanager
def waiting(desc: str, *, quiet: bool = False, after: float = 1.0) -> Iterator[None]:
    """A ticking "desc: 0:05" line while one long call runs, for work that reports no
    steps (a compile); drawn only once it has taken ``after`` seconds, so quick calls
    print nothing, and only where :func:`shows` says a bar is seen."""
    if not shows(quiet):
        yield
        return
    done = threading.Event()

    def tick() -> None:
        if done.wait(after):
            return
        line = tqdm(desc=desc, file=sys.stderr, bar_format="{desc}: {elapsed}", leave=False)
        while not done.wait(0.5):
            line.refresh()
        line.close()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
