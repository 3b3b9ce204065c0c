"""The plot of a learning run: loss and discrete validation accuracy, per restart.

Needs matplotlib (the ``learn`` extra); without it no picture is drawn and
the run folder says so in ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["curves"]


def curves(path: Path, history: list[dict[str, Any]]) -> bool:
    """Draw ``path``; False (and nothing drawn) when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for restart in sorted({h["restart"] for h in history}):
        rows = [h for h in history if h["restart"] == restart]
        steps = [h["step"] for h in rows]
        left.plot(steps, [max(h["loss"], 1e-6) for h in rows], label=f"restart {restart}")
        right.plot(steps, [h["val_acc"] for h in rows], label=f"restart {restart}")
    left.set_yscale("log")
    left.set_xlabel("step")
    left.set_title("training loss (relaxed model)")
    right.set_ylim(0, 1.02)
    right.set_xlabel("step")
    right.set_title("validation accuracy (discrete program)")
    right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
