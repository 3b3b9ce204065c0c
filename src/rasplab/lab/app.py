"""The lab's web application (Starlette): the page, its files and four JSON routes.

* ``GET /`` the page; ``GET /static/...`` its script, style and nothing else;
* ``GET /api/catalog`` the examples, the library programs, the puzzles, the limits;
* ``POST /api/run`` ``{program, input, name?}``: output, analysis, execution view, graph;
* ``POST /api/compile`` ``{program, input, vocab, max_len}``: size, report, residual view, file;
* ``POST /api/puzzle`` ``{puzzle, program}``: the checker's verdict and counterexample.

Every job runs in the worker pool (``sandbox``); the server itself only reads
requests and passes answers on. Errors are JSON ``{"error": message}`` with a
4xx status: 400 malformed, 404 unknown route, 405 wrong method, 413 too large,
503 every worker busy.

This module imports Starlette: import it only after ``require_lab_extra()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .limits import LabLimits
from .programs import catalog
from .requests import (
    RequestError,
    compile_request,
    puzzle_request,
    read_json,
    run_request,
    too_large,
)
from .sandbox import BusyError, WorkerPool

__all__ = ["create_app", "STATIC"]

STATIC = Path(__file__).resolve().parent / "static"
# Pages may load only what this server sends: no CDN, no inline script, nothing from elsewhere.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """ASGI middleware: the headers above on every response (the page and the API alike)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lab: Lab | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _body(request: Request, limits: LabLimits) -> bytes:
    """The body, read no further than one chunk past the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large(int(declared), limits)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise too_large(size, limits)
        chunks.append(chunk)
    return b"".join(chunks)


def _error(message: str, status: int) -> JSONResponse:
    headers = {"retry-after": "5"} if status == 503 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Lab:
    """The routes' shared state: the limits, the worker pool, a cap on waiting threads."""

    def __init__(self, limits: LabLimits, pool: WorkerPool | None) -> None:
        self.limits = limits
        self.pool = pool
        self.catalog = catalog(limits)
        # threads that wait on workers; beyond this, requests queue inside the server
        self.waiting = anyio.CapacityLimiter(max(64, 8 * limits.workers))

    def job(self, kind: str, reader: Callable[..., dict[str, Any]], seconds: float):
        async def endpoint(request: Request) -> Response:
            try:
                body = read_json(await _body(request, self.limits), self.limits)
                job = reader(body, self.limits)
                answer = await anyio.to_thread.run_sync(
                    self._run, kind, job, seconds, limiter=self.waiting
                )
            except RequestError as err:
                return _error(str(err), err.status)
            except BusyError as err:
                return _error(str(err), 503)
            return JSONResponse(answer)

        return endpoint

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        self.pool = WorkerPool(self.limits)
        try:
            yield
        finally:
            self.pool.close()
            self.pool = None

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    async def catalog_route(self, request: Request) -> Response:
        return JSONResponse(self.catalog)

    def _run(self, kind: str, job: dict[str, Any], seconds: float) -> dict[str, Any]:
        if self.pool is None:
            raise BusyError(
                "the lab's workers are not running (the server is starting or stopping)"
            )
        return self.pool.run(kind, job, seconds)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return _error(f"no such page or route: {request.url.path}", 404)
    if status == 405:
        return _error(f"{request.method} is not allowed on {request.url.path}", 405)
    return _error(str(getattr(exc, "detail", exc)), status)


def _routes(lab: Lab) -> list[Any]:
    limits = lab.limits

    def post(kind: str, reader: Callable[..., dict[str, Any]], seconds: float) -> Route:
        return Route(f"/api/{kind}", lab.job(kind, reader, seconds), methods=["POST"])

    return [
        Route("/", lab.index),
        Route("/api/catalog", lab.catalog_route),
        post("run", run_request, limits.run_seconds),
        post("compile", compile_request, limits.check_seconds),
        post("puzzle", puzzle_request, limits.check_seconds),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(limits: LabLimits | None = None) -> Any:
    """The ASGI app; its lifespan starts the worker pool and stops it."""
    lab = Lab(limits or LabLimits(), None)
    app = Starlette(
        routes=_routes(lab), lifespan=lab.lifespan, exception_handlers={HTTPException: _not_found}
    )
    secured = SecurityHeaders(app)
    secured.lab = lab  # the tests and the benchmark look at the pool through this
    return secured
