"""A convolutional VAE for 28x28 digits, with a Bernoulli decoder and a β-weighted KL term.

The posterior q(z|x) is a diagonal Gaussian N(mu, sigma^2), or, with flow_steps > 0, that Gaussian followed by
flow_steps affine coupling steps conditioned on the image (a normalizing flow, Rezende and Mohamed 2015; Dinh et al.
2017), which can bend and tilt the posterior to fit the true one more closely. The flow's KL term has no closed form,
so it is estimated from the posterior sample: log q(z|x) - log p(z).

The prior p(z) is N(0, I), or, with prior_flow_steps > 0, a learned one: N(0, I) pushed through affine coupling
steps, z = f(u) with u ~ N(0, I) (a flow prior, as in Chen et al. 2017's variational lossy autoencoder). It can
follow the shape the codes of real digits take instead of forcing them into one round ball, which lowers the KL
term. Its density is log N(f^-1(z)) + log|det d f^-1 / dz|, and sampling it maps standard noise u through f.
"""

import math
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
    flow_steps: int = 0  # affine coupling steps after the Gaussian posterior (0: the plain diagonal Gaussian)
    flow_context: int = 32  # with a flow: the encoder's extra outputs that describe the image to each step
    flow_hidden: int = 64  # with a flow: the width of each step's two-layer network
    prior_flow_steps: int = 0  # affine coupling steps of a learned prior (0: the N(0, I) prior)
    prior_flow_hidden: int = 128  # with a learned prior: the width of each step's two-layer network
    pixel_hidden: int = 0  # units of an autoregressive pixel head (0: pixels independent given z)
    pixel_kernel: int = 5  # with a pixel head: the width of the neighbourhood of earlier pixels each pixel sees


LOG_2PI = math.log(2 * math.pi)


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(relu(x)))), two 3x3 convolutions that keep the shape (B, C, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.first = nn.Conv2d(channels, channels, 3, 1, 1)
        self.second = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(F.relu(self.first(F.relu(x))))


class AffineCoupling(nn.Module):
    """One flow step: the latent dimensions of one parity (d % 2 == parity) are scaled and shifted, z * exp(s) + t,
    by amounts a small network computes from the other dimensions and the image's context. Invertible, with
    log|det| = sum(s). Starts as the identity (zero last layer). Works for any latent size, 1 included (then only
    the context drives it)."""

    def __init__(self, latent_dim: int, context: int, hidden: int, parity: int):
        super().__init__()
        self.register_buffer("mask", (torch.arange(latent_dim) % 2 == parity).float(), persistent=False)
        self.net = nn.Sequential(nn.Linear(latent_dim + context, hidden), nn.ELU(), nn.Linear(hidden, 2 * latent_dim))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def _scale_shift(self, z: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scale, shift = self.net(torch.cat([z * (1 - self.mask), context], dim=1)).chunk(2, dim=1)
        return torch.tanh(scale) * self.mask, shift  # at most a factor e per step, only on this step's dimensions

    def forward(self, z: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (N, D), context (N, C) -> the moved z (N, D) and log|det| of the step (N,)."""
        scale, shift = self._scale_shift(z, context)
        return z * (1 - self.mask) + self.mask * (z * scale.exp() + shift), scale.sum(dim=1)

    def inverse(self, y: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The step undone: y (N, D) -> the z (N, D) that forward() moves to y, and log|det| of the inverse (N,).
        The dimensions the step leaves alone are the same in y and z, so the same scale and shift are recomputed."""
        scale, shift = self._scale_shift(y, context)
        return y * (1 - self.mask) + self.mask * ((y - shift) * (-scale).exp()), -scale.sum(dim=1)


class PixelHead(nn.Module):
    """An autoregressive correction to the decoder's logits, a one-layer PixelCNN (van den Oord et al. 2016) as in
    PixelVAE (Gulrajani et al. 2017): pixel i's logit is the decoder's, plus a small network of the pixels before it
    in reading order (the rows above and the pixels to its left, within a kernel x kernel window) and of the
    decoder's logits around it. p(x|z) becomes the product of p(x_i | z, x_<i), so neighbouring pixels are modelled
    together: where an edge falls, to a fraction of a pixel, is read off the pixels already drawn instead of being
    paid for by every pixel alone. Starts as no correction at all (zero last layer)."""

    def __init__(self, hidden: int, kernel: int):
        super().__init__()
        if kernel < 3 or kernel % 2 == 0:
            raise ValueError(f"the pixel head's kernel must be odd and at least 3, not {kernel}")
        self.kernel = kernel
        self.previous = nn.Conv2d(1, hidden, kernel, 1, kernel // 2)
        mask = torch.zeros(kernel, kernel)
        mask[: kernel // 2] = 1  # the rows above
        mask[kernel // 2, : kernel // 2] = 1  # the pixels to the left; never the pixel itself
        self.register_buffer("mask", mask, persistent=False)
        self.around = nn.Conv2d(1, hidden, kernel, 1, kernel // 2, bias=False)
        self.out = nn.Conv2d(hidden, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, base: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The logits of every pixel given the true earlier pixels (teacher forcing): base, x (B, 1, H, W)."""
        previous = F.conv2d(x, self.previous.weight * self.mask, self.previous.bias, padding=self.kernel // 2)
        return base + self.out(F.relu(previous + self.around(base)))

    def generate(self, base: torch.Tensor) -> torch.Tensor:
        """Logits (B, 1, H, W) pixel by pixel in reading order, each pixel's probability standing in for the pixel
        in the pixels after it (a deterministic, grey-level decode: the picture of p(x|z) the app shows)."""
        batch, _, height, width = base.shape
        pad = self.kernel // 2
        around = self.around(base) + self.previous.bias.view(1, -1, 1, 1)  # (B, hidden, H, W): all known from z
        above_weight = self.previous.weight[:, :, :pad]  # (hidden, 1, pad, kernel): the rows above, known per row
        left_weight = self.previous.weight[:, 0, pad, :pad].T  # (pad, hidden): the pixels to the left, one by one
        out_weight, out_bias = self.out.weight.flatten(), self.out.bias
        canvas = base.new_zeros(batch, 1, height + pad, width + 2 * pad)  # blank rows above, blank columns beside
        logits = torch.empty_like(base)
        for row in range(height):
            above = F.conv2d(canvas[:, :, row : row + pad], above_weight)[:, :, 0]  # (B, hidden, W)
            known = (above + around[:, :, row]).transpose(1, 2)  # (B, W, hidden)
            line = canvas[:, 0, row + pad]  # (B, W + 2 pad): this row, filled in as it is drawn
            for column in range(width):
                hidden = F.relu(torch.addmm(known[:, column], line[:, column : column + pad], left_weight))
                logit = torch.addmv(base[:, 0, row, column] + out_bias, hidden, out_weight)
                logits[:, 0, row, column] = logit
                line[:, column + pad] = torch.sigmoid(logit)
        return logits


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
            # -> (B, 2*latent_dim [+ flow_context]): mu, logvar [and the flow's context]
            nn.Linear(hidden, 2 * config.latent_dim + (config.flow_context if config.flow_steps else 0)),
        )
        self.flow = nn.ModuleList(
            AffineCoupling(config.latent_dim, config.flow_context, config.flow_hidden, step % 2)
            for step in range(config.flow_steps)
        )  # empty without a flow, so plain models' weight names stay as they were
        self.prior_flow = nn.ModuleList(
            AffineCoupling(config.latent_dim, 0, config.prior_flow_hidden, step % 2)
            for step in range(config.prior_flow_steps)
        )  # empty with the N(0, I) prior
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
        self.pixel_head = PixelHead(config.pixel_hidden, config.pixel_kernel) if config.pixel_hidden else None

    def _encoded(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        d = self.config.latent_dim
        out = self.encoder(x)
        return out[:, :d], out[:, d : 2 * d].clamp(-12.0, 8.0), out[:, 2 * d :]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The Gaussian part of q(z|x): mu, logvar (B, latent_dim). Without a flow that is the whole posterior."""
        mu, logvar, _ = self._encoded(x)
        return mu, logvar

    def _flow(self, z: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.zeros(len(z), device=z.device, dtype=z.dtype)
        for step in self.flow:
            z, step_log_det = step(z, context)
            log_det = log_det + step_log_det
        return z, log_det

    def posterior_sample(
        self, x: torch.Tensor, eps: torch.Tensor, posterior: tuple | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples of q(z|x) from standard noise eps (B, D) or (B, K, D), with their log-density log q(z|x).

        `posterior` (mu, logvar, context), e.g. from refine_posterior, replaces the encoder's for these images.
        Returns z shaped like eps and log q of shape eps.shape[:-1], in nats."""
        mu, logvar, context = posterior if posterior is not None else self._encoded(x)
        sample_shape = eps.shape[1:-1]  # () or (K,)
        extra = (1,) * len(sample_shape)
        z = mu.view(len(mu), *extra, -1) + torch.exp(0.5 * logvar).view(len(mu), *extra, -1) * eps
        log_q = -0.5 * (eps.square() + logvar.view(len(mu), *extra, -1) + LOG_2PI).sum(-1)
        if len(self.flow):
            context = context.view(len(mu), *extra, -1).expand(*z.shape[:-1], -1)
            flat, log_det = self._flow(z.reshape(-1, z.shape[-1]), context.reshape(-1, context.shape[-1]))
            z, log_q = flat.view(z.shape), log_q - log_det.view(log_q.shape)
        return z, log_q

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) in nats for codes z (..., D): N(0, I), or the learned flow prior's density."""
        flat = z.reshape(-1, z.shape[-1])
        log_det = torch.zeros(len(flat), device=z.device, dtype=z.dtype)
        no_context = flat[:, :0]
        for step in reversed(self.prior_flow):
            flat, step_log_det = step.inverse(flat, no_context)
            log_det = log_det + step_log_det
        return (-0.5 * (flat.square() + LOG_2PI).sum(1) + log_det).view(z.shape[:-1])

    def prior_latents(self, u: torch.Tensor) -> torch.Tensor:
        """Draws of the prior from standard noise u (B, D): u itself for N(0, I), else f(u) through the learned
        prior's steps. Every sampler goes through here, so the same noise gives the same codes."""
        no_context = u[:, :0]
        for step in self.prior_flow:
            u, _ = step(u, no_context)
        return u

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The code a picture of the latent space shows for each image (B, latent_dim): the posterior mean mu, or,
        with a flow, where the flow takes it (the image of the Gaussian's centre)."""
        mu, _, context = self._encoded(x)
        return self._flow(mu, context)[0] if len(self.flow) else mu

    def decode_logits(self, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of p(x|z), (B, 1, 28, 28). With a pixel head they depend on the earlier pixels too: those of the
        images x (B, 1, 28, 28) when given (to score x), else the decoder's own, drawn pixel by pixel."""
        base = self.decoder(z)
        if self.pixel_head is None:
            return base
        return self.pixel_head(base, x) if x is not None else self.pixel_head.generate(base)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z))

    def forward(
        self, x: torch.Tensor, eps: torch.Tensor, posterior: tuple | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction logits for the posterior sample z that the noise eps (B, latent_dim) picks, and the KL
        term per image (B,): in closed form for the Gaussian posterior and N(0, I) prior, else log q(z|x) - log p(z).
        `posterior` (mu, logvar, context) replaces the encoder's (see refine_posterior).

        Training goes through forward() so that wrappers such as DistributedDataParallel see the whole step.
        """
        if not len(self.flow) and not len(self.prior_flow):
            mu, logvar = posterior[:2] if posterior is not None else self.encode(x)
            return self.decode_logits(mu + torch.exp(0.5 * logvar) * eps, x), kl_divergence(mu, logvar)
        z, log_q = self.posterior_sample(x, eps, posterior)
        return self.decode_logits(z, x), log_q - self.log_prior(z)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I) drawn from `generator` (on the CPU, so seeds agree across devices)."""
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per image, in nats: (B,)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(dim=1)


def posterior_kl(vae: "VAE", x: torch.Tensor, samples: int = 64, generator: torch.Generator | None = None):
    """KL(q(z|x) || p(z)) per image (B,) in nats: exact for a Gaussian posterior and the N(0, I) prior, else the
    mean over `samples` draws of log q(z|x) - log p(z) (noise from `generator`)."""
    if not len(vae.flow) and not len(vae.prior_flow):
        return kl_divergence(*vae.encode(x))
    eps = torch.randn(len(x), samples, vae.config.latent_dim, generator=generator).to(x.device)
    z, log_q = vae.posterior_sample(x, eps)
    return (log_q - vae.log_prior(z)).mean(1)


def vae_losses(
    vae,
    x: torch.Tensor,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
    targets: torch.Tensor | None = None,
    posterior: tuple | None = None,
) -> dict[str, torch.Tensor]:
    """Per-batch means, in nats per image: reconstruction (Bernoulli NLL), KL, the β-loss and the negative ELBO.

    `vae` may be a VAE or a wrapper around one (its forward is called); the noise comes from `generator`. The
    reconstruction is scored against `targets` when given (e.g. binary draws of x), else against x itself.
    `posterior` (mu, logvar, context) replaces the encoder's posterior (see refine_posterior).
    """
    latent_dim = getattr(vae, "module", vae).config.latent_dim
    eps = torch.randn(x.shape[0], latent_dim, generator=generator).to(x.device)
    logits, kl = vae(x, eps) if posterior is None else vae(x, eps, posterior=posterior)
    target = x if targets is None else targets
    reconstruction = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)
    return {
        "reconstruction": reconstruction.mean(),
        "kl": kl.mean(),
        "loss": (reconstruction + beta * kl).mean(),
        "negative_elbo": (reconstruction + kl).mean(),
    }


REFINE_STEPS = 50  # the cards' refined bound (the VAE tab shows it): enough to close most of the amortization gap


def refine_posterior(
    vae: "VAE",
    x: torch.Tensor,
    steps: int = REFINE_STEPS,
    lr: float = 1e-2,
    samples: int = 4,
    generator: torch.Generator | None = None,
    start: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Semi-amortized inference (Kim et al., 2018): the encoder's Gaussian (mu, logvar) for each image x (B, 1, 28,
    28) in [0, 1], moved by `steps` Adam steps on that image's own negative ELBO (estimated from `samples` posterior
    draws each step, noise from `generator`). The decoder, the flow and the prior stay as they are, so any q this
    finds still gives a valid lower bound on the same model's log p(x). The encoder guesses each posterior in one
    pass and fits its training digits better than new ones; the gap refinement closes is the amortization gap.

    Returns (mu, logvar, context) for VAE.forward's `posterior`; context is the encoder's flow context, unchanged.
    `start` is the encoder's (mu, logvar, context) for x when the caller has it already (one encoder pass saved).
    """
    if start is None:
        with torch.no_grad():
            start = vae._encoded(x)
    mu, logvar, context = start
    if steps <= 0:
        return mu, logvar, context
    # Callers may be inside inference mode (the app's handlers): refinement needs gradients, so it works on ordinary
    # copies. Gradients are taken for mu and logvar alone, so the model (possibly shared) is never touched.
    with torch.inference_mode(False), torch.enable_grad():
        x, context = x.clone(), context.clone()
        mu, logvar = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mu, logvar], lr=lr)
        repeated = x.repeat_interleave(samples, 0)
        for _ in range(steps):
            bounded = logvar.clamp(-12.0, 8.0)
            posterior = tuple(t.repeat_interleave(samples, 0) for t in (mu, bounded, context))
            loss = vae_losses(vae, repeated, 1.0, generator, posterior=posterior)["negative_elbo"]
            mu.grad, logvar.grad = torch.autograd.grad(loss, [mu, logvar])
            optimizer.step()
    return mu.detach(), logvar.detach().clamp(-12.0, 8.0), context


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
