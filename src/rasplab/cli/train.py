"""``rasplab train`` and ``rasplab experiment``: the command line of training.

``main(argv)`` takes the whole command (``["train", "hist", "-o", "run"]``)
and returns the exit code of :mod:`rasplab.cli.main`. Under ``torchrun``
(``python -m rasplab.cli.train train ...``) each process runs the same
command and joins the process group.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ProgramNotFoundError, TrainingError
from ..lang.nodes import SOp
from ..library import PROGRAMS
from ..train.config import DEVICES, NORMS, POSITIONS, TrainConfig
from . import render
from .common import (
    PROGRAM_HELP,
    VOCAB_HELP,
    check_directory,
    parse_tokens,
    positive_int,
    subcommand,
    typed_setting,
)

__all__ = [
    "main",
    "add_parser",
    "train_command",
    "experiment_command",
    "settings_changes",
    "config_from_args",
]

TRAIN_EXAMPLES = """
  rasplab train lib:hist --max-len 8 -o hist-run
  rasplab train sort --attn-supervision --max-len 16 --steps 2000 -o sort-run
  rasplab train lib:hist --vocab a,b,c --max-len 5 -o run --force --json
  rasplab train prog.py:make_rev --vocab abc --max-len 6 -o rev-run
  torchrun --standalone --nproc-per-node 2 -m rasplab.cli.train train hist -o ddp-run
"""
EXPERIMENT_EXAMPLES = """
  rasplab experiment paper --quick -o experiments/paper
  rasplab experiment paper --tasks hist,sort --seeds 0,1,2 --set lr=1e-3
  rasplab experiment compiled --quick -o experiments/compiled
  rasplab experiment learn --quick -o experiments/learn
"""


def _train_arguments(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("program", help=PROGRAM_HELP)
    p.add_argument(
        "-o",
        "--output",
        "--out",
        dest="out",
        required=True,
        metavar="DIR",
        help="the run directory (new or empty; its parent must exist)",
    )
    p.add_argument("--force", action="store_true", help="overwrite the run files in DIR")
    p.add_argument("--vocab", help=VOCAB_HELP + " (default: the library program's)")
    p.add_argument("--max-len", type=positive_int, default=d.max_len, help="longest input")
    p.add_argument("--min-len", type=int, default=d.min_len, help="shortest input")
    p.add_argument("--attn-supervision", action="store_true", help="supervise the heads")
    p.add_argument("--attn-weight", type=float, default=d.attn_weight, help="its loss weight")
    p.add_argument("--layers", type=int, help="default: the analysis's layers")
    p.add_argument("--heads", type=int, help="per layer; default: the most any layer needs")
    p.add_argument("--d-model", type=int, default=d.d_model)
    p.add_argument("--positions", choices=POSITIONS, default=d.positions)
    p.add_argument("--norm", choices=NORMS, default=d.norm)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=d.steps, help="optimiser steps")
    budget.add_argument("--epochs", type=int, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--n-train", type=int, default=d.n_train)
    p.add_argument("--n-val", type=int, default=d.n_val)
    p.add_argument("--n-test", type=int, default=d.n_test)
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--target-acc", type=float, default=d.target_acc, help="early stop")
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", choices=DEVICES, default=d.device)
    p.add_argument("--threads", type=int, default=d.threads, help="0: torch's default")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def add_parser(subparsers: Any, common: argparse.ArgumentParser | None = None) -> None:
    """Register ``train`` and ``experiment`` on ``subparsers``."""
    p = subcommand(
        subparsers,
        "train",
        common,
        help="train a transformer to compute a RASP program",
        description="Train a standard transformer on a program's input/output pairs, "
        "optionally supervising its attention with the program's selectors.",
        examples=TRAIN_EXAMPLES,
    )
    _train_arguments(p)
    p.set_defaults(func=train_command)
    e = subcommand(
        subparsers,
        "experiment",
        common,
        help="reproduce the paper's training experiment (or the compiled-init one)",
        description="paper: train every paper task at the predicted size and smaller. "
        "compiled: fine-tune compiled models, distil them, test on longer inputs. "
        "learn: learn RASP programs for the Transformer Programs tasks from examples "
        "(--seeds, --tasks, --jobs). Each writes a table.",
        examples=EXPERIMENT_EXAMPLES,
    )
    e.add_argument("name", choices=["paper", "compiled", "learn"], help="the experiment to run")
    e.add_argument("--quick", action="store_true", help="small setting for a 2-core CPU")
    e.add_argument(
        "-o",
        "--output",
        "--out",
        dest="out",
        metavar="DIR",
        help="where results.md goes (default: experiments/NAME)",
    )
    e.add_argument("--force", action="store_true", help="overwrite results in --out")
    e.add_argument("--quiet", action="store_true", help="no progress output")
    e.add_argument("--tasks", help="comma-separated subset of the paper's tasks")
    e.add_argument("--jobs", type=int, help="runs at a time (default: 2 on CPU, 1 on a GPU)")
    e.add_argument("--device", choices=DEVICES, default="auto")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument(
        "--seeds", help="paper: comma-separated seeds, one run of the experiment each, one table"
    )
    e.add_argument("--steps", type=int, help="override the setting's step budget")
    e.add_argument("--sizes", help="paper: comma-separated subset of sup,LH,H-1,L-1,L-1:2H")
    e.add_argument(
        "--budget", type=float, help="paper: seconds of training shared by all runs (0: none)"
    )
    e.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="paper: change a training setting, e.g. --set lr=1e-3 (repeatable)",
    )
    e.set_defaults(func=experiment_command)


def _program(spec: str) -> tuple[str, SOp | None]:
    """A library name stays a name; a file spec is loaded to an s-op."""
    name = spec.removeprefix("lib:")
    if name in PROGRAMS:
        return name, None
    if spec.startswith("lib:") or ":" not in spec:
        known = ", ".join(sorted(PROGRAMS))
        raise ProgramNotFoundError(f"unknown program {spec!r}; library programs: {known}")
    from ..programs import resolve  # the main command line's loader for file.py:ATTR

    return spec, resolve(spec).sop


def config_from_args(args: argparse.Namespace, program: str) -> TrainConfig:
    """The :class:`TrainConfig` a ``train`` command line asks for."""
    return TrainConfig(
        program=program,
        vocab=None if args.vocab is None else tuple(parse_tokens(args.vocab, "--vocab")),
        max_len=args.max_len,
        min_len=args.min_len,
        n_train=args.n_train,
        n_val=args.n_val,
        n_test=args.n_test,
        layers=args.layers,
        heads=args.heads,
        d_model=args.d_model,
        positions=args.positions,
        norm=args.norm,
        attn_supervision=args.attn_supervision,
        attn_weight=args.attn_weight,
        steps=args.steps,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        eval_every=args.eval_every,
        target_acc=args.target_acc,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
    )


def train_command(args: argparse.Namespace) -> int:
    """``rasplab train``: train, write the run directory, print the test scores."""
    from ..train.loop import train

    name, sop = _program(args.program)
    config = config_from_args(args, name)
    out = Path(args.out)
    check_directory(out.parent, out)
    quiet = args.quiet or getattr(args, "json", False)  # --json: stdout and stderr stay clean
    result = train(config, sop, args.out, force=args.force, verbose=not quiet)
    m = result.metrics
    if m["world_size"] > 1 and not _is_rank_zero():
        return 0
    if getattr(args, "json", False):
        print(render.dumps(train_json(m)))
        return 0
    test = m["test"]
    agreement = (
        "" if test["agreement"] is None else f", attention agreement {100 * test['agreement']:.1f}%"
    )
    layers = render.plural(m["model"]["layers"], "layer")
    heads = render.plural(m["model"]["heads"], "head")
    print(
        f"{m['program']} at {layers} x {heads}: "
        f"test sequence accuracy {100 * test['seq_acc']:.2f}%, per position "
        f"{100 * test['pos_acc']:.2f}%{agreement} ({m['steps_run']} steps, "
        f"{m['train_seconds']:.0f} s; {m['stopped']})\nrun directory: {args.out}"
    )
    return 0


def train_json(metrics: dict[str, Any]) -> dict[str, Any]:
    """The run's metrics without the history, sizes under the shared key names."""
    data = {k: v for k, v in metrics.items() if k != "history"}
    model = data.get("model", {})
    data["model"] = {
        "n_layers": model.get("layers"),
        "heads_per_layer": model.get("heads"),
        "n_params": model.get("parameters"),
    }
    analysis = data.get("analysis", {})
    data["analysis"] = {
        "n_layers": analysis.get("layers"),
        "heads_per_layer": analysis.get("heads_per_layer"),
        "heads": analysis.get("heads"),
    }
    return data


def _is_rank_zero() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"


def experiment_command(args: argparse.Namespace) -> int:
    """``rasplab experiment paper`` (or ``compiled``): run the table, print it."""
    args.out = args.out or f"experiments/{args.name}"
    if args.name == "learn":  # programs learned from examples (rasplab.learn)
        from .learn import experiment_learn

        return experiment_learn(args)
    if args.name == "compiled":  # compiled initialisation and distillation
        if args.seeds is not None:
            raise TrainingError("--seeds is for the paper experiment; use --seed with compiled")
        from ..train.compiled_experiment import compiled_command

        return compiled_command(args)
    from ..train.experiment import TASKS, markdown_table, run_paper

    tasks = TASKS if args.tasks is None else tuple(t.strip() for t in args.tasks.split(","))
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ProgramNotFoundError(f"not a task of the paper experiment: {', '.join(unknown)}")
    changes = settings_changes(args.set)
    if args.steps is not None:
        changes["steps"] = args.steps
    options = dict(quick=args.quick, tasks=tasks, device=args.device, jobs=args.jobs)
    options.update(force=args.force, changes=changes or None, budget=args.budget)
    options["verbose"] = not (args.quiet or getattr(args, "json", False))
    if args.sizes is not None:
        options["sizes"] = tuple(s.strip() for s in args.sizes.split(","))
    if args.seeds is not None:
        from ..train.seeds import run_seeds, seeds_table

        seeds = _seeds(args.seeds)
        print(seeds_table(run_seeds(args.out, seeds, **options), seeds), end="")
    else:
        print(markdown_table(run_paper(args.out, seed=args.seed, **options)), end="")
    print(f"written: {args.out}/results.md, {args.out}/results.json")
    return 0


def settings_changes(items: Sequence[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` strings as changes to :class:`TrainConfig` (values read as JSON).

    >>> settings_changes(["lr=1e-3", "positions=onehot", "epochs=3"])
    {'lr': 0.001, 'positions': 'onehot', 'epochs': 3}
    """
    defaults = TrainConfig()
    known = sorted(f.name for f in dataclasses.fields(TrainConfig))
    changes: dict[str, Any] = {}
    for item in items:
        field, sep, text = (part.strip() for part in item.partition("="))
        if not sep or field not in known:
            raise TrainingError(f"--set {item!r}: expected FIELD=VALUE, FIELD one of {known}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        changes[field] = typed_setting(item, value, getattr(defaults, field))
    defaults.replace(**changes)  # the configuration's own checks
    return changes


def _seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise TrainingError(f"--seeds takes comma-separated integers, got {text!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``train`` or ``experiment`` (any ``rasplab`` command) on ``argv``; the exit code."""
    from .main import main as rasplab_main

    return rasplab_main(argv)


if __name__ == "__main__":
    sys.exit(main())
