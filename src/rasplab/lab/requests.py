"""Reading a request to the lab: its size, its JSON and its fields, before any work starts.

Whatever is wrong comes back as a ``RequestError`` carrying the HTTP status
the server answers with (400 for a malformed request, 413 for one too large).

>>> limits = LabLimits()
>>> read_json(b'{"program": "y = tokens;", "input": "ab"}', limits)["input"]
'ab'
>>> try:
...     read_json(b'{"program": ', limits)
... except RequestError as err:
...     print(err.status, err)
400 the request body is not valid JSON: Expecting value at line 1, column 13
>>> try:
...     run_request({"program": "x" * 30_000}, limits)
... except RequestError as err:
...     print(err.status, err)
413 the program has 30,000 characters; the lab takes at most 20,000
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import InputError
from .limits import LabLimits

__all__ = ["RequestError", "read_json", "run_request", "compile_request", "puzzle_request"]

# An input is at most this many characters per token allowed (room for JSON lists of numbers).
CHARS_PER_TOKEN = 12


class RequestError(InputError):
    """A request the lab refuses before running anything; ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def too_large(size: int, limits: LabLimits) -> RequestError:
    return RequestError(
        f"the request body has {size:,} bytes or more; the lab takes at most "
        f"{limits.max_body_bytes:,}",
        413,
    )


def read_json(body: bytes, limits: LabLimits) -> dict[str, Any]:
    """The body as a JSON object, checked for size first."""
    if len(body) > limits.max_body_bytes:
        raise too_large(len(body), limits)
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestError("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise RequestError(
            f"the request body is not valid JSON: {err.msg} "
            f"at line {err.lineno}, column {err.colno}"
        ) from None
    if not isinstance(value, dict):
        raise RequestError(f"the request body must be a JSON object, not {type(value).__name__}")
    return value


def _text(body: dict[str, Any], key: str, *, default: str | None = None) -> str:
    value = body.get(key, default)
    if value is None:
        raise RequestError(f"the request has no {key!r}")
    if not isinstance(value, str):
        raise RequestError(f"{key!r} must be a string, not {type(value).__name__}")
    return value


def _program(body: dict[str, Any], limits: LabLimits) -> str:
    program = _text(body, "program")
    if len(program) > limits.max_program_chars:
        raise RequestError(
            f"the program has {len(program):,} characters; the lab takes at most "
            f"{limits.max_program_chars:,}",
            413,
        )
    return program


def _input(body: dict[str, Any], key: str, limits: LabLimits) -> str:
    text = _text(body, key, default="")
    longest = limits.max_input_tokens * CHARS_PER_TOKEN
    if len(text) > longest:
        raise RequestError(
            f"{key!r} has {len(text):,} characters; the lab takes inputs of at most "
            f"{limits.max_input_tokens} tokens",
            413,
        )
    return text


def _name(body: dict[str, Any]) -> str | None:
    name = body.get("name")
    if name is None or name == "":
        return None
    if not isinstance(name, str) or not name.isidentifier():
        raise RequestError(f"'name' must be the name of an s-op, got {name!r}")
    return name


def run_request(body: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """``program``, ``input`` and the s-op to show (``name``, default the output)."""
    return {
        "program": _program(body, limits),
        "input": _input(body, "input", limits),
        "name": _name(body),
    }


def compile_request(body: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """A run request plus the model's ``vocab`` and ``max_len``."""
    request = run_request(body, limits)
    max_len = body.get("max_len")
    if not isinstance(max_len, int) or isinstance(max_len, bool):
        raise RequestError(f"'max_len' must be a whole number, got {max_len!r}")
    request.update(vocab=_input(body, "vocab", limits), max_len=max_len)
    return request


def puzzle_request(body: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """``puzzle`` (its name) and ``program`` (the solution)."""
    return {"puzzle": _text(body, "puzzle"), "program": _program(body, limits)}
