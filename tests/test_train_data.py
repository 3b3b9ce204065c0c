"""Training data: inputs, labels and target attention from the evaluator (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import indices, map, tokens
from rasplab.errors import ProgramNotFoundError, TrainingError
from rasplab.library import PROGRAMS
from rasplab.train.data import BOS, IGNORE, PAD, dataset, make_task, normalise, parse_vocab, splits


def test_shapes_and_head_mask_follow_the_analysis():
    data = dataset("double_hist", vocab="abc", lengths=6, n=20, seed=0)
    assert data.tokens.shape == data.labels.shape == (20, 7)
    assert data.patterns.shape == (20, 2, 2, 7, 7) and data.patterns.dtype == bool
    assert data.head_mask.tolist() == [[True, True], [True, False]]
    assert not data.patterns[:, 1, 1].any()  # the empty slot holds nothing


def test_rows_are_normalised_and_padding_is_zero():
    data = dataset("most_freq", lengths=8, n=30, seed=1)
    attention = data.attention
    for i, xs in enumerate(data.inputs):
        n = len(xs) + 1
        rows = attention[i][data.head_mask][:, :n, :n].sum(-1)
        assert np.allclose(rows, 1.0)
        assert not attention[i, :, :, n:].any() and not attention[i, :, :, :, n:].any()


def test_tokens_and_labels_encode_inputs_and_reference_outputs():
    entry = PROGRAMS["sort"]
    data = dataset("lib:sort", lengths=5, n=15, seed=2)
    for i, xs in enumerate(data.inputs):
        n = len(xs)
        assert data.tokens[i, 0] == BOS and (data.tokens[i, n + 1 :] == PAD).all()
        assert [data.in_vocab[t - 2] for t in data.tokens[i, 1 : n + 1]] == xs
        assert data.labels[i, 0] == IGNORE and (data.labels[i, n + 1 :] == IGNORE).all()
        decoded = [data.out_vocab[c] for c in data.labels[i, 1 : n + 1]]
        assert decoded == data.outputs[i] == entry.reference(xs)


def test_reverse_targets_are_length_then_flip():
    data = dataset("reverse", lengths=[5], n=3, seed=0)
    length_head, flip_head = data.attention[0, 0, 0], data.attention[0, 1, 0]
    assert np.allclose(length_head[1:6, :6], 1 / 6)  # BOS and all five tokens: width + 1
    for q in range(5):
        assert flip_head[q + 1, 5 - q] == 1.0  # query q attends key n - 1 - q


def test_rows_selecting_nothing_attend_to_bos():
    data = dataset("shift", lengths=[4], n=2, seed=0)  # query 0 has no previous token
    assert data.attention[0, 0, 0, 1].tolist() == [1, 0, 0, 0, 0]
    assert data.attention[0, 0, 0, 2].tolist() == [0, 1, 0, 0, 0]


def test_width_heads_include_bos():
    data = dataset("hist", vocab="ab", lengths=[4], n=5, seed=3)
    for i, xs in enumerate(data.inputs):
        for q, token in enumerate(xs):
            same = sum(t == token for t in xs)
            assert data.attention[i, 0, 0, q + 1, 0] == pytest.approx(1 / (same + 1))


def test_dyck_keeps_its_bracket_sampler_and_splits_share_classes():
    task = make_task("dyck2", lengths=12)
    train, test = splits(task, (50, 30), seed=0)
    assert {t for xs in train.inputs for t in xs} <= set("(){}")
    assert train.out_vocab == test.out_vocab == ("F", "P", "T")


def test_user_program_with_vocab():
    doubled = map(lambda t: 2 * t, tokens).named("doubled")
    data = dataset(doubled, vocab=[1, 2, 3], lengths=3, n=4, seed=0)
    assert data.patterns.shape == (4, 0, 0, 4, 4)
    assert all(ys == [2 * t for t in xs] for xs, ys in zip(data.inputs, data.outputs, strict=True))


def test_normalise_and_parse_vocab():
    assert normalise(np.array([[1, 1, 0, 0]], dtype=bool)).tolist() == [[0.5, 0.5, 0, 0]]
    assert parse_vocab("ab") == ("a", "b") and parse_vocab("1,-2,x") == (1, -2, "x")


@pytest.mark.parametrize(
    ("program", "vocab", "message"),
    [
        ("dyck1", "abc", "vocabulary mismatch"),
        (indices + tokens, "abc", "vocabulary mismatch"),
        (tokens, None, "give its vocabulary"),
        ("hist", "aab", "distinct tokens"),
    ],
)
def test_bad_vocabularies(program, vocab, message):
    with pytest.raises(TrainingError, match=message):
        make_task(program, vocab, 6)


def test_unknown_program_and_bad_lengths():
    with pytest.raises(ProgramNotFoundError, match="no library program"):
        make_task("lib:nope")
    with pytest.raises(TrainingError, match="no input length"):
        make_task("hist", lengths=[0])
