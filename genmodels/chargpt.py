"""A tiny character-level GPT (nanoGPT-style): pre-norm transformer blocks, causal attention, tied embeddings."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


@dataclass
class CharGPTConfig:
    vocab: str = ""  # the characters; a character's index is its token id
    block_size: int = 128  # context length in characters
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)


class SelfAttention(nn.Module):
    """Multi-head self-attention; causal (each position sees only its left) unless causal=False (sees both sides)."""

    def __init__(self, config: CharGPTConfig, causal: bool = True, distance_bias: bool = False):
        super().__init__()
        self.n_head = config.n_head
        self.causal = causal
        # ALiBi-style: head h subtracts slope_h * |i - j| from its attention scores, so from the first step each head
        # looks mostly at nearby characters (head 0 at the nearest; the last almost everywhere)
        slopes = torch.tensor([2.0 ** -(h + 1) for h in range(config.n_head)]) if distance_bias else None
        self.register_buffer("slopes", slopes, persistent=False)
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, time, channels = x.shape
        q, k, v = self.qkv(x).split(channels, dim=2)  # each (B, T, C)
        q, k, v = (t.view(batch, time, self.n_head, -1).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        dropout = self.dropout if self.training else 0.0
        bias = None
        if self.slopes is not None:
            positions = torch.arange(time, device=x.device)
            distance = (positions[None, :] - positions[:, None]).abs().to(q.dtype)  # (T, T)
            bias = -self.slopes.to(q.dtype)[:, None, None] * distance  # (nh, T, T)
            if self.causal:
                bias = bias.masked_fill(positions[None, :] > positions[:, None], float("-inf"))
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, is_causal=self.causal and bias is None, dropout_p=dropout
        )  # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).reshape(batch, time, channels))


class Block(nn.Module):
    def __init__(self, config: CharGPTConfig, causal: bool = True, distance_bias: bool = False):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attention = SelfAttention(config, causal, distance_bias)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharGPT(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["text-generation", "character-level", "genlab"],
    license="mit",
):
    """ids (B, T) with T <= block_size -> logits (B, T, vocab_size), and the mean cross-entropy if targets are given."""

    def __init__(self, config: CharGPTConfig):
        super().__init__()
        if config.vocab_size < 2 or len(set(config.vocab)) != config.vocab_size:
            raise ValueError("the vocabulary needs at least two distinct characters")
        if config.n_embd % config.n_head:
            raise ValueError("n_embd must be a multiple of n_head")
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.token_embedding.weight  # tied, as in GPT-2
        self._index = {character: i for i, character in enumerate(config.vocab)}
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)  # GPT-2's init keeps early logits near uniform
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def encode(self, text: str) -> list[int]:
        """Characters -> ids; characters outside the vocabulary are a ValueError naming them."""
        unknown = sorted({c for c in text if c not in self._index})
        if unknown:
            shown = "".join(unknown[:10])
            raise ValueError(f"these characters are not in the model's vocabulary: {shown!r}")
        return [self._index[c] for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.config.vocab[i] for i in ids)

    def forward(self, ids: torch.Tensor, targets: torch.Tensor | None = None):
        time = ids.shape[1]
        if time > self.config.block_size:
            raise ValueError(f"at most {self.config.block_size} characters of context")
        positions = torch.arange(time, device=ids.device)
        x = self.token_embedding(ids) + self.position_embedding(positions)  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
