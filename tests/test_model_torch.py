"""The PyTorch module agrees with the numpy reference (skipped without torch)."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from rasplab.compiler import compile_program
from rasplab.errors import RaspError
from rasplab.library import PROGRAMS

torch = pytest.importorskip("torch")
from rasplab.model.torch import from_compiled  # noqa: E402


@pytest.fixture(scope="module", params=["sort", "frac_prevs", "dyck1"])
def case(request):
    entry = PROGRAMS[request.param]
    model = compile_program(entry.build(), entry.vocab, 10, verify=0, sample=entry.sample)
    rng = random.Random(0)
    ids = np.stack([model.encode(entry.sample(rng, 10)) for _ in range(16)])
    return model, ids


@pytest.mark.parametrize(
    ("np_dtype", "torch_dtype"), [("float32", "float32"), ("float64", "float64")]
)
def test_agrees_with_numpy(case, np_dtype, torch_dtype):
    model, ids = case
    module = from_compiled(model, getattr(torch, torch_dtype))
    want = model.forward(ids, np_dtype)
    with torch.no_grad():
        got = module(torch.tensor(ids)).numpy()
    assert np.abs(got - want).max() <= 1e-6 * max(1.0, np.abs(want).max())


def test_conversion_moves_every_weight(case):
    model, ids = case
    module = from_compiled(model).to(torch.float64)  # must reach the compact copies too
    with torch.no_grad():
        got = module(torch.tensor(ids)).numpy()
    assert got.dtype == np.float64
    assert np.abs(got - model.forward(ids, "float64")).max() <= 1e-9


def test_state_dict_uses_transformer_lens_names(case):
    model, _ = case
    keys = set(from_compiled(model).state_dict())
    assert set(model.arrays()) == keys


def test_run_decodes_like_numpy(case):
    model, ids = case
    inputs = [[model.vocab[i - 1] for i in row[1:]] for row in ids]
    assert from_compiled(model).run(inputs) == model.run(inputs)


def test_missing_torch_names_the_extra(monkeypatch):
    import rasplab.model.torch as module

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(RaspError, match=r"rasplab\[torch\]"):
        module.require_torch()


@pytest.mark.parametrize(("slices", "table"), [(False, 0), (False, 1 << 22), (True, 0)])
def test_gather_slice_and_table_paths_agree(case, monkeypatch, slices, table):
    """Reads and writes as gathers or as slices, embeddings summed ahead or not: same logits."""
    import rasplab.model.torch_layers as module

    model, ids = case
    monkeypatch.setattr(module, "SLICES", slices)
    monkeypatch.setattr(module, "MAX_TABLE", table)
    with torch.no_grad():
        got = from_compiled(model, torch.float64)(torch.tensor(ids)).numpy()
    assert np.abs(got - model.forward(ids, "float64")).max() <= 1e-9


def test_causal_module_matches_numpy():
    from rasplab import aggregate, indices, numerical, select, tokens

    prefix = select(indices, indices, "<=")
    seen_a = numerical(aggregate(prefix, numerical(tokens.map(lambda t: t == "a"))))
    model = compile_program(seen_a, "ab", 10, causal=True, verify=0)
    ids = np.stack([model.encode(list(w)) for w in ("abbabaabab", "bbbbbbbbba", "aaaaaaaaaa")])
    with torch.no_grad():
        got = from_compiled(model, torch.float64)(torch.tensor(ids)).numpy()
    assert np.abs(got - model.forward(ids, "float64")).max() <= 1e-9


def test_public_name_is_rasplab_torch(case):
    import rasplab.torch

    model, ids = case
    with torch.no_grad():
        got = rasplab.torch.from_compiled(model, torch.float64)(torch.tensor(ids)).numpy()
    assert np.abs(got - model.forward(ids, "float64")).max() <= 1e-9
