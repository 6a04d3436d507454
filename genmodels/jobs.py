"""Training jobs for a shared server: at most N run at once, others queue.

A job turns a trainer's events into small updates (losses, previews, quality, speed) that any number of
readers can poll; stopping is cooperative (the trainer checks between steps), and the result is saved
atomically whether the run completed or was stopped.

Two kinds: `TrainingJob` runs a trainer object in a thread of this process (for notebooks and tests);
`ProcessTrainingJob` runs a Training-tab run in its own process (`genmodels.training_worker`), which is what
the app uses. A server's threads each keep an OpenMP thread team once they have run torch code; with more
such threads than cores, libgomp stops spinning between parallel regions and every small operation pays for
waking its team, which made training in a server thread 10-15% slower than the same loop on its own. In a
process of its own, training is the only thing running torch and keeps the full speed.
"""

import base64
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from .trainers import TrainingDiverged

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUEUED, RUNNING, STOPPED, FINISHED, FAILED = "queued", "running", "stopped", "finished", "failed"


@dataclass(frozen=True)
class JobUpdate:
    step: int
    losses: dict[str, float]
    preview: torch.Tensor | None = None
    quality: dict[str, float] | None = None
    steps_per_second: float = 0.0
    text: str | None = None  # a generated text sample (language models), with the quality measure


@dataclass
class JobStatus:
    state: str
    step: int
    total_steps: int
    queue_position: int | None = None
    steps_per_second: float = 0.0
    message: str = ""
    result: object = None

    @property
    def seconds_left(self) -> float | None:
        if self.state != RUNNING or self.steps_per_second <= 0:
            return None
        return (self.total_steps - self.step) / self.steps_per_second


class JobManager:
    """Admits at most `max_jobs` running jobs; later ones wait in order and can see their position."""

    def __init__(self, max_jobs: int = 1):
        if max_jobs < 1:
            raise ValueError("at least one job must be able to run")
        self.max_jobs = max_jobs
        self._running = 0
        self._waiting: list[TrainingJob] = []
        self._condition = threading.Condition()
        self._ids = itertools.count(1)

    def position(self, job: "TrainingJob") -> int | None:
        with self._condition:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def _acquire(self, job: "TrainingJob") -> bool:
        """Wait for a slot; False if the job was stopped while waiting."""
        with self._condition:
            self._waiting.append(job)
            while not (self._running < self.max_jobs and self._waiting[0] is job):
                if job.stop_event.is_set():
                    self._waiting.remove(job)
                    self._condition.notify_all()
                    return False
                self._condition.wait(timeout=0.2)
            self._waiting.pop(0)
            self._running += 1
            self._condition.notify_all()
            return True

    def _release(self) -> None:
        with self._condition:
            self._running -= 1
            self._condition.notify_all()

    def submit(self, job: "TrainingJob") -> "TrainingJob":
        job.job_id = next(self._ids)
        job.manager = self
        job.thread = threading.Thread(target=job._run, name=f"training-job-{job.job_id}", daemon=True)
        job.thread.start()
        return job


@dataclass(eq=False)
class TrainingJob:
    """One training run: a trainer, how to measure it now and then, and how to save it at the end."""

    trainer: object
    finish: Callable[[object], object]  # saves the trained model; its return value becomes status.result
    evaluate: Callable[[object], dict[str, float]] | None = None
    evaluate_every: int = 0
    max_updates: int = 10_000
    job_id: int = 0
    manager: JobManager | None = None
    thread: threading.Thread | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    updates: list[JobUpdate] = field(default_factory=list)
    status: JobStatus = field(default_factory=lambda: JobStatus(QUEUED, 0, 0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        if self.trainer is not None:  # a ProcessTrainingJob has no trainer in this process
            self.status = JobStatus(QUEUED, self.trainer.step, self.trainer.config.steps)

    def stop(self) -> None:
        """Ask the job to stop after its current step (or to leave the queue)."""
        self.stop_event.set()

    @property
    def done(self) -> bool:
        return self.status.state in (STOPPED, FINISHED, FAILED)

    def snapshot(self, since: int = 0) -> tuple[list[JobUpdate], JobStatus]:
        """Updates after the first `since`, and the current status (with the queue position if waiting)."""
        with self._lock:
            updates = self.updates[since:]
            status = JobStatus(**self.status.__dict__)
        if status.state == QUEUED and self.manager is not None:
            status.queue_position = self.manager.position(self)
        return updates, status

    def _record(self, update: JobUpdate | None = None, **status_changes) -> None:
        with self._lock:
            if update is not None:
                self.updates.append(update)
                if len(self.updates) > self.max_updates:  # keep memory bounded on very long runs
                    del self.updates[1 : len(self.updates) // 2 : 2]
            for key, value in status_changes.items():
                setattr(self.status, key, value)

    def _run(self) -> None:
        if not self.manager._acquire(self):
            self._record(state=STOPPED, message="Stopped before it started.")
            return
        try:
            self._record(state=RUNNING)
            stopped, result = self._train()
            self._record(state=STOPPED if stopped else FINISHED, result=result, message="Saved.")
        except Exception as error:
            if isinstance(error, TrainingDiverged):  # the run's lesson, not the server's fault
                message = str(error)
            else:
                traceback.print_exc()
                message = f"Training failed: {error}"
            self._record(state=FAILED, message=message[:400])
        finally:
            self.manager._release()

    def _train(self) -> tuple[bool, object]:
        """Run the trainer here; returns (stopped early, what `finish` returned)."""
        for update in job_updates(self.trainer, self.stop_event, self.evaluate, self.evaluate_every):
            self._record(update, step=update.step, steps_per_second=update.steps_per_second)
        stopped = self.stop_event.is_set() and self.trainer.step < self.trainer.config.steps
        return stopped, self.finish(self.trainer)


def job_updates(trainer, stop_event, evaluate=None, evaluate_every: int = 0) -> Iterator[JobUpdate]:
    """Train, yielding one update per step: losses, preview, steps/s since the first step, and the quality
    measure evaluate(trainer) every `evaluate_every` steps and at the last step. Used in a job's thread and
    in the trainer process alike."""
    started, start_step = time.perf_counter(), trainer.step
    for event in trainer.run(stop_event):
        rate = (event.step - start_step) / max(time.perf_counter() - started, 1e-9)
        due = evaluate_every and (event.step % evaluate_every == 0 or event.step == trainer.config.steps)
        quality = evaluate(trainer) if evaluate and due else None
        yield JobUpdate(event.step, event.losses, event.preview, quality, rate)


def encode_tensor(tensor: torch.Tensor) -> dict:
    """A tensor as JSON: shape and base64 float16 bytes (previews are pictures; half precision is plenty)."""
    array = tensor.detach().to("cpu", torch.float16).contiguous().numpy()
    return {"shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


def decode_tensor(payload: dict) -> torch.Tensor:
    array = np.frombuffer(base64.b64decode(payload["data"]), dtype=np.float16).reshape(payload["shape"])
    return torch.from_numpy(array.astype(np.float32))


class ProcessTrainingJob(TrainingJob):
    """A Training-tab run trained in a child process; updates come back as JSON lines, stop goes as a line.

    `request` is what the child needs to rebuild the run (see genmodels.training_worker); `start_step` and
    `total_steps` describe it for the status before the child reports. If the server goes away, the child
    sees its input close, stops, and saves.
    """

    def __init__(self, request: dict, start_step: int, total_steps: int):
        super().__init__(trainer=None, finish=lambda trainer: None)
        self.request = request
        self.status = JobStatus(QUEUED, start_step, total_steps)
        self.process: subprocess.Popen | None = None
        self.threads: int | None = None  # torch threads the trainer process uses, once it has started
        self._pipe_lock = threading.Lock()

    def stop(self) -> None:
        super().stop()
        self._tell("stop")

    def _tell(self, line: str) -> None:
        with self._pipe_lock:
            if self.process is None or self.process.poll() is not None:
                return
            try:
                self.process.stdin.write(line + "\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the child has ended; its result (or failure) arrives through its output

    def _train(self) -> tuple[bool, object]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PROJECT_ROOT, env.get("PYTHONPATH")]))
        with self._pipe_lock:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "genmodels.training_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                cwd=PROJECT_ROOT,
                env=env,
                # Its own session: a Ctrl+C meant for the server does not kill the run mid-step; it sees the
                # server's end as its input closing, and stops and saves.
                start_new_session=True,
            )
            # Jobs that may run side by side share the cores: without this, N runs of T threads each would
            # spin-wait against each other on T cores.
            threads = max(1, torch.get_num_threads() // self.manager.max_jobs)
            self.process.stdin.write(json.dumps(self.request | {"threads": threads}) + "\n")
            self.process.stdin.flush()
        if self.stop_event.is_set():  # stopped while the process was starting
            self._tell("stop")
        outcome = None
        try:
            for line in self.process.stdout:
                message = json.loads(line)
                kind = message.pop("type")
                if kind == "update":
                    preview = message.pop("preview", None)
                    update = JobUpdate(**message, preview=decode_tensor(preview) if preview else None)
                    self._record(update, step=update.step, steps_per_second=update.steps_per_second)
                elif kind == "started":
                    self.threads = message["threads"]
                    self._record(step=message["step"], total_steps=message["total_steps"])
                else:
                    outcome = {"type": kind, **message}
        finally:
            if outcome is None and self.process.poll() is None:  # reading failed while the run goes on
                self._tell("stop")
            try:
                code = self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            self.process.stdout.close()
            with self._pipe_lock:
                try:
                    self.process.stdin.close()
                except (BrokenPipeError, OSError):  # the process died with a request still in the buffer
                    pass
        if outcome is None:
            raise RuntimeError(f"the training process ended unexpectedly (exit code {code})")
        if outcome["type"] == "failed":
            if outcome.get("diverged"):
                raise TrainingDiverged.from_message(outcome["message"])
            raise RuntimeError(outcome["message"])
        return outcome["stopped"], outcome["result"]
