"""Does a compiled solution survive training, and does it carry to longer inputs?

For each task, :func:`run_compiled` compiles the program at ``max_seq_len =
test_len``, trains only on lengths ``1..train_len`` and scores, on those
lengths and on ``train_len + 1 .. test_len``:

* the compiled model itself (numpy), and its exact copy as a
  :class:`~rasplab.train.model.Transformer` before any training;
* that copy fine-tuned on labels (at each learning rate of ``FINE_TUNE_LRS``,
  and with its token and position tables frozen);
* an analysis-sized student distilled from the compiled outputs, and one
  distilled from its outputs and attention patterns;
* the same student trained from scratch on labels.

``quick`` is sized for a 2-core CPU (one torch thread, at most 20 s per
trained model, about five minutes for the four default tasks).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import progress
from ..errors import ProgramNotFoundError, TrainingError
from ..model.model import CompiledModel
from .compiled import compiled_transformer, distil, fine_tune, from_scratch
from .config import TrainConfig, require_torch
from .data import TaskData, dataset, make_task
from .experiment import prepare_results_dir

__all__ = ["TASKS", "QUICK", "FULL", "run_compiled", "compiled_table", "compiled_command"]

TASKS = ("reverse", "hist", "sort", "dyck1")
TRAIN_LEN, TEST_LEN = 8, 16
QUICK = TrainConfig(  # the students and the baseline
    n_train=2000,
    n_test=500,  # per length range
    d_model=64,
    ff_mult=2,
    steps=2000,
    batch_size=64,
    lr=3e-3,
    warmup=100,
    time_limit=20.0,
    threads=1,  # on a shared 2-core machine one thread per process is the fastest
)
FULL = QUICK.replace(n_train=20_000, n_test=2000, d_model=128, steps=20_000, time_limit=0.0)
FINE_TUNE_LRS = (1e-5, 1e-4)  # Adam at the students' 3e-3 (or 1e-3) breaks the copy in steps


def _splits(name: str, values: tuple, train_len: int, test_len: int, config: TrainConfig):
    """The task on lengths <= train_len, its train data, and (short, long) test data."""
    short = make_task(name, lengths=train_len)
    long = make_task(name, lengths=range(train_len + 1, test_len + 1))
    seed = config.seed
    train_d = dataset(short, n=config.n_train, seed=f"{seed}/train", out_vocab=values)
    short_d = dataset(short, n=config.n_test, seed=f"{seed}/short", out_vocab=values)
    long_d = dataset(long, n=config.n_test, seed=f"{seed}/long", out_vocab=values)
    return short, train_d, (short_d, long_d)


def _score_compiled(compiled: CompiledModel, data: TaskData) -> tuple[float, float]:
    """Sequence and per-position accuracy of the compiled model itself (numpy)."""
    pairs = list(zip(compiled.run(data.inputs), data.outputs, strict=True))
    right = sum(a == b for got, want in pairs for a, b in zip(got, want, strict=True))
    positions = sum(len(want) for want in data.outputs)
    return sum(got == want for got, want in pairs) / len(pairs), right / positions


def _score(model: Any, data: TaskData, device: Any) -> tuple[float, float]:
    from .scoring import as_tensors, evaluate_model

    scores = evaluate_model(model, as_tensors(data, device))
    return scores["seq_acc"], scores["pos_acc"]


def _models(compiled, task, train_d, config, test_len, device, attn_weight):
    """(label, model or None for the compiled model, fit info) for every row of a task."""
    yield "compiled (numpy)", None, {}
    yield "compiled copy, untrained", compiled_transformer(compiled, task.vocab).to(device), {}
    for lr in FINE_TUNE_LRS:
        # half the students' steps; no weight decay: it would pull the exact weights to 0
        tuned = config.replace(lr=lr, steps=max(1, config.steps // 2), weight_decay=0.0)
        yield f"compiled copy, fine-tuned (lr {lr:g})", *fine_tune(compiled, train_d, tuned, device)
    frozen = tuned.replace(lr=max(FINE_TUNE_LRS))
    label = f"compiled copy, fine-tuned, embeddings frozen (lr {frozen.lr:g})"
    yield label, *fine_tune(compiled, train_d, frozen, device, freeze_embeddings=True)
    yield "distilled (outputs)", *distil(compiled, task, train_d, config, 0.0, device)
    if attn_weight:
        label = "distilled (outputs + attention)"
        yield label, *distil(compiled, task, train_d, config, attn_weight, device)
    yield "from scratch (labels)", *from_scratch(task, train_d, config, test_len, device)


def _task_rows(name: str, train_len: int, test_len: int, config, device, attn_weight, verbose):
    """Compile one task, train its models, score each on short and long inputs."""
    from ..compiler import compile_program

    probe = make_task(name, lengths=test_len)
    compiled = compile_program(probe.program, probe.vocab, test_len, sample=probe.sampler)
    task, train_d, tests = _splits(name, compiled.output.values, train_len, test_len, config)
    rows = []
    for label, model, fit in _models(
        compiled, task, train_d, config, test_len, device, attn_weight
    ):
        if model is None:
            scores = [_score_compiled(compiled, d) for d in tests]
            size, params = list(compiled.heads_per_layer), compiled.n_params
        else:
            scores = [_score(model, d, device) for d in tests]
            size = [b.attn.heads for b in model.blocks]
            params = sum(p.numel() for p in model.parameters())
        row = dict(task=name, model=label, heads=size, params=params, **fit)
        row.update(short_seq=scores[0][0], short_pos=scores[0][1])
        row.update(long_seq=scores[1][0], long_pos=scores[1][1])
        rows.append(row)
        if verbose:
            progress.note(_line(row))
    return rows


def _line(row: dict) -> str:
    return (
        f"{row['task']}: {row['model']}: seq {100 * row['short_seq']:.1f}% short, "
        f"{100 * row['long_seq']:.1f}% long ({row.get('steps', 0)} steps)"
    )


def compiled_table(rows: list[dict], train_len: int = TRAIN_LEN, test_len: int = TEST_LEN) -> str:
    """The results as a markdown table (sequence and per-position test accuracy)."""
    short, long = f"1-{train_len}", f"{train_len + 1}-{test_len}"
    lines = [
        f"| task | model | heads per layer | params | steps | train time | seq acc {short} "
        f"| seq acc {long} | pos acc {short} | pos acc {long} |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        seconds = f"{r['seconds']:.0f} s" if "seconds" in r else "–"
        accs = [f"{100 * r[k]:.1f}%" for k in ("short_seq", "long_seq", "short_pos", "long_pos")]
        lines.append(
            f"| {r['task']} | {r['model']} | {r['heads']} | {r['params']:,} "
            f"| {r.get('steps', '–')} | {seconds} | " + " | ".join(accs) + " |"
        )
    return "\n".join(lines) + "\n"


def run_compiled(
    out_dir: str | Path | None = None,
    *,
    tasks: Sequence[str] = TASKS,
    train_len: int = TRAIN_LEN,
    test_len: int = TEST_LEN,
    quick: bool = True,
    attn_weight: float = 0.5,
    device: str = "cpu",
    seed: int = 0,
    changes: dict[str, Any] | None = None,
    force: bool = False,
    verbose: bool = True,
) -> list[dict[str, Any]]:
    """Score the compiled model, its fine-tuned copies, the students and a baseline.

    With ``out_dir``, writes ``results.md`` and ``results.json`` there.
    ``changes`` overrides fields of the setting's :class:`TrainConfig` (``steps``,
    ``n_train``, ...); ``attn_weight`` 0 drops the attention-distilled row.
    """
    if not 1 <= train_len < test_len:
        raise TrainingError(f"need 1 <= train_len < test_len, got {train_len}, {test_len}")
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        prepare_results_dir(out, force)
    config = (QUICK if quick else FULL).replace(seed=seed, **(changes or {}))
    from .loop import device_kind  # imports torch

    device = device_kind(device)
    if config.threads:
        require_torch().set_num_threads(config.threads)
    began, rows = time.monotonic(), []
    for name in progress.bar(tasks, desc="experiment", unit="task", quiet=not verbose):
        rows += _task_rows(name, train_len, test_len, config, device, attn_weight, verbose)
    minutes = (time.monotonic() - began) / 60
    if out is not None:
        setting = "quick" if quick else "full"
        header = (
            f"Compiled initialisation and distillation ({setting}): trained on lengths "
            f"1-{train_len}, tested up to {test_len}; {minutes:.1f} minutes.\n\n"
        )
        (out / "results.md").write_text(header + compiled_table(rows, train_len, test_len))
        payload = dict(setting=setting, train_len=train_len, test_len=test_len, rows=rows)
        payload.update(
            config=config.to_dict(), fine_tune_lrs=FINE_TUNE_LRS, attn_weight=attn_weight
        )
        payload.update(minutes=minutes)
        (out / "results.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return rows


def compiled_command(args: Any) -> int:
    """``rasplab experiment compiled``: run the comparison, print the table."""
    from ..library import PROGRAMS

    tasks = TASKS if args.tasks is None else tuple(t.strip() for t in args.tasks.split(","))
    unknown = [t for t in tasks if t not in PROGRAMS]
    if unknown:
        raise ProgramNotFoundError(f"unknown program(s): {', '.join(unknown)}")
    rows = run_compiled(
        args.out,
        tasks=tasks,
        quick=args.quick,
        device=args.device,
        seed=args.seed,
        changes=None if args.steps is None else {"steps": args.steps},
        force=args.force,
        verbose=not (getattr(args, "quiet", False) or getattr(args, "json", False)),
    )
    print(compiled_table(rows), end="")
    print(f"written: {args.out}/results.md, {args.out}/results.json")
    return 0
