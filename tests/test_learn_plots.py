"""The learning curves a run folder holds (matplotlib is in the test extra)."""

from __future__ import annotations

import numpy as np
from matplotlib import colors, image

from rasplab.learn.plots import curves


def _has_colour(pixels: np.ndarray, name: str) -> bool:
    rgb = np.asarray(colors.to_rgb(name))
    return bool((np.abs(pixels[..., :3] - rgb).max(axis=-1) < 0.02).sum() > 50)


def test_curves_draw_a_line_per_restart(tmp_path):
    history = [
        dict(restart=r, step=s, loss=1.0 / s, val_acc=min(1.0, s / (300 + 100 * r)))
        for r in (0, 1)
        for s in (100, 200, 300)
    ]
    path = tmp_path / "curves.png"
    assert curves(path, history) is True
    pixels = image.imread(path)
    assert _has_colour(pixels, "C0") and _has_colour(pixels, "C1")  # restarts 0 and 1
    assert not _has_colour(pixels, "C2")  # no third restart


def test_a_zero_loss_is_drawn_on_the_log_scale(tmp_path):
    path = tmp_path / "curves.png"
    assert curves(path, [dict(restart=0, step=s, loss=0.0, val_acc=1.0) for s in (1, 2)])
    assert _has_colour(image.imread(path), "C0")
