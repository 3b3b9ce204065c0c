"""Training: model, loop, supervision, checkpoints, CLI and bad input (CPU, small)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rasplab import map, tokens  # noqa: E402
from rasplab.cli.train import main  # noqa: E402
from rasplab.errors import TrainingError  # noqa: E402
from rasplab.train import TrainConfig, checkpoint, load_run, train  # noqa: E402
from rasplab.train.experiment import plan, run_paper, task_configs  # noqa: E402
from rasplab.train.loop import _attn_weight, _schedule  # noqa: E402
from rasplab.train.model import Transformer  # noqa: E402

SMALL = TrainConfig(
    program="hist",
    vocab=("a", "b", "c"),
    max_len=6,
    n_train=1000,
    n_val=200,
    n_test=200,
    d_model=32,
    ff_mult=2,
    steps=300,
    lr=3e-3,
    eval_every=100,
    threads=1,
)


@pytest.fixture(scope="module")
def hist_run(tmp_path_factory):
    """One supervised hist run with a run directory, shared by several tests."""
    out = tmp_path_factory.mktemp("hist_run")
    return train(SMALL.replace(attn_supervision=True), out_dir=out), out


def test_hist_reaches_high_accuracy_in_a_few_hundred_steps(hist_run):
    result, _ = hist_run
    test = result.metrics["test"]
    assert test["seq_acc"] >= 0.95 and test["pos_acc"] >= 0.97
    assert test["agreement"] >= 0.95
    assert result.metrics["model"] == {
        "layers": 1,
        "heads": 1,
        "parameters": result.metrics["model"]["parameters"],
    }


def test_accuracy_per_input_length_matches_the_overall_accuracy():
    from rasplab.train.data import dataset
    from rasplab.train.scoring import as_tensors, evaluate_model

    data = dataset("hist", "abc", 4, n=60, seed=1)
    model = Transformer.from_config(SMALL.replace(layers=1, heads=1), 5, len(data.out_vocab))
    scores = evaluate_model(model, as_tensors(data, "cpu"), batch_size=16)
    lengths = [int((row[1:] >= 0).sum()) for row in data.labels]
    by_length = scores["seq_acc_by_length"]
    assert sorted(by_length) == sorted(str(k) for k in set(lengths))
    overall = sum(by_length[str(k)] * lengths.count(k) for k in set(lengths)) / len(lengths)
    assert overall == pytest.approx(scores["seq_acc"])


def test_run_directory_and_checkpoint_round_trip(hist_run):
    result, out = hist_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"] == result.metrics["test"] and metrics["history"]
    assert json.loads((out / "config.json").read_text())["layers"] == 1
    loaded = load_run(out)
    inputs = [list("abca"), list("c"), list("bbbbbb")]
    with torch.no_grad():
        mine, _ = result.model(torch.as_tensor(loaded.encode(inputs)))
        theirs, _ = loaded.model(torch.as_tensor(loaded.encode(inputs)))
    assert torch.equal(mine, theirs)
    assert [len(ys) for ys in loaded.predict(inputs)] == [4, 1, 6]


def test_plots_or_a_note(hist_run, tmp_path, monkeypatch):
    _, out = hist_run
    metrics = json.loads((out / "metrics.json").read_text())
    if isinstance(metrics["plots"], list):
        assert metrics["plots"] == ["curves.png", "lengths.png", "attention.png"]
        assert all((out / name).stat().st_size > 0 for name in metrics["plots"])

    def missing():
        raise ImportError("no matplotlib")

    monkeypatch.setattr("rasplab.train.plots._pyplot", missing)
    result = train(SMALL.replace(steps=5, n_train=100), out_dir=tmp_path / "bare")
    assert result.metrics["plots"].startswith("skipped: matplotlib is not installed")


def test_checkpoints_open_with_the_safetensors_package(tmp_path):
    path = tmp_path / "c.safetensors"
    arrays = {"b": np.ones((2,), np.int64), "a": np.zeros((1, 3), np.float32)}
    checkpoint.save(path, arrays, {"note": "x"})
    tensors, meta = checkpoint.load(path)
    assert meta == {"note": "x"} and tensors["b"].tolist() == [1, 1]
    assert tensors["a"].dtype == np.float32
    safetensors = pytest.importorskip("safetensors.numpy")
    assert safetensors.load_file(str(path))["a"].shape == (1, 3)


def test_a_damaged_checkpoint_is_a_training_error(tmp_path):
    path = tmp_path / "c.safetensors"
    path.write_bytes(b"\x08" + b"\0" * 7 + b"not json")
    with pytest.raises(TrainingError, match="not a readable safetensors checkpoint"):
        checkpoint.load(path)


def test_supervision_makes_attention_follow_the_program():
    config = SMALL.replace(program="sort", n_train=600, eval_every=50, target_acc=1.1)
    supervised = train(config.replace(attn_supervision=True, attn_weight=1.0))
    plain = train(config)
    kl = [h["val_attn_kl"] for h in supervised.history]
    assert kl[-1] < 0.5 * kl[0]  # the supervision loss goes down...
    assert kl[-1] < 0.5 * plain.history[-1]["val_attn_kl"]  # ...far below an unsupervised run
    agreement = supervised.metrics["test"]["agreement"]
    assert agreement > plain.metrics["test"]["agreement"] + 0.15


def test_same_seed_same_run():
    config = SMALL.replace(steps=30, eval_every=10, n_train=200)
    first, second = train(config), train(config)
    assert [h["loss"] for h in first.history] == [h["loss"] for h in second.history]


def test_model_variants_and_shapes():
    ids = torch.tensor([[0, 2, 3, 4, 1]])  # BOS, three tokens, PAD
    for positions, norm in [("onehot", "none"), ("learned", "pre")]:
        model = Transformer(5, 3, 4, layers=2, heads=3, d_model=8, positions=positions, norm=norm)
        logits, patterns = model(ids)
        assert logits.shape == (1, 5, 3) and patterns[1].shape == (1, 3, 5, 5)
        attn = patterns[0].exp()
        assert torch.allclose(attn.sum(-1), torch.ones(1, 3, 5))
        assert attn[..., 4].max() < 1e-6  # nobody attends to padding
    with pytest.raises(TrainingError, match="one-hot positions"):
        Transformer(5, 3, 16, layers=1, heads=1, d_model=8, positions="onehot")


def test_bad_input_errors(tmp_path):
    doubled = map(lambda t: t + t, tokens).named("doubled")
    with pytest.raises(TrainingError, match="no attention"):
        train(SMALL.replace(program="doubled", attn_supervision=True), doubled)
    with pytest.raises(TrainingError, match="too small to supervise.*layer 1 needs 2 heads"):
        train(SMALL.replace(program="double_hist", heads=1, attn_supervision=True))
    with pytest.raises(TrainingError, match="vocabulary mismatch"):
        train(SMALL.replace(program="dyck1"))
    with pytest.raises(TrainingError, match="bad training configuration"):
        SMALL.replace(layers=0)
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(TrainingError, match="not empty"):
        train(SMALL.replace(steps=1), out_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(TrainingError, match="no CUDA device"):
        train(SMALL.replace(device="cuda"))


def test_cli_train_in_process(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "lib:hist", "--vocab", "ab", "--max-len", "4", "--steps", "20"]
    argv += ["--n-train", "200", "--n-val", "50", "--n-test", "50", "--threads", "1"]
    argv += ["--attn-supervision", "--quiet", "-o", str(out)]
    assert main(argv) == 0
    assert "test sequence accuracy" in capsys.readouterr().out
    assert {"config.json", "model.safetensors", "metrics.json"} <= {p.name for p in out.iterdir()}
    assert main(argv) == 1 and "--force" in capsys.readouterr().err
    assert main([*argv, "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["program"] == "hist"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["train", "nope", "-o", "x"], 2, "unknown program"),
        (["train", "lib:nope", "-o", "x"], 2, "unknown program"),
        (["train", "dyck1", "--vocab", "ab", "-o", "x"], 1, "vocabulary mismatch"),
        (["train", "sort", "--attn-supervision", "--layers", "1", "-o", "x"], 1, "too small"),
        (["experiment", "paper", "--tasks", "add"], 2, "not a task"),
        (["experiment", "paper", "--sizes", "L-2"], 1, "unknown size L-2"),
        (["experiment", "paper", "--set", "lr"], 1, "expected FIELD=VALUE"),
        (["experiment", "paper", "--set", "rate=1"], 1, "FIELD one of"),
        (["experiment", "paper", "--set", "lr=fast"], 1, "expected a float, got 'fast'"),
        (["experiment", "paper", "--set", "steps=0"], 1, "steps and epochs must be positive"),
    ],
)
def test_cli_errors(tmp_path, capsys, monkeypatch, argv, code, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_experiment_plan_and_a_tiny_run(tmp_path):
    sizes = [(r["layers"], r["heads"], r["supervised"]) for r in plan(("double_hist",))]
    assert sizes == [(2, 2, True), (2, 2, False), (2, 1, False), (1, 2, False), (1, 4, False)]
    assert len(plan()) == 29
    tiny = dict(steps=10, n_train=100, n_val=20, n_test=20, max_len=5, eval_every=5)
    rows = run_paper(tmp_path, tasks=("hist",), jobs=1, changes=tiny, verbose=False)
    assert [(r["layers"], r["supervised"]) for r in rows] == [(1, True), (1, False)]
    table = (tmp_path / "results.md").read_text()
    assert "| hist | 1 | 1 | yes |" in table
    assert json.loads((tmp_path / "results.json").read_text())["setting"] == "quick"


def test_several_seeds_give_one_table(tmp_path):
    from rasplab.train.seeds import run_seeds

    tiny = dict(steps=10, n_train=100, n_val=20, n_test=20, max_len=5, eval_every=5)
    per_seed = run_seeds(tmp_path, [0, 1], tasks=("hist",), jobs=1, changes=tiny, verbose=False)
    assert [len(rows) for rows in per_seed] == [2, 2]
    table = (tmp_path / "results.md").read_text()
    assert "| seed 0 | seed 1 | mean | min |" in table and "| hist | 1 | 1 | yes |" in table
    assert (tmp_path / "seed-1" / "results.json").is_file()
    assert json.loads((tmp_path / "results.json").read_text())["seeds"] == [0, 1]
    with pytest.raises(TrainingError, match="not empty"):
        run_seeds(tmp_path, [0], tasks=("hist",), changes=tiny, verbose=False)


def test_seeds_option_errors(tmp_path, capsys):
    assert main(["experiment", "paper", "--seeds", "0,x", "-o", str(tmp_path / "a")]) != 0
    assert "comma-separated integers" in capsys.readouterr().err
    assert main(["experiment", "compiled", "--seeds", "0,1", "-o", str(tmp_path / "b")]) != 0
    assert "--seeds is for the paper experiment" in capsys.readouterr().err


def test_learning_rate_and_supervision_schedules():
    config = TrainConfig(warmup=10, attn_weight=1.0, attn_weight_end=0.1)
    assert _attn_weight(0, 100, config) == 1.0 and _attn_weight(100, 100, config) == 0.1
    assert _attn_weight(50, 100, config.replace(attn_weight_end=None)) == 1.0
    assert _schedule(0, 100, config) == 0.1 and _schedule(100, 100, config) == pytest.approx(0.1)
    timed = config.replace(time_limit=10.0)  # half the steps, but all the time: fully decayed
    assert _schedule(50, 100, timed, elapsed=10.0) == pytest.approx(0.1)
    assert _schedule(50, 100, timed, elapsed=0.0) == _schedule(50, 100, config)


def test_quick_per_task_settings_and_overrides():
    configs = task_configs(("sort", "hist"), quick=True, seed=3)
    assert len(configs["sort"].vocab) == 48 and configs["sort"].steps > configs["hist"].steps
    assert configs["hist"].vocab is None and configs["hist"].seed == 3
    assert task_configs(("sort",), quick=True, changes={"steps": 7})["sort"].steps == 7
    full = task_configs(("sort", "hist"), quick=False)
    assert len(full["sort"].vocab) == 100 and full["sort"].attn_weight_end == 0.0
    assert full["hist"].vocab is None and full["hist"].attn_weight == 1.0


def test_a_step_budget_replaces_the_full_settings_epochs():
    from rasplab.train.loop import _Dist, _total_steps

    one = _Dist()
    full = task_configs(("hist",), quick=False)["hist"]
    assert _total_steps(full, one) == 100 * (50_000 // 64)
    capped = task_configs(("hist",), quick=False, changes={"steps": 60})["hist"]
    assert capped.epochs is None and _total_steps(capped, one) == 60


def test_set_changes_are_typed_like_the_configuration():
    from rasplab.cli.train import settings_changes

    changes = settings_changes(["lr=1", "vocab=[1, 2]", "attn_weight_end=0.1", "norm=none"])
    assert changes == {"lr": 1.0, "vocab": (1, 2), "attn_weight_end": 0.1, "norm": "none"}
    assert type(changes["lr"]) is float


def test_full_setting_runs_keep_their_own_time_limit(tmp_path):
    # No budget: a run's configured time limit stops it, long before its 100,000 steps.
    tiny = dict(steps=100_000, n_train=100, n_val=20, n_test=20, max_len=5, d_model=16)
    tiny.update(eval_every=5, time_limit=0.5, target_acc=1.01)
    rows = run_paper(
        tmp_path, quick=False, tasks=("hist",), sizes=("sup",), changes=tiny, verbose=False
    )
    assert [(r["layers"], r["supervised"]) for r in rows] == [(1, True)]
    assert rows[0]["steps"] < 100_000 and "time" in rows[0]["stopped"]
