"""What the ``rasplab compile`` command prints: a model's shape, size and checks.

>>> from rasplab import tokens, select, selector_width
>>> hist = selector_width(select(tokens, tokens, "=="))
>>> print(cli_summary(hist, "ab", 4, verify=20).splitlines()[0])
program: selector_width_...
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..lang.nodes import SOp
from ..model.model import CompiledModel

__all__ = ["summary", "cli_summary"]


def summary(model: CompiledModel) -> dict[str, Any]:
    """A JSON-ready description of a compiled model."""
    info = model.info.to_json()
    return {
        "program": info.get("program"),
        "layers": model.n_layers,
        "attention_layers": info.get("attention_layers"),
        "analysis_layers": info.get("analysis_layers"),
        "heads_per_layer": list(model.heads_per_layer),
        "d_model": model.d_model,
        "d_mlp": list(model.d_mlp_per_layer),
        "params": model.n_params,
        "params_nonzero": model.n_nonzero,
        "compile_seconds": info.get("compile_seconds"),
        "max_seq_len": model.max_seq_len,
        "vocab": [str(v) for v in model.vocab],
        "causal": model.causal,
        "output": model.output.kind,
        "notes": info.get("notes", []),
        "assumptions": info.get("assumptions", []),
        "verified": info.get("verified"),
    }


def _text(s: dict[str, Any]) -> str:
    lines = [
        f"program: {s['program']}",
        f"layers: {s['layers']} ({s['attention_layers']} with attention; "
        f"the analysis says {s['analysis_layers']})",
        f"heads per layer: {s['heads_per_layer']}",
        f"d_model: {s['d_model']}",
        f"d_mlp per layer: {s['d_mlp']}",
        f"parameters: {s['params']:,} ({s['params_nonzero']:,} non-zero)",
        f"compile: {s['compile_seconds']} s",
    ]
    v = s.get("verified")
    if v:
        frac = f" ({v['n_exact'] / v['n_inputs']:.0%})" if v["n_inputs"] else ""
        lines.append(f"verified: {v['n_exact']}/{v['n_inputs']} random inputs exact{frac}")
    lines += [f"note: {n}" for n in s["notes"]]
    lines += [f"assumption: {a}" for a in s["assumptions"]]
    if s.get("saved"):
        lines.append(f"saved: {s['saved']}")
    return "\n".join(lines)


def cli_summary(
    program: SOp,
    vocab: Sequence[Any],
    max_seq_len: int,
    *,
    causal: bool = False,
    verify: int = 100,
    output: str | Path | None = None,
    as_json: bool = False,
    sample: Callable[[random.Random, int], list[Any]] | None = None,
) -> str:
    """Compile, verify on ``verify`` random inputs, optionally save; the report as text or JSON.

    Raises :class:`~rasplab.errors.CompileError` (listing every blocker) if the
    program cannot be compiled exactly.
    """
    from ..model.io import save
    from .driver import compile_program

    model = compile_program(program, vocab, max_seq_len, causal, verify, sample=sample)
    s = summary(model)
    if output is not None:
        s["saved"] = str(save(model, output))
    return json.dumps(s, indent=2) if as_json else _text(s)
