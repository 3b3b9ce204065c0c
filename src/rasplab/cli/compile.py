"""``rasplab compile``: build exact transformer weights for a program, verify them, save them.

The report gives the model's shape under TransformerLens's names (``n_layers``,
``heads_per_layer``, ``d_model``, ``d_mlp``, ``n_params``, ``n_ctx``,
``d_vocab``), the verification counts and the inputs the model is exact on.

>>> from rasplab import tokens, select, selector_width
>>> from rasplab.compiler import compile_program
>>> model = compile_program(selector_width(select(tokens, tokens, "==")), "ab", 4, verify=20)
>>> data = model_summary(model)
>>> data["n_layers"], data["heads_per_layer"], data["verified"]["n_inputs"]
(1, [1], 20)
>>> print(exactness_line(data))
exact on: every input over the vocabulary, lengths 1 to 4 (proved on all 30 inputs by enumeration)
>>> print(certificate_line(data))
certificate: proved by enumeration: all 30 inputs exact in float64 and float32, worst margin 1 logit
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .. import progress
from ..compiler.bounds import BOUNDS_SECONDS
from ..compiler.certify import DEFAULT_PROVE_LIMIT
from ..compiler.limits import DEFAULT_MAX_SECONDS
from ..errors import InputError
from ..model.info import Certificate
from ..model.model import CompiledModel
from ..programs import resolve
from . import render
from .common import (
    PROGRAM_HELP,
    VOCAB_HELP,
    add_limit_flags,
    check_output,
    evaluator_limits,
    non_negative_int,
    non_negative_seconds,
    parse_tokens,
    positive_int,
    positive_seconds,
    subcommand,
    write_guard,
)

__all__ = [
    "add_parser",
    "command",
    "model_summary",
    "summary_text",
    "exactness_line",
    "certificate_line",
]

SUFFIXES = (".safetensors",)  # .npz model files are no longer written (docs/model-format.md)
EXAMPLES = """
  rasplab compile lib:sort --max-len 16                 its library vocabulary and sampler
  rasplab compile lib:sort --max-len 16 --verify 500 -o sort.safetensors
  rasplab compile lib:hist --vocab abc --max-len 8 --json    tokens a, b and c
  rasplab compile prog.py:count --vocab 1,2,3 --max-len 6 -o count.safetensors
  rasplab compile lib:length --max-len 8 --causal       a decoder (causal attention)
  rasplab compile lib:sort --vocab abc --max-len 8 --prove-limit 200000   prove it on all inputs
"""


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``compile`` and its options."""
    p = subcommand(
        subparsers,
        "compile",
        common,
        help="compile a program into exact transformer weights",
        description="Compile PROGRAM, verify it against the evaluator and optionally save it.",
        examples=EXAMPLES,
    )
    p.add_argument("program", help=PROGRAM_HELP)
    p.add_argument("--vocab", help=VOCAB_HELP + " (default: the library program's)")
    p.add_argument(
        "--max-len", type=positive_int, required=True, help="longest input the model takes"
    )
    p.add_argument("--causal", action="store_true", help="compile a decoder (causal attention)")
    p.add_argument(
        "--verify",
        type=non_negative_int,
        default=100,
        metavar="K",
        help="random inputs to check (default 100; 0 skips the check); up to 436 more "
        "where the certificate leaves float32 open",
    )
    p.add_argument(
        "--prove-limit",
        type=non_negative_int,
        default=DEFAULT_PROVE_LIMIT,
        metavar="N",
        help="when the model's domain has at most N inputs, check every one and record a "
        f"proof (default {DEFAULT_PROVE_LIMIT:,}; 0 never enumerates); a larger domain is "
        "proved by bounds through the weights where they suffice",
    )
    p.add_argument(
        "--bounds-seconds",
        type=non_negative_seconds,
        default=BOUNDS_SECONDS,
        metavar="S",
        help=f"time the proof by bounds may take (default {BOUNDS_SECONDS:g}; 0 skips it); "
        "what is not bounded by then stays open in the certificate",
    )
    p.add_argument(
        "--time-limit",
        type=positive_seconds,
        default=DEFAULT_MAX_SECONDS,
        metavar="S",
        help=f"time the whole compile may take (default {DEFAULT_MAX_SECONDS:g}); past it "
        "the compile stops and says in which stage",
    )
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="save to FILE.safetensors")
    p.add_argument(
        "--max-params",
        type=positive_int,
        default=None,
        metavar="N",
        help="refuse a model estimated to have more than N parameters, before building it "
        "(default 20,000,000)",
    )
    add_limit_flags(p)
    p.set_defaults(func=command)


def model_summary(model: CompiledModel) -> dict[str, Any]:
    """A JSON-ready description of a compiled model, under the shared key names."""
    info = model.info
    verified = info.verified
    return {
        "program": info.program,
        "n_layers": model.n_layers,
        "attention_layers": info.attention_layers,
        "analysis_layers": info.analysis_layers,
        "heads_per_layer": list(model.heads_per_layer),
        "d_model": model.d_model,
        "d_mlp": list(model.d_mlp_per_layer),
        "n_params": model.n_params,
        "n_params_nonzero": model.n_nonzero,
        "max_seq_len": model.max_seq_len,
        "n_ctx": int(model.W_pos.shape[0]),
        "d_vocab": int(model.W_E.shape[0]),
        "vocab": [str(v) for v in model.vocab],
        "causal": model.causal,
        "output": model.output.kind,
        "compile_seconds": info.compile_seconds,
        "notes": list(info.notes),
        "assumptions": list(info.assumptions),
        "domain": {"kind": info.domain.kind, "description": info.domain.description},
        "certificate": None if info.certificate is None else _certificate(info.certificate),
        "verified": None
        if verified is None
        else {
            "n_inputs": verified.n_inputs,
            "n_exact": verified.n_exact,
            "n_rejected": verified.n_rejected,
        },
    }


def _certificate(c: Certificate) -> dict[str, Any]:
    return {
        "status": c.status,
        "n_domain": c.n_domain,
        "n_enumerated": c.n_enumerated,
        "n_rejected": c.n_rejected,
        "limit": c.limit,
        "worst_margin": c.worst_margin,
        "worst_margin_float32": c.worst_margin_float32,
        "margin_unit": c.margin_unit,
        "open": list(c.open),
        "seconds": c.seconds,
        "method": c.method,
        "weights_sha256": c.weights_sha256,
        "dtype": c.dtype,
    }


def _inputs(n: int) -> str:
    return f"{n:,} input" if n == 1 else f"{n:,} inputs"


def certificate_line(s: dict[str, Any]) -> str:
    """``certificate: proved ...`` or ``certificate: sampled, not proved: <what is open>``."""
    c = s.get("certificate")
    if c is None:
        return "certificate: none (not checked)"
    if c["status"] != "proved" and c.get("dtype") == "float64":
        margin = c["worst_margin"]
        worst = "" if margin is None else f", worst margin {margin:.3g} {c['margin_unit']}"
        narrow = [o.removeprefix("float32: ") for o in c["open"] if o.startswith("float32: ")]
        return (
            f"certificate: proved by bounds in float64 only{worst} (run it with float64); "
            "in float32 not proved: " + "; ".join(narrow or c["open"])
        )
    if c["status"] != "proved":
        return f"certificate: {c['status']}, not proved: " + "; ".join(c["open"])
    held = "; the assumptions below are discharged on this domain" if s.get("assumptions") else ""
    if c.get("method") == "bounds":
        return _bounds_line(s, c) + held
    counted = _inputs(c["n_enumerated"])
    rejected = f" ({c['n_rejected']:,} more rejected by the program)" if c["n_rejected"] else ""
    margin = c["worst_margin"]
    worst = (
        "no competing output value"
        if margin is None
        else f"worst margin {margin:.3g} {c['margin_unit']}"
    )
    return (
        f"certificate: proved by enumeration: all {counted} exact in float64 and float32"
        f"{rejected}, {worst}{held}"
    )


def _bounds_line(s: dict[str, Any], c: dict[str, Any]) -> str:
    margins = [c["worst_margin"], c["worst_margin_float32"]]
    worst = (
        "no competing output value"
        if None in margins
        else f"worst margin {margins[0]:.3g} {c['margin_unit']} ({margins[1]:.3g} in float32)"
    )
    return (
        f"certificate: proved by bounds: every input of lengths 1 to {s['max_seq_len']} exact "
        f"in float64 and float32 (every rounding bounded), {worst}"
    )


def _verified_line(v: dict[str, Any] | None) -> str:
    """The verification counts; a percentage only when some input was compared."""
    if v is None:
        return "verified: not checked (--verify 0)"
    rejected = v["n_rejected"]
    extra = f"; {render.plural(rejected, 'sampled input')} rejected by the evaluator"
    extra = extra if rejected else ""
    if v["n_inputs"] == 0:
        return f"verified: no input compared{extra}"
    share = f"{v['n_exact'] / v['n_inputs']:.0%}"
    counted = render.plural(v["n_inputs"], "random input")
    return f"verified: {v['n_exact']}/{counted} exact ({share}){extra}"


def exactness_line(s: dict[str, Any]) -> str:
    """``exact on: <the declared input domain> (checked on N random inputs)``."""
    domain = s["domain"]
    where = domain["description"]
    if domain["kind"] == "all":
        where += f", lengths 1 to {s['max_seq_len']}"
    v, c = s["verified"], s.get("certificate")
    if c is not None and c["status"] == "proved" and c.get("method") == "bounds":
        checked = "proved on every input by bounds"
    elif c is not None and c["status"] == "proved":
        checked = f"proved on all {_inputs(c['n_enumerated'])} by enumeration"
    elif v is None or v["n_inputs"] == 0:
        checked = "not checked against the evaluator"
    else:
        checked = f"checked on {render.plural(v['n_inputs'], 'random input')}"
        # the bounds may still prove it run in float64; else the sample is all there is
        if c is not None and c.get("dtype") == "float64":
            checked += "; proved on every input by bounds in float64 only"
        elif c is not None:
            checked += ", not proved"
    return f"exact on: {where} ({checked})"


def summary_text(s: dict[str, Any]) -> str:
    """The text report of ``model_summary``."""
    analysis = s["analysis_layers"]
    lines = [
        f"program: {s['program']}",
        f"layers: {s['n_layers']} ({s['attention_layers']} with attention; "
        f"the analysis says {analysis})",
        f"heads per layer: {s['heads_per_layer']}",
        f"d_model: {s['d_model']}",
        f"d_mlp per layer: {s['d_mlp']}",
        f"parameters: {s['n_params']:,} ({s['n_params_nonzero']:,} non-zero)",
        f"compile: {s['compile_seconds']} s",
        _verified_line(s["verified"]),
        certificate_line(s),
        exactness_line(s),
    ]
    lines += [f"note: {n}" for n in s["notes"]]
    lines += [f"assumption: {a}" for a in s["assumptions"]]
    if s.get("saved"):
        lines.append(f"saved: {s['saved']}")
    return "\n".join(lines)


def _vocab(args: argparse.Namespace, entry: Any) -> list[Any]:
    """``--vocab``, else the library entry's vocabulary."""
    if args.vocab is not None:
        return parse_tokens(args.vocab, "--vocab")
    if entry is not None:
        return list(entry.vocab)
    raise InputError(
        f"{args.program!r} declares no vocabulary: give the tokens with --vocab "
        "(for example --vocab abc or --vocab 1,2,3)"
    )


def command(args: argparse.Namespace) -> int:
    """Compile, verify and report; ``CompileError`` lists every blocker."""
    from ..compiler import compile_program
    from ..model.io import save

    if args.output is not None:
        check_output(args.output, SUFFIXES, "compile")
    program = resolve(args.program)
    vocab = _vocab(args, program.entry)
    sample = program.entry.sample if program.entry is not None and args.vocab is None else None
    with progress.waiting(f"compiling {args.program}", quiet=args.json):
        model = compile_program(
            program.sop,
            vocab,
            args.max_len,
            args.causal,
            args.verify,
            sample=sample,
            prove_limit=args.prove_limit,
            bounds_seconds=args.bounds_seconds,
            max_seconds=args.time_limit,
            **evaluator_limits(args),
            **({} if args.max_params is None else {"max_params": args.max_params}),
        )
    s = model_summary(model)
    if args.output is not None:
        s["saved"] = str(write_guard(args.output, lambda: save(model, args.output)))
    print(json.dumps(s, indent=2) if args.json else summary_text(s))
    return 0
