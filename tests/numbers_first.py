"""Compiles whose first build compares computed numbers as numbers at any length.

From ``DIGITS_FROM`` positions on, a wide equality of computed numbers is tested
as digits in the first build (:mod:`rasplab.compiler.job`). Tests of what happens
to a first build that compares them as numbers at long lengths (its drift named,
its rebuild in digits, its squares planned a layer later) turn that off here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from rasplab.compiler import job


@contextmanager
def numbers_first() -> Iterator[None]:
    """Within it, no length tests computed equalities as digits before it is asked to."""
    with mock.patch.object(job, "DIGITS_FROM", 10**9):
        yield
