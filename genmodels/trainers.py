"""Trainers: generators that yield TrainEvents, check a stop event between steps, and save resumable state.

The CLI (genmodels.train) and the Training tab consume the same loops.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import json
import math
import threading
from collections.abc import Iterator
from dataclasses import MISSING, asdict, dataclass, fields, is_dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from safetensors.torch import load_file, save_file

from .chargpt import CharGPT, CharGPTConfig
from .checkpoints import atomic_replace_dir
from .classifier import ClassifierConfig, MNISTClassifier
from .diffusion import DiffusionConfig
from .gan import GAN, Discriminator, GANConfig, Generator, latent_code
from .maskedlm import MaskedCharLM, MaskedCharLMConfig, mask_inputs, span_mask
from .vae import VAE, VAEConfig, random_shift, vae_losses

GAN_LOSSES = ("hinge", "nonsaturating", "lsgan", "wgan-gp")


@dataclass(frozen=True)
class TrainEvent:
    step: int
    losses: dict[str, float]
    preview: torch.Tensor | None = None  # images (B, 1, 28, 28) in [-1, 1] from fixed noise


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the OS after every step.

    A training step allocates and frees tens of MB of activations; with glibc's adaptive defaults a fresh
    process kept returning that memory and faulting it back in (measured at batch 128: 2,500-16,000 page
    faults per step and 4.7-5.3 steps/s; with this, 6 faults and 5.2 steps/s every time). For training
    processes (the CLI and the Training tab's worker), not for the server. False where this is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 * 2**20) and libc.mallopt(m_trim_threshold, 256 * 2**20))
    except (OSError, AttributeError):
        return False


def _flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict, list]:
    state = optimizer.state_dict()
    tensors = {}
    for index, slots in state["state"].items():
        for key, value in slots.items():
            tensors[f"{prefix}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    return tensors, state["param_groups"]


def _restore_optimizer(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict, param_groups: list) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})


def _prefixed(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    # clone: tied weights (one tensor under two names) must be separate tensors in a safetensors file
    return {f"{prefix}.{k}": v.detach().cpu().clone().contiguous() for k, v in module.state_dict().items()}


def _unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


# A run stops as diverged when a loss becomes NaN or infinite, or exceeds both EXPLODED_RATIO times the largest loss
# of its first step and EXPLODED_FLOOR (Adam rarely reaches NaN: with too large a learning rate the losses explode
# to 1e5-1e12 and stay there, and the weights are as useless).
EXPLODED_RATIO = 100.0
EXPLODED_FLOOR = 1e4


class TrainingDiverged(ValueError):
    """A loss became NaN, infinite or exploded: the run stops there, before its ruined weights are saved."""

    def __init__(self, step: int, losses: dict[str, float], learning_rate: float):
        from .diagnose import DIVERGENCE

        self.step, self.losses, self.learning_rate = step, losses, learning_rate
        bad = max(losses.values(), key=lambda v: abs(v) if math.isfinite(v) else math.inf)
        shown = "NaN" if math.isnan(bad) else "infinite" if math.isinf(bad) else f"{bad:.3g}"
        super().__init__(DIVERGENCE.format(value=shown, step=step, learning_rate=learning_rate))

    @classmethod
    def from_message(cls, message: str) -> TrainingDiverged:
        """The same failure, reported by a training process as its message."""
        error = cls.__new__(cls)
        ValueError.__init__(error, message)
        error.step, error.losses, error.learning_rate = None, {}, float("nan")
        return error


class Trainer:
    """The loop every trainer shares: steps until done or stopped, yielding events; exact save and resume.

    Subclasses define train_step(), and name their state in modules, optimizers and rngs.
    """

    config: object
    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    rngs: dict[str, torch.Generator]
    step: int = 0
    history: tuple[str, ...] = ()  # the commands that trained this state, oldest first

    def train_step(self) -> dict[str, float]:
        raise NotImplementedError

    def preview(self) -> torch.Tensor | None:
        return None

    @property
    def base_learning_rate(self) -> float:
        """The learning rate the run was started with (the generator's, for a GAN)."""
        for name in ("lr", "lr_g"):
            if hasattr(self.config, name):
                return float(getattr(self.config, name))
        return float("nan")

    def run(self, stop_event: threading.Event | None = None) -> Iterator[TrainEvent]:
        """Train until config.steps or until stop_event is set, yielding one event per step."""
        for module in self.modules.values():
            module.train()
        first = None  # the largest loss of this run's first step: what "exploded" is measured against
        while self.step < self.config.steps:
            if stop_event is not None and stop_event.is_set():
                return
            losses = self.train_step()
            first = self._check_losses(losses, first)
            self.step += 1
            every = getattr(self.config, "preview_every", 0)
            show = every and (self.step % every == 0 or self.step == self.config.steps)
            yield TrainEvent(self.step, losses, self.preview() if show else None)

    def _check_losses(self, losses: dict[str, float], first: float | None) -> float:
        """Stop a run whose loss is NaN, infinite or past EXPLODED_RATIO times its first step's largest loss (and
        EXPLODED_FLOOR); returns that first-step reference (set from `losses` when `first` is None)."""
        if first is None:
            first = max((abs(v) for v in losses.values() if math.isfinite(v)), default=0)
        if not all(math.isfinite(v) and abs(v) <= max(EXPLODED_RATIO * first, EXPLODED_FLOOR) for v in losses.values()):
            raise TrainingDiverged(self.step + 1, losses, self.base_learning_rate)
        return first

    def _meta(self) -> dict:
        """The configuration saved with the state; a resumed run must have the same model configuration."""
        meta = {"train_config": asdict(self.config)}
        if hasattr(self, "model_config"):
            meta["model_config"] = asdict(self.model_config)
        return meta

    @property
    def is_main_process(self) -> bool:
        accelerator = getattr(self, "accelerator", None)
        return accelerator is None or accelerator.is_main_process

    def save_state(self, folder: Path) -> None:
        """Save everything needed to resume exactly (weights, optimizers, RNGs), atomically, as safetensors.

        In a multi-process run only the main process writes (the weights are the same on every process).
        """
        if not self.is_main_process:
            return
        tensors: dict[str, torch.Tensor] = {}
        for name, module in self.modules.items():
            tensors.update(_prefixed(name, _unwrap(module)))
        groups = {}
        for name, optimizer in self.optimizers.items():
            flat, groups[name] = _flatten_optimizer(name, _unwrap_optimizer(optimizer))
            tensors.update(flat)
        for name, rng in self.rngs.items():
            tensors[f"rng.{name}"] = rng.get_state()
        meta = {"step": self.step, **self._meta(), "param_groups": groups, "history": list(self.history)}

        def build(tmp: Path) -> None:
            save_file(tensors, tmp / "trainer.safetensors")
            (tmp / "trainer.json").write_text(json.dumps(meta, indent=2))

        atomic_replace_dir(build, folder)

    def load_state(self, folder: Path) -> None:
        """Resume from save_state's folder; the configuration must match the saved one."""
        meta = json.loads((Path(folder) / "trainer.json").read_text())
        mine = self._meta()
        configs = {key: getattr(self, key, None) for key in mine}  # the dataclasses behind _meta's dicts
        defaults = {key: _config_defaults(c) if is_dataclass(c) else {} for key, c in configs.items()}
        checked = [key for key in mine if key != "train_config"]
        if not all(_same_config(meta.get(key), mine[key], defaults[key]) for key in checked):
            raise ValueError("the saved run used a different model configuration")
        tensors = load_file(Path(folder) / "trainer.safetensors")
        for name, module in self.modules.items():
            _unwrap(module).load_state_dict(_unprefixed(name, tensors))
        for name, optimizer in self.optimizers.items():
            _restore_optimizer(name, _unwrap_optimizer(optimizer), tensors, meta["param_groups"][name])
        for name, rng in self.rngs.items():
            rng.set_state(tensors[f"rng.{name}"])
        self.step = meta["step"]
        self.history = tuple(meta.get("history", ()))


def _same_config(saved: dict | None, mine: dict, defaults: dict) -> bool:
    """Whether a saved run's configuration is this one. A setting added to GenLab after a run was saved is absent
    from its file: that run had the setting's default (defaults leave a model's layers as they were), so an
    absent key matches when this run also keeps the default."""
    if saved is None:
        return False
    missing = object()
    return all(saved.get(key, defaults.get(key, missing)) == value for key, value in mine.items())


@contextlib.contextmanager
def _dropout_seeded_from(rng: torch.Generator, accelerator: Accelerator):
    """Dropout draws from the global RNG: inside this block it is seeded from a run's own stream (one draw), so runs
    repeat and resume exactly, and the global RNG is left as it was."""
    seed = int(torch.randint(2**62, (), generator=rng))
    devices = [accelerator.device] if accelerator.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _config_defaults(config) -> dict:
    """{field: default} of a configuration dataclass (fields without a default are left out)."""
    return {f.name: f.default for f in fields(config) if f.default is not MISSING}


def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    return getattr(module, "module", module)  # accelerate / DDP wrappers


def _unwrap_optimizer(optimizer) -> torch.optim.Optimizer:
    return getattr(optimizer, "optimizer", optimizer)  # accelerate's AcceleratedOptimizer


def _seeded_init(seed: int, build):
    """Build modules with seeded initial weights without disturbing the process's global RNG for long."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _stream_seed(seed: int, accelerator: Accelerator) -> int:
    """Each process of a multi-process run draws its own batches and noise (process 0 matches a 1-process run)."""
    return seed + 7919 * accelerator.process_index


def _default_accelerator() -> Accelerator:
    return Accelerator(cpu=not torch.cuda.is_available())


@dataclass
class GANTrainConfig:
    steps: int = 10_000
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    loss: str = "hinge"
    gp_weight: float = 10.0
    ema_decay: float = 0.999
    decay_steps: int = 0  # learning rates fall linearly to zero over the last decay_steps steps
    info_weight: float = 1.0  # InfoGAN (model info_codes > 0): weight of the code's cross-entropy in both losses
    seed: int = 0
    preview_every: int = 0  # 0 = no previews
    preview_count: int = 16


class GANTrainer(Trainer):
    """Trains a GAN on images (N, 1, 28, 28) in [-1, 1] with labels (N,) (used when conditional)."""

    def __init__(
        self,
        model_config: GANConfig,
        train_config: GANTrainConfig,
        images: torch.Tensor,
        labels: torch.Tensor,
        accelerator: Accelerator | None = None,
        codes: torch.Tensor | None = None,
    ):
        if train_config.loss not in GAN_LOSSES:
            raise ValueError(f"unknown GAN loss {train_config.loss!r}; choose one of {', '.join(GAN_LOSSES)}")
        self.clustered = model_config.clustered
        if self.clustered:
            # a self-conditioned GAN: `codes` (N,) is each training image's cluster, found without labels
            if codes is None or codes.shape != labels.shape:
                raise ValueError("a clustered GAN needs each training image's cluster (codes, shaped like labels)")
            if int(codes.min()) < 0 or int(codes.max()) >= model_config.info_codes:
                raise ValueError(f"clusters must be 0 to {model_config.info_codes - 1}")
            if train_config.loss == "wgan-gp":
                raise ValueError("a clustered GAN trains with the hinge, non-saturating or least-squares loss")
        self.model_config, self.config = model_config, train_config
        self.accelerator = accelerator or _default_accelerator()
        device = self.accelerator.device
        generator, discriminator = _seeded_init(
            train_config.seed, lambda: (Generator(model_config), Discriminator(model_config))
        )
        self.ema = copy.deepcopy(generator).to(device).requires_grad_(False)
        opt_g = torch.optim.Adam(generator.parameters(), train_config.lr_g, betas=train_config.betas)
        opt_d = torch.optim.Adam(discriminator.parameters(), train_config.lr_d, betas=train_config.betas)
        self.G, self.D, self.opt_g, self.opt_d = self.accelerator.prepare(generator, discriminator, opt_g, opt_d)
        self.images, self.labels = images.to(device), labels.to(device)
        self.codes = codes.to(device) if self.clustered else None
        self.step = 0
        self.batch_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 1, self.accelerator))
        self.noise_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 2, self.accelerator))
        fixed = torch.Generator("cpu").manual_seed(train_config.seed + 3)
        count = train_config.preview_count
        self.fixed_z = torch.randn(count, model_config.z_dim, generator=fixed).to(device)
        self.fixed_y = (torch.arange(count) % max(model_config.num_classes, 1)).to(device)
        self.modules = {"G": self.G, "D": self.D, "ema": self.ema}
        self.optimizers = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        self.rngs = {"batch": self.batch_rng, "noise": self.noise_rng}

    @property
    def conditional(self) -> bool:
        return self.model_config.num_classes > 0

    def _labels(self, y: torch.Tensor) -> torch.Tensor | None:
        return y if self.conditional else None

    def _d_loss(self, real_scores, fake_scores, real, fake, y):
        loss = self.config.loss
        if loss == "hinge":
            return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
        if loss == "nonsaturating":
            return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
        if loss == "lsgan":
            return 0.5 * ((real_scores - 1).square().mean() + fake_scores.square().mean())
        alpha = torch.rand(real.size(0), 1, 1, 1, generator=self.noise_rng).to(real.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (gradient,) = torch.autograd.grad(self.D(mixed, y).sum(), mixed, create_graph=True)
        penalty = (gradient.flatten(1).norm(dim=1) - 1).square().mean()
        return fake_scores.mean() - real_scores.mean() + self.config.gp_weight * penalty

    def _g_loss(self, fake_scores):
        if self.config.loss == "nonsaturating":
            return F.softplus(-fake_scores).mean()
        if self.config.loss == "lsgan":
            return 0.5 * (fake_scores - 1).square().mean()
        return -fake_scores.mean()  # hinge and WGAN

    def _noise(self, count: int) -> torch.Tensor:
        return torch.randn(count, self.model_config.z_dim, generator=self.noise_rng).to(self.accelerator.device)

    def _set_learning_rates(self) -> None:
        scale = 1.0
        if self.config.decay_steps:
            scale = min(1.0, (self.config.steps - self.step) / self.config.decay_steps)
        for optimizer, lr in ((self.opt_g, self.config.lr_g), (self.opt_d, self.config.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr * scale

    def train_step(self) -> dict[str, float]:
        self._set_learning_rates()
        batch = self.config.batch_size
        index = torch.randint(len(self.images), (batch,), generator=self.batch_rng).to(self.images.device)
        real, y = self.images[index], self._labels(self.labels[index])
        fake_y = None
        if self.conditional:
            fake_y = torch.randint(self.model_config.num_classes, (batch,), generator=self.noise_rng)
            fake_y = fake_y.to(real.device)
        z = self._noise(batch)
        fake = self.G(z, fake_y)
        info = self.model_config.info_codes
        losses = {}

        if self.clustered:  # the real digits' clusters against the categories of the latents that drew the fakes
            real_code, fake_code = self.codes[index], latent_code(z, info)
            real_scores = self.D(real, y, code=real_code)
            d_loss = self._d_loss(
                real_scores, self.D(fake.detach(), fake_y, code=fake_code), real, fake.detach(), fake_y
            )
        elif info:  # InfoGAN: D's Q head and G both learn to make the latent's category recoverable from the image
            code = latent_code(z, info)
            fake_scores, code_logits = self.D(fake.detach(), fake_y, with_codes=True)
            info_d = F.cross_entropy(code_logits, code)
            d_loss = self._d_loss(self.D(real, y), fake_scores, real, fake.detach(), fake_y)
            d_loss = d_loss + self.config.info_weight * info_d
        else:
            d_loss = self._d_loss(self.D(real, y), self.D(fake.detach(), fake_y), real, fake.detach(), fake_y)
        self.opt_d.zero_grad(set_to_none=True)
        self.accelerator.backward(d_loss)
        self.opt_d.step()

        if self.clustered:
            g_loss = self._g_loss(self.D(fake, fake_y, code=fake_code))
        elif info:
            fake_scores, code_logits = self.D(fake, fake_y, with_codes=True)
            info_g = F.cross_entropy(code_logits, code)
            g_loss = self._g_loss(fake_scores) + self.config.info_weight * info_g
            losses["info"] = info_g.item()
        else:
            g_loss = self._g_loss(self.D(fake, fake_y))
        self.opt_g.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.opt_g.step()

        with torch.no_grad():
            source = _unwrap(self.G)
            for ema_param, param in zip(self.ema.parameters(), source.parameters(), strict=True):
                ema_param.lerp_(param, 1 - self.config.ema_decay)
            for ema_buffer, buffer in zip(self.ema.buffers(), source.buffers(), strict=True):
                ema_buffer.copy_(buffer)
        return {"G": g_loss.item(), "D": d_loss.item(), **losses}

    @torch.no_grad()
    def init_from(self, model: GAN) -> None:
        """Start from a trained GAN's weights (its sampling generator for G and the average, its discriminator for D),
        with fresh optimizers. Weights this model adds (an InfoGAN's code inputs, Q head or cluster projection) keep
        their initialisation, except that the code's inputs to the generator start at zero, so the first step's
        samples are the given model's."""
        for target in (_unwrap(self.G), self.ema):
            own = target.state_dict()
            for name, value in model.generator.state_dict().items():
                if name not in own:
                    continue
                if own[name].shape == value.shape:
                    own[name].copy_(value)
                elif (
                    name == "project.weight"
                    and own[name].shape[0] == value.shape[0]
                    and own[name].shape[1] > value.shape[1]
                ):
                    own[name].zero_()
                    own[name][:, : value.shape[1]].copy_(value)  # the extra (code) columns stay zero
                else:
                    raise ValueError(f"cannot start from this model: {name} is {tuple(value.shape)}")
            target.load_state_dict(own)
        missing, unexpected = _unwrap(self.D).load_state_dict(model.discriminator.state_dict(), strict=False)
        if unexpected or any(not name.startswith(("q_head.", "code_embed.")) for name in missing):
            raise ValueError(f"cannot start from this discriminator: missing {missing}, unexpected {unexpected}")

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        self.ema.eval()
        images = self.ema(self.fixed_z, self._labels(self.fixed_y)).cpu()
        self.ema.train()
        return images

    @torch.no_grad()
    def export(self, calibration_batches: int = 20, batch_size: int = 256) -> GAN:
        """A GAN with the EMA generator, whose BatchNorm statistics are recomputed for the EMA weights."""
        generator = copy.deepcopy(self.ema).cpu()
        for module in generator.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the calibration batches
        generator.train()
        rng = torch.Generator("cpu").manual_seed(self.config.seed + 4)
        for _ in range(calibration_batches):
            z = torch.randn(batch_size, self.model_config.z_dim, generator=rng)
            y = torch.randint(max(self.model_config.num_classes, 1), (batch_size,), generator=rng)
            generator(z, self._labels(y))
        for module in generator.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = 0.1
        model = GAN(self.model_config)
        model.generator.load_state_dict(generator.state_dict())
        model.discriminator.load_state_dict(_unwrap(self.D).state_dict())
        return model.eval()


@dataclass
class VAETrainConfig:
    steps: int = 4000
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    preview_every: int = 0
    preview_count: int = 16
    lr_schedule: str = "constant"  # or "cosine": from lr down to lr * final_lr_ratio at the last step
    final_lr_ratio: float = 0.01
    shift_pixels: int = 0  # random shifts of each training image by up to this many pixels, against overfitting
    kl_warmup_steps: int = 0  # the KL weight rises linearly from 0 to β over these first steps
    ema_decay: float = 0.0  # > 0: also keep an exponential moving average of the weights, and export that
    # reconstruct a fresh binary draw of each digit (pixel on with its grey level's probability), not its grey levels:
    # the same expected loss, with noise that keeps the decoder from fitting each training digit's exact edges
    binarize_targets: bool = False
    weight_decay: float = 0.0  # > 0: AdamW's decoupled weight decay in place of plain Adam
    # > 0: free bits (Kingma et al. 2016): the batch's mean KL term is trained as max(KL, free_nats), so a decoder
    # that could do without the code (one with a pixel head) gains nothing by squeezing the code below free_nats
    free_nats: float = 0.0


VAE_LR_SCHEDULES = ("constant", "cosine")


class VAETrainer(Trainer):
    """Trains a VAE on images (N, 1, 28, 28) in [0, 1] with the β-weighted ELBO from its config.

    Options (VAETrainConfig): a cosine learning-rate decay, random shifts of each batch, a KL warm-up, a moving
    average of the weights (exported in place of the last weights when enabled), binary draws of each digit as the
    reconstruction target, and weight decay.
    """

    def __init__(
        self,
        model_config: VAEConfig,
        train_config: VAETrainConfig,
        images: torch.Tensor,
        accelerator: Accelerator | None = None,
    ):
        if train_config.lr_schedule not in VAE_LR_SCHEDULES:
            raise ValueError(
                f"unknown learning-rate schedule {train_config.lr_schedule!r}; choose {' or '.join(VAE_LR_SCHEDULES)}"
            )
        self.model_config, self.config = model_config, train_config
        self.accelerator = accelerator or _default_accelerator()
        device = self.accelerator.device
        vae = _seeded_init(train_config.seed, lambda: VAE(model_config))
        if train_config.weight_decay > 0:
            optimizer = torch.optim.AdamW(vae.parameters(), train_config.lr, weight_decay=train_config.weight_decay)
        else:
            optimizer = torch.optim.Adam(vae.parameters(), train_config.lr)
        self.vae, self.optimizer = self.accelerator.prepare(vae, optimizer)
        self.images = images.to(device)
        self.step = 0
        self.batch_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 1, self.accelerator))
        self.noise_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 2, self.accelerator))
        fixed = torch.Generator("cpu").manual_seed(train_config.seed + 3)
        self.fixed_z = torch.randn(train_config.preview_count, model_config.latent_dim, generator=fixed).to(device)
        self.modules = {"vae": self.vae}
        self.ema = None
        if train_config.ema_decay > 0:
            self.ema = copy.deepcopy(vae).to(device).requires_grad_(False)
            self.modules["ema"] = self.ema
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.batch_rng, "noise": self.noise_rng}
        self.target_rng = None
        if train_config.binarize_targets:  # its own stream, so runs without it keep their old draws and states
            seed = _stream_seed(train_config.seed + 4, self.accelerator)
            self.target_rng = torch.Generator("cpu").manual_seed(seed)
            self.rngs["targets"] = self.target_rng

    def learning_rate(self) -> float:
        """The learning rate for the current step under the configured schedule."""
        if self.config.lr_schedule == "constant":
            return self.config.lr
        progress = min(self.step / max(self.config.steps - 1, 1), 1.0)
        ratio = self.config.final_lr_ratio
        return self.config.lr * (ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * progress)))

    def kl_weight(self) -> float:
        """β, ramped up from 0 over the first kl_warmup_steps steps."""
        warmup = self.config.kl_warmup_steps
        return self.model_config.beta * (min(1.0, (self.step + 1) / warmup) if warmup else 1.0)

    def train_step(self) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        index = torch.randint(len(self.images), (self.config.batch_size,), generator=self.batch_rng)
        images = self.images[index.to(self.images.device)]
        # offsets come from the batch stream, drawn only when shifting, so unshifted runs keep their old batches
        images = random_shift(images, self.config.shift_pixels, self.batch_rng)
        targets = None
        if self.target_rng is not None:
            draws = torch.rand(images.shape, generator=self.target_rng).to(images.device)
            targets = (draws < images).to(images.dtype)
        losses = vae_losses(self.vae, images, self.kl_weight(), self.noise_rng, targets)
        loss = losses["loss"]
        if self.config.free_nats > 0:
            loss = losses["reconstruction"] + self.kl_weight() * losses["kl"].clamp(min=self.config.free_nats)
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.optimizer.step()
        if self.ema is not None:
            _update_average(self.ema, _unwrap(self.vae), self.config.ema_decay, self.step)
        return {name: losses[name].item() for name in ("reconstruction", "kl", "loss")}

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        """Decoded fixed prior samples (through the learned prior, if the model has one), mapped to [-1, 1] like
        every preview."""
        vae = self._exported_weights()
        return vae.decode(vae.prior_latents(self.fixed_z)).cpu() * 2 - 1

    def _exported_weights(self) -> torch.nn.Module:
        return self.ema if self.ema is not None else _unwrap(self.vae)

    def export(self) -> VAE:
        model = VAE(self.model_config)
        model.load_state_dict(self._exported_weights().state_dict())
        return model.eval()


@dataclass
class CharGPTTrainConfig:
    steps: int = 3000
    batch_size: int = 32
    lr: float = 2e-3
    warmup_steps: int = 100
    weight_decay: float = 0.1
    seed: int = 0
    preview_every: int = 0  # previews are text, produced by the caller from export()


class CharGPTTrainer(Trainer):
    """Trains a character-level GPT on token ids (N,) with random windows, AdamW and a cosine schedule."""

    model_class = CharGPT

    def __init__(
        self,
        model_config: CharGPTConfig,
        train_config: CharGPTTrainConfig,
        ids: torch.Tensor,
        accelerator: Accelerator | None = None,
    ):
        if len(ids) <= model_config.block_size + 1:
            raise ValueError(f"the training text must be longer than {model_config.block_size + 1} characters")
        self.model_config, self.config = model_config, train_config
        self.accelerator = accelerator or _default_accelerator()
        model = _seeded_init(train_config.seed, lambda: self.model_class(model_config))
        optimizer = torch.optim.AdamW(
            model.parameters(), train_config.lr, betas=(0.9, 0.99), weight_decay=train_config.weight_decay
        )
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.ids = ids.to(self.accelerator.device)
        self.step = 0
        self.batch_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 1, self.accelerator))
        self.modules = {"model": self.model}
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.batch_rng}

    def _learning_rate(self) -> float:
        return _warmup_cosine(self.config.lr, self.step, self.config.steps, self.config.warmup_steps)

    def train_step(self) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = self._learning_rate()
        windows = self._windows(self.model_config.block_size + 1)  # (B, block + 1)
        _, loss = self.model(windows[:, :-1], windows[:, 1:])
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.accelerator.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return {"train": loss.item()}

    def _windows(self, length: int) -> torch.Tensor:
        """(batch_size, length) random windows of the training ids."""
        starts = torch.randint(len(self.ids) - length, (self.config.batch_size,), generator=self.batch_rng)
        return torch.stack([self.ids[s : s + length] for s in starts.tolist()])

    def export(self) -> CharGPT:
        model = self.model_class(self.model_config)
        model.load_state_dict(_unwrap(self.model).state_dict())
        return model.eval()


class MaskedLMTrainer(CharGPTTrainer):
    """Trains the masked character model: random windows with spans hidden (span_mask, BERT's 80/10/10 corruption),
    the loss on the hidden characters only. The same optimiser and schedule as the char-GPT."""

    model_class = MaskedCharLM

    def __init__(self, model_config: MaskedCharLMConfig, train_config: CharGPTTrainConfig, ids: torch.Tensor, **kw):
        super().__init__(model_config, train_config, ids, **kw)
        self.mask_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 2, self.accelerator))
        self.rngs["mask"] = self.mask_rng

    def train_step(self) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = self._learning_rate()
        windows = self._windows(self.model_config.block_size).cpu()
        config = self.model_config
        mask = span_mask(tuple(windows.shape), config.mask_rate, config.mean_span, self.mask_rng)
        inputs, targets = mask_inputs(windows, mask, config.vocab_size, config.vocab_size, self.mask_rng, corrupt=True)
        device = self.accelerator.device
        _, loss = self.model(inputs.to(device), targets.to(device))
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.accelerator.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return {"train": loss.item()}


@torch.no_grad()
def evaluate_chargpt(model: CharGPT, ids: torch.Tensor, max_windows: int = 200) -> float:
    """Mean cross-entropy in nats per character over evenly spaced, non-overlapping windows of `ids`."""
    was_training = model.training
    model.eval()
    block = model.config.block_size
    count = min(max_windows, (len(ids) - 1) // block)
    if count < 1:
        raise ValueError("the validation text is shorter than one context window")
    starts = torch.linspace(0, len(ids) - block - 1, count).long()
    device = next(model.parameters()).device
    windows = torch.stack([ids[s : s + block + 1] for s in starts.tolist()]).to(device)
    total = 0.0
    for batch in windows.split(50):
        total += model(batch[:, :-1], batch[:, 1:])[1].item() * len(batch)
    model.train(was_training)
    return total / count


@dataclass
class ClassifierTrainConfig:
    steps: int = 3000
    batch_size: int = 128
    lr: float = 2e-3
    max_shift_pixels: int = 2
    seed: int = 0


class ClassifierTrainer(Trainer):
    """Trains the MNIST judge with small random shifts as augmentation."""

    def __init__(self, model_config: ClassifierConfig, train_config: ClassifierTrainConfig, images, labels):
        self.config = train_config
        self.model = _seeded_init(train_config.seed, lambda: MNISTClassifier(model_config))
        self.optimizer = torch.optim.AdamW(self.model.parameters(), train_config.lr, weight_decay=1e-4)
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, train_config.lr, total_steps=train_config.steps
        )
        self.images, self.labels = images, labels
        self.rng = torch.Generator("cpu").manual_seed(train_config.seed + 1)
        self.step = 0
        self.modules = {"model": self.model}
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.rng}

    def _shift(self, batch: torch.Tensor) -> torch.Tensor:
        pad = self.config.max_shift_pixels
        padded = F.pad(batch, (pad, pad, pad, pad), value=-1.0)
        dx, dy = torch.randint(0, 2 * pad + 1, (2,), generator=self.rng).tolist()
        return padded[:, :, dy : dy + 28, dx : dx + 28]

    def train_step(self) -> dict[str, float]:
        index = torch.randint(len(self.images), (self.config.batch_size,), generator=self.rng)
        loss = F.cross_entropy(self.model(self._shift(self.images[index])), self.labels[index])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        return {"cross_entropy": loss.item()}


@dataclass
class DiffusionTrainConfig:
    steps: int = 20_000
    batch_size: int = 128
    lr: float = 5e-4
    warmup_steps: int = 500
    ema_decay: float = 0.999
    seed: int = 0
    preview_every: int = 0
    preview_count: int = 10
    preview_steps: int = 20  # DDIM steps for the previews
    min_snr_gamma: float = 0.0  # 0: every step's error counts alike; else min-SNR-gamma weighting (diffusion_loss)
    cosine_steps: int = 0  # the cosine decay ends at this step (0: at the last); later steps keep a tenth of lr


class DiffusionTrainer(Trainer):
    """Trains a class-conditional diffusion model on images (N, 1, 28, 28) in [-1, 1] with labels (N,), keeping
    an exponential moving average of its weights (what is exported and sampled)."""

    def __init__(
        self,
        model_config: DiffusionConfig,
        train_config: DiffusionTrainConfig,
        images: torch.Tensor,
        labels: torch.Tensor,
        accelerator: Accelerator | None = None,
    ):
        from .diffusion import DiffusionModel

        self.model_config, self.config = model_config, train_config
        self.accelerator = accelerator or _default_accelerator()
        device = self.accelerator.device
        model = _seeded_init(train_config.seed, lambda: DiffusionModel(model_config))
        self.ema = copy.deepcopy(model).to(device).requires_grad_(False)
        optimizer = torch.optim.AdamW(model.parameters(), train_config.lr, weight_decay=0.0)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.images, self.labels = images.to(device), labels.to(device)
        self.step = 0
        self.batch_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 1, self.accelerator))
        self.noise_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 2, self.accelerator))
        self.modules = {"model": self.model, "ema": self.ema}
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.batch_rng, "noise": self.noise_rng}

    def learning_rate(self) -> float:
        """A linear warm-up, then a cosine decay to a tenth of the rate at the last step (or at cosine_steps, after
        which the rate stays at a tenth)."""
        decay_end = self.config.cosine_steps or self.config.steps
        return _warmup_cosine(self.config.lr, self.step, decay_end, self.config.warmup_steps)

    def train_step(self) -> dict[str, float]:
        from .diffusion import diffusion_loss

        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        index = torch.randint(len(self.images), (self.config.batch_size,), generator=self.batch_rng)
        index = index.to(self.images.device)
        # without dropout nothing is drawn for it, so runs from before it existed repeat as they were
        dropout = self.model_config.dropout
        with _dropout_seeded_from(self.noise_rng, self.accelerator) if dropout else contextlib.nullcontext():
            loss = diffusion_loss(
                _unwrap(self.model), self.images[index], self.labels[index], self.noise_rng, self.config.min_snr_gamma
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        _update_average(self.ema, _unwrap(self.model), self.config.ema_decay, self.step)
        return {"loss": loss.item()}

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        """The digits 0-9 from fixed noise, preview_steps steps of the default sampler and guidance (in [-1, 1])."""
        from .diffusion import DEFAULT_GUIDANCE, DEFAULT_SAMPLER, sample

        self.ema.eval()  # run() put every module in training mode: the average samples without dropout
        labels = torch.arange(self.config.preview_count) % self.model_config.num_classes
        generator = torch.Generator("cpu").manual_seed(self.config.seed + 3)
        *_, last = sample(self.ema, labels, self.config.preview_steps, DEFAULT_GUIDANCE, DEFAULT_SAMPLER, generator)
        return last.x

    def export(self):
        from .diffusion import DiffusionModel

        model = DiffusionModel(self.model_config)
        model.load_state_dict(self.ema.state_dict())
        return model.eval()


@torch.no_grad()
def _update_average(average: torch.nn.Module, model: torch.nn.Module, decay: float, step: int) -> None:
    """Moves a moving average of model's weights one step. The average warms up: early on it follows the weights
    closely (decay (1 + n) / (10 + n)), so a short run's exported model is not still mostly its random start."""
    decay = min(decay, (1 + step) / (10 + step))
    for average_param, param in zip(average.parameters(), model.parameters(), strict=True):
        average_param.lerp_(param, 1 - decay)


def _warmup_cosine(lr: float, step: int, steps: int, warmup_steps: int) -> float:
    """A linear warm-up over warmup_steps, then a cosine decay to a tenth of lr at the last step."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = min((step - warmup_steps) / max(steps - warmup_steps, 1), 1)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@dataclass
class VQVAETrainConfig:
    steps: int = 6000
    batch_size: int = 128
    lr: float = 1e-3
    warmup_steps: int = 100
    seed: int = 0
    preview_every: int = 0
    preview_count: int = 16


class VQVAETrainer(Trainer):
    """Stage 1 of a VQ-VAE: trains the encoder and decoder on images (N, 1, 28, 28) in [-1, 1] with Adam, while the
    codebook follows its moving averages (and restarts dead codes) inside the model's forward. The prior is untouched.
    """

    def __init__(
        self,
        model_config,
        train_config: VQVAETrainConfig,
        images: torch.Tensor,
        accelerator: Accelerator | None = None,
    ):
        from .vqvae import VQVAE

        self.model_config, self.config = model_config, train_config
        self.accelerator = accelerator or _default_accelerator()
        device = self.accelerator.device
        model = _seeded_init(train_config.seed, lambda: VQVAE(model_config))
        model.prior.requires_grad_(False)  # stage 2's job; without gradients, DDP does not wait for them either
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], train_config.lr)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.images = images.to(device)
        self.step = 0
        self.batch_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 1, self.accelerator))
        self.noise_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 2, self.accelerator))
        fixed = torch.Generator("cpu").manual_seed(train_config.seed + 3)
        self.fixed_images = self.images[torch.randperm(len(images), generator=fixed)[: train_config.preview_count]]
        self.modules = {"model": self.model}
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.batch_rng, "noise": self.noise_rng}

    def learning_rate(self) -> float:
        return _warmup_cosine(self.config.lr, self.step, self.config.steps, self.config.warmup_steps)

    def train_step(self) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        index = torch.randint(len(self.images), (self.config.batch_size,), generator=self.batch_rng)
        _, losses = self.model(self.images[index.to(self.images.device)], self.noise_rng)
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(losses["loss"])
        self.optimizer.step()
        return {name: losses[name].item() for name in ("reconstruction", "commitment", "perplexity")}

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        """Reconstructions of fixed training digits through their codes, in [-1, 1] (encode and decode leave the
        codebook as it is)."""
        model = _unwrap(self.model)
        return model.decode(model.encode(self.fixed_images)).cpu()

    def export(self):
        """A copy of the model; its prior is still the seeded initial one (a fresh VQVAE would draw it from the
        global RNG, and stage 2 would not repeat)."""
        return copy.deepcopy(_unwrap(self.model)).cpu().eval().requires_grad_(False)


@dataclass
class VQPriorTrainConfig:
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 0.1
    seed: int = 0
    preview_every: int = 0
    preview_count: int = 10
    preview_temperature: float = 1.0


class VQPriorTrainer(Trainer):
    """Stage 2 of a VQ-VAE: with the autoencoder frozen, trains the GPT prior on the codes of images (N, 1, 28, 28) in
    [-1, 1] with labels (N,), encoded once up front. The class is dropped (shown as "no class") for the model config's
    class_dropout of the digits, so the prior also samples without one."""

    def __init__(
        self,
        model,
        train_config: VQPriorTrainConfig,
        images: torch.Tensor,
        labels: torch.Tensor,
        accelerator: Accelerator | None = None,
    ):
        self.model_config, self.config = model.config, train_config
        self.accelerator = accelerator or _default_accelerator()
        device = self.accelerator.device
        self.model = copy.deepcopy(model).to(device).eval().requires_grad_(False)
        self.model.check_labels(labels, len(images))  # a bad label would fail much later, deep in an embedding
        with torch.no_grad():
            codes = torch.cat([self.model.encode(chunk.to(device)) for chunk in images.split(500)])  # (N, 7, 7)
        self.codes, self.labels = codes, labels.to(device)
        prior = self.model.prior.requires_grad_(True)  # trained from where `model` left it (stage 1: seeded, fresh)
        optimizer = torch.optim.AdamW(
            prior.parameters(), train_config.lr, betas=(0.9, 0.99), weight_decay=train_config.weight_decay
        )
        self.prior, self.optimizer = self.accelerator.prepare(prior, optimizer)
        self.step = 0
        self.batch_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 1, self.accelerator))
        self.noise_rng = torch.Generator("cpu").manual_seed(_stream_seed(train_config.seed + 2, self.accelerator))
        self.modules = {"prior": self.prior}
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.batch_rng, "noise": self.noise_rng}

    def learning_rate(self) -> float:
        return _warmup_cosine(self.config.lr, self.step, self.config.steps, self.config.warmup_steps)

    def train_step(self) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        batch = self.config.batch_size
        index = torch.randint(len(self.codes), (batch,), generator=self.batch_rng).to(self.codes.device)
        codes, labels = self.codes[index].flatten(1), self.labels[index]  # (B, 49), (B,)
        dropped = torch.rand(batch, generator=self.noise_rng).to(labels.device) < self.model_config.class_dropout
        labels = torch.where(dropped, torch.full_like(labels, self.model_config.num_classes), labels)
        with _dropout_seeded_from(self.noise_rng, self.accelerator):
            logits = self.prior(codes[:, :-1], labels)  # (B, 49, K): position i predicts code i
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), codes.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.accelerator.clip_grad_norm_(self.prior.parameters(), 1.0)
        self.optimizer.step()
        return {"nats_per_code": loss.item()}

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        """The digits 0-9 (repeated up to preview_count) sampled from fixed seeds and decoded, in [-1, 1]."""
        labels = torch.arange(self.config.preview_count) % self.model_config.num_classes
        generator = torch.Generator("cpu").manual_seed(self.config.seed + 3)
        prior = _unwrap(self.prior)
        was_training = prior.training
        prior.eval()  # no dropout while sampling
        codes = self.model.sample_codes(labels, self.config.preview_temperature, None, generator)
        prior.train(was_training)
        return self.model.decode(codes).cpu()

    def export(self):
        """The frozen autoencoder with this prior: one VQVAE."""
        model = copy.deepcopy(self.model).cpu()
        model.prior.load_state_dict(_unwrap(self.prior).state_dict())
        return model.eval().requires_grad_(False)


class VQVAETwoStageTrainer(Trainer):
    """A whole VQ-VAE in one run (the Training tab's): the autoencoder for the first `autoencoder_steps`, then the
    prior over its codes (the codes of the training digits are taken from the autoencoder as stage 1 left it).

    Its state is both stages' states side by side (autoencoder/, prior/ once stage 2 has begun); the run's step counts
    both stages. Stage 1's losses are reconstruction, commitment and perplexity; stage 2's is nats_per_code.
    """

    def __init__(
        self,
        model_config,
        autoencoder_config: VQVAETrainConfig,
        prior_config: VQPriorTrainConfig,
        images: torch.Tensor,
        labels: torch.Tensor,
        accelerator: Accelerator | None = None,
    ):
        self.model_config, self.prior_config = model_config, prior_config
        self.accelerator = accelerator or _default_accelerator()
        self.images, self.labels = images, labels
        self.stage1 = VQVAETrainer(model_config, autoencoder_config, images, self.accelerator)
        self.stage2: VQPriorTrainer | None = None
        self.config = copy.copy(autoencoder_config)
        self.config.steps = autoencoder_config.steps + prior_config.steps
        self.step = 0
        self.modules, self.optimizers, self.rngs = {}, {}, {}

    @property
    def autoencoder_steps(self) -> int:
        return self.stage1.config.steps

    def _begin_prior(self) -> None:
        self.stage2 = VQPriorTrainer(
            self.stage1.export(), self.prior_config, self.images, self.labels, self.accelerator
        )

    def train_step(self) -> dict[str, float]:
        if self.step < self.autoencoder_steps:
            losses = self.stage1.train_step()
            self.stage1.step += 1
            return losses
        if self.stage2 is None:
            self._begin_prior()
        losses = self.stage2.train_step()
        self.stage2.step += 1
        return losses

    def run(self, stop_event: threading.Event | None = None) -> Iterator[TrainEvent]:
        """As Trainer.run, stage by stage: stage 2's losses are on another scale, so each stage's losses are checked
        against its own first step's."""
        while self.step < self.config.steps:
            yield from self._run_stage(stop_event)
            if stop_event is not None and stop_event.is_set():
                return

    def _run_stage(self, stop_event: threading.Event | None) -> Iterator[TrainEvent]:
        if self.step >= self.autoencoder_steps and self.stage2 is None:
            self._begin_prior()
        stage = self.stage1 if self.step < self.autoencoder_steps else self.stage2
        end = self.autoencoder_steps if stage is self.stage1 else self.config.steps
        for module in stage.modules.values():
            module.train()
        first = None
        while self.step < end:
            if stop_event is not None and stop_event.is_set():
                return
            losses = self.train_step()
            first = self._check_losses(losses, first)
            self.step += 1
            every = self.config.preview_every
            show = every and (self.step % every == 0 or self.step in (self.autoencoder_steps, self.config.steps))
            yield TrainEvent(self.step, losses, self.preview() if show else None)

    def preview(self) -> torch.Tensor:
        """Stage 1: reconstructions of fixed digits through their codes; stage 2: digits 0-9 from the prior."""
        return self.stage2.preview() if self.stage2 is not None else self.stage1.preview()

    def export(self):
        return self.stage2.export() if self.stage2 is not None else self.stage1.export()

    def _meta(self) -> dict:
        return {
            "train_config": asdict(self.config),
            "prior_config": asdict(self.prior_config),
            "model_config": asdict(self.model_config),
        }

    def save_state(self, folder: Path) -> None:
        if not self.is_main_process:
            return

        def build(tmp: Path) -> None:
            self.stage1.save_state(tmp / "autoencoder")
            if self.stage2 is not None:
                self.stage2.save_state(tmp / "prior")
            meta = {"step": self.step, **self._meta(), "history": list(self.history)}
            (tmp / "trainer.json").write_text(json.dumps(meta, indent=2))

        atomic_replace_dir(build, folder)

    def load_state(self, folder: Path) -> None:
        meta = json.loads((Path(folder) / "trainer.json").read_text())
        if meta.get("model_config") != asdict(self.model_config):
            raise ValueError("the saved run used a different model configuration")
        self.stage1.load_state(Path(folder) / "autoencoder")
        if (Path(folder) / "prior" / "trainer.json").is_file():
            self._begin_prior()
            self.stage2.load_state(Path(folder) / "prior")
        self.step = meta["step"]
        self.history = tuple(meta.get("history", ()))
