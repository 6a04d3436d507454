"""VQ-VAE pipeline for the VAE tab (issue 11): digits to code grids and back, editing one code, the codebook's use,
and new digits from the prior over codes. Read-only on the model; arguments are checked (the API bypasses every
slider), and all randomness comes from a CPU generator seeded by the request."""

from __future__ import annotations

import math
import re

import torch

from .sampling import MAX_SEED
from .vqvae import GRID, VQVAE

MAX_SAMPLES = 64


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@torch.inference_mode()
def encode_digit(model: VQVAE, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One digit (1, 28, 28) or (1, 1, 28, 28) in [-1, 1] -> its code grid (7, 7) and reconstruction (1, 28, 28)."""
    image = image.reshape(1, 1, 28, 28).float().clamp(-1, 1)
    codes = model.encode(image.to(model.codebook.device)).cpu()
    return codes[0], model.decode(codes).float().cpu()[0]


@torch.inference_mode()
def decode_codes(model: VQVAE, codes: torch.Tensor) -> torch.Tensor:
    """A code grid (7, 7) -> the digit it decodes to (1, 28, 28) in [-1, 1]."""
    return model.decode(codes.reshape(1, GRID, GRID).long()).float().cpu()[0]


def format_codes(codes: torch.Tensor) -> str:
    """A code grid (7, 7) as text: 7 lines of 7 numbers, right-aligned (what the page shows and takes back)."""
    width = max(len(str(int(codes.max()))), 2)
    return "\n".join(" ".join(f"{int(code):>{width}}" for code in row) for row in codes.reshape(GRID, GRID))


def parse_codes(text: str, codebook_size: int) -> torch.Tensor:
    """Text with 49 whole numbers (any spacing, commas or brackets) -> a code grid (7, 7), or a clear ValueError."""
    _check(isinstance(text, str), "the code grid must be text: 7 rows of 7 numbers")
    tokens = re.findall(r"-?\d+(?:\.\d+)?|[^\s,\[\]()]+", text[:2000])
    _check(
        all(re.fullmatch(r"-?\d+", token) for token in tokens),
        "the code grid may hold only whole numbers (7 rows of 7)",
    )
    _check(len(tokens) == GRID * GRID, f"the code grid needs 7 rows of 7 numbers (49), not {len(tokens)}")
    codes = torch.tensor([int(token) for token in tokens]).view(GRID, GRID)
    _check(
        int(codes.min()) >= 0 and int(codes.max()) < codebook_size,
        f"codes must be 0 to {codebook_size - 1} (this codebook has {codebook_size} entries)",
    )
    return codes


def replace_code(codes: torch.Tensor, row: int, column: int, code: int, codebook_size: int) -> torch.Tensor:
    """A copy of the grid with the cell (row, column) set to `code`."""
    _check(isinstance(row, int) and 0 <= row < GRID, "the row must be 0 to 6")
    _check(isinstance(column, int) and 0 <= column < GRID, "the column must be 0 to 6")
    _check(isinstance(code, int) and 0 <= code < codebook_size, f"the code must be 0 to {codebook_size - 1}")
    changed = codes.clone()
    changed[row, column] = code
    return changed


@torch.inference_mode()
def codebook_usage(model: VQVAE, images: torch.Tensor) -> torch.Tensor:
    """How often each code is used over digits (N, 1, 28, 28) in [-1, 1]: counts (K,). Zero: a dead code."""
    codes = torch.cat([model.encode(batch.to(model.codebook.device)).cpu() for batch in images.split(500)])
    return model.codebook_usage(codes)


def sample_labels(model: VQVAE, digit: int | None, count: int) -> torch.Tensor:
    """The digit for each sample: 0-9 in turn (None), one digit, or model.null_class (any digit)."""
    _check(isinstance(count, int) and 1 <= count <= MAX_SAMPLES, f"samples must be 1 to {MAX_SAMPLES}")
    if digit is None:
        return torch.arange(count) % model.config.num_classes
    _check(isinstance(digit, int) and 0 <= digit <= model.null_class, "digit must be 0 to 9")
    return torch.full((count,), digit, dtype=torch.long)


@torch.inference_mode()
def sample_digits(
    model: VQVAE, seed: int, count: int, digit: int | None = None, temperature: float = 1.0, top_k: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """New digits from the prior over code grids: (images (N, 1, 28, 28) in [-1, 1], codes (N, 7, 7), the prior's
    negative log-likelihood of each grid in nats per code). top_k 0 keeps every code."""
    _check(isinstance(seed, int) and 0 <= seed <= MAX_SEED, f"seed must be a whole number from 0 to {MAX_SEED}")
    size = model.config.codebook_size
    _check(isinstance(top_k, int) and 0 <= top_k <= size, f"top-k must be 0 (every code) to {size}")
    _check(
        isinstance(temperature, (int, float)) and math.isfinite(temperature) and 0.05 <= temperature <= 5,
        "temperature must be between 0.05 and 5",
    )
    labels = sample_labels(model, digit, count)
    generator = torch.Generator("cpu").manual_seed(seed)
    codes = model.sample_codes(labels, float(temperature), top_k or None, generator).cpu()
    images = model.decode(codes).float().cpu()
    nll = model.prior_nll(codes, labels).float().cpu()
    return images, codes, nll
