"""Saving and loading compiled models: bit-exact round trips, clear errors, no pickle."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from rasplab import aggregate, indices, select, selector_width, tokens
from rasplab.compiler import compile_program
from rasplab.errors import RaspError
from rasplab.model import load, save
from rasplab.model.io import ModelFileError


@pytest.fixture(scope="module")
def model():
    shifted = aggregate(select(indices, indices - 1, "=="), tokens, default=None)
    return compile_program(shifted, ["a", 1, 1.5, True], 6, verify=0)


def test_round_trip_is_bit_exact(model, tmp_path):
    path = save(model, tmp_path / "m.safetensors")
    back = load(path)
    for name, array in model.arrays().items():
        assert np.array_equal(array, back.arrays()[name]), name
    assert back.directions == model.directions
    assert back.vocab == model.vocab and [type(v) for v in back.vocab] == [
        type(v) for v in model.vocab
    ]
    assert back.output == model.output
    assert back.info == model.info
    xs = ["a", 1, True, 1.5]
    assert back(xs) == model(xs)


def test_numerical_output_round_trip(tmp_path):
    count = selector_width(select(tokens, tokens, "<"))
    m = compile_program(count, "abc", 5, verify=0)
    back = load(save(m, tmp_path / "c.safetensors"))
    assert back("cab") == m("cab") == [2, 0, 1]


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"this is not a model")
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        load(path)
    assert issubclass(ModelFileError, RaspError)


def test_foreign_safetensors(tmp_path):
    header = json.dumps({"w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}).encode()
    path = tmp_path / "other.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + np.ones(1).tobytes())
    with pytest.raises(ModelFileError, match="not a compiled rasplab model"):
        load(path)


def test_truncated_safetensors(model, tmp_path):
    path = save(model, tmp_path / "m.safetensors")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelFileError):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load(tmp_path / "nothing.safetensors")
