"""The training loop under torchrun: 2 CPU processes, gloo, DistributedDataParallel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

pytest.importorskip("torch")


@pytest.mark.slow
def test_train_under_torchrun_with_two_cpu_processes(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    command += ["-m", "rasplab.cli.train", "train", "hist", "--vocab", "abc", "--max-len", "5"]
    command += ["--steps", "40", "--eval-every", "20", "--n-train", "400", "--n-val", "50"]
    command += ["--n-test", "50", "--threads", "1", "--attn-supervision", "--quiet", "-o", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    if done.returncode != 0:
        # one retry: a torchrun launch can fail on a loaded host for reasons outside
        # the code under test (rendezvous port, start-up timeout); the first error
        # is kept as a warning, and a second failure fails the test
        first = done.stderr[-3000:]
        warnings.warn(f"torchrun failed once, retrying:\n{first}", stacklevel=1)
        done = subprocess.run(command + ["--force"], capture_output=True, text=True,
                              timeout=240, env=env)  # fmt: skip
        assert done.returncode == 0, f"first try:\n{first}\nsecond try:\n{done.stderr[-3000:]}"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert metrics["ranks_in_sync"] is True  # DDP kept both replicas identical
    assert metrics["steps_run"] == 40 and metrics["test"]["seq_acc"] > 0
    assert done.stdout.count("test sequence accuracy") == 1  # only rank 0 reports
