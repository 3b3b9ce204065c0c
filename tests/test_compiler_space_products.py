"""The bounds' combinations per position, built at once, equal one product per position."""

import numpy as np

from rasplab.compiler.bounds_space import _products_by_position


def test_products_by_position_equal_one_meshgrid_per_position():
    rng = np.random.default_rng(0)
    for _ in range(300):
        k, positions = int(rng.integers(1, 4)), int(rng.integers(1, 6))
        per = [
            [np.sort(rng.choice(10, int(rng.integers(0, 4)), replace=False)) for _ in range(k)]
            for _ in range(positions)
        ]
        blocks = [np.stack(np.meshgrid(*p, indexing="ij"), axis=-1).reshape(-1, k) for p in per]
        want = np.concatenate(blocks).astype(np.int64)
        got = _products_by_position(per, k)
        assert got.shape == want.shape
        assert (got == want).all()
