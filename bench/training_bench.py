"""Training benchmark: the same GAN run bare and through the Training tab's streaming job, in one run.

    python bench/training_bench.py [--steps 300] [--repeats 3]

"Bare" trains the run in this process's main thread, as `python -m genmodels.train` does (with the same
allocator setting, keep_freed_memory). "Streamed" submits
the same run exactly as the Training tab does (its own process, one update per step, previews, a reader
polling every 0.5 s like the page); the quality measure is off in both, since it is extra work, not overhead.
Both rates count from step WARM_STEPS to the last, so a fresh process's first, slower steps (allocator and
oneDNN kernels warming up) are not mistaken for streaming overhead; that one-time start-up is printed apart,
from pressing Start to the first update.
Target: streaming overhead <= 5%. Also prints the GAN steps/s the CPU sustains at batch 128.
"""

import argparse
import os
import tempfile
import time
from dataclasses import asdict

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

os.environ.setdefault("GENLAB_RUNS_DIR", tempfile.mkdtemp(prefix="genlab-bench-runs-"))

from genmodels.jobs import JobManager, ProcessTrainingJob  # after the runs folder is chosen
from genmodels.trainers import keep_freed_memory
from genmodels.training_runs import Run, RunSpec

NAMES = (f"bench-{index}" for index in range(1000))
WARM_STEPS = 10


def spec(steps: int, batch: int) -> RunSpec:
    return RunSpec(family="gan", name=next(NAMES), steps=steps, batch_size=batch)


def bare(steps: int, batch: int) -> float:
    trainer = Run(spec(steps, batch)).trainer
    for event in trainer.run():
        if event.step == WARM_STEPS:
            started = time.perf_counter()
    return (steps - WARM_STEPS) / (time.perf_counter() - started)


def streamed(steps: int, batch: int) -> tuple[float, float]:
    """Steps/s from step WARM_STEPS on, and seconds from submitting to the first update."""
    request = {"spec": asdict(spec(steps, batch)), "text": None, "evaluate_every": 0}
    submitted = time.perf_counter()
    job = JobManager().submit(ProcessTrainingJob(request, 0, steps))
    first = None
    while not job.done:
        if first is None and job.snapshot()[1].step > 0:
            first = time.perf_counter() - submitted
        time.sleep(0.05 if first is None else 0.5)
    updates, status = job.snapshot()
    if status.state != "finished":
        raise SystemExit(f"the streamed run ended {status.state}: {status.message}")
    # Each update carries the child's rate since its first step, so its elapsed time is step / rate.
    elapsed = {update.step: update.step / update.steps_per_second for update in updates}
    return (steps - WARM_STEPS) / (elapsed[steps] - elapsed[WARM_STEPS]), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="alternating bare/streamed pairs per batch size")
    args = parser.parse_args()
    keep_freed_memory()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {threads} threads, CPU; GAN as the Training tab trains it, {args.steps} steps")
    bare(20, 64)  # warm-up
    for batch in (64, 128):
        rates = {"bare": [], "streamed": []}
        starts = []
        for _ in range(args.repeats):  # alternate, so drift in machine load hits both alike
            rates["bare"].append(bare(args.steps, batch))
            rate, start = streamed(args.steps, batch)
            rates["streamed"].append(rate)
            starts.append(start)
        plain, live = max(rates["bare"]), max(rates["streamed"])
        overhead = 100 * (1 - live / plain)
        print(
            f"  batch {batch}: bare {plain:.2f} steps/s, streamed {live:.2f} steps/s (best of each), "
            f"overhead {overhead:+.1f}% (Start to first update {min(starts):.1f} s)"
        )
        runs = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(rates["bare"], rates["streamed"], strict=True))
        print(f"    every pair, bare/streamed: {runs}")


if __name__ == "__main__":
    main()
