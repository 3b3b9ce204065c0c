"""``rasplab list``: the library catalogue with each program's shape."""

from __future__ import annotations

import argparse
from typing import Any

from ..analysis import analyse
from ..errors import RaspError
from ..library import PROGRAMS, LibraryProgram
from . import render
from .analyse import paper_match
from .common import subcommand

__all__ = ["add_parser", "command", "describe_entry"]


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``list``."""
    p = subcommand(
        subparsers,
        "list",
        common,
        help="list the library programs",
        description="List the library: name, layers, heads per layer, summary.",
        examples="  rasplab list\n  rasplab list --json",
    )
    p.set_defaults(func=command)


def describe_entry(entry: LibraryProgram) -> dict[str, Any]:
    """Name, shape, paper numbers, examples and summary of one library program."""
    info: dict[str, Any] = {"name": entry.name, "summary": entry.summary}
    try:
        analysis = analyse(entry.build())
    except RaspError as err:
        return {**info, "error": str(err)}
    info["n_layers"] = analysis.n_layers
    info["heads_per_layer"] = list(analysis.heads_per_layer)
    if entry.paper is not None:
        info["paper"] = {
            "n_layers": entry.paper[0],
            "heads_per_layer": list(entry.paper[1]),
            "match": paper_match(entry, analysis),
        }
    info["examples"] = list(entry.examples)
    info["vocab"] = list(entry.vocab)
    info["any_token"] = entry.any_token
    return info


def _row(info: dict[str, Any]) -> list[Any]:
    """One table row of ``rasplab list``."""
    if "error" in info:
        return [info["name"], "?", "?", f"error: {info['error']}"]
    heads = ", ".join(map(str, info["heads_per_layer"]))
    return [info["name"], info["n_layers"], f"[{heads}]", info["summary"].replace("``", "")]


def command(args: argparse.Namespace) -> int:
    """Run ``rasplab list``."""
    infos = [describe_entry(entry) for entry in PROGRAMS.values()]
    if args.json:
        print(render.dumps(infos))
        return 0
    header = ["program", "layers", "heads", "summary"]
    print(render.table(header, [_row(i) for i in infos], align="lr"))
    return 0
