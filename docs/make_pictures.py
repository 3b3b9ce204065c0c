"""Regenerate the example pictures in docs/pictures/ (and its README).

Usage, from the repository root:

    python docs/make_pictures.py          # SVG pictures and one HTML report
    python docs/make_pictures.py --png    # PNG copies too (needs: pip install 'rasplab[png]')
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from rasplab import viz
from rasplab.library import PROGRAMS

OUT = Path(__file__).resolve().parent / "pictures"

# (file stem, program, input or None for the graph, kind, caption)
PICTURES = [
    ("add-graph", "add", None, "graph", "`add`: the program graph, by layer"),
    ("add-execution", "add", "683+345", "execution", '`add` on "683+345": every head and MLP step'),
    ("add-values", "add", "683+345", "values", '`add` on "683+345": the value table'),
    ("reverse-execution", "reverse", "hello", "execution", '`reverse` on "hello"'),
    ("sort-32-execution", "sort", 32, "execution", "`sort` on 32 random letters"),
    ("most_freq-graph", "most_freq", None, "graph", "`most_freq`: 3 layers, heads [2, 1, 1]"),
    ("dyck2-graph", "dyck2", None, "graph", "`dyck2`: 4 layers, heads [1, 2, 1, 1]"),
    ("dyck2-execution", "dyck2", 16, "execution", "`dyck2` on 16 brackets"),
]


def _input(name: str, given: str | int | None):
    if isinstance(given, int):  # a random input of that length, the same every time
        return PROGRAMS[name].sample(random.Random(0), given)
    return given


def _readme(png: bool) -> str:
    lines = [
        "# Example pictures",
        "",
        "Made by `python docs/make_pictures.py` (add `--png` for PNG copies); see",
        "`rasplab.viz` for the API. `add-report.html` is a whole report in one file.",
        "",
    ]
    for stem, *_, caption in PICTURES:
        lines += [f"## {caption}", "", f"![{stem}]({stem}.{'png' if png else 'svg'})", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", action="store_true", help="also write PNG copies")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for stem, name, given, kind, _ in PICTURES:
        program = PROGRAMS[name].build()
        xs = _input(name, given)
        viz.save(OUT / f"{stem}.svg", program, xs, kind=kind)
        if args.png:
            viz.save(OUT / f"{stem}.png", program, xs, kind=kind)
        print(f"{stem}.svg")
    (OUT / "add-report.html").write_text(viz.report(PROGRAMS["add"].build(), "683+345"), "utf-8")
    (OUT / "README.md").write_text(_readme(args.png), encoding="utf-8")
    print("add-report.html, README.md")


if __name__ == "__main__":
    main()
