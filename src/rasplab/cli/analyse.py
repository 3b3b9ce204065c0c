"""``rasplab analyse``: the layers and heads a transformer needs for a program.

>>> from rasplab import tokens, indices, select
>>> tie = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> selector_text(select(tokens, tokens, "<") | tie)
'select(tokens, tokens, <) | (select(tokens, tokens, ==) & select(indices, indices, <))'
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import Any

from ..analysis import Analysis, Head, analyse
from ..lang.nodes import Selector, SelectorAnd, SelectorNot, SelectorOr, SOp
from ..library import LibraryProgram
from ..programs import resolve
from . import render
from .common import PROGRAM_HELP, subcommand

__all__ = [
    "add_parser",
    "command",
    "analysis_table",
    "analysis_json",
    "paper_match",
    "head_pattern",
    "selector_text",
    "summary_line",
]

WRAP = 44  # width of the "pattern" and "produces" columns before they wrap
EXAMPLES = """
  rasplab analyse lib:dyck2                 4 layers, heads per layer [1, 2, 1, 1]
  rasplab analyse examples/sort.rasp --json
  rasplab analyse prog.py:make_rev
"""


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``analyse``."""
    p = subcommand(
        subparsers,
        "analyse",
        common,
        aliases=["analyze"],
        help="layers, heads per layer and where each operation sits",
        description="Schedule PROGRAM onto transformer layers, as in the RASP paper.",
        examples=EXAMPLES,
    )
    p.add_argument("program", help=PROGRAM_HELP)
    p.set_defaults(func=command)


def paper_match(entry: LibraryProgram | None, analysis: Analysis) -> bool | None:
    """Whether the analysis equals the paper's (layers, heads); ``None`` if none is known."""
    if entry is None or entry.paper is None:
        return None
    layers, heads = entry.paper
    return (analysis.n_layers, analysis.heads_per_layer) == (layers, tuple(heads))


def _operand(selector: Selector) -> str:
    """A sub-selector inside a compound one: its name, or spelled out in brackets."""
    if selector.name is not None:
        return selector.label
    text = selector_text(selector)
    return f"({text})" if isinstance(selector, SelectorAnd | SelectorOr) else text


def selector_text(selector: Selector) -> str:
    """The selector spelled out, unnamed sub-selectors inline, named ones by name."""
    if isinstance(selector, SelectorAnd | SelectorOr):
        op = "&" if isinstance(selector, SelectorAnd) else "|"
        return f"{_operand(selector.fst)} {op} {_operand(selector.snd)}"
    if isinstance(selector, SelectorNot):
        return f"~{_operand(selector.inner)}"
    return selector.describe()


def head_pattern(head: Head) -> str:
    """What the head attends with, e.g. ``select(indices, indices, <=)``."""
    if head.selector is None:
        return "select all (length)"
    return selector_text(head.selector)


def _labels(sops: Sequence[SOp]) -> str:
    """S-op labels, comma separated and wrapped to the column width."""
    text = ", ".join(s.label for s in sops)
    return "\n".join(textwrap.wrap(text, WRAP, break_on_hyphens=False)) or "-"


def analysis_table(analysis: Analysis) -> str:
    """One row per head and per MLP, layer by layer, the embedding first."""
    rows: list[list[Any]] = []
    if analysis.embedding:
        rows.append([0, "embedding", "", "", _labels(analysis.embedding)])
    for layer in analysis.layers:
        for k, head in enumerate(layer.heads, 1):
            first = k == 1
            pattern = "\n".join(textwrap.wrap(head_pattern(head), WRAP, break_on_hyphens=False))
            rows.append(
                [layer.index if first else "", f"head {k}", head.label, pattern, _labels(head.sops)]
            )
        if layer.mlp:
            rows.append(["" if layer.heads else layer.index, "mlp", "", "", _labels(layer.mlp)])
    header = ["layer", "part", "selector", "pattern", "produces"]
    return render.table(header, rows)


def summary_line(name: str, analysis: Analysis) -> str:
    """``name: N layers, heads per layer [...] (H heads)``."""
    layers, heads = render.plural(analysis.n_layers, "layer"), list(analysis.heads_per_layer)
    return f"{name}: {layers}, heads per layer {heads} ({render.plural(analysis.n_heads, 'head')})"


def _paper_line(entry: LibraryProgram | None, analysis: Analysis) -> str | None:
    """``paper: ... -- match`` for library programs the paper analyses."""
    match = paper_match(entry, analysis)
    if match is None or entry is None or entry.paper is None:  # no paper figures to compare
        return None
    layers, heads = entry.paper
    verdict = "match" if match else "MISMATCH"
    return f"paper: {render.plural(layers, 'layer')}, heads per layer {list(heads)} -- {verdict}"


def analysis_json(name: str, analysis: Analysis, entry: LibraryProgram | None) -> dict[str, Any]:
    """``Analysis.to_dict()`` with the program's name, head patterns and the paper's numbers."""
    data = analysis.to_dict()
    data = {"program": name, "output": data.pop("program"), **data, "n_heads": analysis.n_heads}
    for layer, layer_data in zip(analysis.layers, data["layers"], strict=True):
        for head, head_data in zip(layer.heads, layer_data["heads"], strict=True):
            head_data["pattern"] = head_pattern(head)
    if entry is not None and entry.paper is not None:
        layers, heads = entry.paper
        data["paper"] = {
            "n_layers": layers,
            "heads_per_layer": list(heads),
            "match": paper_match(entry, analysis),
        }
    return data


def command(args: argparse.Namespace) -> int:
    """Run ``rasplab analyse``."""
    program = resolve(args.program)
    analysis = analyse(program.sop)
    if args.json:
        print(render.dumps(analysis_json(program.name, analysis, program.entry)))
        return 0
    print(summary_line(program.name, analysis))
    paper = _paper_line(program.entry, analysis)
    if paper:
        print(paper)
    print()
    print(analysis_table(analysis))
    return 0
