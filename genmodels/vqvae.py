"""A VQ-VAE of 28x28 digits with a GPT prior over its codes (issue 11): images become tokens, a GPT writes tokens.

The autoencoder maps a digit (B, 1, 28, 28) in [-1, 1] to a 7x7 grid of codes, each the index of the nearest of
`codebook_size` vectors; the decoder turns a grid of codes back into a digit (a Bernoulli decoder, as GenLab's VAE, so
its reconstruction nats compare). The codebook is not trained by gradients: each entry moves to the exponential moving
average (decay 0.99) of the encoder outputs assigned to it (van den Oord et al. 2017, appendix; Razavi et al. 2019),
and an entry that is (almost) never chosen is restarted on a random encoder output of the current batch (as in
Jukebox), so no code stays dead. Gradients reach the encoder through the straight-through estimator.

The prior is a small GPT (the character GPT's blocks) over the 49 codes in raster order, preceded by a class token
(0-9, or num_classes for "no class", shown for config.class_dropout of the training digits so it also samples freely).
Sampling keeps each block's keys and values, so a grid costs 49 one-token steps. One module holds the autoencoder and
the prior, so it ships as one checkpoint folder.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .chargpt import Block, CharGPTConfig

GRID = 7  # codes per side: 28x28 digits, downsampled twice
TOKENS = GRID * GRID  # 49 codes per digit


@dataclass
class VQVAEConfig:
    channels: int = 32  # width at 14x14; 2x at 7x7
    codebook_size: int = 128
    code_dim: int = 32
    beta: float = 0.25  # commitment weight: how hard the encoder is pulled toward its chosen code
    ema_decay: float = 0.99  # the codebook's moving average
    dead_code_threshold: float = 1.0  # a code whose moving count of assigned vectors falls below this is restarted
    num_classes: int = 10
    class_dropout: float = 0.1  # the share of the prior's training digits shown as "no class"
    prior_layers: int = 4
    prior_heads: int = 4
    prior_width: int = 128
    prior_dropout: float = 0.1


class Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class CodePrior(nn.Module):
    """(codes (B, T) with T <= 48, labels (B,)) -> logits (B, T + 1, K): position i predicts code i."""

    def __init__(self, config: VQVAEConfig):
        super().__init__()
        if config.prior_width % config.prior_heads:
            raise ValueError("prior_width must be a multiple of prior_heads")
        # the character GPT's transformer blocks, reused: only their width, heads and dropout matter here
        blocks = CharGPTConfig(
            block_size=TOKENS,
            n_layer=config.prior_layers,
            n_head=config.prior_heads,
            n_embd=config.prior_width,
            dropout=config.prior_dropout,
        )
        self.class_embedding = nn.Embedding(config.num_classes + 1, config.prior_width)  # the last row: no class
        self.code_embedding = nn.Embedding(config.codebook_size, config.prior_width)
        self.position_embedding = nn.Embedding(TOKENS, config.prior_width)
        self.blocks = nn.ModuleList(Block(blocks) for _ in range(config.prior_layers))
        self.ln_f = nn.LayerNorm(config.prior_width)
        self.head = nn.Linear(config.prior_width, config.codebook_size, bias=False)
        self.head.weight = self.code_embedding.weight  # tied, as in GPT-2
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)  # early logits near uniform: log K nats per code
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([self.class_embedding(labels)[:, None], self.code_embedding(codes)], dim=1)  # (B, T+1, C)
        x = tokens + self.position_embedding(torch.arange(tokens.shape[1], device=codes.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T + 1, K)

    def step(self, tokens: torch.Tensor, position: int, cache: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """The logits (B, K) after one more token (B, C) (already embedded) at `position`, given the keys and values
        of the earlier positions in `cache` (one (k, v) per block, extended in place): forward()'s last row without
        recomputing the others, so sampling costs one token per code."""
        x = (tokens + self.position_embedding.weight[position])[:, None]  # (B, 1, C)
        batch, _, channels = x.shape
        for index, block in enumerate(self.blocks):
            attention = block.attention
            q, k, v = attention.qkv(block.ln1(x)).split(channels, dim=2)  # each (B, 1, C)
            q, k, v = (t.view(batch, 1, attention.n_head, -1).transpose(1, 2) for t in (q, k, v))  # (B, nh, 1, hs)
            if index < len(cache):
                k, v = torch.cat([cache[index][0], k], dim=2), torch.cat([cache[index][1], v], dim=2)
                cache[index] = (k, v)
            else:
                cache.append((k, v))
            y = F.scaled_dot_product_attention(q, k, v)  # (B, nh, 1, hs): the last position sees every earlier one
            x = x + attention.proj(y.transpose(1, 2).reshape(batch, 1, channels))
            x = x + block.mlp(block.ln2(x))
        return self.head(self.ln_f(x))[:, 0]  # (B, K)


class VQVAE(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["vq-vae", "mnist", "genlab"],
    license="cc-by-sa-3.0",
):
    """encode: x (B, 1, 28, 28) in [-1, 1] -> codes (B, 7, 7); decode: codes -> (B, 1, 28, 28) in [-1, 1];
    prior: a class-conditional GPT over the 49 codes."""

    def __init__(self, config: VQVAEConfig):
        super().__init__()
        if config.codebook_size < 2 or config.code_dim < 1:
            raise ValueError("the codebook needs at least 2 entries of at least 1 dimension")
        self.config = config
        c, k, d = config.channels, config.codebook_size, config.code_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1),  # (B, 1, 28, 28) -> (B, c, 14, 14)
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, 2, 1),  # -> (B, 2c, 7, 7)
            Residual(2 * c),
            nn.ReLU(),
            nn.Conv2d(2 * c, d, 1),  # -> (B, D, 7, 7): one vector to quantize per grid cell
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(d, 2 * c, 3, padding=1),  # (B, D, 7, 7) -> (B, 2c, 7, 7)
            Residual(2 * c),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),  # -> (B, c, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1),  # -> (B, 1, 28, 28) logits
        )
        # the codebook and its moving averages are buffers: updated by EMA, not by the optimizer
        codebook = torch.randn(k, d)
        self.register_buffer("codebook", codebook)  # (K, D)
        self.register_buffer("ema_count", torch.ones(k))  # (K,) vectors assigned to each code, averaged
        self.register_buffer("ema_sum", codebook.clone())  # (K, D) their sum, averaged
        self.prior = CodePrior(config)

    @property
    def null_class(self) -> int:
        return self.config.num_classes

    def check_images(self, x: torch.Tensor) -> None:
        """A ValueError with a readable message unless x is a float tensor (B, 1, 28, 28)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28) or not len(x):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"images must be a (B, 1, 28, 28) tensor with B >= 1, not {shape}")
        if not x.is_floating_point():
            raise ValueError("images must be floats in [-1, 1]")

    def check_codes(self, codes: torch.Tensor) -> None:
        """A ValueError with a readable message unless codes is an integer tensor (B, 7, 7) in [0, codebook_size)."""
        if (
            not isinstance(codes, torch.Tensor)
            or codes.dim() != 3
            or tuple(codes.shape[1:]) != (GRID, GRID)
            or not len(codes)
        ):
            shape = tuple(codes.shape) if isinstance(codes, torch.Tensor) else type(codes).__name__
            raise ValueError(f"codes must be a (B, 7, 7) tensor with B >= 1, not {shape}")
        if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
            raise ValueError("codes must be integers")
        low, high, size = int(codes.min()), int(codes.max()), self.config.codebook_size
        if low < 0 or high >= size:
            raise ValueError(f"codes must be in [0, {size}), not {low} to {high}")

    def check_labels(self, labels: torch.Tensor, count: int | None = None) -> None:
        """A ValueError with a readable message unless labels is an integer tensor (count,) in [0, null_class]."""
        if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or not len(labels):
            raise ValueError("labels must be a (B,) tensor of digits with B >= 1")
        if count is not None and len(labels) != count:
            raise ValueError(f"{len(labels)} labels for {count} digits")
        if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
            raise ValueError("labels must be integers")
        if int(labels.min()) < 0 or int(labels.max()) > self.null_class:
            raise ValueError(f"labels must be digits 0 to {self.null_class - 1}, or {self.null_class} for no class")

    def quantize(self, z: torch.Tensor) -> torch.Tensor:
        """Encoder outputs z (B, D, 7, 7) -> the index of the nearest codebook entry per cell, codes (B, 7, 7)."""
        flat = z.permute(0, 2, 3, 1).reshape(-1, self.config.code_dim)  # (B*49, D)
        distances = (
            flat.square().sum(1, keepdim=True) - 2 * flat @ self.codebook.T + self.codebook.square().sum(1)
        )  # (B*49, K)
        return distances.argmin(dim=1).view(len(z), GRID, GRID)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, 7, 7) -> their codebook vectors (B, D, 7, 7)."""
        return self.codebook[codes.to(self.codebook.device)].permute(0, 3, 1, 2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Digits (B, 1, 28, 28) in [-1, 1] -> codes (B, 7, 7), int64 in [0, codebook_size)."""
        self.check_images(x)
        return self.quantize(self.encoder(x))

    def decode_logits(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, 7, 7) -> Bernoulli logits of each pixel being ink (B, 1, 28, 28)."""
        self.check_codes(codes)
        return self.decoder(self.lookup(codes.long()))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, 7, 7) -> digits (B, 1, 28, 28) in [-1, 1] (the ink probability, rescaled)."""
        return torch.tanh(0.5 * self.decode_logits(codes))  # = 2 sigmoid(logits) - 1

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Reconstructions (B, 1, 28, 28) in [-1, 1] and the training losses, batch means.

        reconstruction: Bernoulli negative log-likelihood in nats per image; commitment: mean squared distance from
        the encoder outputs to their codes; loss: reconstruction per pixel + beta * commitment (what is minimised);
        perplexity: exp of the entropy of this batch's code usage. In training mode this also moves the codebook
        (EMA, and restarts of dead codes on encoder outputs picked with `generator`); in eval mode nothing changes.
        """
        self.check_images(x)
        z = self.encoder(x)  # (B, D, 7, 7)
        codes = self.quantize(z)  # (B, 7, 7)
        quantized = self.lookup(codes)  # (B, D, 7, 7)
        commitment = F.mse_loss(z, quantized.detach())
        # straight-through: the decoder sees the code vectors, the encoder gets the decoder's gradient unchanged
        logits = self.decoder(z + (quantized - z).detach())  # (B, 1, 28, 28)
        reconstruction = F.binary_cross_entropy_with_logits(logits, (x + 1) / 2, reduction="none").flatten(1).sum(1)
        if self.training:
            self._update_codebook(z.detach().permute(0, 2, 3, 1).reshape(-1, self.config.code_dim), codes, generator)
        losses = {
            "reconstruction": reconstruction.mean(),
            "commitment": commitment,
            "loss": reconstruction.mean() / x[0].numel() + self.config.beta * commitment,
            "perplexity": torch.tensor(self.perplexity(codes)),
        }
        return torch.tanh(0.5 * logits), losses

    @torch.no_grad()
    def _update_codebook(self, flat: torch.Tensor, codes: torch.Tensor, generator: torch.Generator | None) -> None:
        """Move each code to the moving average of the encoder outputs flat (N, D) assigned to it, then restart
        every code whose moving count fell below dead_code_threshold on a random encoder output of this batch."""
        k, decay = self.config.codebook_size, self.config.ema_decay
        indices = codes.flatten()  # (N,)
        counts = torch.bincount(indices, minlength=k).to(flat.dtype)  # (K,)
        sums = torch.zeros_like(self.ema_sum).index_add_(0, indices, flat)  # (K, D)
        self.ema_count.mul_(decay).add_(counts, alpha=1 - decay)
        self.ema_sum.mul_(decay).add_(sums, alpha=1 - decay)
        # Laplace smoothing: a code whose count approaches 0 must not divide by ~0
        total = self.ema_count.sum()
        smoothed = (self.ema_count + 1e-5) / (total + k * 1e-5) * total
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        dead = (self.ema_count < self.config.dead_code_threshold).nonzero().flatten()
        if len(dead):
            chosen = flat[torch.randint(len(flat), (len(dead),), generator=generator).to(flat.device)]  # (dead, D)
            self.codebook[dead] = chosen
            self.ema_sum[dead] = chosen
            self.ema_count[dead] = 1.0

    def codebook_usage(self, codes: torch.Tensor) -> torch.Tensor:
        """How often each code appears in codes (any shape): counts (K,), int64."""
        return torch.bincount(codes.flatten().long().cpu(), minlength=self.config.codebook_size)

    def perplexity(self, codes: torch.Tensor) -> float:
        """exp(entropy of the code usage in codes): K when every code is used equally, 1 when only one is used."""
        usage = self.codebook_usage(codes).double()
        p = usage[usage > 0] / usage.sum()
        return math.exp(float(-(p * p.log()).sum()))

    def prior_logits(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """codes (B, 7, 7) and labels (B,) -> logits (B, 49, K): position i predicts code i (raster order) from the
        class and codes 0..i-1. Cross-entropy against codes.flatten(1) is the prior's training loss."""
        self.check_codes(codes)
        self.check_labels(labels, len(codes))
        device = self.codebook.device
        return self.prior(codes.flatten(1)[:, :-1].long().to(device), labels.long().to(device))

    def prior_nll(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """-log p(codes | label) under the prior, in nats per code: (B,)."""
        logits = self.prior_logits(codes, labels)  # (B, 49, K)
        nll = F.cross_entropy(logits.transpose(1, 2), codes.flatten(1).long().to(logits.device), reduction="none")
        return nll.mean(dim=1)

    @torch.no_grad()  # not inference_mode: the codes may go on into computations that need gradients
    def sample_codes(
        self,
        labels: torch.Tensor,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Sample code grids (B, 7, 7) one code at a time for labels (B,) (digits, or null_class for any digit).

        The logits are divided by temperature and, with top_k, cut to the k likeliest codes. Every draw is made on
        the CPU from `generator` (a CPU torch.Generator): same seed, same codes.
        """
        self.check_labels(labels)
        if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature <= 0:
            raise ValueError(f"temperature must be a finite number above 0, not {temperature}")
        k = self.config.codebook_size
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= k):
            raise ValueError(f"top_k must be a whole number from 1 to {k}, or None for every code")
        device = self.codebook.device
        labels = labels.long().to(device)
        codes = []  # one (B, 1) per position, drawn on the CPU
        cache: list[tuple[torch.Tensor, torch.Tensor]] = []
        tokens = self.prior.class_embedding(labels)  # (B, C)
        for position in range(TOKENS):
            logits = self.prior.step(tokens, position, cache).float().cpu() / temperature  # (B, K)
            if top_k is not None and top_k < k:
                kth = logits.topk(top_k, dim=1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, -math.inf)
            codes.append(torch.multinomial(logits.softmax(dim=1), 1, generator=generator))  # (B, 1)
            tokens = self.prior.code_embedding(codes[-1][:, 0].to(device))
        return torch.cat(codes, dim=1).view(-1, GRID, GRID).to(device)


@torch.no_grad()
def reconstruction_metrics(model: VQVAE, images: torch.Tensor, batch_size: int = 500) -> dict:
    """How well digits (N, 1, 28, 28) in [-1, 1] survive the trip through their codes, and how the codes are spread.

    reconstruction_mse: mean squared error per pixel in [0, 1] units; reconstruction_nats: the Bernoulli negative
    log-likelihood per image (as the VAE's reconstruction term); codes_used, dead_codes (of codebook_size) and
    perplexity: the codebook usage over these digits.
    """
    squared_error = nats = 0.0
    all_codes = []
    for batch in images.split(batch_size):
        codes = model.encode(batch.to(model.codebook.device))  # (b, 7, 7)
        logits = model.decode_logits(codes).float().cpu()  # (b, 1, 28, 28)
        squared_error += float(((torch.tanh(0.5 * logits) - batch) / 2).square().sum())
        nats += float(F.binary_cross_entropy_with_logits(logits, (batch + 1) / 2, reduction="sum"))
        all_codes.append(codes.cpu())
    codes = torch.cat(all_codes)
    used = int((model.codebook_usage(codes) > 0).sum())
    return {
        "reconstruction_mse": round(squared_error / images.numel(), 5),
        "reconstruction_nats": round(nats / len(images), 2),
        "codes_used": used,
        "dead_codes": model.config.codebook_size - used,
        "perplexity": round(model.perplexity(codes), 2),
    }
