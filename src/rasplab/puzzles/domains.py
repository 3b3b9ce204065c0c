"""The inputs a puzzle is checked on: which token lists are valid and how to draw them.

A :class:`Domain` draws an input through a *chooser* with two methods,
``pick(options)`` and ``integer(lo, hi)``. The same drawing code then runs on
a seeded ``random.Random`` or, when hypothesis is installed, on hypothesis's
data (which shrinks towards the first option and the low end of each range).

>>> import random
>>> d = Domain(tuple("ab"), max_len=3)
>>> d.draw(RandomChooser(random.Random(1)))
['a']
>>> [len(xs) for xs in d.exhaustive(limit=100)][:5]
[1, 1, 2, 2, 2]
>>> shrink(list("abab"), lambda xs: "b" in xs, d)
['b']
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "Chooser",
    "RandomChooser",
    "Domain",
    "uniform",
    "brackets",
    "one_separator",
    "addition",
    "shrink",
    "hypothesis_strategy",
]


class Chooser(Protocol):
    def pick(self, options: Sequence[Any]) -> Any: ...

    def integer(self, lo: int, hi: int) -> int: ...


class RandomChooser:
    """Choices from a seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


Drawer = Callable[[Chooser, "Domain"], list[Any]]


def uniform(chooser: Chooser, domain: Domain) -> list[Any]:
    """Any length in range, each token uniform over the vocabulary."""
    n = chooser.integer(domain.min_len, domain.max_len)
    return [chooser.pick(domain.vocab) for _ in range(n)]


def brackets(chooser: Chooser, domain: Domain) -> list[Any]:
    """Mostly well-nested bracket strings, so that T, P and F all occur often."""
    openers = [t for t in domain.vocab if t in "({["]
    closer = {"(": ")", "{": "}", "[": "]"}
    stack: list[str] = []
    out: list[Any] = []
    for _ in range(chooser.integer(domain.min_len, domain.max_len)):
        move = chooser.pick(["open", "close", "close", "any"])
        if move == "close" and stack:
            out.append(stack.pop())
        elif move == "any":
            out.append(chooser.pick(domain.vocab))
        else:
            out.append(chooser.pick(openers))
            stack.append(closer[out[-1]])
    return out


def one_separator(chooser: Chooser, domain: Domain) -> list[Any]:
    """Letters with at most one ``+`` among them."""
    letters = [t for t in domain.vocab if t != "+"]
    xs = [chooser.pick(letters) for _ in range(chooser.integer(domain.min_len, domain.max_len))]
    if chooser.pick([True, True, True, False]):
        xs[chooser.integer(0, len(xs) - 1)] = "+"
    return xs


def addition(chooser: Chooser, domain: Domain) -> list[Any]:
    """``A+B`` with non-empty digit strings; 9s are common so carries travel far."""
    digits = list("0123456789") + ["9"] * 4
    a = chooser.integer(1, domain.max_len - 2)
    b = chooser.integer(1, domain.max_len - 1 - a)
    return (
        [chooser.pick(digits) for _ in range(a)] + ["+"] + [chooser.pick(digits) for _ in range(b)]
    )


@dataclass(frozen=True)
class Domain:
    """Token lists of length ``min_len..max_len`` over ``vocab``, filtered by ``valid``."""

    vocab: tuple[Any, ...]
    min_len: int = 1
    max_len: int = 8
    drawer: Drawer = uniform
    valid: Callable[[list[Any]], bool] | None = None

    def draw(self, chooser: Chooser) -> list[Any]:
        """One input, drawn through ``chooser``."""
        return self.drawer(chooser, self)

    def accepts(self, xs: list[Any]) -> bool:
        """Whether ``xs`` is an input the puzzle promises to handle."""
        if not self.min_len <= len(xs) <= self.max_len:
            return False
        if any(x not in self.vocab for x in xs):
            return False
        return self.valid is None or bool(self.valid(xs))

    def exhaustive(self, limit: int) -> Iterator[list[Any]]:
        """Every valid input, shortest first, while a length's inputs fit in ``limit``."""
        total = 0
        for n in range(self.min_len, self.max_len + 1):
            total += len(self.vocab) ** n
            if total > limit:
                return
            for combo in itertools.product(self.vocab, repeat=n):
                if self.accepts(list(combo)):
                    yield list(combo)

    def sample(self, rng: random.Random, count: int) -> list[list[Any]]:
        """``count`` inputs drawn from ``rng`` (repeats possible)."""
        chooser = RandomChooser(rng)
        return [self.draw(chooser) for _ in range(count)]


def _smaller(xs: list[Any], vocab: Sequence[Any]) -> Iterator[list[Any]]:
    """Candidates simpler than ``xs``: shorter first, then earlier tokens."""
    for size in sorted({len(xs) // 2, 2, 1} - {0}, reverse=True):
        for start in range(0, len(xs) - size + 1):
            yield xs[:start] + xs[start + size :]
    rank = {t: i for i, t in enumerate(vocab)}
    for pos, x in enumerate(xs):
        for simpler in vocab[: rank.get(x, 0)]:
            yield xs[:pos] + [simpler] + xs[pos + 1 :]


def shrink(
    xs: list[Any], fails: Callable[[list[Any]], bool], domain: Domain, budget: int = 400
) -> list[Any]:
    """Greedily make ``xs`` shorter and simpler while it stays valid and still ``fails``."""
    tried = 0
    improved = True
    while improved and tried < budget:
        improved = False
        for candidate in _smaller(xs, domain.vocab):
            if tried >= budget:
                break
            if not domain.accepts(candidate):
                continue
            tried += 1
            if fails(candidate):
                xs, improved = candidate, True
                break
    return xs


class _DrawChooser:
    def __init__(self, draw: Any, st: Any) -> None:
        self._draw, self._st = draw, st

    def pick(self, options: Sequence[Any]) -> Any:
        return self._draw(self._st.sampled_from(list(options)))

    def integer(self, lo: int, hi: int) -> int:
        return self._draw(self._st.integers(lo, hi))


def hypothesis_strategy(domain: Domain) -> Any:
    """A hypothesis strategy for the domain's inputs (needs the ``puzzles`` extra)."""
    from hypothesis import strategies as st

    @st.composite
    def inputs(draw: Any) -> list[Any]:
        return domain.draw(_DrawChooser(draw, st))

    return inputs().filter(domain.accepts)
