"""Two CPU processes (gloo) train together through accelerate; only the main process writes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

ACCELERATE = str(Path(sys.executable).with_name("accelerate"))


def launch(*train_args: str, processes: int) -> subprocess.CompletedProcess:
    # accelerate names its torchrun launcher --multi_gpu; without a GPU the processes run on the CPU with gloo.
    launcher = [ACCELERATE, "launch", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    if processes > 1:
        launcher += ["--multi_gpu", "--num_processes", str(processes)]
    else:
        launcher += ["--cpu", "--num_processes", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*launcher, "-m", "genmodels.train", *train_args, "--dry-run"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def final_metrics(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("{"))


@pytest.mark.parametrize("family", [["vae", "--latent-dim", "2"], ["gan"]])
def test_two_processes_train_and_only_the_main_one_saves(family):
    two = launch(*family, processes=2)
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("saved ") == 1
    if family[0] != "gan":  # one family's comparison with a single process shows the averaging at work
        return
    one = launch(*family, processes=1)
    assert one.returncode == 0, one.stderr[-2000:]
    # Gradients averaged over two processes' different batches give a different model than one process.
    assert final_metrics(two.stdout) != final_metrics(one.stdout)
