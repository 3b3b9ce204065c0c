"""Saved model files open in other tools: safetensors itself, TransformerLens, PyTorch.

Each tool reads the file its own way; the logits must equal rasplab's numpy
forward pass on the same token ids.
"""

from __future__ import annotations

import numpy as np
import pytest
import safetensors.numpy

from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS
from rasplab.model import load, save

MAX_LEN = 5


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """sort: 2 heads in layer 0 and 1 in layer 1, so TransformerLens needs padding."""
    entry = PROGRAMS["sort"]
    model = compile_program(entry.build(), entry.vocab, MAX_LEN, verify=0, sample=entry.sample)
    path = save(model, tmp_path_factory.mktemp("files") / "sort.safetensors")
    ids = np.stack([model.encode(xs) for xs in ("bdcae", "eeabc")])
    return path, model, ids


def test_the_safetensors_package_reads_transformer_lens_names(saved):
    path, model, _ = saved
    arrays = safetensors.numpy.load_file(str(path))
    assert {"embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U"} <= set(arrays)
    assert {"blocks.0.attn.W_Q", "blocks.1.attn.W_O", "blocks.0.mlp.W_in"} <= set(arrays)
    for name, array in model.arrays().items():
        assert arrays[name].dtype == np.float64 and np.array_equal(arrays[name], array), name


def test_the_metadata_is_one_json_string_under_rasplab(saved):
    import json

    path = saved[0]
    with safetensors.safe_open(str(path), framework="np") as fh:
        meta = json.loads(fh.metadata()["rasplab"])
    assert meta["format"] == "rasplab-compiled-model" and meta["version"] == 2
    assert meta["checksum"].startswith("sha256:")
    assert meta["output"]["kind"] == "categorical" and meta["n_blocks"] == 2


torch = pytest.importorskip("torch")
transformer_lens = pytest.importorskip("transformer_lens")

from rasplab.model.transformer_lens import (  # noqa: E402
    load_transformer_lens,
    to_transformer_lens,
    transformer_lens_state_dict,
)


def _logits(tl_model, ids):
    with torch.no_grad():
        return tl_model(torch.tensor(ids)).double().numpy()


def test_transformer_lens_from_the_file_gives_the_numpy_logits(saved):
    path, model, ids = saved
    tl_model = load_transformer_lens(path, dtype=torch.float64, bridge=False)
    assert type(tl_model).__name__ == "HookedTransformer"
    np.testing.assert_allclose(_logits(tl_model, ids), model.forward(ids, np.float64), atol=1e-9)


def _blank(model):
    """A HookedTransformer of the model's shape whose weights are all zero."""
    tl_model = to_transformer_lens(model, dtype=torch.float64, bridge=False)
    with torch.no_grad():
        for param in tl_model.parameters():
            param.zero_()
    return tl_model


def test_a_plain_state_dict_read_by_safetensors_torch_loads(saved):
    """No rasplab reading: safetensors.torch's tensors, padded to the widest layer."""
    import safetensors.torch

    path, model, ids = saved
    tl_model = _blank(model)
    target = tl_model.state_dict()
    state = {}
    for name, tensor in safetensors.torch.load_file(str(path)).items():
        padded = torch.zeros_like(target[name])
        padded[tuple(slice(0, n) for n in tensor.shape)] = tensor
        state[name] = padded
    missing, unexpected = tl_model.load_state_dict(state, strict=False)
    assert not unexpected
    assert all(k.endswith((".mask", ".IGNORE")) for k in missing)  # TransformerLens's buffers
    np.testing.assert_allclose(_logits(tl_model, ids), model.forward(ids, np.float64), atol=1e-9)


def test_rasplab_state_dict_helper_loads_the_same_weights(saved):
    path, model, ids = saved
    tl_model = _blank(model)
    state = transformer_lens_state_dict(path, dtype=torch.float64)
    missing, unexpected = tl_model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith((".mask", ".IGNORE")) for k in missing)
    np.testing.assert_allclose(_logits(tl_model, ids), model.forward(ids, np.float64), atol=1e-9)
    assert load(path)("cab") == model("cab") == ["a", "b", "c"]
