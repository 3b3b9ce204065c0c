"""One input convention for the whole model API, declared domains, absurd inputs, reprs."""

from __future__ import annotations

import random
import re
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from rasplab import aggregate, indices, length, select, tokens
from rasplab.compiler import compile_program
from rasplab.errors import InputError
from rasplab.model import activations
from rasplab.model import forward as forward_module
from rasplab.model.info import InputDomain


@pytest.fixture(scope="module")
def model():
    program = aggregate(select(indices, length - indices - 1, "=="), tokens).named("reverse")
    return compile_program(program, "abc", 8, verify=0)


# ------------------------------------------------------------ one convention


def test_a_string_is_one_input_everywhere(model):
    want = ["b", "a", "c"]
    assert model("cab") == model(["c", "a", "b"]) == model(("c", "a", "b")) == want
    assert model.run(["cab"]) == model.run([["c", "a", "b"]]) == [want]
    assert model.run_with_cache(["cab"])[0] == model.run_with_cache([list("cab")])[0] == [want]
    assert model.encode("cab").tolist() == model.encode(list("cab")).tolist() == [0, 3, 1, 2]


def test_numpy_scalars_are_the_tokens_they_hold(model):
    drawn = list(np.random.default_rng(0).choice(list("abc"), size=5))  # np.str_ each
    assert model(drawn) == model("".join(str(t) for t in drawn))
    assert model.run([drawn]) == [model(drawn)]
    with pytest.raises(InputError, match="'d' at position 0"):
        model([np.str_("d")])


def test_a_batch_mixes_strings_and_lists(model):
    assert model.run(("ab", ["c"], "cab")) == [["b", "a"], ["c"], ["b", "a", "c"]]
    assert model.run(x for x in ["ab", "c"]) == [["b", "a"], ["c"]]


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.run("cab"),
        lambda m: m.run_with_cache("cab"),
        lambda m: activations(m, "cab"),
    ],
    ids=["run", "run_with_cache", "activations"],
)
def test_a_bare_string_is_not_a_batch(model, call):
    with pytest.raises(InputError, match=r"takes a batch .*got the string 'cab'.*\['cab'\]"):
        call(model)


@pytest.mark.parametrize("bad", [5, None, b"cab", {"c": 1}])
def test_a_batch_must_be_a_list(model, bad):
    with pytest.raises(InputError, match="takes a batch"):
        model.run(bad)


@pytest.mark.parametrize("bad", [5, None, b"cab", {"c", "a"}])
def test_one_input_must_be_a_string_or_tokens(model, bad):
    with pytest.raises(InputError, match="a string or a list of tokens"):
        model(bad)


def test_run_with_cache_needs_equal_lengths(model):
    with pytest.raises(InputError, match=r"same length, got lengths \[2, 3\]"):
        model.run_with_cache(["ab", "cab"])
    with pytest.raises(InputError, match="empty batch"):
        model.run_with_cache([])


def test_run_with_cache_takes_token_ids(model):
    ids = np.stack([model.encode("cab"), model.encode("abc")])
    outputs, cache = model.run_with_cache(ids)
    assert outputs == [["b", "a", "c"], ["c", "b", "a"]]
    assert cache["logits"].shape == (2, 4, model.d_out)


def test_torch_module_follows_the_convention(model):
    torch = pytest.importorskip("torch")
    from rasplab.model.torch import from_compiled

    module = from_compiled(model)
    assert module.run(["cab", list("ab")]) == [["b", "a", "c"], ["b", "a"]]
    with pytest.raises(InputError, match="takes a batch"):
        module.run("cab")
    with pytest.raises(InputError, match=r"token ids \[batch, pos\] as a tensor"):
        module("cab")
    with pytest.raises(InputError, match="at most n_ctx 9"):
        module(torch.zeros((1, 10), dtype=torch.long))


def test_transformer_lens_run_follows_the_convention(model):
    pytest.importorskip("transformer_lens")
    from rasplab.model.transformer_lens import run_decoded, to_transformer_lens

    tl_model = to_transformer_lens(model)
    assert run_decoded(model, tl_model, ["cab", list("ab")]) == [["b", "a", "c"], ["b", "a"]]
    with pytest.raises(InputError, match="takes a batch"):
        run_decoded(model, tl_model, "cab")


# ------------------------------------------------------------ declared domain


def with_domain(model, pattern):
    domain = InputDomain("declared", "a's then b's", pattern)
    return replace(model, info=replace(model.info, domain=domain))


def test_an_input_outside_a_declared_domain_is_refused(model):
    narrow = with_domain(model, "a*b*")
    assert narrow("aab") == ["b", "a", "a"]
    message = r"input 'ba' is outside the model's declared domain \(a's then b's"
    with pytest.raises(InputError, match=message):
        narrow("ba")
    with pytest.raises(InputError, match="check_domain=False"):
        narrow.run(["ab", "ba"])
    with pytest.raises(InputError, match="declared domain"):
        narrow.run_with_cache(["ba"])


def test_the_domain_check_can_be_turned_off(model):
    narrow = with_domain(model, "a*b*")
    assert narrow("ba", check_domain=False) == ["a", "b"]
    assert narrow.run(["ba"], check_domain=False) == [["a", "b"]]
    assert narrow.run_with_cache(["ba"], check_domain=False)[0] == [["a", "b"]]


def test_a_domain_that_cannot_tell_lets_inputs_pass(model):
    vague = with_domain(model, None)
    assert vague("ba") == ["a", "b"]


def test_torch_module_checks_the_domain(model):
    pytest.importorskip("torch")
    from rasplab.model.torch import from_compiled

    module = from_compiled(with_domain(model, "a*b*"))
    with pytest.raises(InputError, match="declared domain"):
        module.run(["ba"])
    assert module.run(["ba"], check_domain=False) == [["a", "b"]]


def test_vocabulary_errors_come_first(model):
    with pytest.raises(InputError, match="not in the model's vocabulary"):
        with_domain(model, "a*b*")("bz")


# ------------------------------------------------------------ absurd inputs


def test_too_long_inputs(model):
    with pytest.raises(InputError, match="length 9, longer than the model's max_seq_len 8"):
        model("a" * 9)
    with pytest.raises(InputError, match="longer than"):
        model.run(["ab", "a" * 9])


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (np.zeros((1, 10), dtype=np.int64), "10 positions is more than the model's n_ctx 9"),
        (np.array([[0, 4]]), r"token ids must be 0\.\.3"),
        (np.array([[0, -1]]), r"token ids must be 0\.\.3"),
        (np.zeros((1, 3)), "int array"),
        (np.zeros(3, dtype=np.int64), "int array"),
    ],
)
def test_forward_refuses_bad_ids(model, ids, message):
    with pytest.raises(InputError, match=message):
        model.forward(ids)


def test_chunked_forward_gives_the_same_logits(model, monkeypatch):
    rng = np.random.default_rng(0)
    ids = np.concatenate([np.zeros((500, 1), int), rng.integers(1, 4, (500, 8))], axis=1)
    whole = model.forward(ids)
    monkeypatch.setattr(forward_module, "CHUNK_BYTES", 10_000)
    assert forward_module.rows_per_chunk(model, 9, np.dtype(np.float32)) < 500
    assert np.array_equal(model.forward(ids), whole)


def test_a_huge_batch_runs_in_bounded_memory(model, monkeypatch):
    monkeypatch.setattr(forward_module, "CHUNK_BYTES", 1 << 20)
    rng = random.Random(0)
    inputs = ["".join(rng.choices("abc", k=8)) for _ in range(20_000)]
    tracemalloc.start()
    try:
        outputs = model.run(inputs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outputs[7] == list(reversed(inputs[7]))
    # in one pass the activations alone take about 90 MB
    assert peak < 30 * 2**20, f"peak {peak / 2**20:.0f} MiB"


# ------------------------------------------------------------ reprs


def test_model_repr_is_short_with_shapes(model):
    text = repr(model)
    assert re.fullmatch(
        r"CompiledModel\(program='reverse', n_layers=2, heads_per_layer=\(1, 1\), "
        r"d_model=\d+, d_vocab=4, n_ctx=9, d_out=3, n_params=\d+, domain='all'\)",
        text,
    ), text
    assert f"d_model={model.d_model}," in text and f"n_params={model.n_params}," in text


def test_layer_reprs_are_short_with_shapes(model):
    block = model.blocks[1]
    h, d, e = block.attn.W_Q.shape
    assert (
        repr(block.attn) == f"Attention(n_heads={h}, d_model={d}, d_head={e}, names=('reverse',))"
    )
    assert repr(block.mlp) == f"MLP(d_model={d}, d_mlp={block.mlp.d_mlp})"
    assert repr(block) == f"Block(attn={block.attn!r}, mlp={block.mlp!r})"
    assert "array" not in repr(block) and len(repr(block)) < 200
