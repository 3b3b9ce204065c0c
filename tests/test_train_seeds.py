"""The seeds table skips rows a seed lacks; a model needs its layers and heads."""

import pytest

from rasplab.errors import TrainingError
from rasplab.train.config import TrainConfig
from rasplab.train.seeds import seeds_table


def _row(task: str, acc: float | None) -> dict:
    return {"task": task, "layers": 1, "heads": 1, "supervised": True, "seq_acc": acc}


def test_rows_missing_or_unscored_in_some_seed_have_no_mean():
    per_seed = [
        [_row("a", 0.5), _row("b", 0.9), _row("c", None)],
        [_row("a", 1.0), _row("c", 0.2)],
    ]
    lines = seeds_table(per_seed, [0, 1]).splitlines()
    assert len(lines) == 3  # header, rule, and only task a
    assert lines[2] == "| a | 1 | 1 | yes | 50.0% | 100.0% | 75.0% | 50.0% |"


def test_model_from_a_config_without_layers_is_refused():
    pytest.importorskip("torch")
    from rasplab.train.model import Transformer

    with pytest.raises(TrainingError, match="layers and heads"):
        Transformer.from_config(TrainConfig(heads=2), n_tokens=5, n_classes=3)
