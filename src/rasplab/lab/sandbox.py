"""A pool of worker processes that runs the learners' programs, each under a clock.

Every job (run, compile, check) runs in a worker process of its own, never in
the server: a job past its time limit has its worker killed and replaced, so
one runaway program costs its sender a clear message and nobody else
anything. Each worker caps its own address space (``RLIMIT_AS``), so a program
that asks for too much memory fails in its worker with ``MemoryError``.

A job still running after a quarter of a second drops to a lower CPU
priority, so short jobs (a keystroke's run) overtake compiles, puzzle checks
and runaway programs; its worker is swapped for a fresh one afterwards.

Workers are forked from a server process that has already imported the
evaluator, the compiler and the pictures (``forkserver``), so a replacement
is ready in a fraction of a second.

>>> with WorkerPool(LabLimits(workers=1)) as pool:
...     answer = pool.run("run", {"program": "y = tokens;", "input": "ab"}, seconds=30)
>>> answer["ok"], answer["output"]
(True, ['a', 'b'])
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from ..errors import RaspError
from .limits import LabLimits

__all__ = ["WorkerPool", "BusyError", "stopped_answer"]

READY = "ready"
START_SECONDS = 60.0  # a fresh worker must be ready within this (imports, fork)
# A job still running after this long (a compile, a puzzle check, a runaway program) drops
# to this niceness: on a full machine, typing in the editor stays quick for everyone.
LONG_JOB_SECONDS = 0.25
LONG_JOB_NICENESS = 10


class BusyError(RaspError):
    """Every worker stayed busy for the whole queue time: the server answers 503."""


def stopped_answer(seconds: float) -> dict[str, Any]:
    """What a request whose job ran out of time gets back."""
    message = (
        f"the program was stopped after {seconds:g} s, the lab's time limit per request "
        "(a loop or a map that does too much work?)"
    )
    return {"ok": False, "stopped": True, "error": {"message": message, "kind": "TimeLimit"}}


def _serve(conn: Connection, limits: LabLimits) -> None:
    """A worker's life: cap memory, say ready, then answer jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    _cap_memory(limits.worker_memory_bytes)
    from .jobs import JOBS
    from .warmup import warm

    warm()  # at once where the fork server did it already (its caches came with the fork)
    conn.send(READY)
    while True:
        try:
            kind, request = conn.recv()
        except EOFError:
            return
        try:
            answer = JOBS[kind](request, limits)
        except Exception as err:  # a bug of the lab, not of the program: say so, carry on
            message = f"internal error of the lab: {type(err).__name__}: {err}"
            answer = {"ok": False, "error": {"message": message, "kind": "InternalError"}}
        conn.send(answer)


def _cap_memory(max_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not Unix: the evaluator's own max_bytes still applies
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: Any, limits: LabLimits) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, limits), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.lowered = False  # runs at a lower priority since a long job

    def call(self, kind: str, request: dict[str, Any], seconds: float) -> dict[str, Any] | None:
        """The job's answer; None if it ran out of time or the worker died."""
        if not self.ready:
            if not self.conn.poll(START_SECONDS) or self.conn.recv() != READY:
                return None
            self.ready = True
        self.conn.send((kind, request))
        if not self.conn.poll(min(seconds, LONG_JOB_SECONDS)):
            self._yield_cpu()
            if not self.conn.poll(max(seconds - LONG_JOB_SECONDS, 0)):
                return None
        try:
            answer: dict[str, Any] = self.conn.recv()
        except (EOFError, OSError):
            return None
        return answer

    def _yield_cpu(self) -> None:
        """Run this long job at a lower priority, so short jobs in other workers go first.

        A process cannot take its priority back, so the worker retires after this job.
        """
        self.lowered = True
        # where there are no priorities (or no permission), the job keeps its own
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, self.process.pid or 0, LONG_JOB_NICENESS)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def _context() -> Any:
    """forkserver where there is one (workers start from a clean, warmed-up process)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["rasplab.lab.puzzles", "rasplab.lab.warmup"])
        return context
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _one_thread_each() -> Iterator[None]:
    """One thread per worker for numpy's linear algebra, for processes started inside.

    The pool already runs jobs side by side, and a thread pool per worker would reserve
    address space under the memory cap. The server's own environment is given back after.
    """
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.setdefault(name, "1")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class WorkerPool:
    """``limits.workers`` processes; ``run`` blocks the calling thread until its answer."""

    def __init__(self, limits: LabLimits) -> None:
        self.limits = limits
        self._context = _context()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.stopped_jobs = 0  # how many jobs ran out of time (their workers were replaced)
        with _one_thread_each():  # the fork server, started by the first worker, keeps it
            for _ in range(limits.workers):
                self._idle.put(_Worker(self._context, limits))

    def run(self, kind: str, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        """Run one job in a free worker; a job past ``seconds`` is stopped and answered so."""
        try:
            worker = self._idle.get(timeout=self.limits.queue_seconds)
        except queue.Empty:
            raise BusyError(
                f"the lab is busy: every worker stayed busy for {self.limits.queue_seconds:g} s; "
                "try again in a moment"
            ) from None
        answer = worker.call(kind, request, seconds)
        if answer is None:
            answer = self._replace(worker, seconds)
        elif worker.lowered or self._closed:
            self._retire(worker)
        else:
            self._idle.put(worker)
        return answer

    def _retire(self, worker: _Worker) -> None:
        """Stop a worker (lowered, stopped or the pool closing) and, while open, start another."""
        worker.kill()
        with self._lock:
            if not self._closed:
                self._idle.put(_Worker(self._context, self.limits))

    def _replace(self, worker: _Worker, seconds: float) -> dict[str, Any]:
        died = not worker.process.is_alive()
        with self._lock:
            self.stopped_jobs += 1
        self._retire(worker)
        if died:
            message = "the program's worker stopped (out of memory?); it has been restarted"
            return {"ok": False, "stopped": True, "error": {"message": message, "kind": "Died"}}
        return stopped_answer(seconds)

    def close(self) -> None:
        """Stop every idle worker (a busy one is stopped when its job comes back)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
