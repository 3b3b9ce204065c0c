"""Random-input samplers for the catalogue: each draws one input of a given length.

A sampler is called as ``sampler(rng, n)`` with a ``random.Random`` and a
length ``n >= 1``. Uniform tokens exercise most programs; the samplers here
make the interesting cases common where uniform tokens would make them rare
(balanced brackets, runs of 9s in an addition, padding at the end).

Each ``*_domain`` function describes the inputs the matching sampler can
draw: a sentence and a regular expression over the joined tokens, which
compiled models store as their declared input domain.

>>> import random, re
>>> len(addition_sampler()(random.Random(0), 7))
7
>>> text, pattern = addition_domain()
>>> bool(re.fullmatch(pattern, "683+345")), bool(re.fullmatch(pattern, "12+34+56"))
(True, False)
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "Sampler",
    "uniform_sampler",
    "bracket_sampler",
    "mixed_type_sampler",
    "padded_sampler",
    "separator_sampler",
    "addition_sampler",
    "Domain",
    "bracket_domain",
    "padded_domain",
    "separator_domain",
    "addition_domain",
]

Sampler = Callable[[random.Random, int], list[Any]]
Domain = tuple[str, str]  # (description, regular expression over the joined tokens)


def _any_of(chars: Sequence[str]) -> str:
    return "[" + "".join(re.escape(c) for c in chars) + "]"


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


def mixed_type_sampler(*vocabs: Sequence[Any]) -> Sampler:
    """Each input draws all its tokens from one of ``vocabs``, chosen at random."""
    return lambda rng, n: uniform_sampler(rng.choice(vocabs))(rng, n)


def padded_sampler(vocab: Sequence[Any], blank: Any, p_blank: float = 0.4) -> Sampler:
    """Half the time a padded input (tokens, then blanks), else blanks anywhere."""
    plain = [v for v in vocab if v != blank]

    def sample(rng: random.Random, n: int) -> list[Any]:
        if rng.random() < 0.5:
            k = rng.randint(0, n)
            return [rng.choice(plain) for _ in range(k)] + [blank] * (n - k)
        return [blank if rng.random() < p_blank else rng.choice(plain) for _ in range(n)]

    return sample


def separator_sampler(vocab: Sequence[Any], sep: Any) -> Sampler:
    """Tokens from ``vocab`` with none, one (most often) or several ``sep`` placed at random."""

    def sample(rng: random.Random, n: int) -> list[Any]:
        out = [rng.choice(vocab) for _ in range(n)]
        how_many = rng.choices([0, 1, 2, 3], weights=[2, 6, 2, 1])[0]
        for pos in rng.sample(range(n), min(how_many, n)):
            out[pos] = sep
        return out

    return sample


def _column_digits(rng: random.Random, both: bool, chain: bool) -> tuple[int, int]:
    """Two digits for one column; in chain mode their sum is 9 most of the time."""
    if not both:
        return rng.randint(0, 9), 0
    total = 9 if chain and rng.random() < 0.7 else rng.randint(0, 18)
    a = rng.randint(max(0, total - 9), min(9, total))
    return a, total - a


def addition_sampler() -> Sampler:
    """Valid ``"A+B"`` strings of the given total length, with long carry chains often.

    The split point is uniform (either side may be empty when ``n < 3``, and
    now and then otherwise); in chain mode most aligned columns sum to 9, so
    one carry has to travel far.
    """

    def sample(rng: random.Random, n: int) -> list[Any]:
        low = 0 if n < 3 or rng.random() < 0.1 else 1
        len_a = rng.randint(low, n - 1 - low)
        len_b = n - 1 - len_a
        chain = rng.random() < 0.5
        a_digits: list[int] = []
        b_digits: list[int] = []
        for col in range(max(len_a, len_b)):  # from the right
            x, y = _column_digits(rng, col < len_a and col < len_b, chain)
            if col < len_a:
                a_digits.append(x)
            if col < len_b:
                b_digits.append(y if col < len_a else x)
        text = "".join(map(str, a_digits[::-1])) + "+" + "".join(map(str, b_digits[::-1]))
        return list(text)

    return sample


def bracket_domain(pairs: Sequence[str], noise: Sequence[str] = ()) -> Domain:
    """What :func:`bracket_sampler` draws: any string of its brackets (and noise)."""
    chars = [c for p in pairs for c in p] + list(noise)
    shown = " ".join(chars)
    return f"any string of {shown}, near-balanced more often than uniform", _any_of(chars) + "*"


def padded_domain(vocab: Sequence[str], blank: str) -> Domain:
    """What :func:`padded_sampler` draws: any string of the tokens and the blank."""
    plain = [v for v in vocab if v != blank]
    text = f"any string of {' '.join(plain)} and the blank {blank!r}, often padded at the end"
    return text, _any_of([*plain, blank]) + "*"


def separator_domain(vocab: Sequence[str], sep: str, most: int = 3) -> Domain:
    """What :func:`separator_sampler` draws: tokens with at most ``most`` separators."""
    part = _any_of(vocab) + "*"
    pattern = f"{part}(?:{re.escape(sep)}{part}){{0,{most}}}"
    return f"{' '.join(vocab)} with at most {most} {sep!r} separators", pattern


def addition_domain() -> Domain:
    """What :func:`addition_sampler` draws: digits, one '+', digits."""
    return "digits, one '+', digits (either side may be empty)", r"[0-9]*\+[0-9]*"
