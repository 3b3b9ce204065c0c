"""The browser lab: write RASP, watch every head change as you type, compile, solve puzzles.

``rasplab lab`` serves one page (no build step, nothing loaded from the
network) and a small JSON API. Programs run in worker processes under time and
memory limits (``sandbox``), only in RASP's surface language, never Python,
and never with access to files (``source``). The server needs the ``lab``
extra (Starlette and uvicorn); everything else here works without it.

>>> from rasplab.lab import LabLimits, run_job
>>> run_job({"program": "y = tokens;", "input": "hi"}, LabLimits())["output"]
['h', 'i']
"""

from .jobs import compile_job, run_job
from .limits import LabLimits
from .puzzles import check_solution, puzzle_cards

__all__ = ["LabLimits", "run_job", "compile_job", "check_solution", "puzzle_cards"]
