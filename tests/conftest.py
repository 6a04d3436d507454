"""Shared fixtures: tiny models for fast unit tests, the shared data directory, the shipped checkpoints."""

import json
import os
import time
from pathlib import Path

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under `pytest -n N`; "" in one process
if WORKER:
    # N workers share the cores: each gets its share of threads (as do the servers it starts), or their OpenMP
    # threads fight over the cores and every test slows down several times. A count the user set is kept.
    _share = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, str(_share))

import pytest  # noqa: E402
import torch  # noqa: E402

from genmodels.checkpoints import make_card  # noqa: E402
from genmodels.gan import GAN, GANConfig  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "datasets"
ARTIFACTS = PROJECT_ROOT / "artifacts" / WORKER  # each worker its own logs and runs: servers' logs are checked

os.environ.setdefault("GENLAB_DATA_DIR", str(SHARED_DATA))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the hub


def wait_until_done(job, timeout: float = 120) -> None:
    """Wait for a training job to end (finished, stopped or failed); fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.done, f"the job did not end within {timeout} s"


def tiny_gan(conditional: bool = False, seed: int = 0) -> GAN:
    torch.manual_seed(seed)
    return GAN(GANConfig(z_dim=8, g_channels=4, d_channels=4, num_classes=10 if conditional else 0)).eval()


def card_for(family: str, metrics: dict | None = None) -> str:
    return make_card(
        title="test model",
        family=family,
        summary="A test model.",
        data="Synthetic.",
        held_out="None.",
        training="No training.",
        command="python -m genmodels.train --dry-run",
        metrics=metrics or {"inception_score": 1.0, "frechet_distance": 0.0, "samples": 0},
        metrics_text="none",
    )


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Each test's start and end (seconds since the epoch), setup and teardown included, in artifacts/<worker>/
    timeline.tsv: which file ran when on which worker, to balance the two workers' loads."""
    started = time.time()
    try:
        return (yield)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with open(ARTIFACTS / "timeline.tsv", "a") as log:
            log.write(f"{started:.2f}\t{time.time():.2f}\t{item.nodeid}\n")


def pytest_sessionstart(session):
    (ARTIFACTS / "timeline.tsv").unlink(missing_ok=True)


FILE_SECONDS = Path(__file__).with_name("file_seconds.json")  # written by bench/test_balance.py from a full run


def pytest_collection_modifyitems(session, config, items):
    """Longest test files first (their last measured seconds), so that with two workers and --dist loadfile no long
    file starts last and leaves one core idle at the end. The order is the same on every worker, as xdist needs."""
    try:
        seconds = json.loads(FILE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    position = {}
    for index, item in enumerate(items):
        position.setdefault(item.nodeid.split("::", 1)[0], index)
    items.sort(
        key=lambda item: (-seconds.get(item.nodeid.split("::", 1)[0], 5.0), position[item.nodeid.split("::", 1)[0]])
    )
