"""Training jobs for a shared server: each runs a trainer in its own thread, at most N at once, others queue.

A job turns a trainer's events into small updates (losses, previews, quality, speed) that any number of
readers can poll; stopping is cooperative (the trainer checks between steps), and the result is saved
atomically by the job's `finish` callback, whether the run completed or was stopped.
"""

import itertools
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

QUEUED, RUNNING, STOPPED, FINISHED, FAILED = "queued", "running", "stopped", "finished", "failed"


@dataclass(frozen=True)
class JobUpdate:
    step: int
    losses: dict[str, float]
    preview: torch.Tensor | None = None
    quality: dict[str, float] | None = None
    steps_per_second: float = 0.0


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
            started, start_step = time.perf_counter(), self.trainer.step
            for event in self.trainer.run(self.stop_event):
                rate = (event.step - start_step) / max(time.perf_counter() - started, 1e-9)
                quality = None
                if (
                    self.evaluate
                    and self.evaluate_every
                    and (event.step % self.evaluate_every == 0 or event.step == self.trainer.config.steps)
                ):
                    quality = self.evaluate(self.trainer)
                self._record(
                    JobUpdate(event.step, event.losses, event.preview, quality, rate),
                    step=event.step,
                    steps_per_second=rate,
                )
            stopped = self.stop_event.is_set() and self.trainer.step < self.trainer.config.steps
            result = self.finish(self.trainer)
            self._record(state=STOPPED if stopped else FINISHED, result=result, message="Saved.")
        except Exception as error:
            traceback.print_exc()
            self._record(state=FAILED, message=f"Training failed: {error}"[:300])
        finally:
            self.manager._release()
