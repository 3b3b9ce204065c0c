"""``rasplab learn``: from examples to a readable RASP program, checked against the evaluator.

The task is a library program (``lib:sort``, used only to make examples), a
program file (``.rasp`` or ``file.py:ATTR``, run on random inputs) or a JSONL
file of input/output pairs. The run folder holds ``metrics.json``,
``results.md`` (the grid's accuracy table), ``curves.png``, and the learned
program simplified (``program.rasp``, ``program.py``) and as learned
(``full.rasp``, ``full.py``), each ready for ``rasplab draw``, ``analyse``
and ``compile``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ..errors import TrainingError
from . import render
from .common import check_directory, positive_int, subcommand, typed_setting

__all__ = ["add_parser", "learn_command", "parse_sizes", "learn_changes", "experiment_learn"]

EXAMPLES = """
  rasplab learn lib:hist -o hist-learned
  rasplab learn lib:reverse --layers 1 --set 'kinds=["cat"]' --set factors=1 -o rev --json
  rasplab learn examples.jsonl -o from-data
  rasplab learn prog.rasp --vocab-size 4 -o prog-learned
  rasplab draw hist-learned/program.rasp --input abca -o hist.svg
"""
TASK_HELP = "lib:NAME (a data source only), a .rasp or file.py:ATTR program, or a JSONL file"


def add_parser(subparsers: Any, common: argparse.ArgumentParser | None = None) -> None:
    p = subcommand(
        subparsers,
        "learn",
        common,
        help="learn a RASP program from examples",
        description="Fit a transformer made of named categorical variables (hard "
        "attention, lookup-table MLPs) to a task's examples over a grid of sizes and "
        "seeds, read the best one out as RASP, check it against the evaluator on the "
        "test examples, and simplify it.",
        examples=EXAMPLES,
    )
    p.add_argument("task", help=TASK_HELP)
    p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="DIR")
    p.add_argument("--force", action="store_true", help="replace the files in DIR")
    p.add_argument("--layers", default="2", help="comma-separated layer counts (grid)")
    p.add_argument("--heads", default="1", help="comma-separated heads of each kind (grid)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--vocab-size", type=positive_int, default=8, help="tokens a..: (lib, .rasp)")
    p.add_argument("--max-len", type=positive_int, default=8, help="longest input (lib, .rasp)")
    p.add_argument("--steps", type=positive_int, help="optimiser steps per restart")
    p.add_argument("--restarts", type=positive_int, help="initialisations per seed")
    p.add_argument(
        "--min-acc",
        type=float,
        default=0.99,
        help="fail (writing nothing) if the best validation accuracy is below this",
    )
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=learn_command)


def _ints(text: str, flag: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise TrainingError(f"{flag} takes comma-separated integers, got {text!r}") from None
    if len(values) > 64:
        raise TrainingError(f"{flag}: at most 64 values, got {len(values)}")
    return values


def parse_sizes(layers: str, heads: str) -> list[tuple[int, int]]:
    """The grid of ``(layers, heads)``.

    >>> parse_sizes("1,2", "1")
    [(1, 1), (2, 1)]
    """
    grid = [(a, b) for a in _ints(layers, "--layers") for b in _ints(heads, "--heads")]
    if any(a < 1 or a > 8 or b < 1 or b > 8 for a, b in grid):
        raise TrainingError("--layers and --heads take values from 1 to 8")
    return grid


def learn_changes(items: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` changes to :class:`~rasplab.learn.config.LearnConfig` (JSON values)."""
    from ..learn.config import LearnConfig

    fields = {f.name: f for f in dataclasses.fields(LearnConfig)}
    changes: dict[str, Any] = {}
    for item in items:
        name, sep, text = (part.strip() for part in item.partition("="))
        if not sep or name not in fields:
            raise TrainingError(
                f"--set {item!r}: expected FIELD=VALUE, FIELD one of {sorted(fields)}"
            )
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        changes[name] = typed_setting(item, _frozen(value), fields[name].default)
    return changes


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, nested ones too (the config is frozen and hashable)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _config(args: argparse.Namespace):
    from ..learn.config import LearnConfig

    config = LearnConfig().replace(**learn_changes(args.set))
    if args.steps is not None:
        config = config.replace(steps=args.steps)
    if args.restarts is not None:
        config = config.replace(restarts=args.restarts)
    config.check()
    return config


def learn_command(args: argparse.Namespace) -> int:
    """Learn, check, simplify, write the folder, print the summary."""
    from ..learn.run import learn, write_run

    out = Path(args.out)
    check_directory(out.parent, out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not args.force)):
        raise TrainingError(f"{out} exists and is not an empty folder; use --force to replace it")
    config, sizes = _config(args), parse_sizes(args.layers, args.heads)
    seeds = _ints(args.seeds, "--seeds")
    quiet = args.quiet or getattr(args, "json", False)
    outcome = learn(
        args.task,
        config,
        sizes,
        seeds,
        vocab_size=args.vocab_size,
        max_len=args.max_len,
        quiet=quiet,
    )
    if outcome.best.val.token_acc < args.min_acc:
        layers, heads = outcome.size
        raise TrainingError(
            f"no size in the grid fits {args.task}: the best validation accuracy was "
            f"{100 * outcome.best.val.token_acc:.2f}% (at {layers} layers, {heads} heads of "
            f"each kind, seed {outcome.best.seed}), below --min-acc {args.min_acc}; "
            "try more --layers, --heads, --seeds or --steps. Nothing was written."
        )
    import os

    if os.environ.get("RANK", "0") != "0":
        return 0
    files = write_run(outcome, out, force=args.force)
    _report(outcome, out, files, getattr(args, "json", False))
    return 0


def _report(outcome, out: Path, files: list[str], as_json: bool) -> None:
    metrics = outcome.metrics()
    if as_json:
        data = {k: v for k, v in metrics.items() if k != "history"}
        data.update(output=str(out), files=files)
        print(render.dumps(data))
        return
    before, after = metrics["size_before"], metrics["size_after"]
    checks = ", ".join(
        f"{name}: {'equal' if c['equal'] else 'DIFFERENT'} on {c['checked']}"
        for name, c in metrics["readout"].items()
    )
    print(
        f"{outcome.task}: test accuracy {100 * metrics['test_acc']:.2f}% per position "
        f"({100 * metrics['test_seq_acc']:.2f}% per input), simplified "
        f"{100 * metrics['simplified_test_acc']:.2f}%\n"
        f"size: {_size(before)} -> {_size(after)}\n"
        f"read-out checked against the evaluator on the test inputs: {checks}\n"
        f"written: {out}/ ({', '.join(files)})"
    )


def _size(size: dict[str, int]) -> str:
    """``2 layers, 1 head, 0 table entries, 3 lines`` (singular where the count is 1)."""
    entries = size["table_entries"]
    return ", ".join(
        [
            render.plural(size["layers"], "layer"),
            render.plural(size["heads"], "head"),
            f"{entries} table {'entry' if entries == 1 else 'entries'}",
            render.plural(size["lines"], "line"),
        ]
    )


def experiment_learn(args: argparse.Namespace) -> int:
    """``rasplab experiment learn [--quick]``: the seven tasks over seeds, one table."""
    from ..learn.experiment import TASKS, run_experiment, table

    tasks = TASKS if args.tasks is None else tuple(t.strip() for t in args.tasks.split(","))
    seeds = tuple(_ints(args.seeds, "--seeds")) if args.seeds is not None else (0, 1, 2)
    out = Path(args.out)
    check_directory(out.parent, out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise TrainingError(f"{out} is not empty; use --force to write into it")
    quiet = args.quiet or getattr(args, "json", False)
    rows = run_experiment(
        out, quick=args.quick, tasks=tasks, seeds=seeds, jobs=args.jobs or 2, quiet=quiet
    )
    if getattr(args, "json", False):
        print(render.dumps(dict(rows=rows, output=str(out))))
    else:
        print(table(rows), end="")
        print(f"written: {out}/results.md, {out}/results.json")
    return 0
