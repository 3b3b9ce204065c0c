"""Training data from any RASP program: inputs, labels and target attention.

A :class:`Task` fixes the program, its input vocabulary, the lengths to draw
and the program's attention heads (from :func:`rasplab.analyse`). Sampled
inputs are labelled with the evaluator; every head gets a target attention
pattern per input, laid out for a model that reads ``BOS x_1 ... x_n``:

* aggregate heads attend uniformly to the keys their selector picks, or to
  BOS when it picks none;
* selector-width heads (and the select-all head of ``length``) attend
  uniformly to BOS *and* the picked keys, so the weight on BOS is
  ``1 / (width + 1)``, the way a transformer computes a width;
* the BOS row attends to BOS; padding rows are all zero.

>>> data = dataset("hist", vocab="abc", lengths=4, n=3, seed=0)
>>> data.tokens.shape, data.labels.shape, data.attention.shape
((3, 5), (3, 5), (3, 1, 1, 5, 5))
>>> bool(np.allclose(data.attention[:, :, :, 0].sum(-1), 1.0))
True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import analyse
from ..errors import RaspError, TrainingError
from ..evaluate import evaluate_batch
from ..lang.nodes import Length, SelectorWidth, SOp
from ..library import LibraryProgram, get
from ..library.samplers import Sampler, uniform_sampler

__all__ = [
    "BOS",
    "PAD",
    "IGNORE",
    "HeadTarget",
    "Task",
    "TaskData",
    "make_task",
    "dataset",
    "splits",
    "parse_vocab",
    "normalise",
]

BOS, PAD = 0, 1  # input ids; the program's tokens are numbered from 2
IGNORE = -100  # label at BOS and padding (the ignore index of torch's cross-entropy)
PROBE = 64  # inputs drawn to check that a program runs on a vocabulary


@dataclass(frozen=True)
class HeadTarget:
    """One attention head of the program: where it sits and what it attends to."""

    layer: int  # 0-based layer of the model
    slot: int  # 0-based head index inside that layer
    label: str  # the selector's label ("select_all" for length)
    selector: Any  # a Selector, or None for the select-all head of length
    with_bos: bool  # selector-width heads also attend to BOS


@dataclass(frozen=True)
class Task:
    """A program with its vocabulary, input lengths, sampler and heads."""

    name: str
    program: SOp
    vocab: tuple[Any, ...]
    lengths: tuple[int, ...]
    sampler: Sampler
    heads_per_layer: tuple[int, ...]  # as the analysis counts them
    heads: tuple[HeadTarget, ...]

    @property
    def n_layers(self) -> int:
        return len(self.heads_per_layer)

    @property
    def max_heads(self) -> int:
        return max(self.heads_per_layer, default=0)

    @property
    def max_len(self) -> int:
        return max(self.lengths)

    def sample(self, n: int, seed: int | str) -> list[list[Any]]:
        """``n`` inputs with lengths drawn uniformly from ``lengths``."""
        rng = random.Random(seed)
        return [list(self.sampler(rng, rng.choice(self.lengths))) for _ in range(n)]


@dataclass(frozen=True)
class TaskData:
    """Encoded examples; position 0 of every row is BOS."""

    inputs: list[list[Any]]
    outputs: list[list[Any]]
    tokens: np.ndarray  # [n, 1 + max_len] int64 input ids (BOS, tokens, PAD)
    labels: np.ndarray  # [n, 1 + max_len] int64 output classes, IGNORE at BOS and padding
    patterns: np.ndarray  # [n, layers, max_heads, 1 + max_len, 1 + max_len] bool: keys attended
    head_mask: np.ndarray  # [layers, max_heads] bool: which slots hold a program head
    in_vocab: tuple[Any, ...]  # token of input id 2 + i
    out_vocab: tuple[Any, ...]  # value of output class i

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def attention(self) -> np.ndarray:
        """Target attention, rows normalised: ``[n, layers, max_heads, T, T]`` float32."""
        return normalise(self.patterns)


def parse_vocab(text: str | Sequence[Any]) -> tuple[Any, ...]:
    """A vocabulary from the command line: ``"abc"`` is three tokens, ``"1,2,x"`` too.

    >>> parse_vocab("(){}"), parse_vocab("10,20,x")
    (('(', ')', '{', '}'), (10, 20, 'x'))
    """
    if not isinstance(text, str):
        return tuple(text)
    parts = text.split(",") if "," in text else list(text)
    return tuple(int(p) if p.strip().lstrip("-").isdigit() else p for p in parts if p != "")


def _lengths(lengths: int | Sequence[int], min_len: int) -> tuple[int, ...]:
    """``N`` means 1..N; a sequence lists the lengths. Lengths below ``min_len`` are dropped."""
    raw = range(1, lengths + 1) if isinstance(lengths, int) else lengths
    kept = tuple(sorted({int(n) for n in raw if int(n) >= max(1, min_len)}))
    if not kept:
        raise TrainingError(f"no input length to train on in {lengths!r} (minimum {min_len})")
    return kept


def _heads(program: SOp) -> tuple[tuple[int, ...], tuple[HeadTarget, ...]]:
    """Heads per layer and one :class:`HeadTarget` per head, from the analysis."""
    analysis = analyse(program)
    heads = []
    for layer in analysis.layers:
        for slot, head in enumerate(layer.heads):
            with_bos = any(isinstance(s, SelectorWidth | Length) for s in head.sops)
            heads.append(HeadTarget(layer.index - 1, slot, head.label, head.selector, with_bos))
    return analysis.heads_per_layer, tuple(heads)


def _resolve(program: str | LibraryProgram | SOp) -> tuple[str, SOp, LibraryProgram | None]:
    """A name (``lib:NAME`` or ``NAME``), a library entry or an s-op."""
    if isinstance(program, str):
        program = get(program.removeprefix("lib:"))
    if isinstance(program, LibraryProgram):
        return program.name, program.build(), program
    if isinstance(program, SOp):
        return program.label, program, None
    raise TrainingError(f"cannot train on {program!r}: give a program name or an s-op")


def _check_vocab(task: Task) -> None:
    """The sampler must draw from the vocabulary and the program must run on it."""
    probe = task.sample(PROBE, "probe") + [task.sampler(random.Random(1), task.max_len)]
    drawn = {t for xs in probe for t in xs}
    stray = drawn - set(task.vocab)
    if stray:
        raise TrainingError(
            f"vocabulary mismatch: {task.name} draws tokens {sorted(map(str, stray))} "
            f"that are not in the vocabulary {list(task.vocab)}"
        )
    try:
        evaluate_batch(task.program, probe)
    except RaspError as err:
        raise TrainingError(
            f"vocabulary mismatch: {task.name} cannot run on tokens {list(task.vocab)}: {err}"
        ) from err


def make_task(
    program: str | LibraryProgram | SOp,
    vocab: str | Sequence[Any] | None = None,
    lengths: int | Sequence[int] = 16,
) -> Task:
    """Resolve ``program`` and check it can be trained on ``vocab`` at ``lengths``.

    ``vocab=None`` takes a library program's own vocabulary; an s-op outside
    the library needs one. A library program with a task-aware sampler (the
    Dyck languages) keeps its sampler, which must draw from ``vocab``.
    """
    name, sop, entry = _resolve(program)
    if vocab is None:
        if entry is None:
            raise TrainingError(f"{name} is not a library program: give its vocabulary")
        vocab = entry.vocab
    vocab = parse_vocab(vocab)
    if not vocab or len(set(vocab)) != len(vocab):
        raise TrainingError(f"a vocabulary needs distinct tokens, got {list(vocab)}")
    if entry is not None and (entry.sampler is not None or tuple(vocab) == entry.vocab):
        sampler: Sampler = entry.sample  # the program's own sampler, or its own vocabulary
    else:
        sampler = uniform_sampler(vocab)
    per_layer, heads = _heads(sop)
    min_len = entry.min_len if entry is not None else 1
    task = Task(name, sop, vocab, _lengths(lengths, min_len), sampler, per_layer, heads)
    _check_vocab(task)
    return task


def _pattern(trace: Any, head: HeadTarget, size: int) -> np.ndarray:
    """The keys one head attends to over ``BOS + input``, padded to ``size``."""
    n = len(trace.input)
    pattern = np.zeros((size, size), dtype=bool)  # [query, key]
    if head.selector is None:
        pattern[1 : n + 1, 1 : n + 1] = True
    else:
        pattern[1 : n + 1, 1 : n + 1] = trace.array(head.selector)
    if head.with_bos:
        pattern[1 : n + 1, 0] = True
    rows = pattern[: n + 1]
    rows[~rows.any(-1), 0] = True  # the BOS row, and rows that select nothing
    return pattern


def normalise(patterns: np.ndarray) -> np.ndarray:
    """Boolean patterns ``[..., query, key]`` as attention rows that sum to 1 (padding: 0).

    >>> normalise(np.array([[True, True], [False, False]])).tolist()
    [[0.5, 0.5], [0.0, 0.0]]
    """
    counts = patterns.sum(-1, keepdims=True)
    return (patterns / np.maximum(counts, 1)).astype(np.float32)


def _label(task: Task, inputs: list[list[Any]]) -> tuple[list[list[Any]], np.ndarray]:
    """Run the program: outputs, and head patterns ``[n, layers, heads, T, T]``."""
    size = task.max_len + 1
    shape = (len(inputs), task.n_layers, task.max_heads, size, size)
    patterns = np.zeros(shape, dtype=bool)
    try:
        traces = evaluate_batch(task.program, inputs, trace=True)
    except RaspError as err:
        raise TrainingError(f"{task.name} failed on a sampled input: {err}") from err
    for i, trace in enumerate(traces):
        for head in task.heads:
            patterns[i, head.layer, head.slot] = _pattern(trace, head, size)
    return [t.output for t in traces], patterns


def _key(value: Any) -> tuple[str, Any]:
    """Hashable identity that keeps ``1``, ``1.0`` and ``True`` apart."""
    return type(value).__name__, value


def _out_vocab(outputs: Sequence[list[Any]]) -> tuple[Any, ...]:
    """Every output value, in a stable order."""
    seen = {_key(v): v for row in outputs for v in row}
    return tuple(seen[k] for k in sorted(seen, key=lambda k: (k[0], repr(k[1]))))


def _encode(task, inputs, outputs, patterns, out_vocab) -> TaskData:
    """Pack inputs and outputs into padded id arrays."""
    size = task.max_len + 1
    in_ids = {_key(t): i + 2 for i, t in enumerate(task.vocab)}
    out_ids = {_key(v): i for i, v in enumerate(out_vocab)}
    tokens = np.full((len(inputs), size), PAD, dtype=np.int64)  # [n, 1 + max_len]
    labels = np.full((len(inputs), size), IGNORE, dtype=np.int64)  # [n, 1 + max_len]
    tokens[:, 0] = BOS
    for i, (xs, ys) in enumerate(zip(inputs, outputs, strict=True)):
        try:
            tokens[i, 1 : len(xs) + 1] = [in_ids[_key(t)] for t in xs]
            labels[i, 1 : len(ys) + 1] = [out_ids[_key(v)] for v in ys]
        except KeyError as err:
            raise TrainingError(f"value {err.args[0][1]!r} is outside the vocabulary") from None
    head_mask = np.zeros((task.n_layers, task.max_heads), dtype=bool)  # [layers, max_heads]
    for head in task.heads:
        head_mask[head.layer, head.slot] = True
    return TaskData(
        inputs, outputs, tokens, labels, patterns, head_mask, task.vocab, tuple(out_vocab)
    )


def dataset(
    program: str | LibraryProgram | SOp | Task,
    vocab: str | Sequence[Any] | None = None,
    lengths: int | Sequence[int] = 16,
    n: int = 1000,
    seed: int | str = 0,
    *,
    out_vocab: Sequence[Any] | None = None,
) -> TaskData:
    """``n`` labelled examples of ``program`` (see :func:`make_task` for the arguments).

    ``out_vocab`` fixes the output classes (to share them between splits);
    by default they are the outputs that occur.
    """
    task = program if isinstance(program, Task) else make_task(program, vocab, lengths)
    inputs = task.sample(n, seed)
    outputs, patterns = _label(task, inputs)
    classes = _out_vocab(outputs) if out_vocab is None else tuple(out_vocab)
    return _encode(task, inputs, outputs, patterns, classes)


def splits(task: Task, sizes: Sequence[int], seed: int = 0) -> list[TaskData]:
    """Independent splits (train, validation, test...) sharing one set of output classes."""
    inputs = [task.sample(n, f"{seed}/{part}") for part, n in enumerate(sizes)]
    labelled = [_label(task, xs) for xs in inputs]
    classes = _out_vocab([row for outputs, _ in labelled for row in outputs])
    return [
        _encode(task, xs, outputs, patterns, classes)
        for xs, (outputs, patterns) in zip(inputs, labelled, strict=True)
    ]
