"""The lab's work: run, compile and check a program, from a request's JSON to the answer's.

These are plain functions (a dict in, a dict out) that a worker process
calls; every failure of the learner's program comes back as
``{"ok": False, "error": {...}}`` with its line and column when known.

>>> answer = run_job({"program": "y = selector_width(select(tokens, tokens, ==));",
...                   "input": "hello"}, LabLimits())
>>> answer["ok"], answer["output"], answer["analysis"]["heads_per_layer"]
(True, [1, 1, 2, 2, 1], [1])
>>> answer["execution_svg"].startswith("<svg")
True
>>> bad = run_job({"program": "y = tokens +;", "input": "ab"}, LabLimits())
>>> bad["ok"], bad["error"]["line"], bad["error"]["column"]
(False, 1, 13)
"""

from __future__ import annotations

import base64
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..analysis import analyse
from ..errors import InputError, RaspError
from ..evaluate import evaluate
from ..lang.nodes import SOp
from ..syntax import RaspProgram
from ..viz import execution_svg, graph_svg
from .limits import LabLimits
from .source import error_json, locate_failure, read_input, read_program

__all__ = ["run_job", "compile_job", "puzzle_job", "JOBS", "guarded"]


def guarded(job: Callable[[dict[str, Any], LabLimits], dict[str, Any]]):
    """``job`` with every error of the learner's program turned into an answer."""

    def run(request: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
        try:
            return {"ok": True, **job(request, limits)}
        except (RaspError, MemoryError, RecursionError) as err:
            return {"ok": False, "error": error_json(err)}

    run.__name__ = job.__name__
    run.__doc__ = job.__doc__
    return run


def _chosen_sop(program: RaspProgram, name: str | None) -> tuple[str, SOp]:
    sop = program.sop(name or None)
    return name or program.output_name or "output", sop


def _tokens(program: RaspProgram, text: str, limits: LabLimits) -> list[Any]:
    raw = read_input(text)
    if len(raw) > limits.max_input_tokens:
        raise InputError(
            f"the input has {len(raw)} tokens; the lab takes at most {limits.max_input_tokens}"
        )
    return program.read_input(raw)


def _analysis(sop: SOp) -> dict[str, Any]:
    found = analyse(sop)
    return {
        "layers": found.n_layers,
        "heads_per_layer": list(found.heads_per_layer),
        "text": str(found),
    }


@guarded
def run_job(request: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """Run the program on the input: its output, analysis, execution view and graph."""
    program, sop, about = _program_view(request["program"], request.get("name"))
    answer = dict(about)
    xs = _tokens(program, request.get("input", ""), limits)
    try:
        trace = evaluate(sop, xs, trace=True, max_bytes=limits.evaluator_bytes)
    except RaspError as err:
        raise locate_failure(err, request["program"], program.names) from None
    answer.update(
        input=_plain(xs),
        output=_plain(trace.output),
        execution_svg=execution_svg(trace, max_positions=limits.max_input_tokens),
    )
    return answer


@functools.lru_cache(maxsize=16)
def _program_view(source: str, name: str | None) -> tuple[RaspProgram, SOp, dict[str, Any]]:
    """The program and what does not depend on the input (kept: typing the input reruns only
    the evaluation). Errors are not kept, so a fixed program is read afresh."""
    program = read_program(source)
    name, sop = _chosen_sop(program, name)
    about = {
        "name": name,
        "sops": list(program.sops),
        "token_type": program.token_type,
        "analysis": _analysis(sop),
        "graph_svg": graph_svg(sop),
    }
    return program, sop, about


def _plain(values: Any) -> Any:
    """Values as JSON has them (numpy numbers and bools become Python ones)."""
    if isinstance(values, list | tuple):
        return [_plain(v) for v in values]
    if hasattr(values, "item") and not isinstance(values, str):
        return values.item()
    if values is None or isinstance(values, bool | int | float | str):
        return values
    return str(values)


def _vocab(text: Any, limits: LabLimits) -> list[Any]:
    raw = read_input(text) if isinstance(text, str) else text
    vocab = list(dict.fromkeys(raw))
    if not vocab:
        raise InputError("the vocabulary is empty: write the tokens the model reads, e.g. abc")
    if len(vocab) > limits.max_vocab:
        raise InputError(
            f"the vocabulary has {len(vocab)} tokens; the lab compiles at most {limits.max_vocab}"
        )
    return vocab


def _max_len(value: Any, limits: LabLimits) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"max length must be a whole number from 1, got {value!r}")
    if value > limits.max_compile_len:
        raise InputError(
            f"max length {value} is over the lab's limit of {limits.max_compile_len} "
            "(compile longer models with `rasplab compile`)"
        )
    return value


def _model_download(model: Any, limits: LabLimits) -> dict[str, Any]:
    from ..model import save

    with tempfile.TemporaryDirectory() as folder:
        path = save(model, Path(folder) / "model.safetensors")
        data = path.read_bytes()
    if len(data) > limits.max_model_bytes:
        return {"model_bytes": len(data), "model_b64": None}
    return {"model_bytes": len(data), "model_b64": base64.b64encode(data).decode("ascii")}


@guarded
def compile_job(request: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """Compile the program; its size, report, residual view on the input, and the file."""
    from ..compiler import compile_program
    from ..viz import residual_svg

    program = read_program(request["program"])
    name, sop = _chosen_sop(program, request.get("name"))
    vocab = program.read_input(_vocab(request.get("vocab", ""), limits))
    max_len = _max_len(request.get("max_len"), limits)
    inputs = _library_inputs(request["program"], request.get("name"), vocab)
    # stopped by its own limit before the worker's, so the answer says in which stage
    seconds = 0.8 * limits.check_seconds
    model = compile_program(
        sop, vocab, max_len, max_bytes=limits.evaluator_bytes, max_seconds=seconds, **inputs
    )
    answer: dict[str, Any] = {"name": name, "size": _model_size(model)}
    answer["report"] = _report(model)
    answer.update(_residual(model, program, request.get("input", ""), limits, residual_svg))
    answer.update(_model_download(model, limits))
    return answer


def _library_inputs(source: str, name: str | None, vocab: list[Any]) -> dict[str, Any]:
    """A library program opened as shipped, on its own vocabulary, compiles for the inputs its
    sampler draws (as ``rasplab compile lib:NAME`` does): brackets that can still balance,
    sums of two numbers, ...; any other program for every input over the vocabulary."""
    from ..compiler.driver import library_domain
    from ..library import PROGRAMS
    from .programs import catalog_programs

    for shipped in catalog_programs()["library"]:
        entry = PROGRAMS[shipped["name"]]
        if shipped["source"] == source and not name and set(vocab) == set(entry.vocab):
            return {"sample": entry.sample, "domain": library_domain(entry)}
    return {}


def _model_size(model: Any) -> dict[str, Any]:
    return {
        "n_layers": model.n_layers,
        "heads_per_layer": list(model.heads_per_layer),
        "d_model": model.d_model,
        "d_mlp": list(model.d_mlp_per_layer),
        "n_params": model.n_params,
        "n_nonzero": model.n_nonzero,
    }


def _report(model: Any) -> str:
    verified = model.info.verified
    lines = [model.summary()]
    if verified is not None:
        lines.append(
            f"verified against the evaluator on {verified.n_inputs} inputs: "
            f"{verified.n_exact} exact ({verified.dtype})"
        )
    lines.append(f"exact on: {model.info.domain.description} ({_how_exact(model)})")
    return "\n".join(lines)


def _how_exact(model: Any) -> str:
    """How the model was found exact on its domain: proved, or only sampled."""
    proof, verified = model.info.certificate, model.info.verified
    if proof is not None and proof.proved:
        if proof.method == "bounds":
            return "proved on every input by bounds"
        return f"proved on all {proof.n_enumerated:,} inputs by enumeration"
    sampled = f"checked on {verified.n_inputs} random inputs" if verified else "not checked"
    if proof is not None and proof.dtype == "float64":
        return f"{sampled}; proved on every input by bounds in float64 only"
    return f"{sampled}, not proved"


def _residual(model, program, text, limits, draw) -> dict[str, Any]:
    """The residual view on the input, or why there is none."""
    try:
        xs = _tokens(program, text, limits)
        return {"residual_svg": draw(model, xs, max_positions=limits.max_input_tokens)}
    except RaspError as err:
        return {"residual_svg": None, "residual_note": str(err)}


def puzzle_job(request: dict[str, Any], limits: LabLimits) -> dict[str, Any]:
    """Check a solution of one puzzle (see ``rasplab.lab.puzzles``)."""
    from .puzzles import check_solution

    return check_solution(request, limits)


JOBS: dict[str, Callable[[dict[str, Any], LabLimits], dict[str, Any]]] = {
    "run": run_job,
    "compile": compile_job,
    "puzzle": puzzle_job,
}
