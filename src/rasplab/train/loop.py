"""The training loop: data, model, AdamW, validation, early stop, checkpoints.

:func:`train` runs on one process, or on several under ``torchrun``: when
``WORLD_SIZE`` is set it joins the process group (gloo on CPU, nccl on GPU),
wraps the model in ``DistributedDataParallel`` and gives each rank its own
share of every batch. Every rank validates on the whole validation set (the
models are identical, so they agree on when to stop); rank 0 writes the run
directory.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import progress
from ..errors import TrainingError
from ..lang.nodes import SOp
from . import rundir
from .config import TrainConfig, require_torch
from .data import PAD, Task, make_task, splits
from .model import Transformer
from .scoring import as_tensors, attention_loss, evaluate_model, targets, task_loss

torch = require_torch()

__all__ = ["train", "RunResult", "resolve_size", "Progress"]

MIN_DELTA = 0.002  # a validation improves when an accuracy rises by more than this


@dataclass
class RunResult:
    """What a run produced: its metrics, the best model (on CPU) and the task."""

    metrics: dict[str, Any]
    model: Any
    task: Task
    out_dir: Path | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Dist:
    """This process's place in a (possibly one-process) group."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owned: bool = False  # this run started the process group (and ends it)
    device: str = "cpu"  # where collective tensors live (nccl needs CUDA)

    @property
    def main(self) -> bool:
        return self.rank == 0


def _join_group(device_kind: str) -> _Dist:
    """Join the torchrun process group when ``WORLD_SIZE`` > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    dist = torch.distributed
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = f"cuda:{local}" if device_kind == "cuda" else "cpu"
    if device_kind == "cuda":
        torch.cuda.set_device(local)
    owned = not dist.is_initialized()
    if owned:
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), local, owned, device)


def device_kind(requested: str) -> str:
    """``cpu`` or ``cuda`` for ``cpu|cuda|auto``; asking for a missing GPU is an error."""
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda was asked for, but no CUDA device is available")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def resolve_size(config: TrainConfig, task: Task) -> TrainConfig:
    """Fill in layers and heads from the analysis; check supervision can work at that size."""
    layers = config.layers or max(task.n_layers, 1)
    heads = config.heads or max(task.max_heads, 1)
    if config.attn_supervision:
        if not task.heads:
            raise TrainingError(f"{task.name} has no attention: there is nothing to supervise")
        short = [
            f"layer {i + 1} needs {h} heads"
            for i, h in enumerate(task.heads_per_layer)
            if i >= layers or h > heads
        ]
        if short:
            raise TrainingError(
                f"{layers} layers x {heads} heads is too small to supervise {task.name} "
                f"(heads per layer {list(task.heads_per_layer)}): " + "; ".join(short)
            )
    return config.replace(layers=layers, heads=heads, vocab=tuple(task.vocab))


def _batches(n: int, config: TrainConfig, dist: _Dist):
    """Index batches for this rank, epoch after epoch, in a seeded order."""
    batch = min(config.batch_size, n // dist.world)
    if batch < 1:
        raise TrainingError(f"{n} training sequences cannot feed {dist.world} processes")
    group, epoch = batch * dist.world, 0
    while True:
        generator = torch.Generator().manual_seed(config.seed * 7919 + epoch)
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - group + 1, group):
            yield order[start + dist.rank * batch : start + (dist.rank + 1) * batch]
        epoch += 1


def _total_steps(config: TrainConfig, dist: _Dist) -> int:
    if config.epochs is None:
        return config.steps
    per_epoch = max(1, config.n_train // (config.batch_size * dist.world))
    return config.epochs * per_epoch


def _progress(step: int, total: int, config: TrainConfig, elapsed: float) -> float:
    """How far past warmup a run is, 0 to 1.

    With a time limit it is the larger of the steps and the time spent, so a
    run cut short by its time share still ends at the low learning rate (a
    run stopped at a high rate ends on a noisy model).
    """
    warm = max(1, min(config.warmup, total // 10))
    progress = max(0, step - warm) / max(1, total - warm)
    if config.time_limit:
        progress = max(progress, elapsed / config.time_limit)
    return min(progress, 1.0)


def _schedule(step: int, total: int, config: TrainConfig, elapsed: float = 0.0) -> float:
    """Learning-rate factor: linear warmup, then cosine down to a tenth."""
    warm = max(1, min(config.warmup, total // 10))
    if step < warm:
        return (step + 1) / warm
    progress = _progress(step, total, config, elapsed)
    return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))


def _attn_weight(step: int, total: int, config: TrainConfig, elapsed: float = 0.0) -> float:
    """The supervision weight: ``attn_weight``, eased (cosine) to ``attn_weight_end``."""
    if config.attn_weight_end is None:
        return config.attn_weight
    ease = 0.5 * (1 + math.cos(math.pi * _progress(step, total, config, elapsed)))
    return config.attn_weight_end + (config.attn_weight - config.attn_weight_end) * ease


class Progress:
    """A tqdm bar of the steps on a terminal (or in Jupyter); at each validation a
    line with the scores, printed above the bar, or alone when no bar is drawn."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = progress.bar(total=total, desc="train", unit="step", quiet=not enabled)
        self.total, self.done = total, 0

    def update(self, step: int, loss: float, acc: float) -> None:
        self.bar.update(step - self.done)
        self.done = step
        if not self.bar.disable:
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{100 * acc:.1f}%", refresh=False)

    def validation(self, step: int, loss: float, acc: float, val: dict[str, Any]) -> None:
        if not self.enabled:
            return
        attn = "" if val["agreement"] is None else f" attn {100 * val['agreement']:.1f}%"
        progress.note(
            f"step {step}/{self.total} loss {loss:.4f} acc {100 * acc:.1f}% | "
            f"val seq {100 * val['seq_acc']:.1f}% pos {100 * val['pos_acc']:.1f}%{attn}",
        )

    def close(self) -> None:
        self.bar.close()


def _slice(tensors: dict[str, Any], index: Any) -> dict[str, Any]:
    """The rows ``index`` of a split, cut to its longest input (plus BOS)."""
    tokens = tensors["tokens"][index]  # [batch, pos]
    width = int((tokens != PAD).sum(1).max())
    return {
        "tokens": tokens[:, :width],  # [batch, width]
        "labels": tensors["labels"][index][:, :width],  # [batch, width]
        "patterns": tensors["patterns"][index][..., :width, :width],  # [batch, L, H, w, w]
        "head_mask": tensors["head_mask"],  # [L, H]
    }


def _step(model, optimizer, batch, config: TrainConfig, weight: float) -> tuple[float, float]:
    """One optimiser step on ``batch``; returns (loss, sequence accuracy of the batch).

    ``weight``: this step's weight of the attention loss (used under supervision).
    """
    logits, patterns = model(batch["tokens"])
    loss = task_loss(logits, batch["labels"])
    if config.attn_supervision and weight > 0:
        target = targets(batch["patterns"])  # [batch, L, H, pos, pos]
        supervision = attention_loss(patterns, target, batch["head_mask"], batch["tokens"])
        loss = loss + weight * supervision
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    labels = batch["labels"]
    right = (logits.argmax(-1) == labels) | (labels < 0)  # [batch, pos]
    return loss.item(), right.all(-1).float().mean().item()


def _agreed(stop: bool, dist: _Dist) -> bool:
    """Rank 0's decision, for every rank."""
    if dist.world == 1:
        return stop
    flag = torch.tensor([1.0 if stop else 0.0], device=dist.device)
    torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


class _Tracker:
    """Validation history, the best weights so far, and when to stop."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.best_state: dict[str, Any] | None = None
        self.peak, self.stale = (-1.0, -1.0), 0
        self.started = time.monotonic()

    def record(self, step: int, loss: float, acc: float, val: dict, core) -> bool:
        """Log a validation; keep the weights if they are the best. True if they are."""
        entry = {"step": step, "loss": loss, "train_seq_acc": acc}
        listed = ("agreement_per_head", "seq_acc_by_length")  # in the test scores, not per step
        entry.update({f"val_{k}": v for k, v in val.items() if k not in listed})
        entry["seconds"] = round(self.elapsed, 3)
        self.history.append(entry)
        seq, pos = val["seq_acc"], val["pos_acc"]
        self.stale += 1
        if seq > self.peak[0] + MIN_DELTA or pos > self.peak[1] + MIN_DELTA:
            self.peak, self.stale = (max(seq, self.peak[0]), max(pos, self.peak[1])), 0
        key = (seq, pos, -val["loss"])
        if self.best is None or key > (
            self.best["seq_acc"],
            self.best["pos_acc"],
            -self.best["loss"],
        ):
            self.best = val
            self.best_state = {k: v.detach().clone() for k, v in core.state_dict().items()}
            return True
        return False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def reason(self, step: int, last: bool) -> str | None:
        """Why to stop now, or None (``last``: the step budget is spent anyway)."""
        config, val = self.config, self.history[-1]
        if val["val_seq_acc"] >= config.target_acc:
            return f"target accuracy reached at step {step}"
        if last:
            return None
        if config.patience and self.stale >= config.patience:
            return f"no improvement in {self.stale} validations (step {step})"
        if config.time_limit and self.elapsed >= config.time_limit:
            return f"time limit of {config.time_limit:.0f} s reached at step {step}"
        return None


def _optimiser(model, config: TrainConfig):
    fused = {"fused": True} if next(model.parameters()).device.type == "cpu" else {}
    return torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, **fused
    )


def _set_lr(optimizer, step: int, total: int, config: TrainConfig, elapsed: float) -> None:
    """The learning rate of the coming step (``step`` counts from 0)."""
    for group in optimizer.param_groups:
        group["lr"] = config.lr * _schedule(step, total, config, elapsed)


def _fit(core, model, train_t, val_t, config: TrainConfig, dist: _Dist, writer) -> dict:
    """The optimisation loop; leaves the best validated weights in ``core``."""
    total = _total_steps(config, dist)
    optimizer = _optimiser(model, config)
    bar = Progress(total, writer.verbose and dist.main)
    batches = _batches(train_t["tokens"].shape[0], config, dist)
    tracker, stopped = _Tracker(config), "step budget"
    # Ranks must agree on the rate, and their clocks differ: only one process reads time.
    clock = (lambda: tracker.elapsed) if dist.world == 1 else (lambda: 0.0)
    for step in range(1, total + 1):
        elapsed = clock()
        _set_lr(optimizer, step - 1, total, config, elapsed)
        weight = _attn_weight(step - 1, total, config, elapsed)
        loss, acc = _step(model, optimizer, _slice(train_t, next(batches)), config, weight)
        bar.update(step, loss, acc)
        if step % config.eval_every and step != total:
            continue
        val = evaluate_model(core, val_t)
        bar.validation(step, loss, acc, val)
        if tracker.record(step, loss, acc, val, core) and dist.main:
            writer.checkpoint(core, step)
        reason = tracker.reason(step, last=step == total)
        if _agreed(reason is not None, dist):
            stopped = reason or "stopped by rank 0"
            break
    bar.close()
    core.load_state_dict(tracker.best_state)
    return {
        "history": tracker.history,
        "stopped": stopped,
        "steps_run": step,
        "train_seconds": tracker.elapsed,
    }


def _in_sync(core, dist: _Dist) -> bool:
    """Whether every rank ends with the same weights (always true on one process)."""
    if dist.world == 1:
        return True
    total = sum(p.detach().double().sum() for p in core.parameters()).reshape(1)
    low, high = total.clone(), total.clone()
    torch.distributed.all_reduce(low, op=torch.distributed.ReduceOp.MIN)
    torch.distributed.all_reduce(high, op=torch.distributed.ReduceOp.MAX)
    return bool(low.item() == high.item())


def _wrap(core, dist: _Dist, kind: str):
    """The model to train: ``core`` itself, or its DistributedDataParallel wrapper."""
    if dist.world == 1:
        return core
    ids = [dist.local_rank] if kind == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(core, device_ids=ids)


def _task(config: TrainConfig, program: SOp | None) -> tuple[Task, TrainConfig]:
    """The task and the config with its size filled in (all checks, no data yet)."""
    source = program if program is not None else config.program
    task = make_task(source, config.vocab, range(config.min_len, config.max_len + 1))
    return task, resolve_size(config, task)


def train(
    config: TrainConfig,
    program: SOp | None = None,
    out_dir: str | Path | None = None,
    *,
    force: bool = False,
    verbose: bool = False,
) -> RunResult:
    """Train a transformer to compute ``config.program`` (or the given s-op ``program``).

    With ``out_dir``, rank 0 writes ``config.json``, ``model.safetensors`` (the
    best validated weights), ``metrics.json`` and plots there; a non-empty
    directory is refused unless ``force``.
    """
    kind = device_kind(config.device)
    task, config = _task(config, program)
    dist = _join_group(kind)
    writer = rundir.RunWriter(out_dir, force=force, verbose=verbose, active=dist.main)
    if config.threads:
        torch.set_num_threads(config.threads)
    began = time.monotonic()
    sizes = (config.n_train, config.n_val, config.n_test)
    train_d, val_d, test_d = splits(task, sizes, seed=config.seed)
    data_seconds = time.monotonic() - began
    device = torch.device(f"cuda:{dist.local_rank}" if kind == "cuda" else "cpu")
    torch.manual_seed(config.seed)
    core = Transformer.from_config(config, len(task.vocab) + 2, len(train_d.out_vocab)).to(device)
    model = _wrap(core, dist, kind)
    writer.start(config, task, train_d)
    tensors = [as_tensors(d, device) for d in (train_d, val_d, test_d)]
    fitted = _fit(core, model, tensors[0], tensors[1], config, dist, writer)
    test = evaluate_model(core, tensors[2])
    metrics = rundir.summary(config, task, core, fitted, test, dist.world, str(device))
    metrics.update(data_seconds=round(data_seconds, 3), ranks_in_sync=_in_sync(core, dist))
    writer.finish(core, metrics, test_d, tensors[2])
    if dist.world > 1:
        # Rank 0 writes files meanwhile; a rank tearing its group down before the
        # others are done can abort in gloo ("terminate called without an active
        # exception"), so all ranks leave together.
        torch.distributed.barrier()
    if dist.owned:
        torch.distributed.destroy_process_group()
    return RunResult(metrics, core.cpu(), task, writer.path, fitted["history"])
