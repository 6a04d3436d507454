"""Diffusion sampling pipeline (issue 11): seeded grids, the denoising trajectory, and the forward process.

Composes a loaded DiffusionModel with genmodels.diffusion's samplers; every function is read-only on the model and
checks its arguments (the API bypasses every slider bound). All noise comes from a CPU generator seeded by the
request: the same seed and settings give the same images on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoints import CONFIG, load_checkpoint
from .diffusion import (
    DEFAULT_SAMPLER,
    GUIDE_SUFFIX,
    SAMPLERS,
    DiffusionModel,
    compatible_guide,
    default_guidance,
    sample,
)
from .sampling import MAX_SEED

MAX_GRID = 64
MAX_STEPS = 100
MAX_GUIDANCE = 10.0
MAX_AUTOGUIDANCE = 10.0
MAX_FRAMES = 20
MAX_TRACKED = 16  # samples whose trajectory is kept (the strip and GIF show the first ones of the grid)


def load_guide(folder: Path, device: torch.device | str = "cpu") -> DiffusionModel | None:
    """The guide shipped beside the diffusion model in `folder` (the folder `<name>-guide`), or None."""
    folder = Path(folder)
    guide = folder.with_name(folder.name + GUIDE_SUFFIX)
    if not (guide / CONFIG).is_file():
        return None
    return load_checkpoint(DiffusionModel, guide, device).eval()


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Denoising:
    """A sampled grid and its trajectory.

    images (N, 1, 28, 28) in [-1, 1]; labels (N,); times: the step t reached after each sampler step (the last is
    0); states and predictions: (steps, K, 1, 28, 28) for the first K = min(N, MAX_TRACKED) samples, the noisy
    state x_t and the model's prediction of the clean image at each step; start: their pure noise (K, 1, 28, 28).
    """

    images: torch.Tensor
    labels: torch.Tensor
    times: list[int]
    states: torch.Tensor
    predictions: torch.Tensor
    start: torch.Tensor


def labels_for(model: DiffusionModel, digit: int | None, count: int) -> torch.Tensor:
    """The digit for every sample, 0-9 in turn when digit is None, or model.null_class: no class (unconditional)."""
    classes = model.config.num_classes
    if digit is None:
        return torch.arange(count) % classes
    _check(isinstance(digit, int) and 0 <= digit <= classes, f"digit must be 0 to {classes - 1}")
    return torch.full((count,), digit, dtype=torch.long)


def check_settings(seed: int, count: int, steps: int, guidance: float, sampler: str, autoguidance: float = 0.0) -> None:
    _check(isinstance(seed, int) and 0 <= seed <= MAX_SEED, f"seed must be a whole number from 0 to {MAX_SEED}")
    _check(isinstance(count, int) and 1 <= count <= MAX_GRID, f"grid size must be 1 to {MAX_GRID}")
    _check(isinstance(steps, int) and 1 <= steps <= MAX_STEPS, f"sampling steps must be 1 to {MAX_STEPS}")
    _check(
        isinstance(guidance, (int, float)) and math.isfinite(guidance) and 0 <= guidance <= MAX_GUIDANCE,
        f"guidance must be between 0 and {MAX_GUIDANCE:g}",
    )
    _check(sampler in SAMPLERS, "sampler must be ddim or ddpm")
    _check(
        isinstance(autoguidance, (int, float))
        and math.isfinite(autoguidance)
        and 0 <= autoguidance <= MAX_AUTOGUIDANCE,
        f"autoguidance must be between 0 and {MAX_AUTOGUIDANCE:g}",
    )


def denoise(
    model: DiffusionModel,
    seed: int,
    count: int,
    digit: int | None = None,
    steps: int = 20,
    guidance: float = 2.0,
    sampler: str = "ddim",
    guide: DiffusionModel | None = None,
    autoguidance: float = 0.0,
) -> Denoising:
    """Sample a grid of `count` digits from the noise of `seed`, keeping the first samples' trajectory.

    With a `guide` (a weaker model of the same data), `autoguidance` > 0 steers away from its errors (see
    genmodels.diffusion.sample).

    A grid of 4 is the first 4 samples of the grid of 64 with the same settings (the noise is drawn per sample in
    order; DDPM's later noise depends on the grid size, as the sampler draws it for the whole batch each step)."""
    check_settings(seed, count, steps, guidance, sampler, autoguidance)
    _check(not autoguidance or compatible_guide(model, guide), "autoguidance needs this model's guide")
    labels = labels_for(model, digit, count)
    generator = torch.Generator("cpu").manual_seed(seed)
    start = torch.randn(count, 1, 28, 28, generator=torch.Generator("cpu").manual_seed(seed))
    tracked = min(count, MAX_TRACKED)
    times, states, predictions, last = [], [], [], None
    for step in sample(model, labels, steps, float(guidance), sampler, generator, guide, float(autoguidance)):
        times.append(step.t)
        states.append(step.x[:tracked])
        predictions.append(step.x0[:tracked])
        last = step
    return Denoising(last.x.clamp(-1, 1), labels, times, torch.stack(states), torch.stack(predictions), start[:tracked])


def frame_indices(steps: int, frames: int) -> list[int]:
    """Which sampler steps a trajectory strip shows: `frames` evenly spaced ones, always ending at the last."""
    _check(isinstance(frames, int) and 1 <= frames <= MAX_FRAMES, f"frames must be 1 to {MAX_FRAMES}")
    frames = min(frames, steps)
    if frames == 1:
        return [steps - 1]
    return sorted({round(i * (steps - 1) / (frames - 1)) for i in range(frames)})


def signal_share(model: DiffusionModel, t: int) -> float:
    """sqrt(abar_t): how much of the clean digit is left in x_t (1 at t = 0, about 0 at t = T - 1)."""
    return float(model.alpha_bar[t].sqrt())


@dataclass(frozen=True)
class ForwardProcess:
    """A digit noised at steps `times`: the noisy images x_t, the model's prediction of the clean digit from each,
    and each step's remaining signal share sqrt(abar_t)."""

    times: list[int]
    noisy: torch.Tensor  # (len(times), 1, 28, 28)
    predictions: torch.Tensor  # (len(times), 1, 28, 28)
    signal: list[float]


@torch.inference_mode()
def forward_process(
    model: DiffusionModel, image: torch.Tensor, times: list[int], seed: int, label: int | None = None
) -> ForwardProcess:
    """q(x_t | x_0) for one digit (1, 28, 28) or (1, 1, 28, 28) in [-1, 1] at each step in `times`, with one noise
    draw (seeded) shared by all, and the model's one-step prediction of x_0 from each x_t (told the digit if
    `label` is given; else unconditional)."""
    check_settings(seed, 1, 1, 0.0, "ddim")
    total = model.config.timesteps
    _check(
        0 < len(times) <= MAX_FRAMES and all(isinstance(t, int) and 0 <= t < total for t in times),
        f"steps t must be 0 to {total - 1} (at most {MAX_FRAMES} of them)",
    )
    image = image.reshape(1, 1, 28, 28).float()
    _check(bool(torch.isfinite(image).all()) and float(image.abs().max()) <= 1.0, "the digit must be in [-1, 1]")
    noise = torch.randn(1, 1, 28, 28, generator=torch.Generator("cpu").manual_seed(seed))
    device = next(model.parameters()).device
    t = torch.tensor(times, dtype=torch.long)
    abar = model.alpha_bar.cpu()[t].view(-1, 1, 1, 1)
    noisy = abar.sqrt() * image + (1 - abar).sqrt() * noise  # q(x_t | x_0), as model.noised, on the CPU
    if label is not None:
        _check(isinstance(label, int) and 0 <= label < model.config.num_classes, "digit must be 0 to 9")
    y = torch.full((len(times),), model.null_class if label is None else label, dtype=torch.long)
    output = model(noisy.to(device), t.to(device), y.to(device)).float().cpu()
    predictions = model.clean_image_from_output(noisy, abar, output).clamp(-1, 1)
    return ForwardProcess(list(times), noisy, predictions, [signal_share(model, s) for s in times])


@torch.inference_mode()
def judged_samples(model, judge, reference: torch.Tensor, count: int, guide=None, seed: int = 2026) -> dict:
    """`count` samples (20 steps of DEFAULT_SAMPLER, digits 0-9 in turn, `seed`, the model's default guidance:
    autoguidance by `guide` when given) judged as a diffusion card records them: class accuracy, Inception score,
    and the Fréchet distance of the first 500 against `reference`, the first 500 held-out digits (N, 1, 28, 28)."""
    from .metrics import classify, frechet_distance, inception_score

    guidance, autoguidance = default_guidance(guide is not None)
    labels = torch.arange(count) % model.config.num_classes
    generator = torch.Generator("cpu").manual_seed(seed)
    images = torch.cat(
        [
            list(sample(model, chunk, 20, guidance, DEFAULT_SAMPLER, generator, guide, autoguidance))[-1].x
            for chunk in labels.split(250)
        ]
    )
    probabilities, features = classify(judge, images)
    _, real = classify(judge, reference)
    result = {
        "class_accuracy": round(float((probabilities.argmax(1) == labels).double().mean()), 4),
        "inception_score": round(inception_score(probabilities), 4),
        "frechet_distance_500": round(frechet_distance(features[: len(reference)], real), 3),
        "samples": count,
        "sampling_steps": 20,
        "guidance": guidance,
    }
    return result | ({"autoguidance": autoguidance} if autoguidance else {}) | {"sampler": DEFAULT_SAMPLER}


def card_metrics(model, judge, reference: torch.Tensor, guide=None, count: int = 2000, check: int = 100) -> dict:
    """A diffusion card's metrics at the model's default guidance: judged_samples with `count` samples, a check with
    `check` samples of the same seed drawn on their own (DDPM's noise depends on the batch, so they are not the
    first of the `count`), which tests/test_quality.py repeats, and milliseconds per image for 16-image grids."""
    import time

    metrics = judged_samples(model, judge, reference, count, guide)
    first = judged_samples(model, judge, reference, check, guide)
    metrics |= {
        "check_class_accuracy_100": first["class_accuracy"],
        "check_inception_score_100": first["inception_score"],
    }
    guidance, autoguidance = default_guidance(guide is not None)
    grid_labels = torch.arange(16) % model.config.num_classes
    started = time.perf_counter()
    for _ in range(3):
        generator = torch.Generator("cpu").manual_seed(0)
        list(sample(model, grid_labels, 20, guidance, DEFAULT_SAMPLER, generator, guide, autoguidance))
    metrics["ms_per_image_20_steps_guided"] = round(1000 * (time.perf_counter() - started) / 48, 2)
    return metrics
