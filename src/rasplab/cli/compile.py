"""``rasplab compile``: build exact transformer weights for a program, verify them, save them.

>>> parse_vocab("a,b,c"), parse_vocab("1,2,3"), parse_vocab('["x", 1]')
(['a', 'b', 'c'], [1, 2, 3], ['x', 1])
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..programs import resolve

__all__ = ["add_parser", "command", "parse_vocab"]


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``compile`` and its options."""
    p = subparsers.add_parser(
        "compile",
        parents=[common],
        help="compile a program into exact transformer weights",
        description="Compile PROGRAM, verify it against the evaluator and optionally save it.",
    )
    p.add_argument("program", help="lib:NAME, NAME, path/to/file.py:ATTR or file.rasp[:NAME]")
    p.add_argument(
        "--vocab", help="tokens: a,b,c or a JSON list (default: the library program's vocabulary)"
    )
    p.add_argument("--max-len", type=int, required=True, help="longest input the model takes")
    p.add_argument("--causal", action="store_true", help="compile a decoder (causal attention)")
    p.add_argument(
        "--verify", type=int, default=100, metavar="K", help="random inputs to check (default 100)"
    )
    p.add_argument("-o", "--output", type=Path, help="save to .safetensors or .npz")
    p.set_defaults(func=command)


def parse_vocab(text: str) -> list[Any]:
    """A JSON list, or comma-separated tokens (all ints if every one is an int)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError as err:
            raise InputError(f"--vocab is not a JSON list: {err}") from None
        if isinstance(value, list) and value:
            return value
    items = [t.strip() for t in stripped.split(",") if t.strip()]
    if not items:
        raise InputError(f"--vocab names no tokens: {text!r}")
    try:
        return [int(t) for t in items]
    except ValueError:
        return items


def command(args: argparse.Namespace) -> int:
    """Compile, verify and report; ``CompileError`` lists every blocker."""
    from ..compiler import cli_summary

    program = resolve(args.program)
    entry = program.entry
    if args.vocab is not None:
        vocab = parse_vocab(args.vocab)
    elif entry is not None:
        vocab = list(entry.vocab)
    else:
        raise InputError("give the tokens with --vocab (for example --vocab a,b,c)")
    sample = entry.sample if entry is not None and args.vocab is None else None
    print(
        cli_summary(
            program.sop,
            vocab,
            args.max_len,
            causal=args.causal,
            verify=args.verify,
            output=args.output,
            as_json=args.json,
            sample=sample,
        )
    )
    return 0
