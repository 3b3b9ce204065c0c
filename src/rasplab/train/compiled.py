"""Compiled initialisation and distillation: does a compiled solution survive training?

Two ways from a compiled model (:func:`rasplab.compiler.compile_program`) to the
train package's :class:`~rasplab.train.model.Transformer`:

* :func:`compiled_transformer` copies the compiled weights into a Transformer
  with no layer norm, ``d_model`` = the compiled width, each layer's ``d_head``
  = the compiled one, the compiled ``W_pos`` as learned positions, the
  compiled token rows under the train data's ids (BOS 0, PAD 1, tokens from 2)
  and the compiled output values as classes. Padding keys are masked, so on
  padded batches it computes the compiled logits (to float rounding).
  :func:`fine_tune` then trains it on labels.
* :func:`distil` trains a standard, analysis-sized Transformer to match the
  compiled model's output distribution (and, with ``attn_weight``, its
  attention patterns) on short inputs; it never sees a label.

:func:`from_scratch` is the baseline: the same student trained on labels.
``rasplab.train.compiled_experiment`` compares the four on longer inputs
than they were trained on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import TrainingError
from ..lang.graph import value_key
from ..model.model import CompiledModel
from .config import TrainConfig, require_torch
from .data import BOS, PAD, Task, TaskData

__all__ = ["compiled_transformer", "fine_tune", "distil", "from_scratch", "TEMPERATURE"]

TEMPERATURE = 0.1  # compiled logits have margin 1; sharpen them into near one-hot targets


# ------------------------------------------------------------ the exact copy


def _check(compiled: CompiledModel, in_vocab: Sequence[Any]) -> dict[tuple, int]:
    """Compiled token id per input token; refuse what a Transformer cannot copy."""
    if compiled.causal:
        raise TrainingError("the train Transformer is not causal: compile with causal=False")
    if compiled.output.kind != "categorical":
        raise TrainingError("only categorical outputs map onto the Transformer's classes")
    ids = {value_key(t): i + 1 for i, t in enumerate(compiled.vocab)}  # compiled: BOS 0
    missing = [t for t in in_vocab if value_key(t) not in ids]
    if missing:
        raise TrainingError(f"tokens {missing!r} are not in the compiled vocabulary")
    return ids


def _heads(w: np.ndarray, heads: int, d_head: int, scale: float = 1.0) -> np.ndarray:
    """Per-head ``[h, d_model, width]`` as a Linear weight ``[heads * d_head, d_model]``."""
    h, d_model, width = w.shape
    out = np.zeros((heads, d_head, d_model))  # extra heads and dims stay zero
    out[:h, :width] = w.transpose(0, 2, 1) * scale
    return out.reshape(heads * d_head, d_model)


def _copy_attention(attn: Any, src: Any, heads: int) -> None:
    """Resize ``attn`` to the compiled d_head and copy Q, K, V, O into it."""
    torch = require_torch()
    h, d_model, width = src.W_Q.shape
    d_head = max(width, 1)
    # the Transformer divides scores by sqrt(d_head); compiled scores are unscaled
    scale = math.sqrt(d_head)
    bias = np.zeros((3, heads, d_head))  # [q/k/v, heads, d_head]
    for i, (b, s) in enumerate(((src.b_Q, scale), (src.b_K, 1.0), (src.b_V, 1.0))):
        bias[i, :h, :width] = b * s
    qkv = [_heads(src.W_Q, heads, d_head, scale), _heads(src.W_K, heads, d_head)]
    qkv.append(_heads(src.W_V, heads, d_head))
    out = np.zeros((heads, d_head, d_model))  # [heads, d_head, d_model]
    out[:h, :width] = src.W_O
    attn.d_head = d_head
    attn.qkv = torch.nn.Linear(d_model, 3 * heads * d_head)
    attn.out = torch.nn.Linear(heads * d_head, d_model)
    _set(attn.qkv.weight, np.concatenate(qkv))  # [3 * heads * d_head, d_model]
    _set(attn.qkv.bias, bias.reshape(-1))
    _set(attn.out.weight, out.reshape(heads * d_head, d_model).T)  # [d_model, heads * d_head]
    _set(attn.out.bias, src.b_O)


def _copy_mlp(mlp: Any, src: Any) -> None:
    """Copy W_in, W_out into the first ``d_mlp`` hidden units; the rest stay at zero."""
    first, last = mlp[0], mlp[2]
    w_in = np.zeros(tuple(first.weight.shape))  # [d_ff, d_model]
    b_in = np.zeros(first.weight.shape[0])  # [d_ff]
    w_out = np.zeros(tuple(last.weight.shape))  # [d_model, d_ff]
    w_in[: src.d_mlp], b_in[: src.d_mlp], w_out[:, : src.d_mlp] = src.W_in.T, src.b_in, src.W_out.T
    for param, value in ((first.weight, w_in), (first.bias, b_in), (last.weight, w_out)):
        _set(param, value)
    _set(last.bias, src.b_out)


def _set(param: Any, value: np.ndarray) -> None:
    torch = require_torch()
    with torch.no_grad():
        param.copy_(torch.as_tensor(np.asarray(value), dtype=param.dtype))


def compiled_transformer(compiled: CompiledModel, in_vocab: Sequence[Any]) -> Any:
    """A trainable :class:`Transformer` computing ``compiled``; token ``in_vocab[i]`` is id 2+i.

    Its classes are ``compiled.output.values`` in order; build data with
    ``out_vocab=compiled.output.values`` to train it.
    """
    from .model import Transformer

    ids = _check(compiled, in_vocab)
    heads = max(max(compiled.heads_per_layer, default=0), 1)
    d_ff = max(max(compiled.d_mlp_per_layer, default=0), 1)
    model = Transformer(
        len(in_vocab) + 2, len(compiled.output.values), compiled.max_seq_len,
        compiled.n_layers, heads, compiled.d_model, d_ff, "learned", "none",
    )  # fmt: skip
    embed = np.zeros((len(in_vocab) + 2, compiled.d_model))  # [ids, d_model]; PAD row unused
    embed[BOS] = compiled.W_E[0]  # both put BOS at position 0 with id 0
    for i, token in enumerate(in_vocab):
        embed[2 + i] = compiled.W_E[ids[value_key(token)]]
    _set(model.embed.weight, embed)
    _set(model.position, compiled.W_pos)  # [1 + max_seq_len, d_model]
    for block, src in zip(model.blocks, compiled.blocks, strict=True):
        _copy_attention(block.attn, src.attn, heads)
        _copy_mlp(block.mlp, src.mlp)
    _set(model.head.weight, compiled.W_U.T)  # [d_out, d_model]
    _set(model.head.bias, compiled.b_U)
    return model.eval()


# ------------------------------------------------------------ training


def _batches(data: TaskData, config: TrainConfig, device: Any):
    """Random batches of (tokens, labels), cut to their longest input: each [batch, width]."""
    torch = require_torch()
    tokens = torch.as_tensor(data.tokens, device=device)  # [n, 1 + max_len]
    labels = torch.as_tensor(data.labels, device=device)  # [n, 1 + max_len]
    generator = torch.Generator().manual_seed(config.seed)
    while True:
        rows = torch.randint(len(data), (min(config.batch_size, len(data)),), generator=generator)
        width = int((tokens[rows] != PAD).sum(1).max())  # BOS + the longest input
        yield tokens[rows, :width], labels[rows, :width]


def _fit(model: Any, data: TaskData, loss_fn: Callable, config: TrainConfig, device: Any) -> dict:
    """AdamW, linear warmup then cosine decay to lr/10, until steps or time run out."""
    torch = require_torch()
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=config.lr, weight_decay=config.weight_decay)
    warm = max(1, min(config.warmup, config.steps // 10))

    def factor(s: int) -> float:
        return min(1.0, (s + 1) / warm) * (0.1 + 0.45 * (1 + math.cos(math.pi * s / config.steps)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    batches, started, done, loss = _batches(data, config, device), time.monotonic(), 0, None
    model.train()
    while done < config.steps:
        loss = loss_fn(model, *next(batches))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        scheduler.step()
        done += 1
        if config.time_limit and time.monotonic() - started >= config.time_limit:
            break
    model.eval()
    seconds = round(time.monotonic() - started, 2)
    return {"steps": done, "seconds": seconds, "loss": None if loss is None else loss.item()}


def _label_loss(model: Any, tokens: Any, labels: Any) -> Any:
    from .scoring import task_loss

    return task_loss(model(tokens)[0], labels)


def _distil_loss(teacher: Any, attn_weight: float, head_mask: Any) -> Callable:
    """Cross-entropy to the teacher's sharpened outputs, plus KL to its attention."""
    torch = require_torch()
    from .scoring import attention_loss, query_rows

    def loss(model: Any, tokens: Any, labels: Any) -> Any:  # labels unused: no peeking
        with torch.no_grad():
            t_logits, t_patterns = teacher(tokens)  # [b, pos, classes], L x [b, H, q, k]
        logits, patterns = model(tokens)
        rows = query_rows(tokens)  # [b, pos]: real tokens only
        soft = (t_logits[rows] / TEMPERATURE).softmax(-1)  # [rows, classes]
        total = torch.nn.functional.cross_entropy(logits[rows], soft)
        if attn_weight:
            target = torch.stack([p.exp() for p in t_patterns], dim=1)  # [b, L, H, q, k]
            total = total + attn_weight * attention_loss(patterns, target, head_mask, tokens)
        return total

    return loss


def _student(config: TrainConfig, task: Task, n_classes: int, max_len: int, size=(0, 0)) -> Any:
    """The train package's Transformer at the analysis size (or ``size``, if larger)."""
    torch = require_torch()
    from .model import Transformer

    torch.manual_seed(config.seed)
    layers = max(task.n_layers, size[0], 1)
    heads = max(task.max_heads, size[1], 1)
    sized = config.replace(layers=layers, heads=heads, max_len=max_len, min_len=1)
    return Transformer.from_config(sized, len(task.vocab) + 2, n_classes)


def fine_tune(
    compiled: CompiledModel,
    data: TaskData,
    config: TrainConfig,
    device: Any = "cpu",
    freeze_embeddings: bool = False,
):
    """The compiled copy after training on ``data``'s labels: ``(model, fit info)``.

    ``freeze_embeddings`` keeps the token and position tables at their compiled
    values: position rows past the training lengths get no gradient, so rows
    that did would drift away from them.
    """
    model = compiled_transformer(compiled, data.in_vocab).to(device)
    if freeze_embeddings:
        model.embed.requires_grad_(False)
        model.position.requires_grad_(False)
    return model, _fit(model, data, _label_loss, config, device)


def distil(
    compiled: CompiledModel,
    task: Task,
    data: TaskData,
    config: TrainConfig,
    attn_weight: float = 0.0,
    device: Any = "cpu",
):
    """A standard Transformer trained on the compiled model's outputs for ``data``'s inputs.

    With ``attn_weight`` > 0 it also matches every compiled head's attention
    (then it has at least the compiled model's layers and heads per layer).
    """
    torch = require_torch()
    teacher = compiled_transformer(compiled, data.in_vocab).to(device).requires_grad_(False)
    heads = compiled.heads_per_layer
    size = (len(heads), max(heads, default=0)) if attn_weight else (0, 0)
    n_classes = len(compiled.output.values)
    model = _student(config, task, n_classes, compiled.max_seq_len, size).to(device)
    mask = torch.zeros(len(heads), max(max(heads, default=0), 1), dtype=torch.bool)  # [L, H]
    for layer, n in enumerate(heads):
        mask[layer, :n] = True
    loss = _distil_loss(teacher, attn_weight, mask.to(device))
    return model, _fit(model, data, loss, config, device)


def from_scratch(task: Task, data: TaskData, config: TrainConfig, max_len: int, device="cpu"):
    """The analysis-sized Transformer trained on labels (positions up to ``max_len``)."""
    model = _student(config, task, len(data.out_vocab), max_len).to(device)
    return model, _fit(model, data, _label_loss, config, device)
