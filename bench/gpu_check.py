"""GPU check: every tab's core path and a short training run on CUDA, with timings. Run it on any GPU machine.

    python bench/gpu_check.py            # exits 1 without CUDA, or if any path fails or leaves the GPU

What it runs, each on the GPU the app would use (GENLAB_DEVICE=auto picks CUDA first):
- GAN tab: 64-image grids from the shipped GANs (model time, median of 50);
- VAE tab: encode 2 digits, decode a 16-step walk;
- Text tab: SmolLM2's decode path chosen on the GPU (half precision, checked against float32 on the GPU),
  time to first token, decode tokens/s over 128 new tokens, and perplexity against float32 on the guard texts;
- Training tab: 200 GAN steps at batch 64 (steps/s), through the same trainer the tab uses.
"""

import statistics
import sys
import time

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

from genmodels.data import mnist_splits, to_signed
from genmodels.fastllama import decode_path_perplexity, load_fast_llama
from genmodels.gan import GANConfig
from genmodels.gan_pipeline import generate, sample_latents
from genmodels.lm import continue_text
from genmodels.registry import Registry
from genmodels.text_models import SELF_CHECK_TEXT, SMOLLM, TextModels
from genmodels.textgen import SamplingSettings
from genmodels.trainers import GANTrainConfig, GANTrainer
from genmodels.vae_pipeline import decode, encode, interpolate_codes

GUARD_TEXTS = [
    "The history of the Roman Empire spans many centuries, from the founding of the city to its fall.",
    "Photosynthesis is the process by which green plants use sunlight to make food from carbon dioxide and water.",
    "She opened the door slowly and looked into the dark room, wondering whether anyone was still awake.",
    "To make a good cup of tea, first boil fresh water, then pour it over the leaves and wait a few minutes.",
]


def cuda_ms(function, runs: int = 50, warmup: int = 5) -> float:
    """Median milliseconds of function() with the GPU synchronised around each run."""
    timings = []
    for run in range(runs + warmup):
        torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        torch.cuda.synchronize()
        if run >= warmup:
            timings.append(1000 * (time.perf_counter() - start))
    return statistics.median(timings)


def check_images(registry: Registry) -> None:
    for name in registry.names("gan"):
        gan = registry.load(name, "gan")
        assert next(gan.parameters()).device.type == "cuda", f"{name} is not on the GPU"
        z = sample_latents(gan, 7, 64)
        with torch.inference_mode():
            milliseconds = cuda_ms(lambda gan=gan, z=z: generate(gan, z))
        print(f"  GAN {name}: 64 images in {milliseconds:.2f} ms (median of 50)")
    held_out = mnist_splits()[1]
    digits = held_out.images[:2].float().unsqueeze(1).div(255).to(registry.device)
    for name in registry.names("vae"):
        vae = registry.load(name, "vae")

        def walk(vae=vae):
            with torch.inference_mode():
                codes = encode(vae, digits)
                decode(vae, interpolate_codes(vae, codes[0], codes[1], 16))

        print(f"  VAE {name}: encode 2 + decode a 16-step walk in {cuda_ms(walk):.2f} ms")


def check_text(registry: Registry) -> None:
    models = TextModels(registry, check_hub=False)
    started = time.perf_counter()
    model = models.load(SMOLLM)
    report = model.fast.report
    print(f"  SmolLM2 load {time.perf_counter() - started:.2f} s, decode path {report.kernel} ({report.checks})")
    ids = model.encode("Once upon a time, in a small village by the sea, there lived an old fisherman who")
    for label, settings in (("greedy", SamplingSettings(0)), ("sampled", SamplingSettings(0.8, 50, 0.95, 1.1))):
        first, rates = [], []
        for seed in range(3):
            start = time.perf_counter()
            stream = continue_text(model, ids, settings, 128, seed)
            next(stream)
            first.append(time.perf_counter() - start)
            start = time.perf_counter()
            produced = sum(1 for _ in stream)
            rates.append(produced / (time.perf_counter() - start))
        print(
            f"  SmolLM2 {label}: time to first token {1000 * statistics.median(first):.0f} ms, "
            f"{statistics.median(rates):.1f} tokens/s over 128 new tokens"
        )
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(models.smollm_dir, dtype=torch.float32).to(registry.device).eval()
    token_lists = [model.encode(text) for text in GUARD_TEXTS]
    half = decode_path_perplexity(model.fast, token_lists)
    full = decode_path_perplexity(load_fast_llama(reference, model.encode(SELF_CHECK_TEXT), "float32"), token_lists)
    print(
        f"  SmolLM2 perplexity on the GPU: {model.fast.kernel} {half:.3f}, float32 {full:.3f} "
        f"({100 * (half / full - 1):+.2f}%)"
    )


def check_training() -> None:
    train, _ = mnist_splits()
    trainer = GANTrainer(GANConfig(), GANTrainConfig(steps=200, batch_size=64), to_signed(train.images), train.labels)
    assert trainer.accelerator.device.type == "cuda", "the trainer is not on the GPU"
    events = trainer.run()
    next(events)
    torch.cuda.synchronize()
    start = time.perf_counter()
    steps = 1 + sum(1 for _ in events)
    torch.cuda.synchronize()
    print(f"  Training: GAN batch 64, {steps / (time.perf_counter() - start):.1f} steps/s on the GPU")


def main() -> int:
    if not torch.cuda.is_available():
        print("No CUDA device: nothing to check here.")
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    registry = Registry()
    assert registry.device.type == "cuda", f"the app would run on {registry.device}, not the GPU"
    check_images(registry)
    check_text(registry)
    check_training()
    print(f"  peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
