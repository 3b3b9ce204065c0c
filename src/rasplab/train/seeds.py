"""The paper experiment over several seeds, and one table of them all.

One seed is not enough at the quick size: rows move by several points from
seed to seed. :func:`run_seeds` runs :func:`~rasplab.train.experiment.run_paper`
once per seed (into ``OUT/seed-K``) and writes a table of every seed's test
sequence accuracy with the mean and the lowest.

>>> row = dict(task="hist", layers=1, heads=1, supervised=True)
>>> print(seeds_table([[dict(row, seq_acc=1.0)], [dict(row, seq_acc=0.98)]], [0, 1]), end="")
| task | L | H | supervision | seed 0 | seed 1 | mean | min |
| --- | --- | --- | --- | --- | --- | --- | --- |
| hist | 1 | 1 | yes | 100.0% | 98.0% | 99.0% | 98.0% |
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import TrainingError
from .experiment import prepare_results_dir, run_paper

__all__ = ["run_seeds", "seeds_table"]


def _key(row: dict[str, Any]) -> tuple:
    return row["task"], row["layers"], row["heads"], row["supervised"]


def seeds_table(per_seed: Sequence[Sequence[dict[str, Any]]], seeds: Sequence[int]) -> str:
    """Test sequence accuracy per seed, with the mean and the lowest, in plan order."""
    columns = " | ".join(f"seed {s}" for s in seeds)
    lines = [
        f"| task | L | H | supervision | {columns} | mean | min |",
        "| --- | --- | --- | --- | " + "--- | " * len(seeds) + "--- | --- |",
    ]
    by_seed = [{_key(r): r["seq_acc"] for r in rows} for rows in per_seed]
    for row in per_seed[0] if per_seed else []:
        accs = [acc for found in by_seed if (acc := found.get(_key(row))) is not None]
        if len(accs) < len(by_seed):
            continue  # a row some seed did not run (a smaller task list) has no mean
        cells = " | ".join(f"{100 * a:.1f}%" for a in accs)
        sup = "yes" if row["supervised"] else "no"
        mean, low = 100 * sum(accs) / len(accs), 100 * min(accs)
        lines.append(
            f"| {row['task']} | {row['layers']} | {row['heads']} | {sup} | {cells} "
            f"| {mean:.1f}% | {low:.1f}% |"
        )
    return "\n".join(lines) + "\n"


def run_seeds(
    out_dir: str | Path, seeds: Sequence[int], *, force: bool = False, **options: Any
) -> list[list[dict[str, Any]]]:
    """Run the experiment once per seed; write the combined ``results.md``/``.json``.

    ``options`` go to :func:`~rasplab.train.experiment.run_paper` (``quick``,
    ``tasks``, ``changes``, ...). Each seed's own results are in ``seed-K/``.
    """
    if not seeds or len(set(seeds)) != len(seeds):
        raise TrainingError(f"need distinct seeds, got {list(seeds)}")
    out = Path(out_dir)
    prepare_results_dir(out, force)
    per_seed = [run_paper(out / f"seed-{s}", seed=s, force=force, **options) for s in seeds]
    setting = "quick" if options.get("quick", True) else "full"
    header = f"Paper experiment ({setting}), seeds {', '.join(map(str, seeds))}.\n\n"
    (out / "results.md").write_text(header + seeds_table(per_seed, seeds))
    payload = {"setting": setting, "seeds": list(seeds), "rows": per_seed}
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return per_seed
