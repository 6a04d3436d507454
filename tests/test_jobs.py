"""Training jobs: streaming updates, cooperative stop that keeps a result, a server-wide limit with a queue."""

import time

import pytest
import torch

from genmodels.gan import GANConfig
from genmodels.jobs import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, JobManager, TrainingJob
from genmodels.trainers import GANTrainConfig, GANTrainer
from tests.conftest import wait_until_done

TINY = GANConfig(z_dim=8, g_channels=4, d_channels=4)


def trainer(steps=6, preview_every=0):
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    return GANTrainer(
        TINY,
        GANTrainConfig(steps=steps, batch_size=8, preview_every=preview_every),
        images,
        torch.zeros(32, dtype=torch.long),
    )


def test_a_job_streams_updates_evaluates_and_saves():
    saved = []
    job = TrainingJob(
        trainer(steps=6, preview_every=3),
        finish=lambda t: saved.append(t.step) or "checkpoint",
        evaluate=lambda t: {"score": float(t.step)},
        evaluate_every=3,
    )
    JobManager().submit(job)
    wait_until_done(job)
    updates, status = job.snapshot()
    assert [u.step for u in updates] == [1, 2, 3, 4, 5, 6]
    assert [u.quality for u in updates if u.quality] == [{"score": 3.0}, {"score": 6.0}]
    assert updates[2].preview is not None and updates[2].preview.shape == (16, 1, 28, 28)
    assert status.state == FINISHED and status.result == "checkpoint" and saved == [6]
    assert all(u.steps_per_second > 0 for u in updates)
    later, _ = job.snapshot(since=4)
    assert [u.step for u in later] == [5, 6]


def test_stop_keeps_what_was_learned():
    job = TrainingJob(trainer(steps=10_000), finish=lambda t: t.step)
    JobManager().submit(job)
    while job.snapshot()[1].step < 3:
        time.sleep(0.01)
    job.stop()
    wait_until_done(job)
    _, status = job.snapshot()
    assert status.state == STOPPED and 3 <= status.result < 10_000


def test_server_wide_limit_queues_jobs_in_order():
    manager = JobManager(max_jobs=1)
    first = manager.submit(TrainingJob(trainer(steps=10_000), finish=lambda t: t.step))
    while first.snapshot()[1].state != RUNNING:
        time.sleep(0.01)
    second = manager.submit(TrainingJob(trainer(steps=3), finish=lambda t: t.step))
    third = manager.submit(TrainingJob(trainer(steps=3), finish=lambda t: t.step))
    time.sleep(0.3)
    assert second.snapshot()[1].state == QUEUED and second.snapshot()[1].queue_position == 1
    assert third.snapshot()[1].queue_position == 2
    third.stop()  # leaves the queue without running
    wait_until_done(third)
    assert third.snapshot()[1].state == STOPPED and third.snapshot()[0] == []
    first.stop()
    wait_until_done(first)
    wait_until_done(second)
    assert second.snapshot()[1].state == FINISHED


def test_a_failing_trainer_reports_and_frees_its_slot():
    manager = JobManager(max_jobs=1)
    broken = trainer(steps=5)
    broken.train_step = lambda: (_ for _ in ()).throw(RuntimeError("out of memory"))
    job = manager.submit(TrainingJob(broken, finish=lambda t: None))
    wait_until_done(job)
    assert job.snapshot()[1].state == FAILED and "out of memory" in job.snapshot()[1].message
    after = manager.submit(TrainingJob(trainer(steps=2), finish=lambda t: "ok"))
    wait_until_done(after)
    assert after.snapshot()[1].result == "ok"


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        JobManager(max_jobs=0)
