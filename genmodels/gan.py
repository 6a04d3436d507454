"""A small DCGAN for 28x28 digits: spectral-norm discriminator, optional class conditioning."""

from dataclasses import dataclass

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass
class GANConfig:
    z_dim: int = 64
    g_channels: int = 32
    d_channels: int = 64
    num_classes: int = 0  # 0 = unconditional
    class_embed_dim: int = 16
    # > 0: an InfoGAN categorical code with this many values, read from the latent itself (the argmax of its first
    # `info_codes` entries, uniform for Gaussian z), which the discriminator's Q head must recover. No labels used.
    info_codes: int = 0
    # where the category is taught: "q" (InfoGAN: a head Q on the discriminator must read it back from the image) or
    # "clusters" (a self-conditioned GAN: the discriminator is told each real digit's cluster, balanced k-means on a
    # VAE's codes, and scores images against their category by projection; still no labels used)
    code_source: str = "q"

    def __post_init__(self):
        if self.code_source not in ("q", "clusters"):
            raise ValueError(f"code_source must be 'q' or 'clusters', not {self.code_source!r}")

    @property
    def clustered(self) -> bool:
        """A self-conditioned GAN: a category taught by clusters of real digits, which the discriminator scores an
        image against (rather than reading it back with a head Q)."""
        return bool(self.info_codes) and self.code_source == "clusters"


def latent_code(z: torch.Tensor, codes: int) -> torch.Tensor:
    """The InfoGAN category of each latent (B, z_dim) -> (B,): the index of the largest of its first `codes`
    entries. Every category is equally likely under z ~ N(0, I), scaling z (truncation) keeps it."""
    return z[:, :codes].argmax(dim=1)


def with_code(z: torch.Tensor, code: int | torch.Tensor, codes: int) -> torch.Tensor:
    """Latents (B, z_dim) moved as little as possible to have category `code` (one for all, or (B,)): in each row the
    wanted entry swaps places with the largest of the first `codes`, so the latent keeps its values and its norm."""
    z = z.clone()
    rows = torch.arange(len(z))
    code = torch.as_tensor(code, dtype=torch.long).expand(len(z))
    current = latent_code(z, codes)
    top, wanted = z[rows, current].clone(), z[rows, code].clone()
    z[rows, current], z[rows, code] = wanted, top
    return z


class Generator(nn.Module):
    """z: (B, z_dim), y: (B,) or None -> images (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, config: GANConfig):
        super().__init__()
        c = config.g_channels
        self.config = config
        in_dim = config.z_dim
        if config.num_classes:
            self.embed = nn.Embedding(config.num_classes, config.class_embed_dim)
            in_dim += config.class_embed_dim
        in_dim += config.info_codes  # the category as a one-hot vector
        self.project = nn.Linear(in_dim, 4 * c * 7 * 7)  # (B, in_dim) -> (B, 4c*49)
        self.body = nn.Sequential(
            nn.BatchNorm2d(4 * c),
            nn.ReLU(),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1),  # (B, 4c, 7, 7) -> (B, 2c, 14, 14)
            nn.BatchNorm2d(2 * c),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),  # -> (B, c, 28, 28)
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, 1, 3, 1, 1),  # -> (B, 1, 28, 28)
            nn.Tanh(),
        )

    def first_activations(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The projected features before the first norm: (B, 4c*49). Used to find latent directions."""
        if self.config.num_classes:
            if y is None:
                raise ValueError("this generator is class-conditional: pass class labels")
            z = torch.cat([z, self.embed(y)], dim=1)
        if self.config.info_codes:
            code = latent_code(z, self.config.info_codes)
            z = torch.cat([z, nn.functional.one_hot(code, self.config.info_codes).to(z.dtype)], dim=1)
        return self.project(z)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        c = self.config.g_channels
        h = self.first_activations(z, y).view(-1, 4 * c, 7, 7)
        return self.body(h)


class Discriminator(nn.Module):
    """images (B, 1, 28, 28) in [-1, 1], y: (B,) or None -> realness scores (B,). Projection for classes."""

    def __init__(self, config: GANConfig):
        super().__init__()
        c = config.d_channels
        self.config = config
        self.body = nn.Sequential(
            spectral_norm(nn.Conv2d(1, c, 4, 2, 1)),  # (B, 1, 28, 28) -> (B, c, 14, 14)
            nn.LeakyReLU(0.1),
            spectral_norm(nn.Conv2d(c, 2 * c, 4, 2, 1)),  # -> (B, 2c, 7, 7)
            nn.LeakyReLU(0.1),
            spectral_norm(nn.Conv2d(2 * c, 4 * c, 3, 1, 1)),  # -> (B, 4c, 7, 7)
            nn.LeakyReLU(0.1),
        )
        self.head = spectral_norm(nn.Linear(4 * c * 49, 1))
        if config.num_classes:
            self.embed = spectral_norm(nn.Embedding(config.num_classes, 4 * c * 49))
        if config.clustered:  # projection of the category, like a class
            self.code_embed = spectral_norm(nn.Embedding(config.info_codes, 4 * c * 49))
        elif config.info_codes:  # InfoGAN's Q: the category logits from the same features
            self.q_head = nn.Sequential(
                nn.Linear(4 * c * 49, 128), nn.LeakyReLU(0.1), nn.Linear(128, config.info_codes)
            )

    @property
    def clustered(self) -> bool:
        """Scores an image against a category (a cluster of real digits) rather than reading the category back."""
        return self.config.clustered

    def code_logits(self, x: torch.Tensor) -> torch.Tensor:
        """InfoGAN's Q: images (B, 1, 28, 28) -> logits (B, info_codes) of the category the generator was given."""
        if not self.config.info_codes or self.clustered:
            raise ValueError("this discriminator has no InfoGAN code head")
        return self.q_head(self.body(x).flatten(1))

    def forward(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        with_codes: bool = False,
        code: torch.Tensor | None = None,
    ):
        """Realness scores (B,); with_codes=True: (scores, Q's category logits (B, info_codes)) from one pass through
        the shared body (an InfoGAN's training step needs both). A clustered discriminator needs each image's
        category `code` (B,): a real digit's cluster, or the category of the latent that drew a fake."""
        h = self.body(x).flatten(1)  # (B, 4c*49)
        if not with_codes:
            return self._score(h, y, code)
        if not self.config.info_codes or self.clustered:
            raise ValueError("this discriminator has no InfoGAN code head")
        return self._score(h, y, code), self.q_head(h)

    def best_category_scores(self, x: torch.Tensor) -> torch.Tensor:
        """A self-conditioned GAN's realness score of each image (B,) against the category that fits it best: the
        highest of its scores against every category, from one pass through the body. Real digits keep no category.
        """
        if not self.clustered or self.config.num_classes:
            raise ValueError("only an unconditional self-conditioned GAN scores images against its best category")
        h = self.body(x).flatten(1)
        every = self.code_embed(torch.arange(self.config.info_codes, device=x.device))  # (K, 4c*49)
        return self.head(h).squeeze(1) + (h @ every.T).amax(dim=1)

    def _score(self, h: torch.Tensor, y: torch.Tensor | None, code: torch.Tensor | None = None) -> torch.Tensor:
        """Features (B, 4c*49) -> realness scores (B,)."""
        score = self.head(h).squeeze(1)  # (B,)
        if self.config.num_classes:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass class labels")
            score = score + (self.embed(y) * h).sum(dim=1)
        if self.clustered:
            if code is None:
                raise ValueError("this discriminator scores images against their category: pass each one's code")
            score = score + (self.code_embed(code) * h).sum(dim=1)
        return score


class GAN(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["gan", "mnist", "genlab"],
    license="cc-by-sa-3.0",
):
    """A generator (the EMA weights, for sampling) and its discriminator (for per-sample scores)."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)

    @property
    def conditional(self) -> bool:
        return self.config.num_classes > 0

    @property
    def coded(self) -> bool:
        """An InfoGAN or a self-conditioned GAN: a category it found without labels can be chosen."""
        return self.config.info_codes > 0

    @property
    def clustered(self) -> bool:
        """A self-conditioned GAN: its categories were taught by clusters of real digits, and its discriminator
        scores an image against a category."""
        return self.discriminator.clustered

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z, y)
