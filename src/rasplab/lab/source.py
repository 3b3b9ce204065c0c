"""RASP source and inputs as the lab reads them: parsed with no access to files.

The surface language's ``load "file";`` reads a file beside the program; a
page served to a class must not, so a program that uses it is refused at the
statement, before anything runs.

>>> program = read_program("flip = select(indices, length - indices - 1, ==);\\n"
...                        "reverse = aggregate(flip, tokens);")
>>> program.evaluate("abc")
['c', 'b', 'a']
>>> try:
...     read_program('x = 1;\\nload "secrets";')
... except RaspSyntaxError as err:
...     print(err.line, err.column, err.message)
2 1 load is not available in the lab: a program cannot read files
>>> read_input("[1, 22, 3]"), read_input("abc")
([1, 22, 3], 'abc')
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from ..errors import InputError, RaspError, RaspSyntaxError
from ..syntax import Limits, RaspProgram, parse
from ..syntax.parser import parse_tree

__all__ = ["read_program", "read_input", "error_json", "locate_failure", "FILENAME"]

FILENAME = None  # errors name no file: the page shows the editor's line and column
_LIMITS = Limits(max_input_length=1_000)


def read_program(source: str) -> RaspProgram:
    """Run ``source`` in the surface language, refusing ``load`` statements first."""
    tree = parse_tree(source, filename=FILENAME, limits=_LIMITS)
    for statement in tree.iter_subtrees():
        if statement.data == "load":
            meta = statement.meta
            lines = source.splitlines()
            line = getattr(meta, "line", 1)
            raise RaspSyntaxError(
                "load is not available in the lab: a program cannot read files",
                line=line,
                column=getattr(meta, "column", 1),
                source_line=lines[line - 1] if 0 < line <= len(lines) else "",
            )
    return parse(source, filename=FILENAME, limits=_LIMITS)


# An evaluation error starts with what failed and its name: "map y (tokens + 1) failed ..."
_FAILED_NAME = re.compile(r"^\w+ ([A-Za-z_]\w*) ")


def locate_failure(err: RaspError, source: str, names: Iterable[str]) -> RaspError:
    """Point an evaluation error without a place at the line assigning the s-op that failed.

    >>> from rasplab.errors import EvaluationError
    >>> err = EvaluationError("map y (tokens + 1) failed on value 'a'")
    >>> locate_failure(err, "x = 1;\\n  y = tokens + 1;", ["x", "y"]).rasp_location
    (None, 2, 3)
    """
    found = _FAILED_NAME.match(str(err))
    if err.rasp_location is not None or found is None or found.group(1) not in set(names):
        return err
    name = re.escape(found.group(1))
    assigned = re.search(rf"^([ \t]*){name}\s*=(?!=)", source, re.M)
    if assigned is not None:
        line = source.count("\n", 0, assigned.start()) + 1
        err.rasp_location = (None, line, len(assigned.group(1)) + 1)
    return err


def read_input(text: str) -> str | list[Any]:
    """The input box's text: a JSON list (``[1, 22, 3]``) as it is, else one token a character."""
    stripped = text.strip()
    if not stripped.startswith("["):
        return text
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as err:
        raise InputError(
            f"the input {text!r} starts with '[' but is not a JSON list: {err.msg} "
            f"at character {err.pos}"
        ) from None
    if not isinstance(value, list):
        raise InputError(f"the input {text!r} is not a list of tokens")
    return value


def error_json(err: BaseException) -> dict[str, Any]:
    """An error for the page: its message and, when known, its line and column in the editor."""
    line: int | None = None
    column: int | None = None
    message = str(err)
    if isinstance(err, RaspSyntaxError):
        line, column, message = err.line, err.column, err.message
    elif isinstance(err, RaspError) and err.rasp_location is not None:
        _, line, column = err.rasp_location
    if _ran_out_of_memory(err):
        message = "the program ran out of memory: it asked for more than a worker may use"
    elif not isinstance(err, RaspError):
        message = f"{type(err).__name__}: {err}"
    return {"message": message, "line": line, "column": column, "kind": type(err).__name__}


def _ran_out_of_memory(err: BaseException | None) -> bool:
    """Whether ``err`` or an error it was raised from is a MemoryError."""
    seen = 0
    while err is not None and seen < 20:
        if isinstance(err, MemoryError):
            return True
        err, seen = err.__cause__ or err.__context__, seen + 1
    return False
