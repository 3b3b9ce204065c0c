"""The errors the surface language adds to the ``RaspError`` family.

Each names what went wrong and, when raised while running a statement,
where (``file: line L, column C: ...``).

>>> from rasplab.syntax import parse
>>> try:
...     parse("x = y + 1;")
... except UndefinedNameError as err:
...     print(err)
line 1, column 5: unknown name 'y'
"""

from __future__ import annotations

from ..errors import DefinitionError, EvaluationError, RaspError, RaspSyntaxError

__all__ = [
    "UndefinedNameError",
    "ReservedNameError",
    "LimitError",
    "RecursionLimitError",
    "LoopLimitError",
    "RaspLoadError",
    "LookupFailedError",
    "located",
]


class UndefinedNameError(RaspError, NameError):
    """A name that no scope defines."""


class ReservedNameError(DefinitionError):
    """An assignment to a name the language keeps for itself."""


class LimitError(EvaluationError):
    """A program ran past one of the interpreter's safety limits."""


class RecursionLimitError(LimitError, RecursionError):
    """Functions called each other too deeply (or an expression nests too deeply)."""


class LoopLimitError(LimitError):
    """Loops and comprehensions ran too many steps, or built too large a value."""


class RaspLoadError(RaspError, OSError):
    """``load "name";`` could not find or read its file (or loads form a cycle)."""


class LookupFailedError(EvaluationError, LookupError):
    """An index out of range, or a key missing from a dict."""


def located(err: RaspError, filename: str | None, line: int | None, column: int | None):
    """Prefix ``err``'s message with where it happened, once; returns ``err``.

    >>> print(located(RaspError("boom"), "a.rasp", 3, 7))
    a.rasp: line 3, column 7: boom
    """
    if isinstance(err, RaspSyntaxError) or line is None:
        return err
    if err.rasp_location is not None:
        return err
    where = f"line {line}, column {column}"
    if filename:
        where = f"{filename}: {where}"
    err.rasp_location = (filename, line, column)
    message = err.args[0] if err.args else ""
    err.args = (f"{where}: {message}", *err.args[1:])
    return err
