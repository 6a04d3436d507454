"""Seeded noise, truncation and interpolation shared by every generative model."""

from __future__ import annotations

import torch

MAX_SEED = 2**31 - 1
_SEED_STRIDE = 65_537  # > any grid size, so (seed, index) pairs never share a stream


def seeded_latents(seed: int, count: int, dim: int, start: int = 0) -> torch.Tensor:
    """(count, dim) standard-normal latents; sample i depends only on (seed, start + i), on every machine.

    Each sample has its own CPU generator, so a 4-image grid shows the first 4 images of the 64-image grid.
    """
    rows = []
    for index in range(start, start + count):
        generator = torch.Generator("cpu").manual_seed(seed * _SEED_STRIDE + index)
        rows.append(torch.randn(dim, generator=generator))
    return torch.stack(rows)


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick for a zero-mean prior: pull latents toward the mean by psi in [0, 1]."""
    return z * psi


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation; t: (T,) -> (T, *a.shape)."""
    t = t.view(-1, *([1] * a.dim()))
    return a.unsqueeze(0) * (1 - t) + b.unsqueeze(0) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (constant angular speed, norms interpolated linearly); t: (T,) -> (T, *a.shape)."""
    a_flat, b_flat = a.flatten().double(), b.flatten().double()
    norm_a, norm_b = a_flat.norm(), b_flat.norm()
    if norm_a < 1e-12 or norm_b < 1e-12:
        return lerp(a, b, t)
    unit_a, unit_b = a_flat / norm_a, b_flat / norm_b
    omega = torch.arccos((unit_a @ unit_b).clamp(-1.0, 1.0))
    if omega < 1e-6:
        return lerp(a, b, t)
    t64 = t.double().view(-1, 1)
    direction = (torch.sin((1 - t64) * omega) * unit_a + torch.sin(t64 * omega) * unit_b) / torch.sin(omega)
    norms = norm_a * (1 - t64) + norm_b * t64
    return (direction * norms).to(a.dtype).view(-1, *a.shape)


def interpolate(a: torch.Tensor, b: torch.Tensor, frames: int, mode: str = "slerp") -> torch.Tensor:
    """`frames` points from a to b inclusive: (frames, *a.shape)."""
    if frames < 2:
        raise ValueError("an interpolation needs at least 2 frames")
    if mode not in ("lerp", "slerp"):
        raise ValueError(f"unknown interpolation mode {mode!r}: use 'lerp' or 'slerp'")
    t = torch.linspace(0.0, 1.0, frames)
    return (slerp if mode == "slerp" else lerp)(a, b, t)
