"""Held-out negative ELBO against steps and seconds for one VAE configuration: short runs to compare options.

    python bench/vae_quality_curve.py --latent-dim 16 --hidden 256 --lr-schedule cosine --shift-pixels 1 \\
        --kl-warmup-steps 1000 --steps 1800 --eval-every 600 --threads 1 --max-seconds 180

Prints the model's size, then one row per evaluation: step, training seconds, wall and CPU milliseconds per step
(CPU time is what the run would take on an idle core), held-out reconstruction, KL and negative ELBO in nats per
image, and the negative ELBO of the first 1,000 training digits (the gap to held-out shows overfitting).
The schedule runs over --steps, so a run cut short by --max-seconds measures a truncated schedule: compare
runs with the same --steps. --train-digits trains on fewer digits, to see sooner how options fight overfitting.
"""

import argparse
import time

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

from genmodels.data import mnist_splits
from genmodels.metrics import evaluate_vae
from genmodels.trainers import VAE_LR_SCHEDULES, VAETrainConfig, VAETrainer
from genmodels.vae import VAEConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--blocks", type=int, default=0)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lr-schedule", choices=VAE_LR_SCHEDULES, default="constant")
    parser.add_argument("--shift-pixels", type=int, default=0)
    parser.add_argument("--kl-warmup-steps", type=int, default=0)
    parser.add_argument(
        "--train-digits", type=int, default=None, help="train on the first N digits only (overfitting sooner)"
    )
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=170.0, help="stop after this much training time")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, held_out = mnist_splits()
    unit = {name: split.images.float().unsqueeze(1) / 255.0 for name, split in (("train", train), ("held", held_out))}
    model_config = VAEConfig(latent_dim=args.latent_dim, channels=args.channels, hidden=args.hidden, blocks=args.blocks)
    train_config = VAETrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        shift_pixels=args.shift_pixels,
        kl_warmup_steps=args.kl_warmup_steps,
    )
    trainer = VAETrainer(model_config, train_config, unit["train"][: args.train_digits])
    parameters = sum(p.numel() for p in trainer.export().parameters())
    print(f"{vars(args)}\n{parameters:,} parameters ({parameters * 4 / 2**20:.1f} MiB in float32)")
    print("step  seconds  ms/step  CPU ms/step  held-out: reconstruction  KL  negative ELBO  |  training digits")
    seconds = cpu_seconds = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    for event in trainer.run():
        if event.step % args.eval_every and event.step != args.steps:
            if time.perf_counter() - started + seconds < args.max_seconds:
                continue
        seconds += time.perf_counter() - started
        cpu_seconds += time.process_time() - cpu_started
        model = trainer.export()
        held = evaluate_vae(model, unit["held"])
        seen = evaluate_vae(model, unit["train"][:1000])
        print(
            f"{event.step:5d}  {seconds:7.1f}  {1000 * seconds / event.step:7.1f}  "
            f"{1000 * cpu_seconds / event.step:7.1f}  "
            f"{held['reconstruction_nats']:8.2f}  {held['kl_nats']:6.2f}  {held['negative_elbo_nats']:8.2f}  |  "
            f"{seen['negative_elbo_nats']:8.2f}",
            flush=True,
        )
        if seconds >= args.max_seconds:
            break
        started, cpu_started = time.perf_counter(), time.process_time()


if __name__ == "__main__":
    main()
