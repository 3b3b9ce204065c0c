"""Compiled initialisation and distillation (CPU, tiny lengths)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rasplab import map, numerical, select, selector_width, tokens  # noqa: E402
from rasplab.cli.train import main  # noqa: E402
from rasplab.compiler import compile_program  # noqa: E402
from rasplab.errors import TrainingError  # noqa: E402
from rasplab.train import (  # noqa: E402
    TrainConfig,
    compiled_transformer,
    dataset,
    distil,
    fine_tune,
    make_task,
    run_compiled,
)
from rasplab.train.data import BOS, PAD  # noqa: E402
from rasplab.train.model import Transformer  # noqa: E402
from rasplab.train.scoring import as_tensors, evaluate_model  # noqa: E402

TINY = TrainConfig(n_train=300, n_test=100, d_model=32, ff_mult=2, lr=3e-3, threads=1)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models train fastest on one thread (and the machine is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _all_inputs(vocab, max_len):
    return [list(xs) for n in range(1, max_len + 1) for xs in itertools.product(vocab, repeat=n)]


def _padded(inputs, vocab, width):
    """Train-package ids: BOS 0, PAD 1, vocab[i] is 2 + i; [n, width]."""
    ids = np.full((len(inputs), width), PAD, dtype=np.int64)  # [n, width]
    ids[:, 0] = BOS
    for row, xs in enumerate(inputs):
        ids[row, 1 : len(xs) + 1] = [2 + vocab.index(t) for t in xs]
    return torch.as_tensor(ids)


@pytest.mark.parametrize("name", ["hist", "reverse", "sort", "dyck1"])
def test_copy_reproduces_the_compiled_model_on_padded_batches(name):
    task = make_task(name, vocab="()" if name == "dyck1" else "abc", lengths=4)
    vocab = list(task.vocab)[::-1]  # another token order than the compiler's
    compiled = compile_program(task.program, task.vocab, 4, verify=0)
    model = compiled_transformer(compiled, vocab)
    assert isinstance(model, Transformer)
    inputs = _all_inputs(task.vocab, 4)
    with torch.no_grad():
        logits, _ = model(_padded(inputs, vocab, 5))  # [n, 5, classes], lengths mixed
    values = compiled.output.values
    for row, xs in enumerate(inputs):
        want = compiled.forward(compiled.encode(xs)[None], np.float64)[0]  # [1 + len, classes]
        got = logits[row, : len(xs) + 1].double().numpy()
        np.testing.assert_allclose(got, want, atol=1e-4)
        assert [values[i] for i in got[1:].argmax(-1)] == compiled(xs)


def test_fine_tuning_starts_exact_and_changes_the_weights():
    task = make_task("hist", vocab="ab", lengths=3)
    compiled = compile_program(task.program, task.vocab, 5, verify=0)
    data = dataset(task, n=100, seed=0, out_vocab=compiled.output.values)
    before = evaluate_model(compiled_transformer(compiled, task.vocab), as_tensors(data, "cpu"))
    assert before["seq_acc"] == 1.0
    model, fit = fine_tune(compiled, data, TINY.replace(steps=30, lr=1e-4, weight_decay=0.0))
    assert fit["steps"] == 30
    after = evaluate_model(model, as_tensors(data, "cpu"))
    assert after["loss"] < before["loss"] and after["seq_acc"] == 1.0  # larger margins
    untouched = compiled_transformer(compiled, task.vocab).state_dict()
    assert any(not torch.equal(v, untouched[k]) for k, v in model.state_dict().items())


def test_frozen_embeddings_stay_compiled_while_the_rest_trains():
    task = make_task("hist", vocab="ab", lengths=3)
    compiled = compile_program(task.program, task.vocab, 5, verify=0)
    data = dataset(task, n=100, seed=0, out_vocab=compiled.output.values)
    tuned = TINY.replace(steps=20, lr=1e-3, weight_decay=0.0)
    model, _ = fine_tune(compiled, data, tuned, freeze_embeddings=True)
    untouched = compiled_transformer(compiled, task.vocab).state_dict()
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, untouched[k])}
    assert changed and not changed & {"embed.weight", "position"}


def test_distillation_learns_the_compiled_outputs_without_labels():
    task = make_task("hist", vocab="ab", lengths=4)
    compiled = compile_program(task.program, task.vocab, 6, verify=0)
    data = dataset(task, n=300, seed=0, out_vocab=compiled.output.values)
    data.labels[:] = -100  # distillation must not read labels: hide them all
    model, fit = distil(compiled, task, data, TINY.replace(steps=600))
    test = dataset(task, n=100, seed=1, out_vocab=compiled.output.values)
    assert evaluate_model(model, as_tensors(test, "cpu"))["seq_acc"] >= 0.9
    assert model.shape["max_len"] == 6  # positions for the compiled lengths


def test_attention_distillation_follows_the_compiled_heads():
    task = make_task("sort", vocab="abc", lengths=4)
    compiled = compile_program(task.program, task.vocab, 4, verify=0)
    data = dataset(task, n=300, seed=0, out_vocab=compiled.output.values)
    teacher = compiled_transformer(compiled, task.vocab)
    ids = torch.as_tensor(data.tokens[:50])  # [50, 5]

    def attention_gap(model):
        """Mean total variation to the teacher's first-layer heads, real query rows."""
        with torch.no_grad():
            mine, theirs = model(ids)[1][0].exp(), teacher(ids)[1][0].exp()  # [b, H, q, k]
        gap = 0.5 * (mine[:, :2] - theirs[:, :2]).abs().sum(-1)  # [b, 2, q]
        return gap[:, :, 1:][(ids[:, 1:] != PAD)[:, None].expand(-1, 2, -1)].mean().item()

    plain, _ = distil(compiled, task, data, TINY.replace(steps=150), attn_weight=0.0)
    guided, _ = distil(compiled, task, data, TINY.replace(steps=150), attn_weight=1.0)
    assert [b.attn.heads for b in guided.blocks] == [2, 2]  # the compiled heads per layer
    assert attention_gap(guided) < 0.5 * attention_gap(plain)


def test_what_cannot_be_copied_is_a_training_error():
    task = make_task("hist", vocab="ab", lengths=3)
    causal = compile_program(map(lambda t: t == "a", tokens), "ab", 3, causal=True, verify=0)
    with pytest.raises(TrainingError, match="causal"):
        compiled_transformer(causal, task.vocab)
    ratio = numerical(selector_width(select(tokens, tokens, "==")))
    with pytest.raises(TrainingError, match="categorical"):
        compiled_transformer(compile_program(ratio, "ab", 3, verify=0), task.vocab)
    compiled = compile_program(task.program, "ab", 3, verify=0)
    with pytest.raises(TrainingError, match="not in the compiled vocabulary"):
        compiled_transformer(compiled, ["a", "z"])
    with pytest.raises(TrainingError, match="train_len < test_len"):
        run_compiled(tasks=("hist",), train_len=4, test_len=4)


def test_a_tiny_experiment_and_its_command(tmp_path, capsys):
    tiny = dict(steps=5, n_train=60, n_test=20, time_limit=0.0)
    rows = run_compiled(
        tmp_path / "api", tasks=("hist",), train_len=2, test_len=4, changes=tiny, verbose=False
    )
    by_model = {r["model"]: r for r in rows}
    assert len(by_model) == 8 and by_model["from scratch (labels)"]["steps"] == 5
    for exact in ("compiled (numpy)", "compiled copy, untrained"):
        assert by_model[exact]["short_seq"] == by_model[exact]["long_seq"] == 1.0
    table = (tmp_path / "api" / "results.md").read_text()
    assert "| hist | compiled copy, untrained | [1] |" in table and "seq acc 3-4" in table
    assert json.loads((tmp_path / "api" / "results.json").read_text())["test_len"] == 4
    out = tmp_path / "cli"
    argv = ["experiment", "compiled", "--quick", "--tasks", "hist", "--steps", "2", "-o", str(out)]
    assert main(argv) == 0
    assert "distilled (outputs)" in capsys.readouterr().out
    assert main(argv) == 1 and "--force" in capsys.readouterr().err
    assert main(["experiment", "compiled", "--tasks", "nope", "-o", str(out)]) == 2
