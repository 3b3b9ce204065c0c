"""The programs the lab opens: the examples and the library, in RASP's surface language.

``library/NAME.rasp`` is the surface-language version of ``lib:NAME`` (the
tests check that each gives the library program's outputs); ``examples/`` are
the repository's example programs, shipped with the package.

>>> found = catalog_programs()
>>> [p["name"] for p in found["examples"]][:3]
['double_hist', 'dyck1', 'dyck2']
>>> sort = next(p for p in found["library"] if p["name"] == "sort")
>>> sort["input"], sort["source"].count("select(")
('cab', 4)
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from ...library import PROGRAMS

__all__ = ["catalog", "catalog_programs", "program_source", "FOLDERS"]

FOLDERS = ("examples", "library")
_LIBRARY_TWINS = {"long_addition": "add", "sort_by_freq": "most_freq"}  # example: lib program
_EXAMPLE_INPUT = re.compile(r'--input\s+"?([^"\s]+)"?')


def _files(folder: str) -> list[Any]:
    here = resources.files(__package__).joinpath(folder)
    return sorted((f for f in here.iterdir() if f.name.endswith(".rasp")), key=lambda f: f.name)


def program_source(folder: str, name: str) -> str:
    """The source of ``folder/name.rasp``."""
    return resources.files(__package__).joinpath(folder, f"{name}.rasp").read_text("utf-8")


def _input_text(example: Any) -> str:
    """A library example as the input box writes it: text, or a JSON list."""
    if isinstance(example, str):
        return example
    return json.dumps(list(example))


def _vocab_text(vocab: Any) -> str:
    """A vocabulary as the compile panel writes it: one-character tokens joined, else JSON."""
    if all(isinstance(t, str) and len(t) == 1 for t in vocab):
        return "".join(vocab)
    return _input_text(vocab)


def _example(file: Any) -> dict[str, Any]:
    source = file.read_text("utf-8")
    found = _EXAMPLE_INPUT.search(source)
    name = file.name.removesuffix(".rasp")
    text = found.group(1) if found else "abc"
    # the vocabulary of the library program the example writes, else its input's tokens
    twin = _LIBRARY_TWINS.get(name, name)
    vocab = PROGRAMS[twin].vocab if twin in PROGRAMS else sorted(set(text))
    return {"name": name, "source": source, "input": text, "vocab": _vocab_text(vocab)}


def _library(file: Any) -> dict[str, Any]:
    name = file.name.removesuffix(".rasp")
    entry = PROGRAMS[name]
    return {
        "name": name,
        "summary": entry.summary,
        "source": file.read_text("utf-8"),
        "input": _input_text(entry.examples[0]),
        "vocab": _vocab_text(entry.vocab),
    }


@cache
def catalog_programs() -> dict[str, list[dict[str, Any]]]:
    """Every example and library program: name, source, an input to start with."""
    return {
        "examples": [_example(f) for f in _files("examples")],
        "library": [_library(f) for f in _files("library")],
    }


def catalog(limits: Any) -> dict[str, Any]:
    """What the page loads once: the programs, the puzzles and the limits it must respect."""
    from dataclasses import asdict

    from ..puzzles import puzzle_cards

    return {**catalog_programs(), "puzzles": puzzle_cards(), "limits": asdict(limits)}
