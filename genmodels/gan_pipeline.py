"""GAN sampling pipeline: seeded grids, truncation, latent directions, discriminator scores, interpolation.

Composes a loaded GAN with the shared sampling utilities; every function is read-only on the model.
"""

import math
from dataclasses import dataclass

import torch

from .gan import GAN, latent_code, with_code
from .sampling import MAX_SEED, interpolate, seeded_latents, truncate

MAX_GRID = 64
MAX_FRAMES = 64
MAX_DIRECTION_OFFSET = 5.0
DIRECTION_COUNT = 5


@dataclass(frozen=True)
class LatentDirections:
    """Unit directions in z (K, z_dim), ordered by how much of the early activations' variance each explains."""

    vectors: torch.Tensor
    explained_variance: torch.Tensor  # (K,) fraction of variance of the early activations


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def check_seed(seed: int) -> None:
    _check(isinstance(seed, int) and 0 <= seed <= MAX_SEED, f"seed must be a whole number from 0 to {MAX_SEED}")


def _labels(gan: GAN, label: int | None, count: int) -> torch.Tensor | None:
    """Class labels for a conditional GAN: the requested digit, or 0..9 in turn when label is None."""
    if not gan.conditional:
        return None
    if label is None:
        return torch.arange(count) % gan.config.num_classes
    _check(
        isinstance(label, int) and 0 <= label < gan.config.num_classes,
        f"class must be 0 to {gan.config.num_classes - 1}",
    )
    return torch.full((count,), label, dtype=torch.long)


def _early_activations(gan: GAN, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Activations after the first upsampling block (B, 2c*14*14): early enough to hold pose and style."""
    generator = gan.generator
    c = gan.config.g_channels
    h = generator.first_activations(z, y).view(-1, 4 * c, 7, 7)
    return generator.body[:6](h).flatten(1)


def latent_directions(gan: GAN, count: int = DIRECTION_COUNT, samples: int = 1024, seed: int = 0) -> LatentDirections:
    """GANSpace: PCA of early activations over random z, mapped back to z by least squares. Deterministic."""
    device = next(gan.parameters()).device
    rng = torch.Generator("cpu").manual_seed(seed)
    z = torch.randn(samples, gan.config.z_dim, generator=rng)
    y = torch.randint(max(gan.config.num_classes, 1), (samples,), generator=rng) if gan.conditional else None
    with torch.inference_mode():
        features = _early_activations(gan, z.to(device), None if y is None else y.to(device)).float().cpu()
    features = features - features.mean(0)
    total_variance = features.square().sum()
    # Subspace iteration with our own seeded generator (torch.svd_lowrank would draw from the global RNG).
    basis = torch.randn(features.shape[1], count + 8, generator=rng)
    for _ in range(4):
        basis, _ = torch.linalg.qr(features.T @ (features @ basis))
    projected = features @ basis  # (samples, count + 8)
    left, singular, _ = torch.linalg.svd(projected, full_matrices=False)
    coordinates = left[:, :count] * singular[:count]  # (samples, count) PCA coordinates
    solution = torch.linalg.lstsq(coordinates.double(), z.double()).solution  # (count, z_dim)
    vectors = solution / solution.norm(dim=1, keepdim=True)
    explained = singular[:count].square() / total_variance
    return LatentDirections(vectors.float(), explained.float())


def sample_latents(
    gan: GAN,
    seed: int,
    count: int,
    psi: float = 1.0,
    offsets: list[float] | None = None,
    directions: LatentDirections | None = None,
) -> torch.Tensor:
    """Seeded latents (count, z_dim), truncated by psi and moved along latent directions by `offsets`."""
    check_seed(seed)
    _check(isinstance(count, int) and 1 <= count <= MAX_GRID, f"grid size must be 1 to {MAX_GRID}")
    _check(math.isfinite(psi) and 0.0 <= psi <= 1.0, "truncation psi must be between 0 and 1")
    z = truncate(seeded_latents(seed, count, gan.config.z_dim), psi)
    if offsets:
        _check(directions is not None and len(offsets) <= len(directions.vectors), "too many direction offsets")
        _check(
            all(math.isfinite(o) and abs(o) <= MAX_DIRECTION_OFFSET for o in offsets),
            f"direction offsets must be between -{MAX_DIRECTION_OFFSET:g} and {MAX_DIRECTION_OFFSET:g}",
        )
        z = z + torch.tensor(offsets, dtype=z.dtype) @ directions.vectors[: len(offsets)]
    return z


def categories_in_turn(gan: GAN, z: torch.Tensor) -> torch.Tensor:
    """An InfoGAN's latents (N, z_dim) moved to the categories 0, 1, ..., K-1, 0, 1, ... in turn (a grid whose
    columns show what each category became)."""
    return with_code(z, torch.arange(len(z)) % gan.config.info_codes, gan.config.info_codes)


@torch.inference_mode()
def generate(gan: GAN, z: torch.Tensor, label: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images (N, 1, 28, 28) in [-1, 1] on the CPU for latents z (N, z_dim), and the labels used. `label` is the
    digit of a conditional GAN (None: 0-9 in turn), or the category of an InfoGAN (None: each latent's own); an
    InfoGAN's latents are moved to a chosen category (`with_code`), and its labels are None (its discriminator
    takes none). A self-conditioned GAN's labels are the categories of the latents that drew the images, which its
    discriminator scores them against."""
    device = next(gan.parameters()).device
    if gan.coded and label is not None:
        codes = gan.config.info_codes
        _check(isinstance(label, int) and 0 <= label < codes, f"category must be 0 to {codes - 1}")
        z = with_code(z, label, codes)
    y = _labels(gan, label if gan.conditional else None, len(z))
    images = gan.generator(z.to(device), None if y is None else y.to(device))
    if gan.clustered:
        return images.float().cpu(), latent_code(z, gan.config.info_codes)
    return images.float().cpu(), y


@torch.inference_mode()
def discriminator_scores(gan: GAN, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """The discriminator's realness score per image (N,): above 0 reads as real under the hinge loss.

    `labels` are a conditional GAN's digits, or a self-conditioned GAN's categories (as `generate` returns them).
    A self-conditioned GAN scores an image against a category; without one (real digits, whose clusters are not
    kept) each image is scored against the category that fits it best: the highest of its scores."""
    device = next(gan.parameters()).device
    images = images.to(device)
    if gan.clustered and labels is None:
        return gan.discriminator.best_category_scores(images).float().cpu()
    if gan.clustered:
        return gan.discriminator(images, code=labels.to(device)).float().cpu()
    y = None if labels is None else labels.to(device)
    return gan.discriminator(images, y).float().cpu()


def interpolation_latents(
    gan: GAN, seed_a: int, seed_b: int, frames: int, mode: str = "slerp", psi: float = 1.0
) -> torch.Tensor:
    """(frames, z_dim) from the first latent of seed_a to the first latent of seed_b."""
    check_seed(seed_a)
    check_seed(seed_b)
    _check(isinstance(frames, int) and 2 <= frames <= MAX_FRAMES, f"frames must be 2 to {MAX_FRAMES}")
    _check(math.isfinite(psi) and 0.0 <= psi <= 1.0, "truncation psi must be between 0 and 1")
    a = truncate(seeded_latents(seed_a, 1, gan.config.z_dim)[0], psi)
    b = truncate(seeded_latents(seed_b, 1, gan.config.z_dim)[0], psi)
    return interpolate(a, b, frames, mode)
