"""Examples to learn from: a library program or a ``.rasp`` file as a data source, or
a JSONL file of input/output pairs; checked, split, and encoded as codes.

A JSONL line is ``{"input": [...], "output": [...]}`` (a string stands for its
characters). Every output has its input's length; inputs hold tokens of one
type, outputs values of one type; two examples with the same input and
different outputs are a conflict, since a program computes a function.

>>> data = library_examples("hist", vocab=tuple("abc"), max_len=4, n=20, seed=0)
>>> len(data.inputs), data.vocab, data.max_len
(20, ('a', 'b', 'c'), 4)
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ProgramNotFoundError, RaspError, TrainingError
from ..evaluate import evaluate_batch
from ..lang.graph import value_key
from ..library import PROGRAMS
from ..programs import resolve

__all__ = [
    "ExamplesError",
    "Examples",
    "Encoded",
    "library_examples",
    "program_examples",
    "jsonl_examples",
    "load_task",
    "split",
    "encode",
]

MAX_JSONL_LINES = 1_000_000  # a file longer than this is refused, not read to the end


class ExamplesError(TrainingError, InputError):
    """Examples that cannot be learned from: malformed, inconsistent or conflicting."""


@dataclass(frozen=True)
class Examples:
    """Input/output pairs with their vocabulary, output labels and longest length."""

    inputs: list[list[Any]]
    outputs: list[list[Any]]
    vocab: tuple[Any, ...]  # sorted where the tokens compare
    labels: tuple[Any, ...]
    max_len: int

    def subset(self, rows: Sequence[int]) -> Examples:
        return Examples(
            [self.inputs[i] for i in rows],
            [self.outputs[i] for i in rows],
            self.vocab,
            self.labels,
            self.max_len,
        )

    def __len__(self) -> int:
        return len(self.inputs)


def _ordered(values: Sequence[Any]) -> tuple[Any, ...]:
    unique = list({value_key(v): v for v in values}.values())
    try:
        return tuple(sorted(unique))
    except TypeError:
        return tuple(unique)


def _pack(inputs: list[list[Any]], outputs: list[list[Any]], vocab=None) -> Examples:
    vocab = _ordered(vocab if vocab is not None else [t for x in inputs for t in x])
    labels = _ordered([y for ys in outputs for y in ys])
    return Examples(inputs, outputs, vocab, labels, max(len(x) for x in inputs))


def _draw_inputs(sample, n: int, min_len: int, max_len: int, seed: int) -> list[list[Any]]:
    rng = random.Random(seed)
    return [list(sample(rng, rng.randint(min_len, max_len))) for _ in range(n)]


def library_examples(
    name: str, *, vocab: tuple[Any, ...] | None, max_len: int, n: int, seed: int
) -> Examples:
    """Inputs from the program's sampler, outputs from its plain-Python oracle."""
    entry = PROGRAMS.get(name.removeprefix("lib:"))
    if entry is None:
        raise ProgramNotFoundError(f"no library program {name!r}; see rasplab list")
    tokens = vocab if vocab is not None and entry.any_token else entry.vocab

    def sample(rng: random.Random, k: int) -> list[Any]:
        if entry.sampler is not None:
            return entry.sample(rng, k)
        return [rng.choice(tokens) for _ in range(k)]

    inputs = _draw_inputs(sample, n, max(entry.min_len, 1), max_len, seed)
    outputs = [list(entry.reference(list(x))) for x in inputs]
    return _pack(inputs, outputs, tokens)


def program_examples(
    path: str, *, vocab: tuple[Any, ...], max_len: int, n: int, seed: int
) -> Examples:
    """Uniform random inputs over ``vocab``, labelled by running the program."""
    sop = resolve(path).sop
    inputs = _draw_inputs(lambda r, k: [r.choice(vocab) for _ in range(k)], n, 1, max_len, seed)
    try:
        outputs = [list(y) for y in evaluate_batch(sop, inputs)]
    except RaspError as err:
        raise TrainingError(f"{path} fails on inputs over {list(vocab)}: {err}") from None
    return _pack(inputs, outputs, vocab)


def _read_line(text: str, number: int, where: str) -> tuple[list[Any], list[Any]]:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as err:
        raise ExamplesError(f"{where}:{number}: not JSON ({err.msg})") from None
    if not isinstance(row, dict) or "input" not in row or "output" not in row:
        raise ExamplesError(f'{where}:{number}: expected {{"input": [...], "output": [...]}}')
    pair = []
    for key in ("input", "output"):
        value = row[key]
        value = list(value) if isinstance(value, str) else value
        if not isinstance(value, list) or not value:
            raise ExamplesError(f"{where}:{number}: {key} must be a non-empty list or string")
        if any(isinstance(v, list | dict) or v is None for v in value):
            raise ExamplesError(f"{where}:{number}: {key} holds a list, dict or null")
        pair.append(value)
    if len(pair[0]) != len(pair[1]):
        raise ExamplesError(
            f"{where}:{number}: the output has {len(pair[1])} values for {len(pair[0])} tokens; "
            "every output needs one value per input token"
        )
    return pair[0], pair[1]


def _one_type(rows: list[list[Any]], what: str, where: str) -> None:
    kinds = {type(v).__name__ for row in rows for v in row}
    if len(kinds) > 1 and not kinds <= {"int", "float"}:
        raise ExamplesError(f"{where}: the {what} mix types ({', '.join(sorted(kinds))})")


def _refuse_conflicts(inputs: list[list[Any]], outputs: list[list[Any]], where: str) -> None:
    seen: dict[Any, tuple[int, list[Any]]] = {}
    for number, (xs, ys) in enumerate(zip(inputs, outputs, strict=True), start=1):
        key = tuple(value_key(x) for x in xs)
        if key in seen and [value_key(y) for y in seen[key][1]] != [value_key(y) for y in ys]:
            raise ExamplesError(
                f"{where}: examples {seen[key][0]} and {number} have the same input {xs!r} but "
                f"outputs {seen[key][1]!r} and {ys!r}: the outputs are not a function of the inputs"
            )
        seen.setdefault(key, (number, ys))


def jsonl_examples(path: str | Path) -> Examples:
    """Read and check a JSONL file of examples (see the module's docstring)."""
    where = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ExamplesError(f"cannot read {where}: {err}") from None
    if len(lines) > MAX_JSONL_LINES:
        raise ExamplesError(f"{where} has over {MAX_JSONL_LINES} lines")
    pairs = [_read_line(t, i, where) for i, t in enumerate(lines, start=1) if t.strip()]
    if len(pairs) < 3:
        raise ExamplesError(f"{where}: need at least 3 examples, got {len(pairs)}")
    inputs, outputs = [p[0] for p in pairs], [p[1] for p in pairs]
    _one_type(inputs, "input tokens", where)
    _one_type(outputs, "output values", where)
    _refuse_conflicts(inputs, outputs, where)
    return _pack(inputs, outputs)


def load_task(task: str, *, vocab_size: int, max_len: int, n: int, seed: int) -> Examples:
    """Examples for ``lib:NAME``, a ``.rasp`` (or ``file.py:ATTR``) program, or a JSONL file."""
    letters = tuple(string.ascii_lowercase[:vocab_size])
    if task.endswith(".jsonl"):
        return jsonl_examples(task)
    if task.startswith("lib:") or task in PROGRAMS:
        return library_examples(task, vocab=letters, max_len=max_len, n=n, seed=seed)
    return program_examples(task, vocab=letters, max_len=max_len, n=n, seed=seed)


def split(data: Examples, n_train: int, n_val: int, n_test: int, seed: int):
    """Train, validation and test parts; a small file is split 80/10/10 instead."""
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    if len(order) < n_train + n_val + n_test:
        n_val = n_test = max(1, len(order) // 10)
        n_train = len(order) - n_val - n_test
    parts = (order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :][:n_test])
    return tuple(data.subset(p) for p in parts)


@dataclass(frozen=True)
class Encoded:
    tokens: np.ndarray  # [n, max_len] int64 codes of vocab (0 past the end)
    lengths: np.ndarray  # [n] int64
    labels: np.ndarray  # [n, max_len] int64 codes of labels, -100 past the end


def encode(data: Examples) -> Encoded:
    vocab = {value_key(t): i for i, t in enumerate(data.vocab)}
    labels = {value_key(y): i for i, y in enumerate(data.labels)}
    tokens = np.zeros((len(data), data.max_len), dtype=np.int64)
    out = np.full((len(data), data.max_len), -100, dtype=np.int64)
    for row, (xs, ys) in enumerate(zip(data.inputs, data.outputs, strict=True)):
        tokens[row, : len(xs)] = [vocab[value_key(t)] for t in xs]
        out[row, : len(ys)] = [labels[value_key(y)] for y in ys]
    lengths = np.asarray([len(x) for x in data.inputs], dtype=np.int64)
    return Encoded(tokens, lengths, out)
