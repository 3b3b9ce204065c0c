"""The one exception family of rasplab.

Every error a user can cause is a ``RaspError``. The subclasses say what kind
of mistake it was, so callers can catch precisely what they expect:

>>> from rasplab import evaluate, tokens
>>> try:
...     evaluate(tokens, "")
... except RaspError as err:
...     print(type(err).__name__)
EmptyInputError
"""

from __future__ import annotations

__all__ = [
    "RaspError",
    "DefinitionError",
    "RaspTypeError",
    "InputError",
    "EmptyInputError",
    "EvaluationError",
    "AggregateError",
    "ProgramNotFoundError",
    "TrainingError",
    "CompileError",
    "RaspSyntaxError",
    "ResourceLimitError",
]


class RaspError(Exception):
    """Base class of every error rasplab raises on bad input."""

    # Set by the surface language as an error travels out of a .rasp program: where it
    # happened (file, line, column) and how many call sites its message already names.
    rasp_location: tuple[str | None, int, int | None] | None = None
    rasp_calls: int = 0


class DefinitionError(RaspError, ValueError):
    """A program was built wrongly (bad argument to select, aggregate, map...)."""


class RaspTypeError(RaspError, TypeError):
    """An operation received a value of a type it cannot handle."""


class InputError(RaspError, ValueError):
    """An input sequence cannot be fed to a program."""


class EmptyInputError(InputError):
    """RASP programs need at least one token."""


class EvaluationError(RaspError):
    """An operation failed while a program ran on an input."""


class AggregateError(EvaluationError):
    """An aggregate could not combine the values its selector picked."""


class ProgramNotFoundError(RaspError, LookupError):
    """A program name (``lib:NAME`` or ``file.py:ATTR``) does not resolve."""


class TrainingError(RaspError):
    """A training run cannot be set up (vocabulary, size, supervision, output directory)."""


class RaspSyntaxError(RaspError):
    """RASP source text that does not parse, with where it went wrong.

    ``line`` and ``column`` are 1-based; ``source_line`` is the offending
    line and ``caret`` a line with ``^`` under the column.

    >>> err = RaspSyntaxError("missing ';'", line=1, column=6, source_line="x = 1")
    >>> print(err)
    line 1, column 6: missing ';'
        x = 1
             ^
    """

    def __init__(
        self,
        message: str,
        *,
        line: int = 0,
        column: int = 0,
        source_line: str = "",
        filename: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.filename = filename
        self.caret = " " * max(column - 1, 0) + "^"
        where = f"line {line}, column {column}"
        if filename:
            where = f"{filename}: {where}"
        text = f"{where}: {message}"
        if source_line:
            text += f"\n    {source_line}\n    {self.caret}"
        Exception.__init__(self, text)

    def __str__(self) -> str:
        return str(self.args[0])


class CompileError(RaspError):
    """A program cannot be compiled exactly; the message lists every blocker and its fix.

    ``blockers`` holds one line per blocker (empty when the error is not a
    list of blockers, e.g. a bad argument), so callers never parse the text.

    >>> err = CompileError.from_blockers(["a map has 5000 values", "x is unused"])
    >>> print(err)
    cannot compile exactly (2 blockers):
      - a map has 5000 values
      - x is unused
    >>> err.blockers
    ('a map has 5000 values', 'x is unused')
    """

    def __init__(self, message: str, *, blockers: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(message)
        self.blockers = tuple(blockers)

    @classmethod
    def from_blockers(cls, blockers: list[str] | tuple[str, ...]) -> CompileError:
        """One error listing every blocker, one per line."""
        noun = "blocker" if len(blockers) == 1 else "blockers"
        lines = [f"cannot compile exactly ({len(blockers)} {noun}):"]
        lines += [f"  - {b}" for b in blockers]
        return cls("\n".join(lines), blockers=blockers)


class ResourceLimitError(RaspError):
    """A job would go past a limit (memory, time, size); the message names the limit
    and the flag or argument that raises it."""
