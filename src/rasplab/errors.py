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
]


class RaspError(Exception):
    """Base class of every error rasplab raises on bad input."""


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
