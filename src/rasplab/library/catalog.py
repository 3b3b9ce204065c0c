"""The library's catalogue: every program with its oracle, vocabulary and examples.

>>> entry = PROGRAMS["reverse"]
>>> entry.build()("abc") == entry.reference(list("abc"))
True
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProgramNotFoundError
from ..lang.nodes import SOp
from . import counting, dyck, references, sequences, sorting

__all__ = ["LibraryProgram", "PROGRAMS", "get", "uniform_sampler"]

Sampler = Callable[[random.Random, int], list[Any]]


def uniform_sampler(vocab: Sequence[Any]) -> Sampler:
    """Inputs of the given length with tokens drawn uniformly from ``vocab``."""
    return lambda rng, n: [rng.choice(vocab) for _ in range(n)]


def bracket_sampler(pairs: Sequence[str], noise: Sequence[str] = ()) -> Sampler:
    """Near-balanced bracket strings, so that all of T, P and F occur often."""
    alphabet = [c for p in pairs for c in p] + list(noise)

    def sample(rng: random.Random, n: int) -> list[Any]:
        stack: list[str] = []
        out = []
        for _ in range(n):
            if stack and rng.random() < 0.45:
                closer = stack.pop() if rng.random() < 0.9 else rng.choice(pairs)[1]
                out.append(closer)
            elif rng.random() < 0.1:
                out.append(rng.choice(alphabet))
            else:
                pair = rng.choice(pairs)
                stack.append(pair[1])
                out.append(pair[0])
        return out

    return sample


@dataclass(frozen=True)
class LibraryProgram:
    """One library program, ready to build, run, check and analyse."""

    name: str
    build: Callable[[], SOp]  # a fresh program each call
    reference: Callable[[list[Any]], list[Any]]  # plain-Python oracle
    vocab: tuple[Any, ...]  # tokens for random inputs
    examples: tuple[Any, ...]  # built-in inputs (strings: one token per character)
    paper: tuple[int, tuple[int, ...]] | None = None  # (layers, heads per layer) per the paper
    sampler: Sampler | None = None  # task-aware input sampler; uniform over vocab if None
    min_len: int = 1
    summary: str = field(default="")

    def sample(self, rng: random.Random, n: int) -> list[Any]:
        return (self.sampler or uniform_sampler(self.vocab))(rng, n)

    @property
    def doc(self) -> str:
        return self.summary


def _entry(name, fn, ref, vocab, examples, paper=None, **kw) -> LibraryProgram:
    summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
    return LibraryProgram(name, fn, ref, tuple(vocab), tuple(examples), paper, summary=summary, **kw)


_LETTERS = tuple("abcde")

PROGRAMS: dict[str, LibraryProgram] = {
    e.name: e
    for e in [
        _entry("length", sequences.make_length, references.ref_length, _LETTERS, ["abcd", "x"]),
        _entry(
            "reverse", sequences.reverse, references.ref_reverse, _LETTERS, ["abc", "hello"],
            (2, (1, 1)),
        ),
        _entry("hist", counting.hist, references.ref_hist, _LETTERS, ["hello", "aab"], (1, (1,))),
        _entry(
            "double_hist", counting.double_hist, references.ref_double_hist, _LETTERS,
            ["aabcd", "hello"], (2, (2, 1)),
        ),
        _entry("sort", sorting.sort, references.ref_sort, _LETTERS, ["cab", "banana"], (2, (1, 1))),
        _entry(
            "sort_unique", sorting.sort_unique, references.ref_sort_unique, tuple(range(100)),
            [[3, 1, 2], [10, 4, 7, 0]], sampler=lambda rng, n: rng.sample(range(100), n),
        ),
        _entry(
            "most_freq", sorting.most_freq, references.ref_most_freq, _LETTERS,
            ["abbccc", "hello"], (3, (2, 1, 1)),
        ),
        _entry(
            "dyck1", dyck.dyck1, references.ref_dyck1, tuple("()"), ["(()))(", "()()"],
            (2, (1, 1)), sampler=bracket_sampler(["()"]),
        ),
        _entry(
            "dyck2", dyck.dyck2, references.ref_dyck2, tuple("(){}"), ["({})()", "({)}"],
            (4, (1, 2, 1, 1)), sampler=bracket_sampler(["()", "{}"]),
        ),
    ]
}


def get(name: str) -> LibraryProgram:
    """Look a program up by name, with the list of names on a miss."""
    try:
        return PROGRAMS[name]
    except KeyError:
        known = ", ".join(sorted(PROGRAMS))
        raise ProgramNotFoundError(f"no library program {name!r}; known: {known}") from None
