"""A compiled model is exact on every input, or declares (and stores) the inputs it is exact on.

The compiler may assume that an aggregate moves one value when no observed input
averaged there. Checked on uniformly random inputs, the model is exact on every
input; checked only on a sampler's inputs (the library's ``add`` draws one
``A+B``), it is exact only on what the sampler draws, and says so.
"""

from __future__ import annotations

import random
import re

import pytest

from rasplab.compiler import compile_program, verify
from rasplab.compiler.driver import library_domain
from rasplab.errors import CompileError, InputError
from rasplab.library import PROGRAMS, get
from rasplab.library.samplers import addition_sampler
from rasplab.model.info import InputDomain, ModelInfo


@pytest.fixture(scope="module")
def add_model():
    entry = get("add")
    return compile_program(
        entry.build(), entry.vocab, 8, sample=entry.sample, domain=library_domain(entry)
    )


def test_add_from_the_library_declares_its_domain(add_model):
    domain = add_model.info.domain
    assert add_model.info.assumptions  # it rests on assumptions ...
    assert domain.kind == "declared"  # ... so it does not claim every input
    assert "lib:add's sampler" in domain.description and "'+'" in domain.description
    assert domain.contains(list("683+345")) is True
    assert domain.contains(list("12+34+56")) is False  # the audit's input is outside
    assert ModelInfo.from_json(add_model.info.to_json()).domain == domain


def test_add_agrees_with_the_evaluator_on_every_sampled_in_domain_input(add_model):
    entry = get("add")
    result = verify(add_model, entry.build(), 1000, sample=entry.sample, seed=11)
    assert result.n_inputs == 1000 and result.n_rejected == 0
    assert result.exact, str(result)
    rng = random.Random(3)
    drawn = [entry.sample(rng, rng.randint(1, 8)) for _ in range(200)]
    assert all(add_model.info.domain.contains(xs) for xs in drawn)


def test_add_is_exact_on_its_pattern_not_only_on_its_samplers_favourites(add_model):
    """The pattern is a promise about every input matching it: draw those uniformly
    (the '+' anywhere, digits uniform), unlike the sampler's long carry chains."""
    rng = random.Random(9)
    inputs = []
    for _ in range(1000):
        n = rng.randint(1, 8)
        plus = rng.randrange(n)
        digits = [rng.choice("0123456789") for _ in range(n - 1)]
        inputs.append(digits[:plus] + ["+"] + digits[plus:])
    result = verify(add_model, get("add").build(), inputs=inputs)
    assert result.n_inputs == 1000 and result.exact, str(result)


def test_add_outside_its_domain_is_where_it_may_differ(add_model):
    """The audit's input: the evaluator adds the last two numbers; the model may not, and
    it refuses that input unless asked to run it anyway."""
    program = get("add").build()
    assert program("12+34+56") == list("00004056")
    assert add_model.info.domain.contains(list("12+34+56")) is False
    with pytest.raises(InputError, match="outside the model's declared domain"):
        add_model("12+34+56")
    with pytest.raises(InputError, match="outside the model's declared domain"):
        verify(add_model, program, 50, seed=2)  # uniform inputs leave the domain
    outside = verify(add_model, program, 400, seed=2, check_domain=False)
    assert outside.n_inputs == 400 and not outside.exact  # why the domain is declared


def test_a_sampler_without_a_declared_domain_is_named():
    entry = get("add")
    sampler = addition_sampler()
    model = compile_program(entry.build(), entry.vocab, 6, sample=sampler)
    assert model.info.domain.kind == "declared"
    assert "inputs drawn by the sampler addition_sampler" in model.info.domain.description


def test_a_library_programs_sampler_brings_its_domain():
    """Callers that pass ``sample=entry.sample`` (the CLI, demos, training) get the
    library's declared domain without naming it."""
    entry = get("add")
    model = compile_program(entry.build(), entry.vocab, 6, sample=entry.sample)
    assert model.info.domain == library_domain(entry)


def test_no_assumptions_means_every_input_even_with_a_sampler():
    entry = get("reverse")
    rng_sampler = lambda rng, n: [rng.choice("ab") for _ in range(n)]  # noqa: E731
    model = compile_program(entry.build(), "ab", 6, sample=rng_sampler)
    assert not model.info.assumptions
    assert model.info.domain == InputDomain()


def test_assumptions_checked_on_uniform_inputs_claim_every_input():
    """lib:first assumes its aggregate moves one value; with no sampler, stage 6 checks
    that on uniformly random inputs, so the model may claim every input."""
    entry = get("first")
    model = compile_program(entry.build(), entry.vocab, 10)
    assert model.info.assumptions
    assert model.info.domain.kind == "all"
    assert model.info.verified.exact and model.info.verified.n_inputs == 64


def test_unchecked_assumptions_are_declared():
    entry = get("first")
    unchecked = compile_program(entry.build(), entry.vocab, 10, verify=0)
    assert unchecked.info.assumptions and unchecked.info.verified is None
    assert unchecked.info.domain.kind == "declared"
    assert "not checked: verify=0" in unchecked.info.domain.description
    add = get("add")
    sampled = compile_program(add.build(), add.vocab, 6, verify=0, sample=add.sample)
    assert sampled.info.domain.kind == "declared"


def test_a_domain_needs_a_sampler_and_must_be_declared():
    entry = get("add")
    with pytest.raises(CompileError, match="needs sample="):
        compile_program(entry.build(), entry.vocab, 6, domain=library_domain(entry))
    with pytest.raises(CompileError, match="of kind 'declared'"):
        compile_program(entry.build(), entry.vocab, 6, sample=entry.sample, domain=InputDomain())


def test_a_sampler_that_leaves_its_declared_domain_is_refused():
    entry = get("add")
    narrow = InputDomain("declared", "one digit each side", r"[0-9]\+[0-9]")
    with pytest.raises(CompileError, match="outside the declared domain"):
        compile_program(entry.build(), entry.vocab, 6, sample=entry.sample, domain=narrow)


@pytest.mark.parametrize("name", sorted(n for n, e in PROGRAMS.items() if e.sampler))
def test_every_library_sampler_declares_what_it_draws(name):
    entry = PROGRAMS[name]
    assert entry.domain, f"{name} has a sampler but no declared domain"
    rng = random.Random(0)
    for n in range(1, 13):
        for _ in range(40):
            xs = entry.sample(rng, n)
            assert len(xs) == n
            if entry.domain_pattern is not None:
                assert re.fullmatch(entry.domain_pattern, "".join(xs)), (name, xs)


def test_a_sampler_drawing_tokens_outside_the_vocabulary_is_named():
    entry = get("slide")  # its sampler draws "<", which this vocabulary lacks
    with pytest.raises(CompileError, match=r"whose token '<' is not in the vocabulary"):
        compile_program(entry.build(), list("abc"), 6, sample=entry.sample)
