"""Training runs started from the app: validated settings -> trainer, live quality measure, and saving.

Finished or stopped runs become checkpoints in runs/models/NAME (which the registry scans, so they appear in
every tab's picker) with resumable state in runs/states/NAME. Limits keep a shared CPU from being exhausted.
"""

import contextlib
import json
import math
import re
from dataclasses import asdict, dataclass

import torch

from .chargpt import CharGPTConfig
from .checkpoints import (
    CHECKPOINTS_DIR,
    MODELS_DIR,
    RUNS_DIR,
    load_checkpoint,
    make_card,
    recover_interrupted_saves,
    save_checkpoint,
)
from .classifier import MNISTClassifier
from .data import load_shakespeare, mnist_splits, split_text, to_signed
from .diagnose import ENTROPY_KEY
from .gan import GAN, GANConfig
from .metrics import (
    classify,
    diversity,
    evaluate_vae,
    frechet_distance,
    generate_for_evaluation,
    inception_score,
)
from .trainers import (
    GAN_LOSSES,
    CharGPTTrainConfig,
    CharGPTTrainer,
    GANTrainConfig,
    GANTrainer,
    VAETrainConfig,
    VAETrainer,
    evaluate_chargpt,
)
from .vae import VAEConfig
from .vae_pipeline import prior_samples

STATES_DIR = RUNS_DIR / "states"
FAMILIES = ("gan", "vae", "chargpt", "diffusion", "vqvae", "lora")
TEXT_FAMILIES = ("chargpt", "lora")  # trained on Tiny Shakespeare or the student's own text
MAX_LORA_STEPS = 500  # a LoRA step of 4 x 128 tokens takes about 2.6 s on 2 CPU cores
MAX_LORA_BATCH = 16
LORA_SAMPLE_TOKENS = 30
LORA_EVALUATION_WINDOWS = 8  # held-out windows in the live curve (each a forward pass of the 135 M model)
VQ_AUTOENCODER_SHARE = 0.6  # a Training-tab VQ-VAE run: the first 60% of its steps train the autoencoder
DIFFUSION_CHANNELS = 32  # a Training-tab diffusion run: the shipped U-Net, narrower (about 2x faster to train)
MAX_STEPS = 5000
MAX_LEARNING_RATE = 10.0
MAX_TEXT_CHARACTERS = 2_000_000
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run; checked by validate() before any work starts."""

    family: str
    name: str
    steps: int = 500
    seed: int = 0
    batch_size: int = 64
    learning_rate: float = 2e-4
    discriminator_learning_rate: float = 2e-4  # GANs only
    gan_loss: str = "hinge"
    conditional: bool = False
    latent_dim: int = 64
    beta: float = 1.0
    layers: int = 2
    heads: int = 4
    width: int = 64
    context: int = 64
    init_from: str = ""  # GANs: start from a shipped GAN's generator and discriminator instead of random weights

    def validate(self) -> None:
        def check(condition: bool, message: str) -> None:
            if not condition:
                raise ValueError(message)

        check(self.family in FAMILIES, f"model family must be one of {', '.join(FAMILIES)}")
        check(bool(NAME_PATTERN.match(self.name)), "run names use lowercase letters, digits and dashes (up to 40)")
        check(not (CHECKPOINTS_DIR / self.name).exists(), f"{self.name!r} is a shipped model's name; choose another")
        check(1 <= self.steps <= MAX_STEPS, f"steps must be 1 to {MAX_STEPS} on this server")
        check(0 <= self.seed < 2**31, "seed must be a whole number from 0 to 2147483647")
        check(2 <= self.batch_size <= 256, "batch size must be 2 to 256")
        for rate in (self.learning_rate, self.discriminator_learning_rate):
            # up to 10: a too-large rate is a lesson (the run stops itself as diverged), not a danger to the server
            check(math.isfinite(rate) and 1e-6 <= rate <= MAX_LEARNING_RATE, "learning rates must be 1e-6 to 10")
        check(self.gan_loss in GAN_LOSSES, f"GAN loss must be one of {', '.join(GAN_LOSSES)}")
        check(1 <= self.latent_dim <= 256, "latent size must be 1 to 256")
        check(math.isfinite(self.beta) and 0.0 <= self.beta <= 20.0, "β must be 0 to 20")
        check(1 <= self.layers <= 6, "layers must be 1 to 6")
        check(1 <= self.heads <= 8 and self.width % self.heads == 0, "heads must be 1 to 8 and divide the width")
        check(16 <= self.width <= 256, "width must be 16 to 256")
        check(8 <= self.context <= 256, "context must be 8 to 256 characters")
        if self.family == "lora":
            check(self.steps <= MAX_LORA_STEPS, f"a LoRA run takes at most {MAX_LORA_STEPS} steps on this server")
            check(self.batch_size <= MAX_LORA_BATCH, f"a LoRA run's batch is at most {MAX_LORA_BATCH} sequences")
            check(16 <= self.context <= 256, "a LoRA run's sequences are 16 to 256 tokens")
        if self.init_from:
            check(self.family == "gan" and self.init_from in SHIPPED_GANS, "a run can start only from a shipped GAN")
            config = SHIPPED_GANS[self.init_from]
            check(
                config == (self.latent_dim, self.conditional),
                f"{self.init_from} needs latent size {config[0]} and conditional {config[1]}",
            )


# The shipped GANs a run may start from, with (latent size, conditional) a run must match.
SHIPPED_GANS = {"gan-mnist": (64, False), "cgan-mnist": (64, True)}


def start_from(trainer: GANTrainer, gan: GAN) -> None:
    """Give a fresh GAN trainer a trained GAN's generator (also as its moving average) and discriminator."""
    trainer.G.load_state_dict(gan.generator.state_dict())
    trainer.ema.load_state_dict(gan.generator.state_dict())
    trainer.D.load_state_dict(gan.discriminator.state_dict())


def preview_every(steps: int) -> int:
    return max(1, steps // 20)


# A quality measure (the judge on 500 samples, or a held-out pass) costs several training steps of a small run, so a
# short run is measured every 10 steps at most often (and at its last step), not ten times whatever its length.
MIN_QUALITY_EVERY = 10


def quality_every(steps: int) -> int:
    """How often a Training-tab run measures its quality: ten times over a run of 100 steps or more."""
    return max(MIN_QUALITY_EVERY, steps // 10)


def _training_text(text: str | None) -> str:
    """A text family's text: the student's own within the limit, or Tiny Shakespeare."""
    text = text if text is not None else load_shakespeare()
    if len(text) > MAX_TEXT_CHARACTERS:
        raise ValueError(f"the text has {len(text):,} characters; the limit is {MAX_TEXT_CHARACTERS:,}")
    return text


def starting_step(spec: RunSpec, text: str | None = None) -> int:
    """Check a run's request as its own process will, before that process starts, and return the step it starts
    (or resumes) from; ValueError (or DatasetUnavailable) says what is wrong.

    Most families are simply built, which checks their data, text and a resumed run's configuration. A LoRA run
    checks its text with SmolLM2's tokenizer alone and reads its saved step, so that the server does not load the
    135 M-parameter model only for the worker process to load it again (its saved state holds the adapter alone,
    whose shape the fixed rank decides)."""
    if spec.family != "lora":
        return Run(spec, text).trainer.step
    from .lora import load_tokenizer, tokenize_split

    spec.validate()
    tokenize_split(load_tokenizer(), _training_text(text), spec.context)
    recover_interrupted_saves(STATES_DIR)
    state = STATES_DIR / spec.name / "trainer.json"
    return int(json.loads(state.read_text())["step"]) if state.is_file() else 0


class Run:
    """A trainer built from a spec, with its quality measure and its save step."""

    def __init__(self, spec: RunSpec, text: str | None = None, classifier: MNISTClassifier | None = None):
        spec.validate()
        self.spec = spec
        recover_interrupted_saves(STATES_DIR)  # a previous save killed halfway leaves the one before it
        self.state_dir = STATES_DIR / spec.name
        every = preview_every(spec.steps)
        if spec.family in ("gan", "vae", "diffusion", "vqvae"):
            train, held_out = mnist_splits()
            self.held_out = held_out
            self.unit_held_out = held_out.images[:500].float().unsqueeze(1) / 255.0
        self.classifier = classifier
        self._real_features: dict[int, torch.Tensor] = {}  # the judge's features of the first N held-out digits
        self._quality: tuple[int, dict[str, float]] | None = None  # the last measure, with the step it was taken at
        if spec.family == "gan":
            self.trainer = GANTrainer(
                GANConfig(z_dim=spec.latent_dim, num_classes=10 if spec.conditional else 0),
                GANTrainConfig(
                    steps=spec.steps,
                    batch_size=spec.batch_size,
                    lr_g=spec.learning_rate,
                    lr_d=spec.discriminator_learning_rate,
                    loss=spec.gan_loss,
                    seed=spec.seed,
                    preview_every=every,
                    # from trained weights the run is about what the generator does now: a short moving average
                    ema_decay=0.9 if spec.init_from else GANTrainConfig.ema_decay,
                ),
                to_signed(train.images),
                train.labels,
            )
            if spec.init_from:
                start_from(self.trainer, load_checkpoint(GAN, CHECKPOINTS_DIR / spec.init_from))
        elif spec.family == "vae":
            self.trainer = VAETrainer(
                VAEConfig(latent_dim=spec.latent_dim, beta=spec.beta),
                VAETrainConfig(
                    steps=spec.steps,
                    batch_size=spec.batch_size,
                    lr=spec.learning_rate,
                    seed=spec.seed,
                    preview_every=every,
                ),
                train.images.float().unsqueeze(1) / 255.0,
            )
        elif spec.family == "diffusion":
            from .diffusion import DiffusionConfig
            from .trainers import DiffusionTrainConfig, DiffusionTrainer

            self.trainer = DiffusionTrainer(
                DiffusionConfig(channels=DIFFUSION_CHANNELS, prediction="v"),  # the shipped model's objective
                DiffusionTrainConfig(
                    min_snr_gamma=5.0,
                    steps=spec.steps,
                    batch_size=spec.batch_size,
                    lr=spec.learning_rate,
                    seed=spec.seed,
                    warmup_steps=min(500, max(spec.steps // 10, 1)),
                    # the exported (and previewed) model is a moving average: over about a tenth of a short run
                    ema_decay=min(0.999, max(0.9, 1 - 10 / spec.steps)),
                    preview_every=every,
                    preview_steps=10,
                ),
                to_signed(train.images),
                train.labels,
            )
        elif spec.family == "vqvae":
            from .trainers import VQPriorTrainConfig, VQVAETrainConfig, VQVAETwoStageTrainer
            from .vqvae import VQVAEConfig

            autoencoder_steps = max(1, round(spec.steps * VQ_AUTOENCODER_SHARE))
            self.trainer = VQVAETwoStageTrainer(
                VQVAEConfig(),
                VQVAETrainConfig(
                    steps=autoencoder_steps,
                    batch_size=spec.batch_size,
                    lr=spec.learning_rate,
                    seed=spec.seed,
                    warmup_steps=min(100, max(autoencoder_steps // 10, 1)),
                    preview_every=every,
                ),
                VQPriorTrainConfig(
                    steps=spec.steps - autoencoder_steps,
                    batch_size=spec.batch_size,
                    seed=spec.seed,
                    warmup_steps=min(100, max((spec.steps - autoencoder_steps) // 10, 1)),
                ),
                to_signed(train.images),
                train.labels,
            )
        elif spec.family == "lora":
            self._build_lora(spec, text)
        else:
            text = _training_text(text)
            train_text, validation_text = split_text(text)
            vocab = "".join(sorted(set(text)))
            if len(vocab) < 2 or len(validation_text) <= spec.context + 1:
                raise ValueError(f"the text is too short: it needs more than {10 * (spec.context + 2):,} characters")
            config = CharGPTConfig(
                vocab=vocab, block_size=spec.context, n_layer=spec.layers, n_head=spec.heads, n_embd=spec.width
            )
            encode = {c: i for i, c in enumerate(vocab)}
            self.validation_ids = torch.tensor([encode[c] for c in validation_text])
            self.trainer = CharGPTTrainer(
                config,
                CharGPTTrainConfig(
                    steps=spec.steps,
                    batch_size=min(spec.batch_size, 64),
                    lr=spec.learning_rate,
                    seed=spec.seed,
                    warmup_steps=min(100, spec.steps // 10),
                ),
                torch.tensor([encode[c] for c in train_text]),
            )
        if (self.state_dir / "trainer.json").is_file():
            self.trainer.load_state(self.state_dir)  # resume: the configuration must match
        self.trainer.history = (*self.trainer.history, f"GenLab Training tab: {asdict(spec)}")

    def _build_lora(self, spec: RunSpec, text: str | None) -> None:
        from .lora import LoRATrainConfig, LoRATrainer, load_base, tokenize_split

        text = _training_text(text)
        base, self.tokenizer = load_base()
        train_ids, self.validation_ids = tokenize_split(self.tokenizer, text, spec.context)
        self.trainer = LoRATrainer(
            LoRATrainConfig(
                steps=spec.steps,
                batch_size=spec.batch_size,
                sequence_length=spec.context,
                lr=spec.learning_rate,
                seed=spec.seed,
                warmup_steps=min(10, max(spec.steps // 10, 1)),
            ),
            train_ids,
            base,
        )
        self.before: dict[str, float] = {}
        self.before_sample = ""

    def _adapter(self, on: bool):
        """A context in which the LoRA model runs with its adapter (on) or as the base model (off)."""
        return contextlib.nullcontext() if on else self.trainer.model.disable_adapter()

    def _lora_loss(self, adapter: bool) -> float:
        from .lora import held_out_loss

        with self._adapter(adapter):
            return held_out_loss(self.trainer.model, self.validation_ids, self.spec.context, LORA_EVALUATION_WINDOWS)

    def _evaluate_lora(self) -> dict[str, float]:
        """Held-out loss and perplexity of the text's last tenth, now and (once) before fine-tuning."""
        if not self.before:
            loss = self._lora_loss(adapter=False)
            self.before = {"loss": loss, "perplexity": math.exp(loss)}
        loss = self._lora_loss(adapter=True)
        return {
            "held-out perplexity": round(math.exp(loss), 3),
            "held-out perplexity before fine-tuning": round(self.before["perplexity"], 3),
            "held-out loss (nats/token)": round(loss, 4),
        }

    def _lora_sample(self, adapter: bool) -> str:
        from .lm import HFModel, continue_text
        from .textgen import SamplingSettings

        model = self.trainer.model
        was_training = model.training
        model.eval()
        try:
            wrapped = HFModel(model, self.tokenizer)
            settings = SamplingSettings(temperature=0.8, top_k=50, top_p=0.95, repetition_penalty=1.1)
            prompt_ids = self.lora_prompt_ids()
            with self._adapter(adapter):
                events = continue_text(wrapped, prompt_ids, settings, LORA_SAMPLE_TOKENS, self.spec.seed)
                return "".join(event.text for event in events)
        finally:
            model.train(was_training)

    def lora_prompt_ids(self) -> list[int]:
        """The before/after prompt: the first 12 tokens of the held-out text."""
        return self.validation_ids[:12].tolist()

    def _real(self, count: int) -> torch.Tensor:
        """The judge's features of the first `count` held-out digits, computed once per run."""
        if count not in self._real_features:
            self._real_features[count] = classify(self.classifier, to_signed(self.held_out.images[:count]))[1]
        return self._real_features[count]

    def evaluate(self, trainer=None) -> dict[str, float]:
        """A quick quality measure for the live curve (smaller samples than the shipped models' cards). The model
        changes only with a step, so a second measure at the same step (the run's card, after the curve's last
        point) is the first one again."""
        if self._quality is None or self._quality[0] != self.trainer.step:
            self._quality = (self.trainer.step, self._measure())
        return dict(self._quality[1])

    def _measure(self) -> dict[str, float]:
        if self.spec.family == "lora":
            return self._evaluate_lora()
        if self.spec.family == "gan":
            gan = self.trainer.export(calibration_batches=4)
            images, _ = generate_for_evaluation(gan, 500, 7)  # one set of samples for every number
            probabilities, features = classify(self.classifier, images)
            meter = diversity(probabilities)
            return {
                "Inception score": round(inception_score(probabilities), 4),
                "Fréchet distance": round(frechet_distance(features, self._real(500)), 4),
                ENTROPY_KEY: meter["entropy_bits"],
                "most common digit": meter["most_common"],
            }
        if self.spec.family == "vae":
            vae = self.trainer.export()
            scores = {}
            if self.classifier is not None:  # prior samples judged like GAN samples
                images = prior_samples(vae, 7, 64)
                for start in range(64, 500, 64):
                    images = torch.cat([images, prior_samples(vae, 7 + start, 64)])
                probabilities, features = classify(self.classifier, images * 2 - 1)
                scores["Inception score"] = round(inception_score(probabilities), 4)
                scores["Fréchet distance"] = round(frechet_distance(features, self._real(500)), 4)
            scores["held-out negative ELBO (nats)"] = evaluate_vae(vae, self.unit_held_out)["negative_elbo_nats"]
            return scores
        if self.spec.family == "diffusion":
            return self._evaluate_diffusion()
        if self.spec.family == "vqvae":
            return self._evaluate_vqvae()
        return {
            "validation loss (nats/char)": round(evaluate_chargpt(self.trainer.export(), self.validation_ids, 50), 4)
        }

    def _evaluate_diffusion(self, count: int = 50, steps: int = 8) -> dict[str, float]:
        """50 samples (digits 0-9 in turn) in 8 steps of the tab's default sampler and guidance, judged against 50
        held-out digits: a quick, rough curve (each sample costs a network pass per step; the scoreboard uses 500
        images and 20 steps)."""
        from .diffusion import DEFAULT_GUIDANCE, DEFAULT_SAMPLER, sample

        model = self.trainer.export()
        labels = torch.arange(count) % 10
        generator = torch.Generator().manual_seed(7)
        images = list(sample(model, labels, steps, DEFAULT_GUIDANCE, DEFAULT_SAMPLER, generator))[-1].x
        probabilities, features = classify(self.classifier, images)
        real = self._real(count)
        meter = diversity(probabilities)
        return {
            "Inception score": round(inception_score(probabilities), 4),
            "class accuracy": round(float((probabilities.argmax(dim=1) == labels).double().mean()), 4),
            "Fréchet distance": round(frechet_distance(features, real), 4),
            ENTROPY_KEY: meter["entropy_bits"],
        }

    def _evaluate_vqvae(self, count: int = 100) -> dict[str, float]:
        """Held-out reconstruction (500 digits) and the codebook's use; once the prior trains, 100 of its samples
        (digits 0-9 in turn) judged against 100 held-out digits."""
        from .vqvae import reconstruction_metrics

        model = self.trainer.export()
        scores = reconstruction_metrics(model, to_signed(self.held_out.images[:500]))
        result = {
            "held-out reconstruction (nats)": scores["reconstruction_nats"],
            "codes used": scores["codes_used"],
        }
        if self.trainer.stage2 is not None:
            labels = torch.arange(count) % 10
            codes = model.sample_codes(labels, 1.0, None, torch.Generator().manual_seed(7))
            probabilities, features = classify(self.classifier, model.decode(codes))
            real = self._real(count)
            result |= {
                "Inception score": round(inception_score(probabilities), 4),
                "class accuracy": round(float((probabilities.argmax(dim=1) == labels).double().mean()), 4),
                "Fréchet distance": round(frechet_distance(features, real), 4),
                ENTROPY_KEY: diversity(probabilities)["entropy_bits"],
            }
        return result

    def sample_text(self, length: int = 200) -> str:
        """A seeded sample from the current char-GPT for the preview: it changes only as training does. A LoRA
        run: the same prompt and seed before fine-tuning and now."""
        if self.spec.family == "lora":
            if not self.before_sample:
                self.before_sample = self._lora_sample(adapter=False)
            prompt = self.tokenizer.decode(self.lora_prompt_ids())
            return (
                f"PROMPT: {prompt}\n\nBEFORE: {prompt}{self.before_sample}\n\n"
                f"AFTER {self.trainer.step} STEPS: {prompt}{self._lora_sample(adapter=True)}"
            )
        model = self.trainer.export()
        generator = torch.Generator().manual_seed(0)
        ids = [int(self.validation_ids[0])]
        with torch.no_grad():
            for _ in range(length):
                logits, _ = model(torch.tensor([ids[-model.config.block_size :]]))
                ids.append(int(torch.multinomial(torch.softmax(logits[0, -1] / 0.8, dim=-1), 1, generator=generator)))
        return model.decode(ids)

    def finish(self, trainer=None) -> str:
        """Save resumable state and the model with its card; returns the model's name."""
        self.trainer.save_state(self.state_dir)
        if self.spec.family == "lora":
            return self._finish_lora()
        metrics = self.evaluate() | {"steps": self.trainer.step}
        family = self.spec.family
        card = make_card(
            title=f"{self.spec.name}: a {family} trained in GenLab's Training tab",
            family=family,
            summary=f"Trained live in the Training tab with these settings: `{asdict(self.spec)}`.",
            data="Tiny Shakespeare or text the user gave"
            if family == "chargpt"
            else "The MNIST digits in GenLab's data directory.",
            held_out="The last 10% of the text."
            if family == "chargpt"
            else "The last 1,000 MNIST digits (never trained on).",
            training=f"{self.trainer.step} of {self.spec.steps} steps, seed {self.spec.seed}.",
            command="\n".join(self.trainer.history),
            metrics=metrics,
            metrics_text="\n".join(f"- {key}: {value}" for key, value in metrics.items()),
            datasets=("tiny_shakespeare",) if family == "chargpt" else ("mnist",),
        )
        save_checkpoint(self.trainer.export(), MODELS_DIR / self.spec.name, card)
        return self.spec.name

    def _finish_lora(self) -> str:
        quality = self.evaluate()
        metrics = quality | {"steps": self.trainer.step, "trainable parameters": self.trainer.trainable_parameters}
        config = self.trainer.config
        card = make_card(
            title=f"{self.spec.name}: SmolLM2-135M-Instruct fine-tuned with LoRA in GenLab's Training tab",
            family="lora",
            summary=f"A LoRA adapter (rank {config.rank}, alpha {config.alpha}, on the attention projections q, k, v "
            f"and o of all layers: {self.trainer.trainable_parameters:,} trainable numbers) for SmolLM2-135M-Instruct "
            "(Apache-2.0). The base weights are not changed; GenLab merges the adapter into a copy when loading it. "
            f"Settings: `{asdict(self.spec)}`.",
            data="Tiny Shakespeare or text the user gave.",
            held_out="The last 10% of the text (by characters), never trained on.",
            training=f"{self.trainer.step} of {self.spec.steps} steps of AdamW (lr {config.lr}, warm-up then cosine "
            f"decay to a tenth), {config.batch_size} random windows of {config.sequence_length} tokens per step, "
            f"LoRA dropout {config.dropout}, seed {config.seed}.",
            command="\n".join(self.trainer.history),
            metrics=metrics,
            metrics_text="\n".join(f"- {key}: {value}" for key, value in metrics.items()),
            datasets=("tiny_shakespeare",),
            license_id="apache-2.0",
            licence_text="The base model, SmolLM2-135M-Instruct, is Apache-2.0; so is this adapter.",
        )
        self.trainer.save_adapter(MODELS_DIR / self.spec.name, card)
        return self.spec.name
