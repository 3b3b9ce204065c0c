"""Programs in raspy's style (the blog's and the notebook's tasks), written against any
module with raspy's API: the recorded fixtures ran them in raspy, the tests run them in
rasplab.compat.raspy. Each entry: name -> (s-op or selector, input domain name)."""

from __future__ import annotations

import random
from typing import Any

DOMAINS = {
    "letters": lambda rng: "".join(rng.choice("helo_xyz") for _ in range(rng.randint(1, 9))),
    "digits": lambda rng: [rng.randint(-3, 9) for _ in range(rng.randint(1, 9))],
    "small": lambda rng: [rng.randint(0, 5) for _ in range(rng.randint(1, 8))],
    "numstr": lambda rng: "".join(rng.choice("0123456789-") for _ in range(rng.randint(1, 8))),
    "sum": lambda rng: f"{rng.randint(0, 999)}+{rng.randint(0, 999)}",
    "parens": lambda rng: "".join(rng.choice("(){}ab") for _ in range(rng.randint(1, 10))),
    "slides": lambda rng: "".join(rng.choice("ab<<") for _ in range(rng.randint(1, 9))),
    "five_digits": lambda rng: [rng.randint(0, 9) for _ in range(5)],
    "five_letters": lambda rng: "".join(rng.choice("hello") for _ in range(5)),
    "floats": lambda rng: [rng.choice([0.5, 1.25, 2, -1.5, 3]) for _ in range(rng.randint(1, 7))],
}


def sample(domain: str, rng: random.Random) -> Any:
    return DOMAINS[domain](rng)


def programs(r: Any) -> dict[str, tuple[Any, str]]:
    """The programs, built from the raspy-like module ``r``."""
    tokens, indices, key, query, where = r.tokens, r.indices, r.key, r.query, r.where

    size = (key(1) == query(1)).value(1).name("size")
    earlier = key(indices) < query(indices)

    def digit(seq: Any = tokens) -> Any:
        return seq.map(lambda c: ord(c) - ord("0"))

    def running_total(seq: Any = tokens) -> Any:
        return (earlier | (key(indices) == query(indices))).value(seq).name("running")

    def pick(i: Any, seq: Any = tokens) -> Any:
        return (key(indices) == query(i)).value(seq).name("pick")

    def move(by: int = 1, default: Any = "_", seq: Any = tokens) -> Any:
        return (key(indices) == query(indices - by)).value(seq, default).name("move")

    def smallest(seq: Any = tokens) -> Any:
        ahead = (earlier & (key(seq) == query(seq))) | (key(seq) < query(seq))
        rank = ahead.value(1)
        return (key(rank) == query(0)).value(seq).name("smallest")

    def first_of(q: Any, seq: Any = tokens) -> Any:
        return smallest(where(seq == q, indices, 99))

    def right_align(default: Any = "-", seq: Any = tokens) -> Any:
        blanks = (key(seq) == query("_")).value(1)
        return (key(indices + blanks) == query(indices)).value(seq, default).name("ralign")

    def cut(mark: str, head: bool, seq: Any = tokens, default: Any = "0") -> Any:
        at = (key(seq) == query(mark)).value(indices)
        if head:
            return right_align(default, where(indices < at, seq, "_"))
        return where(indices > at, seq, default)

    def carry_slide(match: Any, seq: Any = tokens) -> Any:
        position = running_total(match)
        nxt = ((key(position) == query(position + 1)) & (key(match) == query(True))).value(seq)
        return where(match, seq, nxt).name("slide")

    def long_add(seq: Any = tokens) -> Any:
        total = digit(cut("+", True, seq)) + digit(cut("+", False, seq))
        marks = move(-1, "0", where(total > 9, "1", where(total == 9, "<", "0")))
        carries = digit(carry_slide(marks != "<", marks))
        return (total + carries) % 10

    def histogram(seq: Any = tokens) -> Any:
        return (key(seq) == query(seq)).value(1).name("hist")

    def sort_unique(seq: Any = tokens) -> Any:
        below = (key(seq) < query(seq)).value(1)
        return (key(below) == query(indices)).value(seq, "?").name("sort")

    def balance(opener: str, closer: str) -> Any:
        upto = key(indices) <= query(indices)
        return upto.value(tokens == opener) - upto.value(tokens == closer)

    def dyck() -> Any:
        b1, b2 = balance("(", ")"), balance("{", "}")
        dipped = (key(1) == query(1)).value((b1 < 0) | (b2 < 0)) > 0
        last = key(indices) == query(size - 1)
        closed = last.value((b1 == 0) & (b2 == 0))
        return closed & ~dipped

    def window_sum(width: int = 3) -> Any:
        inside = (key(indices) >= query(indices - width + 1)) & (key(indices) <= query(indices))
        return inside.value(tokens)

    return {
        "flip": ((key(size - indices - 1) == query(indices)).value(tokens), "letters"),
        "length": (size, "letters"),
        "is_l": (tokens == "l", "letters"),
        "affine": (tokens * 2 - 1, "digits"),
        "shifted_sum": (tokens - 5 + indices, "digits"),
        "or_mask": ((tokens == "l") | (indices == 1), "letters"),
        "where_q": (where((tokens == "h") | (tokens == "l"), tokens, "q"), "letters"),
        "atoi": (digit(), "numstr"),
        "atoi_dash": (digit(where(tokens == "-", "0", tokens)) + 2, "numstr"),
        "same_count": ((key(tokens) == query(tokens)).value(1), "letters"),
        "window_sum": (window_sum(), "digits"),
        "window_floats": (window_sum(2), "floats"),
        "cumsum": (running_total(), "digits"),
        "cumsum_len": (running_total(size - indices), "digits"),
        "index1": (pick(1), "letters"),
        "shift2": (move(2), "letters"),
        "minimum": (smallest(), "digits"),
        "first_l": (first_of("l"), "letters"),
        "ralign": (right_align(), "letters"),
        "split_tail": (cut("+", False), "sum"),
        "split_head": (cut("+", True), "sum"),
        "slide": (carry_slide(tokens != "<"), "slides"),
        "add": (long_add(), "sum"),
        "histogram": (histogram(), "letters"),
        "sort_unique": (sort_unique(), "small"),
        "dyck2": (dyck(), "parens"),
        "bool_sum": ((key(indices) <= query(indices)).value(tokens == "l"), "letters"),
        "half_round": ((tokens / 2).round(), "digits"),
        "has_vowel": (tokens.has("eo"), "letters"),
        "square_plus": (tokens + indices.map(lambda i: i * i), "digits"),
        "raw_plus": (tokens + [1, 2, 3, 4, 5], "five_digits"),
        "raw_match": (tokens == "hello", "five_letters"),
        "raw_fn": (r.raw([4, 3, 2, 1, 0]) * r.wrap(2) + r.repeat(1), "five_letters"),
        "repeat_where": (where(tokens == "l", r.repeat(1), r.raw("abcde")), "five_letters"),
        "mod_neg": ((tokens % 4) * (indices != 0), "digits"),
        "sel_before": (earlier, "letters"),
        "sel_ops": (
            (earlier | (key(tokens) == query("l"))) & (key(indices) != query(0)),
            "letters",
        ),
        "select_fn": (r.select(indices, indices, lambda k, q: (k + q) % 3 == 0), "letters"),
        "aggregate_fn": (
            r.aggregate(r.select(tokens, tokens, lambda k, q: k <= q), indices),
            "small",
        ),
    }
