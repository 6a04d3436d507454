"""Next-token sampling shared by every language model: temperature, top-k, top-p, repetition penalty."""

import math
from dataclasses import dataclass

import torch

MAX_TEMPERATURE = 2.0


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0  # 0 = greedy
    top_k: int = 0  # 0 = off
    top_p: float = 1.0  # 1 = off
    repetition_penalty: float = 1.0  # 1 = off

    def __post_init__(self):
        if not (math.isfinite(self.temperature) and 0.0 <= self.temperature <= MAX_TEMPERATURE):
            raise ValueError(f"temperature must be between 0 and {MAX_TEMPERATURE:g}")
        if not (isinstance(self.top_k, int) and self.top_k >= 0):
            raise ValueError("top-k must be a whole number, 0 to turn it off")
        if not (math.isfinite(self.top_p) and 0.0 < self.top_p <= 1.0):
            raise ValueError("top-p must be above 0 and at most 1")
        if not (math.isfinite(self.repetition_penalty) and 1.0 <= self.repetition_penalty <= 3.0):
            raise ValueError("repetition penalty must be between 1 and 3")


def penalize_repetition(logits: torch.Tensor, previous_ids: list[int], penalty: float) -> torch.Tensor:
    """CTRL's penalty: logits of tokens already seen are divided by penalty if positive, multiplied if negative."""
    if penalty == 1.0 or not previous_ids:
        return logits
    logits = logits.clone()
    seen = torch.tensor(sorted(set(previous_ids)), dtype=torch.long)
    values = logits[seen]
    logits[seen] = torch.where(values > 0, values / penalty, values * penalty)
    return logits


def next_token_distribution(
    logits: torch.Tensor, settings: SamplingSettings, previous_ids: list[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(before, after): the model's own distribution and the one sampled from, both (V,) float64 summing to 1."""
    logits = logits.double()
    before = torch.softmax(logits, dim=-1)
    logits = penalize_repetition(logits, previous_ids or [], settings.repetition_penalty)
    if settings.temperature == 0.0:
        after = torch.zeros_like(before)
        after[int(torch.argmax(logits))] = 1.0
        return before, after
    scaled = logits / settings.temperature
    if not settings.top_k and settings.top_p >= 1.0:
        return before, torch.softmax(scaled, dim=-1)
    # Only the candidates that can survive matter: the top k if set, else all of them in order.
    if settings.top_k and settings.top_k < scaled.numel():
        values, indices = torch.topk(scaled, settings.top_k)
    else:
        values, indices = torch.sort(scaled, descending=True)
    probabilities = torch.softmax(values, dim=-1)
    if settings.top_p < 1.0:
        # Keep the smallest prefix whose mass reaches top_p (the most likely token always stays).
        keep = (torch.cumsum(probabilities, dim=-1) - probabilities) < settings.top_p
        probabilities = probabilities * keep
        probabilities = probabilities / probabilities.sum()
    after = torch.zeros_like(before).scatter(0, indices, probabilities)
    return before, after


def choose(after: torch.Tensor, generator: torch.Generator) -> int:
    """Draw a token id from a distribution (V,) with the request's own generator (inverse CDF over its support)."""
    support = torch.nonzero(after, as_tuple=True)[0]
    cumulative = torch.cumsum(after[support], dim=0)
    u = torch.rand(1, generator=generator, dtype=cumulative.dtype) * cumulative[-1]
    position = int(torch.searchsorted(cumulative, u).clamp(max=len(support) - 1))
    return int(support[position])
