"""A tiny character-level masked language model (BERT-style): the char-GPT's blocks without the causal mask.

Every position sees the whole window, left and right. Training hides about 15% of the characters, in short spans,
and the model learns to fill them back in: it never generates left to right, it fills blanks.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .chargpt import Block

MASK = "_"  # one blank character in GenLab's text boxes ("[MASK]" is accepted too); not in Tiny Shakespeare
MASK_WORD = "[MASK]"
MAX_SPAN = 10  # longest span masked while training


@dataclass
class MaskedCharLMConfig:
    vocab: str = ""  # the characters; a character's index is its token id, and len(vocab) is the mask token
    block_size: int = 128
    n_layer: int = 6
    n_head: int = 5
    n_embd: int = 160
    dropout: float = 0.0
    mask_rate: float = 0.15  # share of characters hidden while training
    mean_span: float = 2.5  # mean length of a hidden span (geometric, capped at MAX_SPAN); 1 is BERT's single tokens
    distance_bias: bool = True  # attention scores fall with distance (see chargpt.SelfAttention)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)


class MaskedCharLM(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["fill-mask", "character-level", "genlab"],
    license="mit",
):
    """ids (B, T) with mask_id at the blanks -> logits (B, T, vocab_size) over real characters, and the mean
    cross-entropy over the positions where targets >= 0 when targets are given."""

    def __init__(self, config: MaskedCharLMConfig):
        super().__init__()
        if config.vocab_size < 2 or len(set(config.vocab)) != config.vocab_size:
            raise ValueError("the vocabulary needs at least two distinct characters")
        if MASK in config.vocab:
            raise ValueError(f"the mask character {MASK!r} cannot be in the vocabulary")
        if config.n_embd % config.n_head:
            raise ValueError("n_embd must be a multiple of n_head")
        self.config = config
        self.mask_id = config.vocab_size
        self.token_embedding = nn.Embedding(config.vocab_size + 1, config.n_embd)  # the last row is [MASK]
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        bias = config.distance_bias
        self.blocks = nn.ModuleList(Block(config, causal=False, distance_bias=bias) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self._index = {character: i for i, character in enumerate(config.vocab)}
        self.apply(self._init_weights)
        with torch.no_grad():
            self.position_embedding.weight.copy_(sinusoids(config.block_size, config.n_embd))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def encode(self, text: str) -> list[int]:
        """Characters -> ids, each MASK character -> mask_id; other characters outside the vocabulary are a
        ValueError naming them."""
        unknown = sorted({c for c in text if c not in self._index and c != MASK})
        if unknown:
            shown = "".join(unknown[:10])
            raise ValueError(f"these characters are not in the model's vocabulary: {shown!r}")
        return [self.mask_id if c == MASK else self._index[c] for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(MASK if i == self.mask_id else self.config.vocab[i] for i in ids)

    def forward(self, ids: torch.Tensor, targets: torch.Tensor | None = None):
        time = ids.shape[1]
        if time > self.config.block_size:
            raise ValueError(f"at most {self.config.block_size} characters of context")
        positions = torch.arange(time, device=ids.device)
        x = self.token_embedding(ids) + self.position_embedding(positions)
        for block in self.blocks:
            x = block(x)
        # the output layer is the input embedding of the real characters (tied, as in BERT), plus a bias
        logits = F.linear(self.ln_f(x), self.token_embedding.weight[: self.config.vocab_size], self.head_bias)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)


def sinusoids(length: int, width: int, amplitude: float = 0.03) -> torch.Tensor:
    """The Transformer's sinusoidal positions (length, width), small like the token embeddings, as the starting
    point of the learned position embedding. Without a causal mask nothing else tells positions apart, and random
    starting positions leave a masked model guessing character frequencies for hundreds of steps: the dot product
    of two sinusoid rows depends on their distance, so attending to a neighbour can be learned at once."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10_000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return amplitude * table


def span_mask(shape: tuple[int, int], rate: float, mean_span: float, generator: torch.Generator) -> torch.Tensor:
    """A boolean (B, T) mask hiding about `rate` of the positions in spans of geometric length (mean `mean_span`,
    at most MAX_SPAN); mean_span 1 hides single positions, as BERT does. At least one position per row."""
    rows, time = shape
    mean_span = min(max(mean_span, 1.0), MAX_SPAN)
    starts = torch.rand(shape, generator=generator) < rate / mean_span
    if mean_span == 1:
        lengths = torch.ones(shape, dtype=torch.long)
    else:
        stop = 1 / mean_span  # P(the span ends after each character): mean length 1 / stop
        uniform = torch.rand(shape, generator=generator).clamp_min(1e-12)
        lengths = 1 + torch.floor(torch.log(uniform) / math.log(1 - stop)).long()
    lengths = lengths.clamp(max=MAX_SPAN)
    mask = torch.zeros(shape, dtype=torch.bool)
    for offset in range(min(MAX_SPAN, time)):
        covered = starts & (lengths > offset)
        mask[:, offset:] |= covered[:, : time - offset]
    empty = ~mask.any(dim=1)
    if empty.any():
        picks = torch.randint(time, (rows,), generator=generator)
        mask[empty, picks[empty]] = True
    return mask


def mask_inputs(
    ids: torch.Tensor, mask: torch.Tensor, mask_id: int, vocab_size: int, generator: torch.Generator, corrupt: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets): targets hold the hidden characters and -1 elsewhere. With `corrupt` (training, as in
    BERT) a tenth of the hidden positions show a random character and a tenth their own; otherwise all show mask_id."""
    targets = torch.where(mask, ids, torch.full_like(ids, -1))
    inputs = ids.clone()
    if corrupt:
        roll = torch.rand(ids.shape, generator=generator)
        random_chars = torch.randint(vocab_size, ids.shape, generator=generator)
        inputs = torch.where(mask & (roll < 0.8), torch.full_like(ids, mask_id), inputs)
        inputs = torch.where(mask & (roll >= 0.8) & (roll < 0.9), random_chars, inputs)
    else:
        inputs = torch.where(mask, torch.full_like(ids, mask_id), inputs)
    return inputs, targets


@torch.no_grad()
def evaluate_masked(
    model: MaskedCharLM, ids: torch.Tensor, mean_span: float, rate: float = 0.15, max_windows: int = 200, seed: int = 0
) -> dict[str, float]:
    """Mean cross-entropy (nats per hidden character) and top-1 accuracy on the hidden characters of evenly spaced
    windows of `ids`, with a fixed seed so every model is scored on the same blanks."""
    was_training = model.training
    model.eval()
    block = model.config.block_size
    count = min(max_windows, len(ids) // block)
    if count < 1:
        raise ValueError("the validation text is shorter than one context window")
    starts = torch.linspace(0, len(ids) - block, count).long()
    windows = torch.stack([ids[s : s + block] for s in starts.tolist()])
    generator = torch.Generator().manual_seed(seed)
    mask = span_mask(tuple(windows.shape), rate, mean_span, generator)
    inputs, targets = mask_inputs(windows, mask, model.mask_id, model.config.vocab_size, generator, corrupt=False)
    total, correct, hidden = 0.0, 0, 0
    for batch_inputs, batch_targets in zip(inputs.split(50), targets.split(50), strict=True):
        logits, loss = model(batch_inputs, batch_targets)
        shown = batch_targets >= 0
        n = int(shown.sum())
        total += loss.item() * n
        correct += int((logits.argmax(-1)[shown] == batch_targets[shown]).sum())
        hidden += n
    model.train(was_training)
    return {"loss": total / hidden, "accuracy": correct / hidden, "hidden": hidden}


@torch.no_grad()
def both_sides_against_left(
    model: MaskedCharLM, gpt, ids: torch.Tensor, rate: float = 0.15, max_windows: int = 200, seed: int = 0
) -> dict[str, float]:
    """Top-1 accuracy on the same single hidden characters (BERT's scheme, position 0 of a window excluded): the
    masked model seeing both sides of each blank, against a left-to-right model (a CharGPT with the same vocabulary)
    predicting it from the true characters on its left only."""
    model.eval()
    gpt.eval()
    if gpt.config.vocab != model.config.vocab:
        raise ValueError("the two models need the same vocabulary")
    block = min(model.config.block_size, gpt.config.block_size)
    count = min(max_windows, len(ids) // block)
    starts = torch.linspace(0, len(ids) - block, count).long()
    windows = torch.stack([ids[s : s + block] for s in starts.tolist()])
    mask = span_mask(tuple(windows.shape), rate, 1.0, torch.Generator().manual_seed(seed))
    mask[:, 0] = False
    inputs, _ = mask_inputs(windows, mask, model.mask_id, model.config.vocab_size, None, corrupt=False)
    both = model(inputs)[0].argmax(-1)
    left = torch.cat([torch.zeros_like(windows[:, :1]), gpt(windows[:, :-1])[0].argmax(-1)], dim=1)
    hidden = int(mask.sum())
    return {
        "both_sides_accuracy": int((both[mask] == windows[mask]).sum()) / hidden,
        "left_only_accuracy": int((left[mask] == windows[mask]).sum()) / hidden,
        "hidden": hidden,
    }
