"""Model files cannot lie: damaged, inconsistent or hostile files are refused on load."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import safetensors.numpy

from rasplab import aggregate, indices, length, select, tokens
from rasplab.compiler import compile_program
from rasplab.errors import RaspError
from rasplab.model import load, save
from rasplab.model.io import ModelFileError, OutputPathError, read_file, write_file


@pytest.fixture(scope="module")
def model():
    program = aggregate(select(indices, length - indices - 1, "=="), tokens).named("reverse")
    return compile_program(program, "abc", 6, verify=0)


@pytest.fixture
def saved(model, tmp_path):
    return save(model, tmp_path / "m.safetensors")


def rewrite(path, change):
    """Apply ``change(arrays, meta)`` and write the file again with a fresh checksum,
    as a crafted file would be: only the shape checks stand between it and a model."""
    arrays, meta = read_file(path)
    del meta["checksum"]
    change(arrays, meta)
    write_file(path, arrays, meta)
    return path


def test_a_rewritten_file_is_still_a_model(saved, model):
    back = load(rewrite(saved, lambda arrays, meta: None))
    assert back("abc") == model("abc") == ["c", "b", "a"]


# ------------------------------------------------------------ damage


def flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_weight_byte_is_caught(saved, model):
    flip(saved, saved.read_bytes().index(model.W_E.tobytes()) + 5)
    with pytest.raises(ModelFileError, match="damaged"):
        load(saved)


def test_an_edited_value_is_caught(model, tmp_path):
    path = save(model, tmp_path / "m.safetensors")
    data = path.read_bytes()
    # same length, still valid JSON: only the checksum can tell
    edited = data.replace(b'[\\"str\\", \\"a\\"]', b'[\\"str\\", \\"z\\"]', 1)
    assert edited != data
    path.write_bytes(edited)
    with pytest.raises(ModelFileError, match="checksum does not match"):
        load(path)


def test_a_version_1_file_is_refused_with_a_way_out(saved):
    def old(arrays, meta):
        meta["version"] = 1

    with pytest.raises(ModelFileError, match="version 1.*compile the program again"):
        load(rewrite(saved, old))


def test_an_unknown_version_is_refused(saved):
    with pytest.raises(ModelFileError, match="version 99 is not supported"):
        load(rewrite(saved, lambda arrays, meta: meta.update(version=99)))


# ------------------------------------------------------------ inconsistent metadata


def _set(key, value):
    return lambda arrays, meta: meta.update({key: value})


def _drop(key):
    return lambda arrays, meta: meta.pop(key)


def _output(**fields):
    return lambda arrays, meta: meta["output"].update(fields)


def _array(name, make):
    return lambda arrays, meta: arrays.update({name: make(arrays[name])})


TAMPERING = {
    "max_seq_len negative": (_set("max_seq_len", -3), "'max_seq_len' must be an int"),
    "max_seq_len absurd": (_set("max_seq_len", 10**12), "'max_seq_len' must be an int"),
    "max_seq_len a string": (_set("max_seq_len", "6"), "'max_seq_len' must be an int"),
    "max_seq_len a bool": (_set("max_seq_len", True), "'max_seq_len' must be an int"),
    "max_seq_len smaller": (_set("max_seq_len", 5), "pos_embed.W_pos.*has shape"),
    "n_blocks absurd": (_set("n_blocks", 10**9), "'n_blocks' must be an int"),
    "n_blocks negative": (_set("n_blocks", -1), "'n_blocks' must be an int"),
    "causal a string": (_set("causal", "no"), "'causal' must be true or false"),
    "directions short": (
        lambda a, m: m["directions"].pop(),
        "embed.W_E.*has shape",
    ),
    "directions repeated": (
        lambda a, m: m["directions"].__setitem__(1, m["directions"][0]),
        "distinct",
    ),
    "vocab longer": (lambda a, m: m["vocab"].append(["str", "d"]), "embed.W_E.*has shape"),
    "vocab empty": (_set("vocab", []), "'vocab' is empty"),
    "vocab untagged": (lambda a, m: m["vocab"].__setitem__(0, "a"), "not a tagged value"),
    "one head name too many": (
        lambda a, m: m["head_names"][0].append("extra"),
        "blocks.0.attn.W_Q.*has shape",
    ),
    "head_names for a missing block": (
        lambda a, m: m["head_names"].append([]),
        "lists 3 blocks, but n_blocks is 2",
    ),
    "n_blocks larger than the arrays": (
        lambda a, m: (m.update(n_blocks=3), m["head_names"].append([])),
        "missing",
    ),
    "n_blocks smaller than the arrays": (
        lambda a, m: (m.update(n_blocks=1), m["head_names"].pop()),
        "unexpected arrays",
    ),
    "output kind unknown": (_output(kind="softmax"), "output kind 'softmax'"),
    "output values short": (lambda a, m: m["output"]["values"].pop(), "unembed.W_U.*has shape"),
    "output numerical without coords": (_output(kind="numerical"), "0 coordinates"),
    "categorical with coords": (_output(coords=["0x1p+0"]), "no coordinates"),
    "info unknown field": (
        lambda a, m: m["info"].update(colour="blue"),
        "bad model info",
    ),
    "info wrong type": (lambda a, m: m["info"].update(program=3), "bad model info"),
    "unknown field": (_set("extra", 1), "unknown fields"),
    "missing directions": (_drop("directions"), "lacks the fields \\['directions'\\]"),
    "missing output": (_drop("output"), "lacks the fields \\['output'\\]"),
    "metadata a list": (None, "not a compiled rasplab model"),
    "W_Q and W_K swapped axes": (
        _array("blocks.0.attn.W_Q", lambda w: w.transpose(0, 2, 1)),
        "blocks.0.attn.W_Q.*has shape",
    ),
    "W_U transposed": (_array("unembed.W_U", lambda w: w.T.copy()), "unembed.W_U.*has shape"),
    "W_in flat": (_array("blocks.0.mlp.W_in", lambda w: w.reshape(-1)), "mlp.W_in.*has shape"),
    "b_out longer": (
        _array("blocks.1.mlp.b_out", lambda w: np.append(w, 0.0)),
        "mlp.b_out.*has shape",
    ),
    "a NaN weight": (_array("embed.W_E", lambda w: w * np.nan), "not finite"),
    "an infinite weight": (_array("unembed.b_U", lambda w: w + np.inf), "not finite"),
    "an extra array": (
        lambda a, m: a.update({"blocks.0.attn.W_X": np.zeros(2)}),
        "unexpected arrays",
    ),
    "a missing array": (lambda a, m: a.pop("blocks.1.attn.b_O"), "missing"),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_inconsistent_file_is_a_model_file_error(saved, case):
    change, message = TAMPERING[case]
    if change is None:  # the metadata is not even an object
        _replace_meta(saved, json.dumps([1, 2]))
    else:
        rewrite(saved, change)
    with pytest.raises(ModelFileError, match=message) as caught:
        load(saved)
    assert str(saved) in str(caught.value)


def _replace_meta(path, text):
    arrays, _ = read_file(path)
    safetensors.numpy.save_file(arrays, str(path), metadata={"rasplab": text})


# ------------------------------------------------------------ hostile containers
# The safetensors package refuses a malformed container; these check that its
# refusal still reaches the user as a ModelFileError naming the file and the fault.


def _header(path):
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + size])


def _write_header(path, header, raw=None):
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    body = data[8 + size :]
    raw = raw if raw is not None else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


@pytest.fixture
def tensors(model, tmp_path):
    return save(model, tmp_path / "m.safetensors")


def test_a_deeply_nested_header_is_refused(tensors):
    _write_header(tensors, None, b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        load(tensors)


def test_deeply_nested_metadata_is_refused(model, tmp_path):
    path = save(model, tmp_path / "m.safetensors")
    _replace_meta(path, "[" * 200_000 + "]" * 200_000)
    with pytest.raises(ModelFileError, match="nested too deeply"):
        load(path)


def test_a_header_length_over_the_limit_names_it(tensors):
    data = tensors.read_bytes()
    tensors.write_bytes(struct.pack("<Q", 1 << 40) + data[8:])
    with pytest.raises(ModelFileError, match="16 MiB"):
        load(tensors)


def test_a_header_length_past_the_end(tensors):
    data = tensors.read_bytes()
    tensors.write_bytes(struct.pack("<Q", len(data)) + data[8:])
    with pytest.raises(ModelFileError, match="not a readable safetensors file.*header length"):
        load(tensors)


def _edit_entry(path, name, **fields):
    header = _header(path)
    header[name].update(fields)
    _write_header(path, header)


def test_negative_offsets(tensors):
    _edit_entry(tensors, "embed.W_E", data_offsets=[-8, 0])
    with pytest.raises(ModelFileError, match="not a readable safetensors file.*-8"):
        load(tensors)


def test_overlapping_offsets(tensors):
    header = _header(tensors)
    header["unembed.b_U"]["data_offsets"] = header["embed.W_E"]["data_offsets"]
    header["unembed.b_U"]["shape"] = header["embed.W_E"]["shape"]
    _write_header(tensors, header)
    with pytest.raises(ModelFileError, match="not a readable safetensors file.*invalid offset"):
        load(tensors)


def test_offsets_that_do_not_fit_the_shape(tensors):
    _edit_entry(tensors, "embed.W_E", shape=[1000, 1000])
    with pytest.raises(ModelFileError, match="not a readable safetensors file.*offset"):
        load(tensors)


def test_another_dtype_is_refused(tensors):
    rows, cols = _header(tensors)["embed.W_E"]["shape"]
    # the same bytes read as twice as many float32s: a container the package accepts
    _edit_entry(tensors, "embed.W_E", dtype="F32", shape=[2 * rows, cols])
    with pytest.raises(ModelFileError, match="'embed.W_E' has dtype float32"):
        load(tensors)


def test_trailing_bytes_are_refused(tensors):
    tensors.write_bytes(tensors.read_bytes() + b"\0" * 8)
    with pytest.raises(ModelFileError, match="not fully covered"):
        load(tensors)


def test_a_file_of_another_program_says_what_is_missing(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"w": np.ones(3)}, str(path), metadata={"author": "me"})
    with pytest.raises(ModelFileError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message and "not a compiled rasplab model" in message
    assert "'rasplab'" in message and "['author']" in message


@pytest.mark.parametrize("action", ["save", "load"])
def test_npz_is_refused_naming_safetensors(model, tmp_path, action):
    path = tmp_path / "m.npz"
    with pytest.raises(ModelFileError, match=r"no longer reads or writes \.npz.*\.safetensors"):
        save(model, path) if action == "save" else load(path)
    assert not path.exists()


# ------------------------------------------------------------ output paths


def test_saving_into_a_missing_folder(model, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "x.safetensors"
    with pytest.raises(OutputPathError, match="cannot write the model to .*No such file") as e:
        save(model, target)
    assert isinstance(e.value, ModelFileError) and isinstance(e.value, RaspError)


def test_saving_onto_a_folder(model, tmp_path):
    (tmp_path / "taken.safetensors").mkdir()
    with pytest.raises(OutputPathError, match="cannot write.*directory"):
        save(model, tmp_path / "taken.safetensors")


@pytest.mark.parametrize("name", ["x.txt", "x", "x.safetensor", "x.NPZ"])
def test_other_suffixes_are_refused(model, tmp_path, name):
    with pytest.raises(OutputPathError, match=r"must end in \.safetensors"):
        save(model, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_loading_another_suffix_is_refused(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ModelFileError, match=r"'.*x.txt'.*must end in \.safetensors"):
        load(tmp_path / "x.txt")


def test_a_domain_pattern_that_is_not_a_regex_is_refused(saved):
    def bad_pattern(arrays, meta):
        meta["info"]["domain"] = {"kind": "declared", "description": "x", "pattern": "(ab"}

    with pytest.raises(ModelFileError, match="not a regular expression"):
        load(rewrite(saved, bad_pattern))


def test_a_declared_domain_survives_the_round_trip(saved):
    def declared(arrays, meta):
        meta["info"]["domain"] = {"kind": "declared", "description": "a's", "pattern": "a*"}

    back = load(rewrite(saved, declared))
    assert back.info.domain.contains(["a", "a"]) is True
    with pytest.raises(RaspError, match="declared domain"):
        back("ab")
