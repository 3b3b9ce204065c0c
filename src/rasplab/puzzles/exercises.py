"""Exercise files: one stub per puzzle, and finding a player's solution files.

>>> from rasplab.puzzles import get
>>> text = exercise_text(get("shift"), "my_puzzles")
>>> "def shift(i, default):" in text and "raise NotImplementedError" in text
True
>>> file_name(get("shift"))
'02_shift.py'
"""

from __future__ import annotations

from pathlib import Path

from .puzzle import Puzzle

__all__ = ["exercise_text", "file_name", "start", "solution_path", "readme_text"]

_IMPORTS = ("aggregate", "indices", "key", "length", "map", "query", "select",
            "selector_width", "tokens", "zipmap")  # fmt: skip


def file_name(puzzle: Puzzle, suffix: str = ".py") -> str:
    """``NN_name.py``: numbered so that a directory listing is in puzzle order."""
    return f"{puzzle.number:02d}_{puzzle.name}{suffix}"


def _imports(puzzle: Puzzle) -> str:
    names = [n for n in _IMPORTS if n not in puzzle.rules.forbidden and n != puzzle.name]
    return f"from rasplab import {', '.join(names)}  # noqa: F401"


def _rasp_note(puzzle: Puzzle) -> str:
    rasp = file_name(puzzle, ".rasp")
    if puzzle.parameters:
        what = f"`def solution({', '.join(puzzle.parameters)}) {{ ... }}`"
    else:
        what = "its output s-op (or one named `solution`)"
    return f"Or write {rasp} in the RASP language: it is checked instead, using {what}."


def exercise_text(puzzle: Puzzle, directory: str = ".") -> str:
    """The stub file for ``puzzle``: its statement as the docstring, then the function."""
    check = f"rasplab puzzles check {directory} {puzzle.name}"
    doc = "\n".join(
        [
            puzzle.describe(),
            "",
            f"Check:   {check}",
            f"Stuck?   {check} --hint",
            _rasp_note(puzzle),
        ]
    )
    params = ", ".join(puzzle.parameters)
    return (
        f'"""{doc}\n"""\n\n{_imports(puzzle)}\n\n\n'
        f"def {puzzle.name}({params}):\n"
        f'    """Return the s-op that solves puzzle {puzzle.number}."""\n'
        '    raise NotImplementedError("write your solution here")\n'
    )


def readme_text(puzzles: list[Puzzle], directory: str) -> str:
    """An index of the exercise files, with the commands to play."""
    rows = [f"| {p.number} | `{file_name(p)}` | {p.title} | {p.budget} |" for p in puzzles]
    return "\n".join(
        [
            "# Transformer puzzles",
            "",
            "Write each solution in its file, then check it (the table shows your progress):",
            "",
            f"    rasplab puzzles check {directory}           # every puzzle",
            f"    rasplab puzzles check {directory} NAME      # one puzzle",
            f"    rasplab puzzles check {directory} NAME --hint",
            "A `.rasp` file of the same name, in the RASP language, is checked instead of the",
            "`.py` file. It defines `solution` (a function of the puzzle's parameters, or an",
            "s-op); for puzzles without parameters its output s-op will do.",
            "",
            "| # | file | puzzle | budget |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )


def start(
    directory: Path | str, puzzles: list[Puzzle], force: bool = False
) -> list[tuple[Path, bool]]:
    """Write the exercise files; existing ones are kept unless ``force``.

    Returns ``(path, written)`` per file.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    shown = str(directory)
    files = [(root / file_name(p), exercise_text(p, shown)) for p in puzzles]
    files.append((root / "README.md", readme_text(puzzles, shown)))
    done = []
    for path, text in files:
        write = force or not path.exists()
        if write:
            path.write_text(text, encoding="utf-8")
        done.append((path, write))
    return done


def solution_path(directory: Path | str, puzzle: Puzzle) -> Path | None:
    """The file holding the player's solution: ``.rasp`` before ``.py``, numbered or not."""
    root = Path(directory)
    for suffix in (".rasp", ".py"):
        for name in (file_name(puzzle, suffix), f"{puzzle.name}{suffix}"):
            if (root / name).is_file():
                return root / name
    return None
