"""RASP-L fixtures: programs written against ``from np_rasp import *``, run on rasplab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "raspl"


def load_fixture(filename: str) -> dict[str, Any]:
    """Run a fixture written against np_rasp with its import line, and only that, changed."""
    source = (FIXTURES / filename).read_text()
    line = "\nfrom np_rasp import *\n"
    assert source.count(line) == 1
    changed = source.replace(line, "\nfrom rasplab.compat.raspl import *\n")
    assert len(changed.splitlines()) == len(source.splitlines())
    namespace: dict[str, Any] = {"__name__": filename.removesuffix(".py")}
    exec(compile(changed, str(FIXTURES / filename), "exec"), namespace)
    return namespace
