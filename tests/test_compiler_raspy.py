"""raspy's blog programs (tests/raspy_programs.py) through the compiler: a sum aggregate
(raspy's ``.value``) over words moves one value, so it compiles like a categorical one."""

from __future__ import annotations

import itertools

import pytest
from raspy_programs import programs

from rasplab import aggregate, indices, length, select, tokens
from rasplab.compat import raspy
from rasplab.compiler import compile_program
from rasplab.compiler.value_sets import infer
from rasplab.compiler.verify import verify
from rasplab.errors import CompileError

PROGRAMS = programs(raspy)
VOCABS = {
    "letters": "hel_",
    "digits": [0, 1, 2, 5, 9],
    "small": [0, 1, 2, 3],
    "slides": "ab<",
    "parens": "(){}",
}
# name -> max_seq_len: small enough to check every input of a four-token vocabulary
COMPILED = {
    "flip": 5,
    "index1": 5,
    "shift2": 5,
    "ralign": 5,
    "histogram": 5,
    "same_count": 5,
    "cumsum": 5,
    "window_sum": 5,
    "bool_sum": 5,
    "sort_unique": 4,
    "minimum": 4,
    "first_l": 4,
    "slide": 4,
    "dyck2": 4,
}


def _every_input(vocab, n: int) -> list[list]:
    return [list(xs) for k in range(1, n + 1) for xs in itertools.product(vocab, repeat=k)]


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_raspy_blog_program_compiles_exactly(name: str) -> None:
    program, domain = PROGRAMS[name]
    vocab, n = VOCABS[domain], COMPILED[name]
    model = compile_program(program, vocab, n)
    assert model.info.verified.exact
    checked = verify(model, program, inputs=_every_input(vocab, n))
    assert checked.exact, checked
    assert checked.n_inputs > 0


def test_flip_moves_letters_and_keeps_the_default():
    """raspy's reverse: ``(key(length - indices - 1) == query(indices)).value(tokens)``."""
    program = PROGRAMS["flip"][0]
    model = compile_program(program, "abc", 6)
    assert model("abcab") == list("bacba")
    shift = (raspy.key(raspy.indices) == raspy.query(raspy.indices - 1)).value(raspy.tokens, "_")
    moved = compile_program(shift, "abc", 5)
    assert moved("abc") == ["_", "a", "b"]  # the default, where no key is selected


def test_a_sum_of_words_is_a_select_and_a_sum_of_numbers_is_not():
    words = aggregate(select(indices, length - indices - 1, "=="), tokens, mode="sum")
    assert infer(words, "ab", 4).semantics[words.id] == "select"
    numbers = aggregate(select(indices, indices, "<="), tokens, mode="sum")
    assert infer(numbers, [1, 2], 4).semantics[numbers.id] == "sum"
    one_key = aggregate(select(indices, indices, "=="), tokens, mode="sum")
    assert infer(one_key, [1, 2], 4).semantics[one_key.id] == "select"


def test_a_sum_of_words_and_numbers_stays_a_sum():
    """Several numbers may be summed: the aggregate cannot be compiled as a move."""
    mixed = tokens.map(lambda t: 1 if t == "a" else t)
    total = aggregate(select(indices, indices, "<="), mixed, mode="sum")
    assert infer(total, "ab", 4).semantics[total.id] == "sum"
    with pytest.raises(CompileError):
        compile_program(total, "ab", 4)
