"""VAE pipeline: encode digits, interpolate between codes, map a 2-D latent plane, decode and sample.

Images are (B, 1, 28, 28) in [0, 1] throughout; codes are posterior means.
"""

import math
from dataclasses import dataclass

import torch

from .sampling import MAX_SEED, interpolate, seeded_latents
from .vae import REFINE_STEPS, VAE, refine_posterior, vae_losses

MAX_STEPS = 64
MAX_MAP_CELLS = 30
MAP_EXTENT = 3.0  # the latent map spans [-3, 3] on both axes: 99.7% of the prior's mass per axis
MAX_LATENT_VALUE = 10.0


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _device(vae: VAE) -> torch.device:
    return next(vae.parameters()).device


def check_codes(vae: VAE, z: torch.Tensor) -> torch.Tensor:
    """Latent codes (B, latent_dim): finite and within ±MAX_LATENT_VALUE, else a ValueError."""
    _check(z.dim() == 2 and z.shape[1] == vae.config.latent_dim, f"a latent code has {vae.config.latent_dim} numbers")
    _check(bool(torch.isfinite(z).all()), "latent values must be finite numbers")
    _check(
        bool((z.abs() <= MAX_LATENT_VALUE).all()),
        f"latent values must be between -{MAX_LATENT_VALUE:g} and {MAX_LATENT_VALUE:g}",
    )
    return z


@torch.inference_mode()
def encode(vae: VAE, images: torch.Tensor) -> torch.Tensor:
    """Each image's code (B, latent_dim) for images (B, 1, 28, 28) in [0, 1]: the posterior mean, or with a flow
    posterior, where the flow takes the Gaussian's centre."""
    return vae.embed(images.to(_device(vae))).float().cpu()


# Codes decoded per pass: a 30x30 latent map through a decoder with residual blocks needs about 200 MB of activations
# in one pass, a quarter of that in passes of 256 (each image is decoded on its own, so the result is the same).
DECODE_CHUNK = 256


@torch.inference_mode()
def decode(vae: VAE, z: torch.Tensor) -> torch.Tensor:
    """Images (B, 1, 28, 28) in [0, 1] for codes (B, latent_dim), decoded DECODE_CHUNK at a time."""
    z = check_codes(vae, z.float())
    return torch.cat([vae.decode(part.to(_device(vae))).float().cpu() for part in z.split(DECODE_CHUNK)])


def interpolate_codes(vae: VAE, a: torch.Tensor, b: torch.Tensor, steps: int, mode: str = "lerp") -> torch.Tensor:
    """Codes (steps, latent_dim) from code a to code b inclusive."""
    _check(isinstance(steps, int) and 2 <= steps <= MAX_STEPS, f"steps must be 2 to {MAX_STEPS}")
    return interpolate(a, b, steps, mode)


def crossfade(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """The pixel-space blend (steps, 1, 28, 28) from image a to image b, for contrast with latent paths."""
    t = torch.linspace(0, 1, steps).view(-1, 1, 1, 1)
    return a.unsqueeze(0) * (1 - t) + b.unsqueeze(0) * t


def map_coordinates(cells: int, extent: float = MAP_EXTENT) -> torch.Tensor:
    """Centres of a cells x cells grid over [-extent, extent]^2, row-major from the top-left: (cells*cells, 2).

    x (latent dim 1) grows to the right; y (latent dim 2) grows upwards, as on a plot.
    """
    _check(isinstance(cells, int) and 2 <= cells <= MAX_MAP_CELLS, f"map size must be 2 to {MAX_MAP_CELLS}")
    centres = (torch.arange(cells) + 0.5) / cells * 2 * extent - extent
    y, x = torch.meshgrid(centres.flip(0), centres, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], dim=1)


def latent_map(vae: VAE, cells: int = 15, extent: float = MAP_EXTENT) -> torch.Tensor:
    """Decoded images over the latent plane (cells*cells, 1, 28, 28); the model must have a 2-D latent space."""
    _check(vae.config.latent_dim == 2, "the latent map needs a model with a 2-D latent space")
    return decode(vae, map_coordinates(cells, extent))


def map_position(point: torch.Tensor, size_pixels: float, extent: float = MAP_EXTENT) -> tuple[float, float]:
    """Pixel (x, y) on a square map image of size_pixels for a 2-D code; the inverse of map_point."""
    x = (float(point[0]) + extent) / (2 * extent) * size_pixels
    y = (extent - float(point[1])) / (2 * extent) * size_pixels
    return x, y


def map_point(x_pixels: float, y_pixels: float, size_pixels: float, extent: float = MAP_EXTENT) -> torch.Tensor:
    """The 2-D code (1, 2) under a pixel (x, y) of a square map image of size_pixels."""
    _check(all(math.isfinite(v) for v in (x_pixels, y_pixels, size_pixels)) and size_pixels > 0, "bad map position")
    x = x_pixels / size_pixels * 2 * extent - extent
    y = extent - y_pixels / size_pixels * 2 * extent
    return torch.tensor([[x, y]], dtype=torch.float32).clamp(-extent, extent)


def prior_samples(vae: VAE, seed: int, count: int) -> torch.Tensor:
    """`count` images decoded from seeded draws of the model's prior (N(0, I), or its learned prior): same seed,
    same digits."""
    _check(isinstance(seed, int) and 0 <= seed <= MAX_SEED, f"seed must be a whole number from 0 to {MAX_SEED}")
    _check(isinstance(count, int) and 1 <= count <= 64, "count must be 1 to 64")
    return decode(vae, prior_codes(vae, seeded_latents(seed, count, vae.config.latent_dim)))


@torch.inference_mode()
def prior_codes(vae: VAE, noise: torch.Tensor) -> torch.Tensor:
    """Codes (B, latent_dim) of the model's prior for standard noise (B, latent_dim): the noise itself under the
    N(0, I) prior, or where a learned prior's flow takes it, kept within ±MAX_LATENT_VALUE."""
    codes = vae.prior_latents(noise.float().to(_device(vae))).float().cpu()
    return codes.clamp(-MAX_LATENT_VALUE, MAX_LATENT_VALUE)


REFINE_DRAWS = 32  # posterior draws behind each of refine_one's two bounds: enough to read a gap of a few nats


@dataclass(frozen=True)
class Refined:
    """One digit's posterior as the encoder guesses it and after refinement (see refine_one)."""

    encoder_image: torch.Tensor  # (1, 1, 28, 28) in [0, 1]: the decoded centre of the encoder's posterior
    refined_image: torch.Tensor  # the same for the refined posterior
    encoder_nats: float  # the digit's negative ELBO under the encoder's posterior (mean of REFINE_DRAWS draws)
    refined_nats: float  # the same under the refined posterior
    moved: float  # how far the posterior's centre moved, in latent units


def refine_one(vae: VAE, image: torch.Tensor, steps: int = REFINE_STEPS, seed: int = 0) -> Refined:
    """The amortization gap of one digit (1, 28, 28) or (1, 1, 28, 28) in [0, 1]: its posterior from the encoder's
    one pass, and refined by `steps` Adam steps on its own ELBO (refine_posterior; the decoder and prior unchanged).
    Each is read out as the decoded centre of the posterior and the digit's negative ELBO (nats) under it. The
    same image, model and seed give the same result."""
    _check(isinstance(steps, int) and 0 <= steps <= 500, "refinement steps must be 0 to 500")
    x = image.reshape(1, 1, 28, 28).float().to(_device(vae))
    _check(bool(torch.isfinite(x).all()) and float(x.min()) >= 0 and float(x.max()) <= 1, "pixels must be in [0, 1]")
    generator = torch.Generator("cpu").manual_seed(seed)
    with torch.inference_mode():
        guessed = vae._encoded(x)
    refined = refine_posterior(vae, x, steps=steps, generator=generator, start=guessed)

    def read(posterior) -> tuple[torch.Tensor, torch.Tensor, float]:
        mu, _, context = posterior
        with torch.inference_mode():
            centre = vae._flow(mu, context)[0] if len(vae.flow) else mu
            draws = tuple(t.expand(REFINE_DRAWS, -1) for t in posterior)
            noise = torch.Generator("cpu").manual_seed(seed + 1)  # the same draws for both posteriors
            nats = vae_losses(vae, x.expand(REFINE_DRAWS, -1, -1, -1), 1.0, noise, posterior=draws)["negative_elbo"]
            return centre, vae.decode(centre).float().cpu(), float(nats)

    guessed_centre, guessed_image, guessed_nats = read(guessed)
    refined_centre, refined_image, refined_nats = read(refined)
    return Refined(
        guessed_image, refined_image, guessed_nats, refined_nats, float((refined_centre - guessed_centre).norm())
    )
