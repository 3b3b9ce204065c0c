"""Puzzles 9-16: from splitting and sorting to balanced brackets and addition.

>>> [p.name for p in HARD][-3:]
['dyck1', 'dyck2', 'add']
"""

from __future__ import annotations

from . import specs
from .domains import Domain, addition, brackets, one_separator
from .puzzle import Puzzle

__all__ = ["HARD"]

_LETTERS = tuple("abcd")


def _one_plus(xs: list) -> bool:
    return xs.count("+") <= 1


def _sum_of_two(xs: list) -> bool:
    text = "".join(xs)
    return text.count("+") == 1 and not text.startswith("+") and not text.endswith("+")


HARD: tuple[Puzzle, ...] = (
    Puzzle(
        9,
        "split",
        "split at the +",
        """
        The input is letters with at most one "+". Part 0 is what comes
        before the "+" (the whole input if there is none), part 1 what
        comes after it. Output the requested part right-aligned, with
        blanks "-" on the left.
        """,
        specs.split,
        Domain(tuple("abc+"), max_len=8, drawer=one_separator, valid=_one_plus),
        2,
        2,
        params=({"part": 0}, {"part": 1}),
        examples=("ab+c", "abc+", "+ab", "abc"),
        hints=(
            "Find where the + is first: aggregate(select(tokens, '+', '=='), indices, ...).",
            "Part 1 already sits at the right end; part 0 moves right by n minus the + position.",
        ),
    ),
    Puzzle(
        10,
        "slide",
        "slide tokens into the gaps",
        """
        Every "<" takes the first token after it that is not a "<"; if
        there is none it stays "<". Other tokens stay where they are.
        """,
        specs.slide,
        Domain(("a", "b", "<"), max_len=8),
        2,
        1,
        examples=("a<<b", "<a<", "b<<"),
        hints=(
            "Number the non-< tokens: how many are at or before each position?",
            "A < wants the non-< token whose number is one more than its own count.",
        ),
    ),
    Puzzle(
        11,
        "sort",
        "sort",
        """
        The tokens in increasing order, repeats kept.
        """,
        specs.sort,
        Domain(_LETTERS, max_len=8),
        2,
        1,
        examples=("dcba", "baba", "c"),
        hints=(
            "Each token's place in the output is the number of tokens that must come before it.",
            "Equal tokens need a tie-break, e.g. their positions: combine selectors with & and |.",
        ),
    ),
    Puzzle(
        12,
        "double_histogram",
        "double histogram",
        """
        Each position holds the number of distinct tokens that occur
        exactly as often as its own token.
        """,
        specs.double_histogram,
        Domain(_LETTERS, max_len=8),
        2,
        1,
        examples=("aabcd", "abab", "aaab"),
        hints=(
            "Start from the histogram.",
            "Count the keys whose count equals yours; how often is each distinct token counted?",
        ),
    ),
    Puzzle(
        13,
        "most_frequent",
        "most frequent first",
        """
        The distinct tokens of the input, most frequent first (equally
        frequent ones in the order they first appear), then blanks "-".
        """,
        specs.most_frequent,
        Domain(_LETTERS, max_len=8),
        3,
        2,
        examples=("abbccc", "abab", "dcd"),
        hints=(
            "Only the first occurrence of each token should appear in the output.",
            "Then it is a sort, with the count as key (larger first).",
        ),
    ),
    Puzzle(
        14,
        "dyck1",
        "balanced parentheses",
        """
        Position j says whether the prefix up to j is balanced: "T" if
        it is, "P" if it is not but could still be completed, "F" if it
        never can be (some prefix closed more than it opened).
        """,
        specs.dyck1,
        Domain(tuple("()"), max_len=10, drawer=brackets),
        2,
        1,
        examples=("(())", "())(", "(()"),
        hints=(
            "The mean of a 0/1 flag over positions 0..j, times j + 1, counts the flags.",
            "A prefix is hopeless once the depth has been negative anywhere before.",
        ),
    ),
    Puzzle(
        15,
        "dyck2",
        "two kinds of brackets",
        """
        As dyck1, with "()" and "{}", which must nest properly: "({)}" is
        hopeless from the ")" on.
        """,
        specs.dyck2,
        Domain(tuple("(){}"), max_len=10, drawer=brackets),
        3,
        1,
        examples=("({})", "({)}", "{}("),
        hints=(
            "Give every bracket a level: the depth after an opener, before a closer.",
            "Earlier brackets on a closer's level alternate opener, closer, ..., opener.",
            "One head can give both the width and a mean over the same selector: "
            "their product is a sum.",
        ),
    ),
    Puzzle(
        16,
        "add",
        "multi-digit addition",
        """
        The input is "A+B" with A and B non-empty strings of digits.
        Output the digits of A + B (one-character strings), padded with
        "0" on the left to the input's length.
        """,
        specs.add,
        Domain(tuple("0123456789+"), min_len=3, max_len=9, drawer=addition, valid=_sum_of_two),
        4,
        1,
        examples=("683+345", "99+1", "5+5"),
        hints=(
            "Align A under B, add digitwise (sums 0..18), then bring in the carries.",
            "`length` is a select-everything head; an aggregate over select(tokens, tokens, "
            "'true') shares it, and the mean of (token == '+') * index gives the + position.",
            "The carry into a column comes from the nearest column to its right whose sum "
            "is not 9: number such columns, as in slide.",
        ),
    ),
)
