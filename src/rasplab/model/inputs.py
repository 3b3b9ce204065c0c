"""What the model API accepts as one input and as a batch.

One input is a string (one token per character) or a list of tokens; a
batch is a list of inputs. Batch methods refuse a bare string rather than
read it as a batch of one-character inputs.

>>> one_input("cab"), one_input(["c", "a", "b"])
(['c', 'a', 'b'], ['c', 'a', 'b'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["as_batch", "one_input", "show"]


def one_input(xs: Any) -> list[Any]:
    """One input's tokens: a string (one token per character) or a sequence of tokens.
    numpy scalars become the Python values they hold, as a numpy array's do: a list
    drawn with ``np.random.choice`` holds ``np.str_('a')``, which is the token ``'a'``.

    >>> one_input([np.str_("a"), np.int64(2)])
    ['a', 2]
    """
    if isinstance(xs, str):
        return list(xs)
    if isinstance(xs, np.ndarray) and xs.ndim == 1:
        return xs.tolist()
    if isinstance(xs, Sequence) and not isinstance(xs, bytes):
        return [t.item() if isinstance(t, np.generic) else t for t in xs]
    raise InputError(
        f"an input is a string or a list of tokens, got {show(xs)} ({type(xs).__name__})"
    )


def as_batch(inputs: Any, method: str = "run") -> list[Any]:
    """A batch as a list of inputs; InputError for a bare string, which is one input.

    >>> as_batch(["ab", ["a", "b"]])
    ['ab', ['a', 'b']]
    >>> as_batch("ab")
    Traceback (most recent call last):
    ...
    rasplab.errors.InputError: run() takes a batch (a list of inputs), got the string 'ab'; \
for one input write model('ab') or run(['ab'])
    """
    if isinstance(inputs, str):
        raise InputError(
            f"{method}() takes a batch (a list of inputs), got the string {inputs!r}; "
            f"for one input write model({inputs!r}) or {method}([{inputs!r}])"
        )
    if isinstance(inputs, (bytes, Mapping, Set)) or not isinstance(inputs, Iterable):
        raise InputError(
            f"{method}() takes a batch (a list of inputs), got {show(inputs)} "
            f"({type(inputs).__name__})"
        )
    return list(inputs)


def show(value: Any) -> str:
    """``repr`` cut short for messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
