"""Training-tab runs in a process of their own: streaming, stop that saves, resume, failures, a vanished server."""

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict

import pytest
import torch
from safetensors.torch import load_file

from genmodels.jobs import FAILED, FINISHED, STOPPED, JobManager, ProcessTrainingJob, decode_tensor, encode_tensor
from genmodels.training_runs import RunSpec

from .conftest import PROJECT_ROOT, wait_until_done

TEXT = "To be, or not to be, that is the question. " * 60


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))  # the child process reads its folders from here
    return tmp_path


def request(name, steps, family="chargpt", evaluate_every=0, **settings):
    spec = RunSpec(family=family, name=name, steps=steps, layers=1, heads=2, width=32, context=16, **settings)
    return {"spec": asdict(spec), "text": TEXT if family == "chargpt" else None, "evaluate_every": evaluate_every}


def test_tensors_cross_the_process_boundary_as_json():
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    back = decode_tensor(json.loads(json.dumps(encode_tensor(images))))
    assert back.shape == images.shape and back.dtype == torch.float32
    assert torch.allclose(back, images, atol=1e-3)


def test_a_run_streams_every_step_with_quality_text_and_previews_then_saves(runs):
    job = JobManager().submit(ProcessTrainingJob(request("poet", 6, evaluate_every=3), 0, 6))
    wait_until_done(job)
    updates, status = job.snapshot()
    assert status.state == FINISHED and status.result == "poet"
    assert [u.step for u in updates] == [1, 2, 3, 4, 5, 6]
    assert all(u.steps_per_second > 0 and "train" in u.losses for u in updates)
    assert [u.step for u in updates if u.quality] == [3, 6]
    assert all(isinstance(u.text, str) and len(u.text) > 50 for u in updates if u.quality)
    assert (runs / "models" / "poet" / "model.safetensors").is_file()
    assert (runs / "states" / "poet" / "trainer.json").is_file()


def test_same_seed_and_settings_give_the_same_loss_curve_through_the_trainer_process(runs):
    curves = []
    for name in ("twin-a", "twin-b"):
        job = JobManager().submit(ProcessTrainingJob(request(name, 8, seed=5), 0, 8))
        wait_until_done(job)
        curves.append([update.losses for update in job.snapshot()[0]])
    assert len(curves[0]) == 8 and curves[0] == curves[1]
    other = JobManager().submit(ProcessTrainingJob(request("other-seed", 8, seed=6), 0, 8))
    wait_until_done(other)
    assert [update.losses for update in other.snapshot()[0]] != curves[0]


def test_gan_previews_arrive_as_pictures(runs):
    job = JobManager().submit(ProcessTrainingJob(request("tiny-gan", 4, family="gan", batch_size=8), 0, 4))
    wait_until_done(job)
    updates, status = job.snapshot()
    assert status.state == FINISHED
    previews = [u.preview for u in updates if u.preview is not None]
    assert previews and previews[-1].shape[1:] == (1, 28, 28)
    assert previews[-1].min() >= -1.001 and previews[-1].max() <= 1.001


def test_stop_saves_and_resume_continues_the_same_run(runs):
    job = JobManager().submit(ProcessTrainingJob(request("paused", 1000), 0, 1000))
    while job.snapshot()[1].step < 5:
        assert not job.done, job.snapshot()[1].message
        time.sleep(0.05)
    job.stop()
    wait_until_done(job)
    _, status = job.snapshot()
    assert status.state == STOPPED and status.result == "paused"
    stopped_at = json.loads((runs / "states" / "paused" / "trainer.json").read_text())["step"]
    assert 5 <= stopped_at < 1000
    resumed = JobManager().submit(ProcessTrainingJob(request("paused", stopped_at + 3), stopped_at, stopped_at + 3))
    wait_until_done(resumed)
    updates, status = resumed.snapshot()
    assert status.state == FINISHED
    assert [u.step for u in updates] == [stopped_at + 1, stopped_at + 2, stopped_at + 3]


def test_a_failing_run_reports_why_and_frees_its_slot(runs):
    manager = JobManager(max_jobs=1)
    bad = request("too-short", 5)
    bad["text"] = "tiny"
    job = manager.submit(ProcessTrainingJob(bad, 0, 5))
    wait_until_done(job)
    assert job.snapshot()[1].state == FAILED and "too short" in job.snapshot()[1].message
    after = manager.submit(ProcessTrainingJob(request("after", 2), 0, 2))
    wait_until_done(after)
    assert after.snapshot()[1].state == FINISHED


def test_a_vanished_server_stops_the_worker_which_still_saves(runs):
    worker = subprocess.Popen(
        [sys.executable, "-m", "genmodels.training_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
    )
    worker.stdin.write(json.dumps(request("orphan", 5000)) + "\n")
    worker.stdin.flush()
    assert json.loads(worker.stdout.readline())["type"] == "started"
    assert json.loads(worker.stdout.readline())["type"] == "update"
    worker.stdin.close()  # what the worker sees when the server process dies
    assert worker.wait(timeout=60) == 0
    lines = [json.loads(line) for line in worker.stdout.read().splitlines()]
    assert lines[-1] == {"type": "finished", "stopped": True, "result": "orphan"}
    weights = load_file(runs / "models" / "orphan" / "model.safetensors")
    assert weights and all(torch.isfinite(t).all() for t in weights.values())


def test_a_crashed_trainer_process_is_reported_not_waited_for(runs):
    job = JobManager().submit(ProcessTrainingJob(request("crash", 5000), 0, 5000))
    while job.snapshot()[1].step < 2:
        assert not job.done, job.snapshot()[1].message
        time.sleep(0.05)
    job.process.kill()  # what an out-of-memory kill or a segfault looks like from the server
    wait_until_done(job, timeout=30)
    _, status = job.snapshot()
    assert status.state == FAILED and "ended unexpectedly" in status.message


def test_jobs_that_may_run_together_split_the_cores(runs):
    alone = JobManager(max_jobs=1).submit(ProcessTrainingJob(request("alone", 2), 0, 2))
    shared = JobManager(max_jobs=2).submit(ProcessTrainingJob(request("shared", 2), 0, 2))
    wait_until_done(alone)
    wait_until_done(shared)
    assert alone.threads == torch.get_num_threads()
    assert shared.threads == max(1, torch.get_num_threads() // 2)
