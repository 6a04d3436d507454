"""A class-conditional denoising diffusion model of 28x28 digits (issue 11): a small U-Net that predicts the noise
or v (config.prediction; optional min-SNR weighting of the loss), a cosine noise schedule, and two samplers over
any number of steps (DDIM, deterministic; DDPM, stochastic), with classifier-free guidance.

Images are (B, 1, 28, 28) in [-1, 1], as every GenLab image model. The forward process (the noise a digit gets at
step t) is `noised`; the model learns eps (or v) from x_t, t and the class y (y = num_classes is "no class", used for
guidance and dropped in for 10% of training digits).
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

SAMPLERS = ("ddim", "ddpm")
PREDICTIONS = ("eps", "v")
# The sampler and guidance scale the Diffusion tab starts at and every shipped metric uses (20 steps). Measured on
# diffusion-mnist with 500 samples: DDIM's 20 deterministic steps draw strokes about 20% too heavy (mean ink 0.159
# against the training digits' 0.132; 100 steps: 0.142), while DDPM's stochastic steps draw them right (0.133),
# which takes the Fréchet distance from 183 to 147 at guidance 0.5-1. Guidance 0.5 is the best of 0, 0.25, 0.5, 1
# and 2: less loses class accuracy, more trades variety for over-confident, prototypical digits (see the card).
DEFAULT_SAMPLER = "ddpm"
DEFAULT_GUIDANCE = 0.5
# A model shipped with a guide (a weaker model of the same data, in the folder `<name>-guide`) starts at autoguidance
# DEFAULT_AUTOGUIDANCE and no classifier-free guidance instead: see the diffusion-mnist card for the measurements.
DEFAULT_AUTOGUIDANCE = 1.5
GUIDE_SUFFIX = "-guide"


def default_guidance(has_guide: bool) -> tuple[float, float]:
    """(classifier-free guidance, autoguidance) a model is sampled with by default: autoguidance where it has a
    guide, classifier-free guidance otherwise."""
    return (0.0, DEFAULT_AUTOGUIDANCE) if has_guide else (DEFAULT_GUIDANCE, 0.0)


@dataclass
class DiffusionConfig:
    channels: int = 48  # width at 28x28; 2x at 14x14 and 7x7
    num_classes: int = 10
    timesteps: int = 1000
    class_dropout: float = 0.1  # the share of training digits shown as "no class", for classifier-free guidance
    # What the network predicts: "eps", the noise (Ho et al., 2020), or "v" = sqrt(abar) eps - sqrt(1 - abar) x0
    # (Salimans and Ho, 2022), whose scale stays the same from pure noise to a clean digit.
    prediction: str = "eps"
    # Dropout inside each residual block while training, before its second convolution (Ho et al., 2020 used 0.1 on
    # CIFAR-10): 9,000 digits are few for the U-Net, and without it training on fits them ever more closely.
    dropout: float = 0.0


def alpha_bars(timesteps: int) -> torch.Tensor:
    """The cosine schedule (Nichol and Dhariwal, 2021): abar_t, the share of signal left at step t, (T,) float64."""
    s = 0.008
    t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    betas = (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the step t (B,) -> (B, dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with the step-and-class embedding added in between, and a residual path."""

    def __init__(self, channels_in: int, channels_out: int, embedding: int, dropout: float = 0.0):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, channels_in), nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.embed = nn.Linear(embedding, channels_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, channels_out), nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.dropout = nn.Dropout(dropout)  # no parameters: a model saved before it existed loads as it was
        self.skip = nn.Conv2d(channels_in, channels_out, 1) if channels_in != channels_out else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.embed(embedding)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class DiffusionModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["diffusion", "mnist", "genlab"],
    license="cc-by-sa-3.0",
):
    """forward: x_t (B, 1, 28, 28), t (B,) in [0, T), y (B,) in [0, num_classes] -> predicted noise (B, 1, 28, 28),
    or v for a v-prediction model (config.prediction)."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        if config.prediction not in PREDICTIONS:
            raise ValueError(f"unknown prediction {config.prediction!r}: use eps or v")
        if not 0 <= config.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), not {config.dropout}")
        self.config = config
        c, e = config.channels, 4 * config.channels
        self.time = nn.Sequential(nn.Linear(c, e), nn.SiLU(), nn.Linear(e, e))
        self.label = nn.Embedding(config.num_classes + 1, e)  # the last row: no class
        self.inp = nn.Conv2d(1, c, 3, padding=1)  # (B, 1, 28, 28) -> (B, c, 28, 28)
        p = config.dropout
        self.down1 = ResBlock(c, c, e, p)
        self.pool1 = nn.Conv2d(c, c, 4, 2, 1)  # -> (B, c, 14, 14)
        self.down2 = ResBlock(c, 2 * c, e, p)
        self.pool2 = nn.Conv2d(2 * c, 2 * c, 4, 2, 1)  # -> (B, 2c, 7, 7)
        self.mid1, self.mid2 = ResBlock(2 * c, 2 * c, e, p), ResBlock(2 * c, 2 * c, e, p)
        self.up2 = ResBlock(4 * c, 2 * c, e, p)  # after upsampling to 14x14 and joining down2's output
        self.up1 = ResBlock(3 * c, c, e, p)  # after upsampling to 28x28 and joining down1's output
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        self.register_buffer("alpha_bar", alpha_bars(config.timesteps).float(), persistent=False)

    @property
    def null_class(self) -> int:
        return self.config.num_classes

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        embedding = self.time(timestep_embedding(t, self.config.channels)) + self.label(y)
        h1 = self.down1(self.inp(x), embedding)  # (B, c, 28, 28)
        h2 = self.down2(self.pool1(h1), embedding)  # (B, 2c, 14, 14)
        h = self.mid2(self.mid1(self.pool2(h2), embedding), embedding)  # (B, 2c, 7, 7)
        h = self.up2(torch.cat([F.interpolate(h, scale_factor=2), h2], dim=1), embedding)  # (B, 2c, 14, 14)
        h = self.up1(torch.cat([F.interpolate(h, scale_factor=2), h1], dim=1), embedding)  # (B, c, 28, 28)
        return self.out(h)

    def noised(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The forward process q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I), for images (B, 1, 28, 28)."""
        abar = self.alpha_bar[t].view(-1, 1, 1, 1)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def target(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """What the network learns to output for x_t = noised(x0, t, noise): the noise, or v."""
        if self.config.prediction == "eps":
            return noise
        abar = self.alpha_bar[t].view(-1, 1, 1, 1)
        return abar.sqrt() * noise - (1 - abar).sqrt() * x0

    def clean_image_from_output(self, x: torch.Tensor, abar: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The clean image x0 the network's output implies at x_t (abar: that step's share of signal, a scalar
        tensor), unclipped. From eps: x0 = (x - sqrt(1 - abar) eps) / sqrt(abar). From v (with
        x = sqrt(abar) x0 + sqrt(1 - abar) eps): x0 = sqrt(abar) x - sqrt(1 - abar) v, which stays exact where
        abar is nearly 0. Linear in the output, so guidance may mix outputs of either kind."""
        if self.config.prediction == "eps":
            return (x - (1 - abar).sqrt() * output) / abar.sqrt()
        return abar.sqrt() * x - (1 - abar).sqrt() * output


def diffusion_loss(
    model: DiffusionModel, x0: torch.Tensor, y: torch.Tensor, generator: torch.Generator, min_snr_gamma: float = 0.0
) -> torch.Tensor:
    """The simple DDPM objective: || eps - eps_theta(sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, t, y) ||^2, with a
    random step t per image and the class dropped for config.class_dropout of them (v in place of eps for a
    v-prediction model).

    min_snr_gamma > 0 weights each image's error by min(SNR_t, gamma) / SNR_t for eps (/ (SNR_t + 1) for v), with
    SNR_t = abar_t / (1 - abar_t) (Hang et al., 2023): the nearly clean steps, whose errors are easy to lower and
    matter little to samples, stop taking the small model's capacity."""
    device = x0.device
    count = len(x0)
    t = torch.randint(model.config.timesteps, (count,), generator=generator).to(device)
    noise = torch.randn(x0.shape, generator=generator).to(device)
    dropped = torch.rand(count, generator=generator).to(device) < model.config.class_dropout
    y = torch.where(dropped, torch.full_like(y, model.null_class), y)
    target = model.target(x0, t, noise)
    if not min_snr_gamma:
        return F.mse_loss(model(model.noised(x0, t, noise), t, y), target)
    errors = (model(model.noised(x0, t, noise), t, y) - target).pow(2).mean(dim=(1, 2, 3))
    abar = model.alpha_bar[t]
    snr = abar / (1 - abar)
    weight = snr.clamp(max=min_snr_gamma) / (snr if model.config.prediction == "eps" else snr + 1)
    return (weight * errors).mean()


@dataclass(frozen=True)
class SamplerStep:
    t: int  # the step reached (0: the end)
    x: torch.Tensor  # the noisy state x_t (B, 1, 28, 28)
    x0: torch.Tensor  # the model's prediction of the clean image at this step


# Rows per network pass when sampling. Every image is denoised on its own (GroupNorm normalises within an image), so
# splitting a batch changes no result beyond float rounding. On a CPU one pass over 400 rows costs 1.6 to 1.8 times as
# much per row as passes over 64, whose activations stay in the cache (bench/diffusion_bench.py).
SAMPLE_CHUNK = 64


def _predict(model: DiffusionModel, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.device.type != "cpu" or len(x) <= SAMPLE_CHUNK:
        return model(x, t, y)
    parts = zip(x.split(SAMPLE_CHUNK), t.split(SAMPLE_CHUNK), y.split(SAMPLE_CHUNK), strict=True)
    return torch.cat([model(*part) for part in parts])


def compatible_guide(model: DiffusionModel, guide: DiffusionModel | None) -> bool:
    """Whether `guide` can guide `model`: the same noise schedule, output kind (eps or v) and classes."""
    if guide is None:
        return False
    keys = ("timesteps", "prediction", "num_classes")
    return all(getattr(guide.config, key) == getattr(model.config, key) for key in keys)


@torch.inference_mode()
def sample(
    model: DiffusionModel,
    labels: torch.Tensor,
    steps: int,
    guidance: float,
    sampler: str,
    generator: torch.Generator,
    guide: DiffusionModel | None = None,
    autoguidance: float = 0.0,
) -> Iterator[SamplerStep]:
    """Denoise from pure noise in `steps` evenly spaced steps, yielding every step's state and clean prediction.

    labels (B,) are digits 0-9 (or the null class). Classifier-free guidance w mixes out_cond + w (out_cond -
    out_uncond); w = 0 is the conditional model alone. Autoguidance a (Karras et al., 2024) adds a (out_cond -
    guide_cond), where `guide` is a weaker model of the same data (trained for fewer steps): the direction away
    from the weak model's errors, which sharpens the digits without the narrowing of classifier-free guidance.
    "ddim" is the deterministic sampler (eta = 0), "ddpm" the stochastic one (ancestral sampling over the chosen
    steps). All noise comes from `generator` on the CPU: same seed, same images.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: use ddim or ddpm")
    if not 1 <= steps <= model.config.timesteps:
        raise ValueError(f"steps must be 1 to {model.config.timesteps}")
    if autoguidance and not compatible_guide(model, guide):
        raise ValueError("autoguidance needs a guide model with the same noise schedule, prediction and classes")
    device = next(model.parameters()).device
    count = len(labels)
    x = torch.randn(count, 1, 28, 28, generator=generator).to(device)
    times = torch.linspace(model.config.timesteps - 1, 0, steps).round().long().tolist()
    labels = labels.to(device)
    null = torch.full_like(labels, model.null_class)
    abar = model.alpha_bar.double()
    for index, t in enumerate(times):
        t_batch = torch.full((count,), t, device=device, dtype=torch.long)
        if guidance:
            both = _predict(model, torch.cat([x, x]), torch.cat([t_batch, t_batch]), torch.cat([labels, null]))
            conditional, unconditional = both.chunk(2)
            output = conditional + guidance * (conditional - unconditional)
        else:
            conditional = output = _predict(model, x, t_batch, labels)
        if autoguidance:
            output = output + autoguidance * (conditional - _predict(guide, x, t_batch, labels))
        a_t = abar[t].float()
        x0 = model.clean_image_from_output(x, a_t, output).clamp(-1, 1)
        eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()  # consistent with the clipped prediction
        a_prev = abar[times[index + 1]].float() if index + 1 < len(times) else torch.tensor(1.0)
        if sampler == "ddim":
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        else:
            # the posterior q(x_prev | x_t, x0) between the two chosen steps
            beta = 1 - a_t / a_prev
            mean = (a_prev.sqrt() * beta / (1 - a_t)) * x0 + ((1 - beta).sqrt() * (1 - a_prev) / (1 - a_t)) * x
            variance = beta * (1 - a_prev) / (1 - a_t)
            noise = torch.randn(x.shape, generator=generator).to(device)
            x = mean + variance.clamp_min(0).sqrt() * noise if index + 1 < len(times) else mean
        yield SamplerStep(times[index + 1] if index + 1 < len(times) else 0, x.float().cpu(), x0.float().cpu())
