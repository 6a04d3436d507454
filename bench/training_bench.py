"""Training benchmark: the same GAN configuration bare and through the in-app streaming job, in one run.

    python bench/training_bench.py [--steps 300]

Target: streaming overhead <= 5%. Also prints the GAN steps/s the CPU sustains at batch 128.
"""

import argparse
import time

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

from genmodels.data import mnist_splits, to_signed
from genmodels.gan import GANConfig
from genmodels.jobs import JobManager, TrainingJob
from genmodels.trainers import GANTrainConfig, GANTrainer


def make(images, labels, steps: int, batch: int) -> GANTrainer:
    config = GANTrainConfig(steps=steps, batch_size=batch, preview_every=max(1, steps // 20))
    return GANTrainer(GANConfig(), config, images, labels)


def bare(images, labels, steps: int, batch: int) -> float:
    trainer = make(images, labels, steps, batch)
    started = time.perf_counter()
    for _ in trainer.run():
        pass
    return steps / (time.perf_counter() - started)


def streamed(images, labels, steps: int, batch: int) -> float:
    """Through a TrainingJob, with a reader polling every 0.5 s as the Training tab does."""
    job = TrainingJob(make(images, labels, steps, batch), finish=lambda trainer: None)
    JobManager().submit(job)
    seen, last = 0, None
    while not job.done:
        updates, _ = job.snapshot(seen)
        seen += len(updates)
        last = updates[-1] if updates else last
        time.sleep(0.5)
    updates, _ = job.snapshot(seen)
    # The job's own rate, from its first step to its last: the reader's polling interval is not training time.
    return (updates[-1] if updates else last).steps_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    train, _ = mnist_splits()
    images, labels = to_signed(train.images), train.labels
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; GAN as shipped, {args.steps} steps")
    bare(images, labels, 20, 64)  # warm-up
    for batch in (64, 128):
        rates = {"bare": [], "streamed": []}
        for _ in range(2):  # alternate, so drift in machine load hits both alike
            rates["bare"].append(bare(images, labels, args.steps, batch))
            rates["streamed"].append(streamed(images, labels, args.steps, batch))
        plain, live = max(rates["bare"]), max(rates["streamed"])
        overhead = 100 * (1 - live / plain)
        print(f"  batch {batch}: bare {plain:.2f} steps/s, streamed {live:.2f} steps/s, overhead {overhead:+.1f}%")


if __name__ == "__main__":
    main()
