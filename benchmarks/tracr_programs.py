"""tracr's own programs, each buildable with tracr's ``rasp`` or with ``rasplab.compat.tracr``.

Every builder takes the ``rasp`` module to build with (and the maximum
length, which ``make_sort`` reads), so the same code makes tracr's program
for tracr's compiler and rasplab's for rasplab's. The programs come from
tracr's library (``tracr/compiler/lib.py``), its compiler tests
(``test_cases.py``, ``rasp_to_transformer_integration_test.py``) and its
example notebook, with each annotation (``numerical`` / ``categorical``) where
tracr puts one. Most builders are those of the fixture module
``tests/fixtures/tracr/tracr_style_programs.py`` (imported, not repeated);
``make_reverse`` is written again here because tracr's subtracts the indices
before the 1, and we compile the graph tracr compiles.

Each :class:`Case` gives the vocabulary and the maximum length tracr uses for
that program (its tests, or its notebook where the tests have none) and how
random inputs are drawn (``sample``: distinct tokens for ``sort_unique``,
whose keys must be unique).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tracr"))

import tracr_style_programs as fx  # noqa: E402

__all__ = ["Case", "CASES", "by_name", "make_reverse"]


def make_reverse(rasp: Any, sop: Any) -> Any:
    """tracr's ``make_reverse``: (length - indices) - 1, then a select on it."""
    back = (fx.make_length(rasp) - rasp.indices).named("opp_idx")
    back = (back - 1).named("opp_idx-1")
    flip = rasp.Select(rasp.indices, back, rasp.Comparison.EQ).named("reverse_selector")
    return rasp.Aggregate(flip, sop).named("reverse")


def _distinct(vocab: list) -> Callable[[random.Random, int], list]:
    """Inputs of distinct tokens (as many as the vocabulary allows)."""
    return lambda rng, n: rng.sample(vocab, min(n, len(vocab)))


@dataclass(frozen=True)
class Case:
    """One program of tracr's with the vocabulary and maximum length tracr gives it.

    ``build(rasp, max_seq_len)`` makes the program; ``vocab(max_seq_len)`` the
    vocabulary (fixed, except where a program needs it to grow); ``where``
    names the place in tracr the setting comes from.
    """

    name: str
    build: Callable[[Any, int], Any]
    vocab_at: Callable[[int], list]
    max_seq_len: int
    where: str
    causal: bool = False
    distinct: bool = False  # inputs of distinct tokens only

    def vocab(self, n: int) -> list:
        return list(self.vocab_at(n))

    def sample(self, n: int) -> Callable[[random.Random, int], list] | None:
        return _distinct(self.vocab(n)) if self.distinct else None


def _fixed(tokens: Any) -> Callable[[int], list]:
    return lambda n: list(tokens)


LETTERS = _fixed("abcd")
INTS = _fixed([1, 2, 3, 4])
SMALL = _fixed([0, 1, 2])  # the integration test's vocabulary


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(name, build, vocab, n, where, **kw) -> None:
        c.append(Case(name, build, vocab, n, where, **kw))

    # the library, at the settings of test_cases.py (the notebook's where it has none)
    add("length", lambda r, n: fx.make_length(r), LETTERS, 5, "notebook")
    add(
        "length_categorical",
        lambda r, n: r.categorical(fx.make_length(r)),
        LETTERS,
        3,
        "test_cases",
    )
    add("length_numerical", lambda r, n: r.numerical(fx.make_length(r)), LETTERS, 3, "test_cases")
    add("reverse", lambda r, n: make_reverse(r, r.tokens), LETTERS, 5, "test_cases")
    add("hist", lambda r, n: fx.make_hist(r), LETTERS, 5, "test_cases")
    add(
        "sort_unique",
        lambda r, n: fx.make_sort_unique(r, r.tokens, r.tokens),
        lambda n: list(range(1, n + 1)),  # distinct keys need n tokens
        5,
        "test_cases (vocabulary 1..max_len)",
        distinct=True,
    )
    add(
        "sort_unique_rev_idx",
        lambda r, n: fx.make_sort_unique(r, r.tokens, 1 - r.indices),
        LETTERS,
        5,
        "test_cases",
    )
    add("sort", lambda r, n: fx.make_sort(r, r.tokens, r.tokens, n, 1), INTS, 5, "test_cases")
    add(
        "sort_rev_idx",
        lambda r, n: fx.make_sort(r, r.tokens, 1 - r.indices, n, 1),
        LETTERS,
        5,
        "test_cases",
    )
    add("sort_freq", lambda r, n: fx.make_sort_freq(r, n), INTS, 5, "test_cases")
    add(
        "frac_prevs_l",
        lambda r, n: fx.make_frac_prevs(r, r.tokens == "l"),
        _fixed("helo"),
        5,
        "test_cases",
    )
    add(
        "frac_prevs_open",
        lambda r, n: fx.make_frac_prevs(r, r.tokens == "("),
        _fixed("abc()"),
        10,
        "test_cases",
    )
    add(
        "pair_balance",
        lambda r, n: fx.make_pair_balance(r, r.tokens, "(", ")"),
        _fixed("abc()"),
        10,
        "test_cases",
    )
    add(
        "shuffle_dyck2",
        lambda r, n: fx.make_shuffle_dyck(r, ["()", "{}"]),
        _fixed("(){}"),
        5,
        "test_cases",
    )
    add(
        "shuffle_dyck3",
        lambda r, n: fx.make_shuffle_dyck(r, ["()", "{}", "[]"]),
        _fixed("(){}[]"),
        6,
        "test_cases",
    )
    add("shift_by_1", lambda r, n: fx.shift_by(r, 1, r.tokens), LETTERS, 5, "test_cases")
    add("shift_by_2", lambda r, n: fx.shift_by(r, 2, r.tokens), LETTERS, 5, "test_cases")
    add(
        "detect_pattern_a",
        lambda r, n: fx.detect_pattern(r, r.tokens, "a"),
        LETTERS,
        5,
        "test_cases",
    )
    add(
        "detect_pattern_ab",
        lambda r, n: fx.detect_pattern(r, r.tokens, "ab"),
        _fixed("ab"),
        5,
        "test_cases",
    )
    add(
        "detect_pattern_abc",
        lambda r, n: fx.detect_pattern(r, r.tokens, "abc"),
        _fixed("abc"),
        6,
        "test_cases",
    )
    add(
        "count_less_freq",
        lambda r, n: fx.make_count_less_freq(r, 2),
        LETTERS,
        6,
        "test_cases",
    )
    add(
        "count_less_freq_num",
        lambda r, n: r.numerical(fx.make_count_less_freq(r, 2)),
        LETTERS,
        6,
        "test_cases",
    )
    add("count_a", lambda r, n: fx.make_count(r, r.tokens, "a"), _fixed("abc"), 8, "test_cases")
    add(
        "nary_add_sub",
        lambda r, n: fx.make_nary_sequencemap(
            r, lambda x, y, z: x + y - z, r.tokens, r.tokens, r.indices
        ),
        _fixed([1, 2, 3]),
        5,
        "test_cases",
    )
    add(
        "nary_mul_div",
        lambda r, n: fx.make_nary_sequencemap(
            r, lambda x, y, z: x * y / z, r.indices, r.indices, r.tokens
        ),
        _fixed([1, 2, 3]),
        3,
        "test_cases",
    )
    # rasp_to_transformer_integration_test.py: single operations on a vocabulary of 3
    add("map_plus_1", lambda r, n: r.Map(lambda x: x + 1, r.tokens), SMALL, 3, "integration")
    add(
        "sequence_map_add",
        lambda r, n: r.SequenceMap(lambda x, y: x + y, r.tokens, r.indices),
        SMALL,
        3,
        "integration",
    )
    add(
        "select_aggregate",
        lambda r, n: r.Aggregate(
            r.Select(r.tokens, r.tokens, r.Comparison.EQ), r.Map(lambda x: 1, r.tokens)
        ),
        SMALL,
        3,
        "integration",
    )
    add(
        "selector_width_causal",
        lambda r, n: r.SelectorWidth(r.Select(r.tokens, r.tokens, r.Comparison.TRUE)),
        LETTERS,
        5,
        "test_cases (causal)",
        causal=True,
    )
    return c


CASES: list[Case] = _cases()


def by_name(name: str) -> Case:
    for case in CASES:
        if case.name == name:
            return case
    raise KeyError(name)
