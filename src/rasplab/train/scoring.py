"""Losses and scores: the task loss, attention supervision, accuracy and agreement.

Attention agreement asks whether the model computes the program's own
attention: a query row *agrees* when its total-variation distance to the
program's target row is at most :data:`AGREE_TV`. For each program head
the best-agreeing model head of the same layer counts (under supervision it
is the supervised head); a program head whose layer the model lacks scores 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import require_torch
from .data import BOS, IGNORE, PAD, TaskData

torch = require_torch()
F = torch.nn.functional

__all__ = ["AGREE_TV", "task_loss", "attention_loss", "evaluate_model", "as_tensors", "targets"]

AGREE_TV = 0.1  # a row agrees when at least 90% of its attention mass is placed as the program's


def as_tensors(data: TaskData, device: Any) -> dict[str, Any]:
    """The arrays of a split as tensors on ``device``."""
    return {
        "tokens": torch.as_tensor(data.tokens, device=device),  # [n, pos]
        "labels": torch.as_tensor(data.labels, device=device),  # [n, pos]
        "patterns": torch.as_tensor(data.patterns, device=device),  # [n, L, H, pos, pos] bool
        "head_mask": torch.as_tensor(data.head_mask, device=device),  # [L, H]
    }


def targets(patterns: Any) -> Any:
    """Boolean head patterns as attention rows summing to 1 (padding rows: 0)."""
    counts = patterns.sum(-1, keepdim=True).clamp_min(1)
    return patterns.float() / counts  # [..., query, key]


def query_rows(tokens: Any) -> Any:
    """Rows that are supervised and scored: real tokens, not BOS or padding."""
    return (tokens != PAD) & (tokens != BOS)  # [batch, pos]


def task_loss(logits: Any, labels: Any) -> Any:
    """Mean cross-entropy over the positions that carry a label."""
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)


def _stacked(patterns: list[Any], layers: int, heads: int) -> Any:
    """The model's first ``layers`` x ``heads`` log-attentions as [batch, L, H, query, key]."""
    return torch.stack([p[:, :heads] for p in patterns[:layers]], dim=1)


def attention_loss(patterns: list[Any], target: Any, head_mask: Any, tokens: Any) -> Any:
    """Mean KL(target row || model row) over the program's heads and the real query rows.

    ``patterns``: the model's log-attention per layer, [batch, heads, query, key];
    ``target``: [batch, L, H, query, key]; ``head_mask``: [L, H]. The model must
    have at least L layers and H heads (checked before training).
    """
    layers, heads = head_mask.shape
    log_model = _stacked(patterns, layers, heads)  # [batch, L, H, query, key]
    log_target = torch.log(target.clamp_min(1e-12))
    kl = (target * (log_target - log_model)).sum(-1)  # [batch, L, H, query]
    weight = head_mask[None, :, :, None] & query_rows(tokens)[:, None, None, :]
    return (kl * weight).sum() / weight.sum().clamp_min(1)


def _agreeing_rows(patterns: list[Any], target: Any, tokens: Any) -> Any:
    """Per program head and model head of its layer: agreeing rows [L', H, H_model]."""
    layers = min(len(patterns), target.shape[1])
    learned = torch.stack([p.exp() for p in patterns[:layers]], dim=1)  # [b, L', Hm, q, k]
    wanted = target[:, :layers]  # [b, L', H, q, k]
    tv = 0.5 * (learned[:, :, None] - wanted[:, :, :, None]).abs().sum(-1)  # [b, L', H, Hm, q]
    agree = (tv <= AGREE_TV) & query_rows(tokens)[:, None, None, None, :]
    return agree.sum(dim=(0, 4))


def _agreement(counts: Any, rows: int, head_mask: np.ndarray) -> tuple[float, list[float]]:
    """Overall and per-head agreement from agreeing-row counts."""
    per_head = []
    for layer, slot in zip(*np.nonzero(head_mask), strict=True):
        best = counts[layer, slot].max().item() if layer < counts.shape[0] else 0
        per_head.append(best / max(rows, 1))
    return (float(np.mean(per_head)) if per_head else 0.0), per_head


def _fits(model: Any, head_mask: np.ndarray) -> bool:
    """Whether the model has a slot for every program head (so the KL is defined)."""
    layers, heads = head_mask.shape
    return layers > 0 and len(model.blocks) >= layers and model.blocks[0].attn.heads >= heads


def _score_batch(model: Any, batch: dict[str, Any], fits: bool) -> dict[str, Any]:
    """Sums over one batch: loss, right sequences and positions, agreeing rows, KL."""
    tokens, labels = batch["tokens"], batch["labels"]  # [b, pos]
    logits, patterns = model(tokens)
    scored = labels != IGNORE
    right = (logits.argmax(-1) == labels) | ~scored  # [b, pos]
    real = query_rows(tokens)  # [b, pos]
    rows = int(real.sum())
    lengths, seq_right = real.sum(-1), right.all(-1)  # [b]: input length, whole row right
    size = tokens.shape[1]
    out = {
        "loss": task_loss(logits, labels).item() * len(tokens),
        "seq": int(seq_right.sum()),
        "by_length": torch.stack(  # [2, pos]: sequences, and right ones, per input length
            [
                torch.bincount(lengths, minlength=size),
                torch.bincount(lengths[seq_right], minlength=size),
            ]
        ).cpu(),
        "pos": int((right & scored).sum()),
        "positions": int(scored.sum()),
        "rows": rows,
        "kl": 0.0,
        "agree": None,
    }
    if batch["head_mask"].any():
        target = targets(batch["patterns"])  # [b, L, H, pos, pos]
        out["agree"] = _agreeing_rows(patterns, target, tokens).cpu()
        if fits:
            kl = attention_loss(patterns, target, batch["head_mask"], tokens)
            out["kl"] = kl.item() * rows
    return out


@torch.no_grad()
def evaluate_model(model: Any, data: dict[str, Any], batch_size: int = 256) -> dict[str, Any]:
    """Loss, sequence accuracy (overall and per input length), per-position accuracy,
    attention agreement (and KL if it fits)."""
    was_training = model.training
    model.eval()
    head_mask = data["head_mask"].cpu().numpy()
    fits, n = _fits(model, head_mask), data["tokens"].shape[0]
    total: dict[str, Any] = {}
    for start in range(0, n, batch_size):
        batch = {
            k: v if k == "head_mask" else v[start : start + batch_size] for k, v in data.items()
        }
        for key, value in _score_batch(model, batch, fits).items():
            total[key] = value if key not in total else total[key] + value
    model.train(was_training)
    agreement: float | None = None
    per_head: list[float] = []
    if total["agree"] is not None:
        agreement, per_head = _agreement(total["agree"], total["rows"], head_mask)
    counts, rights = total["by_length"].tolist()
    # keyed by the length as a string, as metrics.json stores it
    by_length = {str(k): r / c for k, (c, r) in enumerate(zip(counts, rights, strict=True)) if c}
    return {
        "loss": total["loss"] / n,
        "seq_acc": total["seq"] / n,
        "seq_acc_by_length": by_length,
        "pos_acc": total["pos"] / max(total["positions"], 1),
        "agreement": agreement,
        "agreement_per_head": per_head,
        "attn_kl": total["kl"] / max(total["rows"], 1) if fits else None,
    }
