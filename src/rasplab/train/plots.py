"""Plots of a run: training curves, test accuracy by input length, learned vs target attention.

Needs matplotlib (the ``train`` extra): :func:`draw` raises ``ImportError``
without it, which the run directory turns into a note in ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import require_torch
from .data import TaskData, normalise

__all__ = ["draw", "curves", "lengths", "attention"]


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only backend (``ImportError`` if missing)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def curves(path: Path, history: list[dict[str, Any]]) -> None:
    """Loss (train, validation) and accuracy (train and validation) against steps."""
    plt = _pyplot()
    steps = [h["step"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(steps, [h["loss"] for h in history], label="train loss")
    left.plot(steps, [h["val_loss"] for h in history], label="validation task loss")
    left.set_yscale("log")
    left.set_xlabel("step")
    left.legend()
    right.plot(steps, [h["train_seq_acc"] for h in history], label="train sequence acc")
    right.plot(steps, [h["val_seq_acc"] for h in history], label="validation sequence acc")
    right.plot(steps, [h["val_pos_acc"] for h in history], label="validation position acc")
    if history and history[0].get("val_agreement") is not None:
        right.plot(steps, [h["val_agreement"] for h in history], label="attention agreement")
    right.set_ylim(0, 1.02)
    right.set_xlabel("step")
    right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def lengths(path: Path, by_length: dict[str, float]) -> None:
    """Test sequence accuracy per input length: where the model's errors are."""
    plt = _pyplot()
    keys = sorted(by_length, key=int)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.3 * len(keys)), 3))
    ax.bar([int(k) for k in keys], [by_length[k] for k in keys], color="tab:blue")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("input length")
    ax.set_ylabel("test sequence accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _example(test: TaskData) -> int:
    """The longest of the first few test inputs (the most to look at)."""
    first = range(min(len(test), 50))
    return max(first, key=lambda i: len(test.inputs[i]))


def attention(path: Path, model: Any, test: TaskData, tensors: dict, heads: list) -> None:
    """For one test input: each program head's target next to the model's head in its slot."""
    torch, plt = require_torch(), _pyplot()
    i = _example(test)
    n = len(test.inputs[i]) + 1  # BOS + tokens
    with torch.no_grad():
        _, patterns = model(tensors["tokens"][i : i + 1])
    labels = ["BOS"] + [str(t) for t in test.inputs[i]]
    fig, axes = plt.subplots(len(heads), 2, figsize=(7, 3.3 * len(heads)), squeeze=False)
    for row, (layer, slot, name) in enumerate(heads):
        target = normalise(test.patterns[i, layer, slot, :n, :n])
        learned = None
        if layer < len(patterns) and slot < patterns[layer].shape[1]:
            learned = patterns[layer][0, slot, :n, :n].exp().cpu().numpy()
        for col, (title, grid) in enumerate([("program", target), ("learned", learned)]):
            ax = axes[row, col]
            ax.set_title(f"layer {layer + 1} head {slot} {title}: {name}", fontsize="small")
            if grid is None:
                ax.axis("off")
                continue
            ax.imshow(grid, vmin=0, vmax=1, cmap="Blues")
            ax.set_xticks(range(n), labels, fontsize="x-small")
            ax.set_yticks(range(n), labels, fontsize="x-small")
            ax.set_xlabel("key")
            ax.set_ylabel("query")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw(out: Path, model: Any, metrics: dict, test: TaskData, tensors: dict, heads: list) -> list:
    """Write ``curves.png``, ``lengths.png`` and (when the program has heads) ``attention.png``.

    ``metrics`` holds the run's ``history`` and ``test`` scores; ``heads``
    lists ``(layer, slot, label)`` of the program's heads.
    """
    model = model.cpu()
    tensors = {k: v.cpu() for k, v in tensors.items()}
    curves(out / "curves.png", metrics["history"])
    lengths(out / "lengths.png", metrics["test"]["seq_acc_by_length"])
    if not heads:
        return ["curves.png", "lengths.png"]
    attention(out / "attention.png", model, test, tensors, [tuple(h) for h in heads])
    return ["curves.png", "lengths.png", "attention.png"]
