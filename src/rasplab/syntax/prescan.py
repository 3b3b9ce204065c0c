"""A cheap look at the source before it is parsed: is it too long, does it nest too deep?

Parsing builds a tree as deep as the expressions nest (``1 + 1 + ... + 1``
is a chain of one operator per term), and running it recurses that deep. A
source that would only fail deep inside the parser or the interpreter is
refused here, in one pass over its tokens that stops at the first problem.

The depth counted is an upper bound on the parse tree's: every operator
adds one level until the end of its list item, argument or statement, and
every bracket adds one.

>>> nesting_depth("x = 1 + 2 * 3;")
2
>>> nesting_depth("y = [1 + 1, 2 + 2, f(a + b + c)];")  # a list item, then call arguments
4
>>> try:
...     check_source("x = " + " + ".join(["1"] * 50) + ";", Limits(max_nesting=20))
... except RecursionLimitError as err:
...     print(str(err).split("; ")[0])
line 1, column 87: the expression nests too deeply: more than 20 levels (max_nesting=20)
"""

from __future__ import annotations

import re

from .errors import LoopLimitError, RecursionLimitError, located
from .values import Limits

__all__ = ["check_source", "nesting_depth"]

_TOKEN = re.compile(
    r"""
    (?P<skip>"[^"\n]*"|\#[^\n]*)           # strings and comments nest nothing
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<sep>[,;:])
    | (?P<op>==|<=|>=|!=|[-+*/%^<>]|\b(?:and|or|not|if|else|in)\b)
    """,
    re.VERBOSE,
)


def check_source(source: str, limits: Limits, filename: str | None = None) -> None:
    """Raise a ``LimitError`` if ``source`` is longer or nests deeper than ``limits`` allow."""
    if len(source) > limits.max_source_chars:
        raise LoopLimitError(
            f"the source has {len(source)} characters, over the limit of "
            f"{limits.max_source_chars} (max_source_chars); raise it with "
            "Limits(max_source_chars=...)"
        )
    where = _too_deep(source, limits.max_nesting)
    if where is not None:
        line = source.count("\n", 0, where) + 1
        column = where - (source.rfind("\n", 0, where) + 1) + 1
        err = RecursionLimitError(
            f"the expression nests too deeply: more than {limits.max_nesting} levels "
            f"(max_nesting={limits.max_nesting}); simplify it, or raise the limit with "
            "Limits(max_nesting=...)"
        )
        raise located(err, filename, line, column)


def nesting_depth(source: str) -> int:
    """The deepest nesting found in ``source`` (an upper bound on the parse tree's depth)."""
    deepest = 0
    for depth, _ in _depths(source):
        deepest = max(deepest, depth)
    return deepest


def _too_deep(source: str, limit: int) -> int | None:
    """Where the nesting first passes ``limit`` (an offset into ``source``), or None."""
    for depth, offset in _depths(source):
        if depth > limit:
            return offset
    return None


def _depths(source: str):
    """``(depth, offset)`` after each operator or opening bracket."""
    counts = [0]  # operators so far in the open item of each bracket level
    total = 0  # operators over all open levels
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        if kind == "op":
            counts[-1] += 1
            total += 1
        elif kind == "open":
            counts.append(0)
        elif kind == "close" and len(counts) > 1:
            total -= counts.pop()
        elif kind == "sep":
            total -= counts[-1]
            counts[-1] = 0
        else:
            continue
        yield total + len(counts) - 1, match.start()
