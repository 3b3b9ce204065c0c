"""Puzzles 1-8: one or two layers, one idea each.

>>> [p.name for p in EASY]
['index', 'shift', 'length', 'reverse', 'histogram', 'minimum', 'first', 'ralign']
"""

from __future__ import annotations

from . import specs
from .domains import Domain
from .puzzle import Puzzle
from .rules import Rules

__all__ = ["EASY"]

_LETTERS = tuple("abcd")

EASY: tuple[Puzzle, ...] = (
    Puzzle(
        1,
        "index",
        "read one position",
        """
        Every position holds the token at position i of the input.
        If the input has no position i, every position holds "_".
        """,
        specs.index,
        Domain(_LETTERS, max_len=6),
        1,
        1,
        params=({"i": 0}, {"i": 2}, {"i": 4}),
        examples=("abcd", "ab", "dcba"),
        hints=(
            "One head: every query should attend to exactly one key, the one at position i.",
            "select(indices, i, '==') selects key i for every query; aggregate copies its token.",
            "aggregate's default is what a query gets when it selects nothing.",
        ),
    ),
    Puzzle(
        2,
        "shift",
        "shift right by i",
        """
        Position j holds the token at position j - i, or `default` where
        j - i falls outside the input. A negative i shifts to the left.
        """,
        specs.shift,
        Domain(_LETTERS, max_len=6),
        1,
        1,
        params=({"i": 1, "default": "_"}, {"i": 2, "default": "."}, {"i": -1, "default": "_"}),
        examples=("abcd", "abc", "abcd"),
        hints=(
            "The key a query wants depends on the query's own position.",
            "Selector sides can be computed: select(indices, indices - i, '==').",
        ),
    ),
    Puzzle(
        3,
        "length",
        "length without `length`",
        """
        Every position holds the length of the input. The `length`
        primitive is forbidden here: compute it with attention.
        """,
        specs.length,
        Domain(_LETTERS, max_len=8),
        1,
        1,
        rules=Rules(forbidden=frozenset({"length"})),
        examples=("abcd", "a", "abcabc"),
        hints=(
            "A selector that selects every key: select(tokens, tokens, 'true').",
            "selector_width counts the keys a query selects.",
        ),
    ),
    Puzzle(
        4,
        "reverse",
        "reverse",
        """
        Position j holds the token at position n - 1 - j, where n is the
        input length.
        """,
        specs.reverse,
        Domain(_LETTERS, max_len=8),
        2,
        1,
        examples=("abc", "abcd", "a"),
        hints=(
            "`length` costs a head of its own in the first layer.",
            "Once n is known, each query knows which key it wants: n - 1 - j.",
        ),
    ),
    Puzzle(
        5,
        "histogram",
        "histogram",
        """
        Each position holds how many times its own token occurs in the
        whole input.
        """,
        specs.histogram,
        Domain(tuple("abc"), max_len=8),
        1,
        1,
        examples=("aabc", "abcabc", "c"),
        hints=(
            "Let every query select the keys holding the same token as itself.",
            "selector_width(select(tokens, tokens, '==')).",
        ),
    ),
    Puzzle(
        6,
        "minimum",
        "minimum with means only",
        """
        Every position holds the smallest token of the input (tokens are
        the numbers 0-9). Aggregation is by mean only: no mode="min".
        """,
        specs.minimum,
        Domain(tuple(range(10)), max_len=6),
        2,
        1,
        examples=([3, 1, 2], [5], [4, 4, 7, 4]),
        hints=(
            "A token is the minimum when no token is smaller than it: count the smaller ones.",
            "The mean of several copies of one value is that value.",
            "Layer 1: selector_width(select(tokens, tokens, '<')) == 0 flags the minima.",
        ),
    ),
    Puzzle(
        7,
        "first",
        "first occurrence",
        """
        Every position holds the index where `token` first occurs in the
        input, or -1 if it does not occur.
        """,
        specs.first,
        Domain(_LETTERS, max_len=7),
        2,
        1,
        params=({"token": "a"}, {"token": "c"}),
        examples=("bcab", "aaa", "bdb"),
        hints=(
            "A mean of positions is not their minimum; flag the first occurrence instead.",
            "An occurrence is the first when no earlier position holds the token.",
            "Selectors combine with &: "
            "select(tokens, token, '==') & select(indices, indices, '<').",
        ),
    ),
    Puzzle(
        8,
        "ralign",
        "right-align",
        """
        Move every token that is not a blank "-" to the right end of the
        input, keeping their order; the left is filled with blanks.
        """,
        specs.ralign,
        Domain(("a", "b", "-"), max_len=8),
        2,
        1,
        examples=("ab--", "-a-b", "--"),
        hints=(
            "Work out, at each key, the position its token must move to; then gather.",
            "A non-blank token moves right by the number of blanks after it.",
            "No `length` needed, and a single head per layer is enough.",
        ),
    ),
)
