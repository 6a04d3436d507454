"""Diffusion tab benchmark: time for a grid at each number of sampling steps, per image, and the whole request.

    python bench/diffusion_bench.py [--runs 5]

Target (issue 11, this 2-core CPU): a 16-image grid at 20 steps with guidance in under 2 s. Run it alone: a training
or a test suite on the same two cores doubles every number.
"""

import argparse

import torch
from common import time_it

from demos.diffusion import DiffusionTab
from genmodels import diffusion
from genmodels.diffusion import DEFAULT_GUIDANCE, DEFAULT_SAMPLER, default_guidance, sample
from genmodels.diffusion_pipeline import denoise
from genmodels.registry import Registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="diffusion-mnist")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    registry = Registry(device="cpu")
    model = registry.load(args.model, "diffusion")
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} parameters")
    print("Model time, DDIM, 16 images (target: 20 steps with guidance < 2000 ms):")
    for steps in (1, 5, 20, 50):
        for guidance in (0.0, 2.0):
            time_it(
                f"{steps:>2} steps, guidance {guidance:g}",
                lambda s=steps, g=guidance: denoise(model, 7, 16, None, s, g, "ddim"),
                runs=args.runs,
                warmup=1,
            )
    time_it(
        f"20 steps, DDPM (the tab's default sampler), guidance {DEFAULT_GUIDANCE:g}",
        lambda: denoise(model, 7, 16, None, 20, DEFAULT_GUIDANCE, "ddpm"),
        runs=args.runs,
        warmup=1,
    )
    guide = registry.guide(args.model)
    guidance, autoguidance = default_guidance(guide is not None)
    if guide is not None:
        time_it(
            f"20 steps, DDPM, autoguidance {autoguidance:g} (the tab's defaults for a model with a guide)",
            lambda: denoise(model, 7, 16, None, 20, guidance, "ddpm", guide, autoguidance),
            runs=args.runs,
            warmup=1,
        )
    print("Per image, 64-image grid, 20 DDIM steps, guidance 2:")
    time_it("64 images", lambda: denoise(model, 7, 64, None, 20, 2.0, "ddim"), runs=max(args.runs // 2, 2), warmup=1)
    print("200 images (the quality test's check), 20 steps, the defaults: in passes of SAMPLE_CHUNK rows, or one pass")
    labels = torch.arange(200) % 10
    chunk = diffusion.SAMPLE_CHUNK
    for rows in (chunk, 10**9):
        diffusion.SAMPLE_CHUNK = rows
        time_it(
            f"passes of {min(rows, 400)} rows",
            lambda: list(
                sample(model, labels, 20, DEFAULT_GUIDANCE, DEFAULT_SAMPLER, torch.Generator().manual_seed(1))
            ),
            runs=max(args.runs // 2, 2),
            warmup=0,
        )
    diffusion.SAMPLE_CHUNK = chunk
    print("The tab's whole request, its defaults (grid, trajectory strip, GIF of every step, PNG files), 16 images:")
    tab = DiffusionTab(registry)
    time_it(
        "Generate",
        lambda: tab.sample(args.model, 7, 16, "0-9 in turn", 20, guidance, "DDPM (stochastic)", 8, 4, autoguidance),
        runs=args.runs,
        warmup=1,
    )


if __name__ == "__main__":
    main()
