"""The library's catalogue: every program with its oracle, vocabulary and examples.

>>> entry = PROGRAMS["reverse"]
>>> entry.build()("abc") == entry.reference(list("abc"))
True
>>> get("add").build()("683+345") == get("add").reference(list("683+345"))
True
>>> print(get("add").domain_pattern)
[0-9]*\\+[0-9]*
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..errors import InputError, ProgramNotFoundError
from ..lang.graph import value_key
from ..lang.nodes import SOp
from . import arith, counting, dyck, references, search, sequences, sorting, text
from .samplers import (
    Domain,
    Sampler,
    addition_domain,
    addition_sampler,
    bracket_domain,
    bracket_sampler,
    padded_domain,
    padded_sampler,
    separator_domain,
    separator_sampler,
    uniform_sampler,
)

__all__ = ["LibraryProgram", "PROGRAMS", "get", "uniform_sampler"]


@dataclass(frozen=True)
class LibraryProgram:
    """One library program, ready to build, run, check and analyse."""

    name: str
    build: Callable[[], SOp]  # a fresh program each call
    reference: Callable[[list[Any]], list[Any]]  # plain-Python oracle
    vocab: tuple[Any, ...]  # tokens for random inputs; the only tokens it takes unless any_token
    examples: tuple[Any, ...]  # built-in inputs (strings: one token per character)
    paper: tuple[int, tuple[int, ...]] | None = None  # (layers, heads per layer) per the paper
    sampler: Sampler | None = None  # task-aware input sampler; uniform over vocab if None
    min_len: int = 1
    summary: str = field(default="")
    numerical: bool = False  # outputs are numbers to compare with a tolerance
    # what ``sampler`` can draw, in words and (for string tokens) as a regular expression
    # over the joined tokens; a compiled model that is exact only there declares it
    domain: str | None = None
    domain_pattern: str | None = None
    any_token: bool = False  # defined on any tokens: ``vocab`` only seeds random inputs
    max_len: int | None = None  # the longest input ``sampler`` can draw (None: any length)

    def accepts(self, token: Any) -> bool:
        """Whether the program is defined on ``token``.

        >>> get("reverse").accepts("z"), get("dyck1").accepts("z"), get("dyck1").accepts("(")
        (True, False, True)
        """
        if self.any_token:
            return True
        try:
            return value_key(token) in {value_key(t) for t in self.vocab}  # 1 is not True
        except TypeError:  # an unhashable token (a list) is in no vocabulary
            return False

    def sample(self, rng: random.Random, n: int) -> list[Any]:
        """A random input of length ``n``; InputError past the longest the sampler draws.

        >>> get("sort_unique").sample(random.Random(0), 101)
        Traceback (most recent call last):
        rasplab.errors.InputError: lib:sort_unique draws distinct numbers ... at most 100
        """
        if self.max_len is not None and n > self.max_len:
            raise InputError(
                f"lib:{self.name} draws {self.domain or 'its inputs'}: no input is longer "
                f"than {self.max_len} tokens, and {n} were asked for; use a max length of at "
                f"most {self.max_len}"
            )
        return (self.sampler or uniform_sampler(self.vocab))(rng, n)

    @property
    def doc(self) -> str:
        return self.summary


def _within(domain: Domain) -> dict[str, str]:
    """The catalogue fields of a sampler's domain."""
    text, pattern = domain
    return {"domain": text, "domain_pattern": pattern}


# Programs defined on any tokens (letters, numbers, words): their vocabulary only seeds
# random inputs, and an input outside it is as valid as one inside.
_ANY_TOKEN = frozenset(
    {"length", "reverse", "hist", "double_hist", "sort", "most_freq", "count", "frac_prevs"}
    | {"index", "shift", "minimum", "first"}
)


def _entry(name, fn, ref, vocab, examples, paper=None, *, summary=None, **kw) -> LibraryProgram:
    """The summary is the first line of ``fn``'s docstring unless given."""
    kw.setdefault("any_token", name in _ANY_TOKEN)
    if summary is None:
        lines = (fn.__doc__ or "").strip().splitlines()
        summary = lines[0] if lines else ""
    return LibraryProgram(
        name, fn, ref, tuple(vocab), tuple(examples), paper, summary=summary, **kw
    )


_LETTERS = tuple("abcde")
_DIGITS = tuple("0123456789")

_PAPER = [
    _entry("length", sequences.make_length, references.ref_length, _LETTERS, ["abcd", "x"]),
    _entry(
        "reverse",
        sequences.reverse,
        references.ref_reverse,
        _LETTERS,
        ["abc", "hello"],
        (2, (1, 1)),
    ),
    _entry("hist", counting.hist, references.ref_hist, _LETTERS, ["hello", "aab"], (1, (1,))),
    _entry(
        "double_hist",
        counting.double_hist,
        references.ref_double_hist,
        _LETTERS,
        ["aabcd", "hello"],
        (2, (2, 1)),
    ),
    _entry("sort", sorting.sort, references.ref_sort, _LETTERS, ["cab", "banana"], (2, (1, 1))),
    _entry(
        "sort_unique",
        sorting.sort_unique,
        references.ref_sort_unique,
        tuple(range(100)),
        [[3, 1, 2], [10, 4, 7, 0]],
        sampler=lambda rng, n: rng.sample(range(100), n),
        domain="distinct numbers from 0 to 99 (no number twice)",
        max_len=100,
    ),
    _entry(
        "most_freq",
        sorting.most_freq,
        references.ref_most_freq,
        _LETTERS,
        ["abbccc", "hello"],
        (3, (2, 1, 1)),
    ),
    _entry(
        "dyck1",
        dyck.dyck1,
        references.ref_dyck1,
        tuple("()"),
        ["(()))(", "()()"],
        (2, (1, 1)),
        sampler=bracket_sampler(["()"]),
        **_within(bracket_domain(["()"])),
    ),
    _entry(
        "dyck2",
        dyck.dyck2,
        references.ref_dyck2,
        tuple("(){}"),
        ["({})()", "({)}"],
        (4, (1, 2, 1, 1)),
        sampler=bracket_sampler(["()", "{}"]),
        **_within(bracket_domain(["()", "{}"])),
    ),
]

_TRACR = [
    _entry(
        "dyck3",
        partial(dyck.dyck_k, ("()", "{}", "[]")),
        references.ref_dyck3,
        tuple("(){}[]"),
        ["([]{})", "([)]"],
        summary="Prefix status (T/P/F) for (), {} and [] by the paper's Dyck-k construction.",
        sampler=bracket_sampler(["()", "{}", "[]"]),
        **_within(bracket_domain(["()", "{}", "[]"])),
    ),
    _entry(
        "frac_prevs",
        counting.frac_prevs,
        references.ref_frac_prevs,
        tuple("xab"),
        ["xaxb", "abxx"],
        numerical=True,
    ),
    _entry(
        "pair_balance",
        counting.pair_balance,
        references.ref_pair_balance,
        tuple("()a"),
        ["(()", "())(a"],
        sampler=bracket_sampler(["()"], noise="a"),
        **_within(bracket_domain(["()"], noise="a")),
        numerical=True,
    ),
    _entry("count", counting.count, references.ref_count, _LETTERS, ["banana", "hello"]),
]

_RASPY = [
    _entry(
        "index",
        partial(sequences.index, 2),
        partial(references.ref_index, i=2),
        _LETTERS,
        ["hello", "ab"],
        summary='The token at position 2, at every position; "_" if the input is shorter.',
    ),
    _entry("shift", sequences.shift, references.ref_shift, _LETTERS, ["abcde", "hello"]),
    _entry(
        "minimum",
        search.minimum,
        references.ref_minimum,
        _LETTERS,
        ["hello", "cab"],
    ),
    _entry("first", search.first, references.ref_first, _LETTERS, ["banana", "hello"]),
    _entry(
        "ralign",
        text.ralign,
        references.ref_ralign,
        tuple("xyz-"),
        ["xyz---", "x-y-z"],
        sampler=padded_sampler(tuple("xyz"), "-"),
        **_within(padded_domain(tuple("xyz"), "-")),
    ),
    _entry(
        "split",
        text.split,
        references.ref_split,
        tuple("xyz+"),
        ["xyz+ab", "a+b+c"],
        sampler=separator_sampler(tuple("xyz"), "+"),
        **_within(separator_domain(tuple("xyz"), "+")),
    ),
    _entry(
        "split_after",
        partial(text.split, part=1),
        partial(references.ref_split, part=1),
        tuple("xyz+"),
        ["xyz+ab", "a+b+c"],
        summary="The tokens after the first separator, right-aligned (split, part 1).",
        sampler=separator_sampler(tuple("xyz"), "+"),
        **_within(separator_domain(tuple("xyz"), "+")),
    ),
    _entry(
        "slide",
        text.slide,
        references.ref_slide,
        tuple("abc<"),
        ["xxxh<<<l", "a<b<<"],
        sampler=lambda rng, n: [rng.choice("<<<abc") for _ in range(n)],
        domain="any string of a b c <, with '<' three times as likely as each letter",
        domain_pattern="[abc<]*",
    ),
    _entry(
        "add",
        arith.add,
        references.ref_add,
        _DIGITS + ("+",),
        ["683+345", "99+1"],
        sampler=addition_sampler(),
        **_within(addition_domain()),
    ),
]

PROGRAMS: dict[str, LibraryProgram] = {e.name: e for e in _PAPER + _TRACR + _RASPY}


def get(name: str) -> LibraryProgram:
    """Look a program up by name (``sort`` or, as the commands write it, ``lib:sort``),
    with the list of names on a miss."""
    try:
        return PROGRAMS[name.removeprefix("lib:")]
    except KeyError:
        known = ", ".join(sorted(PROGRAMS))
        raise ProgramNotFoundError(f"no library program {name!r}; known: {known}") from None
