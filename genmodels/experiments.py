"""The computations behind the one-click experiments (issue 12): each compares two settings on the same seed and
returns the pictures and the numbers that show the outcome its explanation promises.

Images are (N, 1, 28, 28) in [-1, 1] for GANs and [0, 1] for VAEs, as elsewhere in genmodels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .diffusion import DEFAULT_AUTOGUIDANCE
from .gan import GAN
from .gan_pipeline import discriminator_scores, generate, interpolation_latents, sample_latents
from .metrics import classify, diversity
from .sampling import interpolate, seeded_latents
from .vae import VAE, posterior_kl
from .vae_pipeline import crossfade, decode, encode, prior_codes, prior_samples


def half_tone_fraction(images: torch.Tensor) -> list[float]:
    """For images (N, 1, 28, 28) in [0, 1]: the share of each image's ink (pixels above 0.1) that is half-tone
    (0.25 to 0.75). Handwritten strokes are mostly solid; two digits faded over each other are mostly half-tone."""
    ink = images > 0.1
    half = (images > 0.25) & (images < 0.75)
    return (half.sum(dim=(1, 2, 3)) / ink.sum(dim=(1, 2, 3)).clamp_min(1)).tolist()


@dataclass(frozen=True)
class Judged:
    """Samples with what the judge classifier makes of them (the diversity meter)."""

    images: torch.Tensor
    meter: dict  # metrics.diversity: histogram, entropy_bits, most_common, inception_score


def judged(images: torch.Tensor, judge, value_range=(-1.0, 1.0)) -> Judged:
    low, high = value_range
    probabilities, _ = classify(judge, (images - low) / (high - low) * 2 - 1)
    return Judged(images, diversity(probabilities))


# GAN ---------------------------------------------------------------------------------------------------------------


def truncation_pair(gan: GAN, judge, seed: int, count: int = 64, psis=(0.5, 1.0)) -> list[Judged]:
    """The same seed's samples at each truncation ψ, with the diversity meter of each."""
    return [judged(generate(gan, sample_latents(gan, seed, count, psi))[0], judge) for psi in psis]


@dataclass(frozen=True)
class PathComparison:
    images: dict[str, torch.Tensor]  # mode -> (frames, 1, 28, 28)
    norms: dict[str, list[float]]  # mode -> |z| along the path
    shell: float  # sqrt(z_dim): where almost all of the prior's samples lie


def lerp_versus_slerp(gan: GAN, seed_a: int, seed_b: int, frames: int = 9) -> PathComparison:
    """Both paths between the same two latents, with the norm of z along each."""
    images, norms = {}, {}
    for mode in ("lerp", "slerp"):
        z = interpolation_latents(gan, seed_a, seed_b, frames, mode)
        images[mode] = generate(gan, z)[0]
        norms[mode] = [round(value, 3) for value in z.norm(dim=1).tolist()]
    return PathComparison(images, norms, math.sqrt(gan.config.z_dim))


@dataclass(frozen=True)
class WalkAndFade:
    walk: torch.Tensor  # (frames, 1, 28, 28) in [0, 1]
    fade: torch.Tensor
    walk_half_tone: list[float]
    fade_half_tone: list[float]


def _walk_and_fade(walk01: torch.Tensor, first: torch.Tensor, last: torch.Tensor) -> WalkAndFade:
    fade = crossfade(first, last, len(walk01))
    return WalkAndFade(walk01, fade, half_tone_fraction(walk01), half_tone_fraction(fade))


def gan_walk_versus_fade(gan: GAN, seed_a: int, seed_b: int, frames: int = 9) -> WalkAndFade:
    """A latent walk (slerp) from seed A's sample to seed B's, and the pixel cross-fade between the same ends."""
    walk = (generate(gan, interpolation_latents(gan, seed_a, seed_b, frames, "slerp"))[0] + 1) / 2
    return _walk_and_fade(walk, walk[0], walk[-1])


@dataclass(frozen=True)
class RealVersusFake:
    real: torch.Tensor
    fake: torch.Tensor
    real_scores: list[float]
    fake_scores: list[float]


def discriminator_real_versus_fake(
    gan: GAN, real: torch.Tensor, real_labels: torch.Tensor, seed: int, count: int = 64
) -> RealVersusFake:
    """The discriminator's score for `count` held-out real digits (in [-1, 1]) and as many generated ones. A
    self-conditioned GAN scores both against the category that fits each best (real digits have no category)."""
    real, real_labels = real[:count], real_labels[:count]
    fake, fake_labels = generate(gan, sample_latents(gan, seed, count), None)
    real_scores = discriminator_scores(gan, real, real_labels if gan.conditional else None)
    fake_scores = discriminator_scores(gan, fake, None if gan.clustered else fake_labels)
    return RealVersusFake(real, fake, real_scores.tolist(), fake_scores.tolist())


# VAE ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BetaResult:
    reconstructions: torch.Tensor  # (N, 1, 28, 28) in [0, 1], decoded from the posterior means
    samples: torch.Tensor  # from the prior, same seed for every model
    kl_nats: float  # mean KL(q(z|x) || p(z)) per image
    squared_error: float  # mean sum of squared pixel errors per image


@torch.inference_mode()
def beta_result(vae: VAE, images: torch.Tensor, seed: int, count: int = 16) -> BetaResult:
    """How one VAE treats the same inputs (N, 1, 28, 28) in [0, 1]: reconstructions, KL, error, prior samples."""
    kl = posterior_kl(vae, images, generator=torch.Generator().manual_seed(seed))
    reconstructions = decode(vae, encode(vae, images))
    error = (reconstructions - images).square().sum(dim=(1, 2, 3))
    return BetaResult(reconstructions, prior_samples(vae, seed, count), float(kl.mean()), float(error.mean()))


@dataclass(frozen=True)
class Posteriors:
    means: torch.Tensor  # (N, 2)
    sigmas: torch.Tensor  # (N, 2): one standard deviation along each axis


@torch.inference_mode()
def posteriors(vae: VAE, images: torch.Tensor) -> Posteriors:
    """The posterior q(z|x) = N(mean, diag(sigma^2)) of each image, for a model with a 2-D latent space. With a
    flow posterior, the mean and standard deviations of 256 draws from it (a fixed seed)."""
    if not len(vae.flow):
        mu, logvar = vae.encode(images)
        return Posteriors(mu.float(), logvar.mul(0.5).exp().float())
    eps = torch.randn(len(images), 256, vae.config.latent_dim, generator=torch.Generator().manual_seed(0))
    z, _ = vae.posterior_sample(images, eps.to(images.device))  # (N, 256, 2)
    return Posteriors(z.mean(1).float(), z.std(1).float())


def vae_walk_versus_fade(vae: VAE, image_a: torch.Tensor, image_b: torch.Tensor, frames: int = 9) -> WalkAndFade:
    """The latent walk between two inputs' codes (decoded) and the pixel cross-fade between the inputs."""
    codes = encode(vae, torch.stack([image_a, image_b]))
    walk = decode(vae, interpolate(codes[0], codes[1], frames, "lerp"))
    return _walk_and_fade(walk, image_a, image_b)


@dataclass(frozen=True)
class FarOut:
    radii: list[float]  # in multiples of sqrt(latent_dim), the radius of the prior's typical set
    images: torch.Tensor  # (len(radii) * directions, 1, 28, 28): one row per radius
    confidence: list[float]  # the judge's mean top probability per radius
    half_tone: list[float]  # mean half-tone share of the ink per radius
    log_prior: list[float]  # log p(z) per radius, in nats (the prior's own view of the point)


@torch.inference_mode()
def far_outside_prior(vae: VAE, judge, seed: int, radii=(1.0, 2.0, 4.0, 8.0), directions: int = 6) -> FarOut:
    """Decode the same random directions at growing distances from the prior's centre (coordinates kept within
    the decoder's bound of 10). The distances are measured in the prior's standard noise u; a model with a learned
    prior decodes where its flow takes u, and log p(z) is that prior's density there."""
    dim = vae.config.latent_dim
    unit = seeded_latents(seed, directions, dim)
    unit = unit / unit.norm(dim=1, keepdim=True)
    rows, confidence, half_tone, log_prior = [], [], [], []
    for radius in radii:
        z = prior_codes(vae, (unit * radius * math.sqrt(dim)).clamp(-10, 10))
        images = decode(vae, z)
        probabilities, _ = classify(judge, images * 2 - 1)
        rows.append(images)
        confidence.append(round(float(probabilities.max(dim=1).values.mean()), 4))
        half_tone.append(round(sum(half_tone_fraction(images)) / directions, 4))
        log_prior.append(round(float(vae.log_prior(z.to(next(vae.parameters()).device)).mean()), 2))
    return FarOut(list(radii), torch.cat(rows), confidence, half_tone, log_prior)


# Text --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Continuation:
    text: str
    token_ids: list[int]
    mean_log_probability: float  # of the chosen tokens under the model itself (T = 1, no filter), nats per token
    repeated_4grams: float  # share of the continuation's 4-token windows seen earlier in it


def repeated_ngrams(ids: list[int], n: int = 4) -> float:
    """The share of n-token windows that repeat an earlier window: 0 for fresh text, near 1 for a loop."""
    windows = [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]
    return 1 - len(set(windows)) / len(windows) if windows else 0.0


def continuation(model, prompt: str, settings, tokens: int, seed: int) -> Continuation:
    """A seeded continuation of prompt, with how likely the model found its own choices."""
    from .lm import continue_text, fit_prompt, token_log_probabilities

    ids, _ = fit_prompt(model, prompt, tokens)
    new = [event.token_id for event in continue_text(model, ids, settings, tokens, seed)]
    scores = token_log_probabilities(model, ids + new)[len(ids) - 1 :] if new else [0.0]
    return Continuation(model.decode(new), new, sum(scores) / len(scores), repeated_ngrams(new))


def temperature_pair(model, prompt: str, seed: int, temperatures=(0.2, 1.5), tokens: int = 40) -> list[Continuation]:
    """The same prompt and seed at each temperature."""
    from .textgen import SamplingSettings

    return [continuation(model, prompt, SamplingSettings(temperature=t), tokens, seed) for t in temperatures]


@dataclass(frozen=True)
class NucleusCut:
    top_p: float
    kept: int  # tokens the filter keeps for the next position
    kept_mass: float  # their share of the model's probability
    removed: list[tuple[str, float]]  # the most likely tokens it removed, with their probabilities
    vocabulary: int


def nucleus_cut(model, prompt: str, top_p: float, show: int = 12) -> NucleusCut:
    """What top-p keeps and removes at the next position after prompt."""
    from .lm import fit_prompt
    from .textgen import SamplingSettings, next_token_distribution

    ids, _ = fit_prompt(model, prompt, 1)
    logits, _ = model.prefill(ids)
    before, after = next_token_distribution(logits, SamplingSettings(top_p=top_p), ids)
    kept = after > 0
    order = torch.argsort(before, descending=True)
    removed = [int(i) for i in order[: len(order)] if not kept[i]][:show]
    return NucleusCut(
        top_p,
        int(kept.sum()),
        float(before[kept].sum()),
        [(model.decode([i]), float(before[i])) for i in removed],
        int(before.numel()),
    )


def repetition_pair(model, prompt: str, penalty: float = 1.3, tokens: int = 60) -> list[Continuation]:
    """Greedy decoding without and with the repetition penalty (greedy: no seed matters)."""
    from .textgen import SamplingSettings

    return [
        continuation(model, prompt, SamplingSettings(temperature=0.0, repetition_penalty=p), tokens, 0)
        for p in (1.0, penalty)
    ]


@dataclass(frozen=True)
class TwoModels:
    texts: list[str]
    characters_per_step: list[float]  # characters of text each model adds per generation step
    invented_words: list[list[str]]  # words in each text that never occur in the reference text


def characters_versus_tokens(models, prompts, seed: int, steps: int, reference: str) -> TwoModels:
    """The same prompt through a character-level and a token-level model, the same number of steps each.

    reference: a text whose words count as real (Tiny Shakespeare, for a model trained on it).
    """
    import re

    from .textgen import SamplingSettings

    known = set(re.findall(r"[a-z]+", reference.lower()))
    texts, rates, invented = [], [], []
    for model, prompt in zip(models, prompts, strict=True):
        result = continuation(model, prompt, SamplingSettings(temperature=0.8), steps, seed)
        texts.append(result.text)
        rates.append(len(result.text) / max(len(result.token_ids), 1))
        words = re.findall(r"[a-z]+", result.text.lower())
        invented.append(sorted({w for w in words if w not in known and len(w) > 2}))
    return TwoModels(texts, rates, invented)


# Diffusion ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusionSamples:
    """Diffusion samples with what the judge makes of them."""

    images: torch.Tensor  # (N, 1, 28, 28) in [-1, 1]
    labels: torch.Tensor  # (N,) the digits asked for (the null class: none)
    meter: dict  # metrics.diversity of the judge's readings
    reads: list[int]  # the digit the judge reads in each
    class_accuracy: float  # share read as the digit asked for (0 when no digit was asked for)
    half_tone: float  # mean half-tone share of the ink: blur and faded strokes raise it
    within_class_distance: float  # mean pixel distance between two samples of the same digit: variety


def judged_diffusion(
    model,
    judge,
    seed: int,
    count: int,
    steps: int,
    guidance: float,
    sampler: str,
    digit=None,
    guide=None,
    autoguidance: float = 0.0,
):
    """Seeded samples (digits 0-9 in turn, or `digit`, or the null class) judged by the classifier."""
    from .diffusion_pipeline import denoise

    result = denoise(model, seed, count, digit, steps, guidance, sampler, guide, autoguidance)
    probabilities, _ = classify(judge, result.images)
    reads = probabilities.argmax(dim=1)
    asked = result.labels
    accuracy = float((reads == asked).double().mean()) if int(asked.max()) < model.null_class else 0.0
    flat = result.images.flatten(1)
    distances = []
    for label in asked.unique().tolist():
        same = flat[asked == label]
        if len(same) > 1:
            pairwise = torch.cdist(same, same)
            distances.append(float(pairwise.sum() / (len(same) * (len(same) - 1))))
    return DiffusionSamples(
        result.images,
        asked,
        diversity(probabilities),
        reads.tolist(),
        round(accuracy, 4),
        round(sum(half_tone_fraction((result.images + 1) / 2)) / count, 4),
        round(sum(distances) / max(len(distances), 1), 3),
    )


def steps_pair(model, judge, seed: int, steps=(2, 50), count: int = 20) -> list[DiffusionSamples]:
    """The same noise denoised in few and in many DDIM steps (guidance 2)."""
    return [judged_diffusion(model, judge, seed, count, s, 2.0, "ddim") for s in steps]


def guidance_pair(model, judge, seed: int, scales=(0.0, 3.0), count: int = 40) -> list[DiffusionSamples]:
    """The same noise at guidance 0 (the conditional model alone) and 3 (pushed further from unconditional), in 20
    DDIM steps: class accuracy (fidelity) against the variety within each digit (diversity)."""
    return [judged_diffusion(model, judge, seed, count, 20, g, "ddim") for g in scales]


def guidance_kinds(
    model, guide, judge, seed: int, count: int = 40, cfg: float = 3.0, autoguidance: float = DEFAULT_AUTOGUIDANCE
):
    """The same noise with no guidance, classifier-free guidance `cfg` and autoguidance by `guide`, in 20 DDPM steps
    (the tab's sampler): which kind buys fidelity without giving up the variety within each digit."""
    return [
        judged_diffusion(model, judge, seed, count, 20, 0.0, "ddpm"),
        judged_diffusion(model, judge, seed, count, 20, cfg, "ddpm"),
        judged_diffusion(model, judge, seed, count, 20, 0.0, "ddpm", None, guide, autoguidance),
    ]


@dataclass(frozen=True)
class SamplerComparison:
    ddim: DiffusionSamples
    ddpm: DiffusionSamples
    ddim_again: DiffusionSamples  # DDIM once more: the deterministic sampler repeats itself exactly
    same_digit: float  # share of samples the judge reads as the same digit under both samplers
    chance: float  # the share expected for unrelated samples with these readings


def sampler_pair(model, judge, seed: int, steps: int = 30, count: int = 30) -> SamplerComparison:
    """The same starting noise, no class given, through DDIM (deterministic) and DDPM (fresh noise every step)."""
    null = model.null_class
    ddim = judged_diffusion(model, judge, seed, count, steps, 0.0, "ddim", null)
    ddpm = judged_diffusion(model, judge, seed, count, steps, 0.0, "ddpm", null)
    again = judged_diffusion(model, judge, seed, count, steps, 0.0, "ddim", null)
    same = sum(a == b for a, b in zip(ddim.reads, ddpm.reads, strict=True)) / count
    chance = sum(a * b for a, b in zip(ddim.meter["histogram"], ddpm.meter["histogram"], strict=True))
    return SamplerComparison(ddim, ddpm, again, round(same, 4), round(chance, 4))


@dataclass(frozen=True)
class BlankReading:
    """One blank read by a masked model (both sides) and a left-to-right model (left side only)."""

    text: str  # with the blank as "_"
    answer: str  # the character that was hidden
    both: list[tuple[str, float]]  # the masked model's top candidates
    left: list[tuple[str, float]]  # the left-to-right model's top candidates
    both_answer: float  # each model's probability of the right character
    left_answer: float


def read_blank(masked, gpt, text: str, answer: str) -> BlankReading:
    """The two models' candidates for the one blank in `text`, and the probability each gives the answer."""
    from .fill import both_sides, left_only, top

    if text.count("_") != 1:
        raise ValueError("the experiment's text needs exactly one blank")
    vocab = masked.config.vocab
    both = both_sides(masked, text)[0]
    left = left_only(gpt, text)[0][0]
    index = vocab.index(answer)
    return BlankReading(text, answer, top(both, vocab), top(left, vocab), float(both[index]), float(left[index]))
