"""Serving the lab with uvicorn: in the foreground for ``rasplab lab``, in a thread for tests.

The socket is bound here, before uvicorn starts, so a port in use is a clear
error at once and ``port=0`` picks a free port whose number is then known.

>>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
(True, True, False)
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any

from ..errors import InputError
from ..viz.png import MissingExtraError
from .limits import LabLimits

__all__ = ["require_lab_extra", "bind", "is_loopback", "LabServer"]

START_SECONDS = 30.0  # a server that is not listening by then is reported as failed
# Open connections uvicorn serves at once; past it new ones get 503, so a flood of
# idle connections cannot exhaust the server's file descriptors.
MAX_CONNECTIONS = 512


def require_lab_extra() -> None:
    """Import Starlette and uvicorn, or say which extra to install."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise MissingExtraError(
            f"rasplab lab needs Starlette and uvicorn ({err.name} is missing): "
            "pip install 'rasplab[lab]'"
        ) from None


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise InputError(f"cannot serve on host {host!r}: {err.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port}: {err.strerror} "
            "(another server on that port? pick one with --port, or --port 0 for any free one)"
        ) from None
    sock.setblocking(False)
    return sock


class LabServer:
    """The lab's app on one socket, served by uvicorn."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000, limits: LabLimits | None = None):
        require_lab_extra()
        import uvicorn

        from .app import create_app

        self.host = host
        self.limits = limits or LabLimits()
        self.socket = bind(host, port)
        self.port = self.socket.getsockname()[1]
        self.app = create_app(self.limits)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on",
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/"

    def serve(self) -> None:
        """Serve until Ctrl-C (uvicorn stops gracefully on SIGINT and SIGTERM)."""
        self.server.run(sockets=[self.socket])

    def start(self) -> str:
        """Serve from a background thread; returns the URL once it is listening."""
        self._thread = threading.Thread(target=self.serve, name="rasplab-lab", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise InputError(f"the lab's server did not start on {self.url}")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        """Stop a server started with ``start`` and wait for it (and its workers) to end."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.socket.close()

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
