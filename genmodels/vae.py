"""A convolutional VAE for 28x28 digits, with a Bernoulli decoder and a β-weighted KL term."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


@dataclass
class VAEConfig:
    latent_dim: int = 16
    channels: int = 32
    hidden: int = 128
    beta: float = 1.0  # the KL weight it was trained with (1 = the true ELBO)
    blocks: int = 0  # residual 3x3 blocks after each encoder stage and before each decoder stage (0: the plain VAE)
    dropout: float = 0.0  # while training, dropout after the decoder's two fully connected layers (0: none)


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(relu(x)))), two 3x3 convolutions that keep the shape (B, C, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.first = nn.Conv2d(channels, channels, 3, 1, 1)
        self.second = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(F.relu(self.first(F.relu(x))))


class VAE(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["vae", "mnist", "genlab"],
    license="cc-by-sa-3.0",
):
    """encode: x (B, 1, 28, 28) in [0, 1] -> mu, logvar (B, latent_dim); decode: z -> (B, 1, 28, 28) in [0, 1]."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c, hidden = config.channels, config.hidden
        blocks = config.blocks  # with 0 the layers (and the saved weights' names) are the plain VAE's
        # with dropout 0 there are no dropout layers, so the saved weights' names stay those of earlier models
        dropout = [nn.Dropout(config.dropout)] if config.dropout else []
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1),  # (B, 1, 28, 28) -> (B, c, 14, 14)
            nn.ReLU(),
            *[ResidualBlock(c) for _ in range(blocks)],
            nn.Conv2d(c, 2 * c, 4, 2, 1),  # -> (B, 2c, 7, 7)
            nn.ReLU(),
            *[ResidualBlock(2 * c) for _ in range(blocks)],
            nn.Flatten(),  # -> (B, 2c*49)
            nn.Linear(2 * c * 49, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * config.latent_dim),  # -> (B, 2*latent_dim): mu and logvar
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, hidden),
            nn.ReLU(),
            *dropout,
            nn.Linear(hidden, 2 * c * 49),
            nn.ReLU(),
            *dropout,
            nn.Unflatten(1, (2 * c, 7, 7)),  # -> (B, 2c, 7, 7)
            *[ResidualBlock(2 * c) for _ in range(blocks)],
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),  # -> (B, c, 14, 14)
            nn.ReLU(),
            *[ResidualBlock(c) for _ in range(blocks)],
            nn.ConvTranspose2d(c, 1, 4, 2, 1),  # -> (B, 1, 28, 28) logits
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction logits for z = mu + sigma * eps, with mu and logvar. eps: (B, latent_dim) noise.

        Training goes through forward() so that wrappers such as DistributedDataParallel see the whole step.
        """
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode_logits(z), mu, logvar


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I) drawn from `generator` (on the CPU, so seeds agree across devices)."""
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per image, in nats: (B,)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(dim=1)


def vae_losses(
    vae, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None
) -> dict[str, torch.Tensor]:
    """Per-batch means, in nats per image: reconstruction (Bernoulli NLL), KL, the β-loss and the negative ELBO.

    `vae` may be a VAE or a wrapper around one (its forward is called); the noise comes from `generator`.
    """
    latent_dim = getattr(vae, "module", vae).config.latent_dim
    eps = torch.randn(x.shape[0], latent_dim, generator=generator).to(x.device)
    logits, mu, logvar = vae(x, eps)
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = kl_divergence(mu, logvar)
    return {
        "reconstruction": reconstruction.mean(),
        "kl": kl.mean(),
        "loss": (reconstruction + beta * kl).mean(),
        "negative_elbo": (reconstruction + kl).mean(),
    }


def random_shift(images: torch.Tensor, max_pixels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Move each image (B, C, H, W) by its own whole-pixel offset in [-max_pixels, max_pixels] along each axis.

    Uncovered pixels become 0 (background), so values stay in the input's range. Offsets come from `generator`.
    """
    if max_pixels <= 0:
        return images
    batch, _, height, width = images.shape
    offsets = torch.randint(-max_pixels, max_pixels + 1, (2, batch), generator=generator).to(images.device)
    padded = F.pad(images, (max_pixels,) * 4)  # (B, C, H + 2m, W + 2m)
    rows = torch.arange(height, device=images.device) + max_pixels - offsets[0, :, None]  # (B, H)
    columns = torch.arange(width, device=images.device) + max_pixels - offsets[1, :, None]  # (B, W)
    batch_index = torch.arange(batch, device=images.device)[:, None, None]
    # channels last, so one advanced index picks every (image, row, column) with all its channels: (B, H, W, C)
    shifted = padded.permute(0, 2, 3, 1)[batch_index, rows[:, :, None], columns[:, None, :]]
    return shifted.permute(0, 3, 1, 2).contiguous()  # -> (B, C, H, W)
