"""Train GenLab's models from the command line.

    python -m genmodels.train classifier --out checkpoints/mnist-classifier
    python -m genmodels.train gan --out checkpoints/gan-mnist --steps 12000
    python -m genmodels.train gan --conditional --out checkpoints/cgan-mnist --steps 12000
    python -m genmodels.train vae --latent-dim 16 --hidden 256 --lr-schedule cosine --shift-pixels 1 \
        --kl-warmup-steps 1000 --steps 24000 --out checkpoints/vae-16d
    python -m genmodels.train vae --latent-dim 2 --hidden 256 --lr 2e-3 --lr-schedule cosine --steps 6000 \
        --out checkpoints/vae-2d
    python -m genmodels.train maskedlm --layers 6 --heads 5 --width 160 --dropout 0.1 \
        --out checkpoints/maskedlm-shakespeare
    python -m genmodels.train vqvae --steps 6000 --prior-steps 2000 --out checkpoints/vqvae-mnist

Runs save resumable state under runs/NAME/state (a VQ-VAE: runs/NAME/autoencoder, then runs/NAME/prior) every
--save-every steps; --resume continues from it.
--dry-run trains a few steps on a small slice and writes nothing outside a temporary folder.
"""

import argparse
import math
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch
from tqdm import tqdm

from .chargpt import CharGPT, CharGPTConfig
from .checkpoints import PROJECT_ROOT, load_checkpoint, make_card, save_checkpoint
from .classifier import ClassifierConfig, MNISTClassifier
from .clustering import CLUSTER_SPACES
from .data import MNIST_HOLDOUT, data_dir, load_shakespeare, mnist_splits, split_text, to_signed
from .gan import GAN, GANConfig
from .maskedlm import MaskedCharLMConfig, both_sides_against_left, evaluate_masked
from .metrics import (
    classify,
    evaluate_generator,
    evaluate_refined_vae,
    evaluate_vae,
    frechet_distance,
    inception_score,
)
from .trainers import (
    GAN_LOSSES,
    VAE_LR_SCHEDULES,
    CharGPTTrainConfig,
    CharGPTTrainer,
    ClassifierTrainConfig,
    ClassifierTrainer,
    GANTrainConfig,
    GANTrainer,
    MaskedLMTrainer,
    VAETrainConfig,
    VAETrainer,
    evaluate_chargpt,
    keep_freed_memory,
)
from .vae import VAEConfig

DATA_TEXT = (
    "The 10,000 digits of the MNIST test set (`t10k-images-idx3-ubyte.gz`, LeCun, Cortes and Burges), "
    "read from GenLab's data directory. Pixels are scaled to [-1, 1]."
)
HELD_OUT_TEXT = (
    f"The first {10_000 - MNIST_HOLDOUT:,} digits are the training set; the last {MNIST_HOLDOUT:,} "
    "are held out and never trained on. All metrics below use the held-out digits."
)


def _command() -> str:
    return "python -m genmodels.train " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])


def _resume(trainer, args, folder: str = "state", allowed: bool = True) -> Path:
    """Continue from the run's saved state in run_dir/folder when --resume finds one (and `allowed`); record this
    command. Returns the state folder."""
    state_dir = args.run_dir / folder
    if args.resume and allowed and (state_dir / "trainer.json").is_file():
        trainer.load_state(state_dir)
        print(f"resumed {args.run_dir} at step {trainer.step}")
    trainer.history = (*trainer.history, _command())
    return state_dir


def _progress(trainer, events, total: int, every: int, on_save, stop_at: int = 0) -> None:
    """Run the trainer with a progress bar; periodic saves and measurements happen on the main process only. With
    stop_at > 0 (--stop-at) the run ends after that step, as a run stopped there would, and the model is exported
    from it; its schedule still spans `total`."""
    main = trainer.is_main_process
    if stop_at > 0 and trainer.step >= stop_at:
        return
    with tqdm(total=total, initial=trainer.step, unit="step", dynamic_ncols=True, disable=not main) as bar:
        for event in events:
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in event.losses.items()})
            if main and on_save and every and event.step % every == 0:
                on_save(event.step, bar)
            if stop_at > 0 and event.step >= stop_at:
                break


def train_classifier(args) -> None:
    train, held_out = mnist_splits(args.data_dir)
    if args.dry_run:
        train = type(train)(train.images[:512], train.labels[:512])
        args.steps = 5
    trainer = ClassifierTrainer(
        ClassifierConfig(),
        ClassifierTrainConfig(steps=args.steps, seed=args.seed),
        to_signed(train.images),
        train.labels,
    )
    _progress(trainer, trainer.run(), args.steps, 0, None, args.stop_at)
    model = trainer.model.eval()
    probabilities, _ = classify(model, to_signed(held_out.images))
    accuracy = float((probabilities.argmax(1) == held_out.labels).double().mean())
    real_is = inception_score(probabilities)
    metrics = {"held_out_accuracy": round(accuracy, 4), "held_out_inception_score": round(real_is, 4)}
    print(f"held-out accuracy {accuracy:.4f}, Inception score of held-out digits {real_is:.3f}")
    card = make_card(
        title="GenLab MNIST classifier",
        family="classifier",
        summary="A two-layer CNN that judges generated digits: its softmax gives the Inception score, "
        "its 128-d penultimate features the Fréchet distance.",
        data=DATA_TEXT,
        held_out=HELD_OUT_TEXT,
        training=f"{args.steps} steps of AdamW (one-cycle, peak lr 2e-3), batch 128, random shifts of up to "
        f"2 pixels, seed {args.seed}.",
        command=_command(),
        metrics=metrics,
        metrics_text=f"| metric | value |\n|---|---|\n| held-out accuracy | {accuracy:.2%} |\n"
        f"| Inception score of the 1,000 held-out digits | {real_is:.3f} |",
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


def train_gan(args) -> None:
    train, held_out = mnist_splits(args.data_dir)
    if args.dry_run:
        train = type(train)(train.images[:512], train.labels[:512])
        args.steps, args.save_every = 6, 3
    classifier = load_checkpoint(MNISTClassifier, args.classifier)
    held_out_images = to_signed(held_out.images)
    codes, purity = None, None
    if args.cluster_codes:
        if args.info_codes or args.conditional:
            raise SystemExit("--cluster-codes goes without --info-codes and --conditional")
        from .clustering import cluster_purity, vae_clusters
        from .vae import VAE

        vae = load_checkpoint(VAE, args.cluster_vae)
        codes = vae_clusters(vae, to_unit(train.images), args.cluster_codes, seed=args.seed, space=args.cluster_space)
        purity = cluster_purity(codes, train.labels)  # the labels only report how digit-like the clusters are
        print(
            f"{args.cluster_codes} clusters of the training digits by {args.cluster_vae}'s codes "
            f"({args.cluster_space}): purity {purity:.1%}"
        )
    model_config = GANConfig(
        num_classes=10 if args.conditional else 0,
        z_dim=args.z_dim,
        info_codes=args.info_codes or args.cluster_codes,
        code_source="clusters" if args.cluster_codes else "q",
    )
    train_config = GANTrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        loss=args.loss,
        decay_steps=args.decay_steps,
        info_weight=args.info_weight,
        seed=args.seed,
    )
    trainer = GANTrainer(model_config, train_config, to_signed(train.images), train.labels, codes=codes)
    if args.init_from:
        trainer.init_from(load_checkpoint(GAN, args.init_from))
    state_dir = _resume(trainer, args)
    started = time.time()
    # samples judged at each save and for the card; a dry run only shows the path works, with a tenth of them
    checks, samples = (100, 200) if args.dry_run else (1000, 2000)
    # BatchNorm statistics for the averaged weights: 20 batches of 256 latents; a dry run's path needs two
    calibration = 2 if args.dry_run else 20

    def on_save(step: int, bar) -> None:
        trainer.save_state(state_dir)
        scores = evaluate_generator(trainer.export(calibration), classifier, held_out_images, count=checks, seed=7)
        bar.write(f"step {step}: {scores} ({time.time() - started:.0f} s)")

    _progress(trainer, trainer.run(), args.steps, args.save_every, on_save, args.stop_at)
    trainer.save_state(state_dir)
    if not trainer.is_main_process:
        return
    model = trainer.export(calibration)
    metrics = evaluate_generator(model, classifier, held_out_images, count=samples)
    metrics["steps"] = trainer.step
    print(metrics)
    kind = "class-conditional" if args.conditional else "unconditional"
    title = f"GenLab {kind} MNIST GAN"
    if args.cluster_codes:
        title = "GenLab self-conditioned MNIST GAN (unconditional: no labels)"
    rows = [
        f"| Inception score (classifier-based, {samples:,} samples) | {metrics['inception_score']:.3f} |",
        f"| Fréchet distance to the 1,000 held-out digits (classifier features) | {metrics['frechet_distance']:.3f} |",
    ]
    if args.conditional:
        rows.append(
            f"| class accuracy (the classifier agrees with the requested digit) | {metrics['class_accuracy']:.2%} |"
        )
        rows.append(
            "| per-class accuracy, 0 to 9 | " + ", ".join(f"{v:.1%}" for v in metrics["per_class_accuracy"]) + " |"
        )
    card = make_card(
        title=title,
        family="gan",
        summary=f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} DCGAN-style generator (z: {args.z_dim}-d) "
        "with a spectral-norm discriminator"
        f"{' and class projection' if args.conditional else ''}. The weights are an exponential moving average "
        "(decay 0.999) of the generator, with BatchNorm statistics recomputed for them."
        + (
            f" It is an InfoGAN (Chen et al., 2016): the index of the largest of z's first {args.info_codes} values is "
            "a category, given to the generator as a one-hot vector, which a head Q on the discriminator's features "
            "must read back from the image (a cross-entropy in both players' losses, weight "
            f"{args.info_weight:g}). No labels are used: the categories are what the GAN found."
            if args.info_codes
            else f" It is a self-conditioned GAN (after Liu et al., 2020): the index of the largest of z's first "
            f"{args.cluster_codes} values is a category, given to the generator as a one-hot vector. The training "
            f"digits were split into {args.cluster_codes} clusters of equal size by balanced k-means on "
            + (
                "a spectral embedding of the graph that links each digit to its 10 nearest neighbours by the "
                "posterior means of "
                if args.cluster_space == "spectral"
                else "the codes of "
            )
            + f"`{args.cluster_vae.name}` (a VAE trained without labels on the same digits), and the discriminator "
            "scores each image against its category by projection: a real digit's cluster, or the category of the "
            "latent that drew a fake. No labels are used; they only report that "
            f"{purity:.1%} of the training digits share their cluster's most common digit."
            if args.cluster_codes
            else ""
        ),
        data=DATA_TEXT,
        held_out=HELD_OUT_TEXT,
        training=f"{trainer.step} steps, batch {args.batch_size}, {args.loss} loss, "
        f"Adam (lr G {args.lr_g}, D {args.lr_d}, betas 0.5/0.999"
        + (f", decaying linearly to 0 over the last {args.decay_steps} steps" if args.decay_steps else "")
        + f"), one D step per G step, seed {args.seed}. "
        + (f"It started from the weights of `{args.init_from}`. " if args.init_from else "")
        + "The judge is `checkpoints/mnist-classifier`.",
        command="\n".join(trainer.history),
        metrics=metrics,
        metrics_text=f"Measured with `checkpoints/mnist-classifier` on {samples:,} samples (seed 2026, classes "
        "balanced).\n\n"
        "| metric | value |\n|---|---|\n" + "\n".join(rows),
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> (N, 1, 28, 28) in [0, 1], the VAE's range."""
    return images.float().unsqueeze(1) / 255.0


def _vae_training_text(config: VAETrainConfig, steps: int) -> str:
    """The card's Training paragraph: every option that shaped the run."""
    schedule = f"lr {config.lr:g}"
    if config.lr_schedule == "cosine":
        schedule += f", cosine decay to {config.lr * config.final_lr_ratio:g} at the last step"
    extras = []
    if config.shift_pixels:
        pixels = f"{config.shift_pixels} pixel{'s' if config.shift_pixels > 1 else ''}"
        extras.append(f"each training digit moved by a random whole-pixel shift of up to {pixels}")
    if config.kl_warmup_steps:
        extras.append(f"the KL weight rising linearly from 0 to β over the first {config.kl_warmup_steps} steps")
    if config.ema_decay:
        extras.append(f"the exported weights a moving average of the training weights (decay {config.ema_decay:g})")
    if config.binarize_targets:
        extras.append(
            "the reconstruction scored against a fresh binary draw of each digit at every step (each pixel on with "
            "its grey level's probability: the same expected loss, with noise against fitting exact edges)"
        )
    if config.free_nats:
        extras.append(
            f"the batch's mean KL term trained as max(KL, {config.free_nats:g} nats) (free bits, so the decoder cannot "
            "win by leaving the code unused; the metrics are the true bound)"
        )
    optimizer = (
        f"AdamW (weight decay {config.weight_decay:g}, {schedule})" if config.weight_decay else f"Adam ({schedule})"
    )
    return (
        f"{steps} steps, batch {config.batch_size}, {optimizer}, one posterior sample per image per step"
        + "".join(f", {extra}" for extra in extras)
        + f", seed {config.seed}."
    )


def train_vae(args) -> None:
    train, held_out = mnist_splits(args.data_dir)
    if args.dry_run:
        train = type(train)(train.images[:512], train.labels[:512])
        args.steps, args.save_every = 6, 3
        args.iwae_samples = min(args.iwae_samples, 5)  # the same path, a fraction of the 100,000 decodes
    model_config = VAEConfig(
        latent_dim=args.latent_dim,
        channels=args.channels,
        hidden=args.hidden,
        beta=args.beta,
        blocks=args.blocks,
        dropout=args.dropout,
        flow_steps=args.flow_steps,
        prior_flow_steps=args.prior_flow_steps,
        pixel_hidden=args.pixel_hidden,
        pixel_kernel=args.pixel_kernel,
    )
    train_config = VAETrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        lr_schedule=args.lr_schedule,
        final_lr_ratio=args.final_lr_ratio,
        shift_pixels=args.shift_pixels,
        kl_warmup_steps=args.kl_warmup_steps,
        ema_decay=args.ema_decay,
        binarize_targets=args.binarize_targets,
        free_nats=args.free_nats,
        weight_decay=args.weight_decay,
    )
    trainer = VAETrainer(model_config, train_config, to_unit(train.images))
    state_dir = _resume(trainer, args)
    held_out_images = to_unit(held_out.images)
    started = time.time()

    def on_save(step: int, bar) -> None:
        trainer.save_state(state_dir)
        scores = evaluate_vae(trainer.export(), held_out_images)
        bar.write(f"step {step}: held-out {scores} ({time.time() - started:.0f} s)")

    _progress(trainer, trainer.run(), args.steps, args.save_every, on_save, args.stop_at)
    trainer.save_state(state_dir)
    if not trainer.is_main_process:
        return
    model = trainer.export()
    samples = args.iwae_samples
    metrics = evaluate_vae(model, held_out_images, importance_samples=samples)
    refine_steps = 3 if args.dry_run else None  # None: REFINE_STEPS, as in the shipped cards
    refined = evaluate_refined_vae(model, held_out_images, refine_steps)
    metrics |= refined
    # what tests/test_quality.py re-measures: the first 25 held-out digits, refined
    check = evaluate_refined_vae(model, held_out_images[:25], refine_steps)
    metrics["check_negative_elbo_refined_25_nats"] = check["negative_elbo_refined_nats"]
    metrics |= {"steps": trainer.step, "beta": args.beta}
    print(metrics)
    rows = [
        f"| reconstruction (Bernoulli negative log-likelihood) | {metrics['reconstruction_nats']:.2f} |",
        f"| KL(q(z given x) to the {'learned' if args.prior_flow_steps else 'N(0, I)'} prior) "
        f"| {metrics['kl_nats']:.2f} |",
        f"| negative ELBO (reconstruction + KL, with β = 1) | {metrics['negative_elbo_nats']:.2f} |",
    ]
    rows.append(
        f"| negative ELBO with each digit's posterior refined by {refined['refine_steps']} gradient steps "
        f"(semi-amortized inference; the same decoder and prior) | {metrics['negative_elbo_refined_nats']:.2f} |"
    )
    if samples:
        rows.append(
            f"| negative importance-weighted bound, {samples} samples (IWAE; a tighter estimate of -log p(x)) "
            f"| {metrics[f'iwae_{samples}_nats']:.2f} |"
        )
    card = make_card(
        title=f"GenLab MNIST VAE ({args.latent_dim}-D latent, β = {args.beta:g})",
        family="vae",
        summary=f"A convolutional VAE with a {args.latent_dim}-dimensional latent space and a Bernoulli decoder "
        f"({args.channels} and {2 * args.channels} convolution channels, "
        + (
            f"{args.blocks} residual block{'s' if args.blocks > 1 else ''} of two 3x3 convolutions at each, "
            if args.blocks
            else ""
        )
        + f"a hidden layer of {args.hidden} units"
        + (
            f", dropout {args.dropout:g} after the decoder's fully connected layers while training"
            if args.dropout
            else ""
        )
        + "), "
        + (
            f"a posterior of a diagonal Gaussian followed by {args.flow_steps} affine coupling steps conditioned on "
            "the image (a normalizing flow, so the KL term is estimated from the posterior sample), "
            if args.flow_steps
            else ""
        )
        + (
            f"a learned prior of N(0, I) pushed through {args.prior_flow_steps} affine coupling steps (a flow prior, "
            "trained with the rest), "
            if args.prior_flow_steps
            else ""
        )
        + (
            f"an autoregressive pixel head on the decoder's logits (a one-layer PixelCNN of {args.pixel_hidden} units "
            f"that gives each pixel the earlier pixels in its {args.pixel_kernel}x{args.pixel_kernel} window, so "
            "p(x given z) is the product of p(x_i given z and the pixels before it); decoded pixel by pixel), "
            if args.pixel_hidden
            else ""
        )
        + f"trained to minimise reconstruction + β·KL with β = {args.beta:g}"
        + (
            " (a β-VAE: a smoother, more regular latent space for blurrier reconstructions)." if args.beta != 1 else "."
        ),
        data=DATA_TEXT.replace("scaled to [-1, 1]", "scaled to [0, 1]"),
        held_out=HELD_OUT_TEXT,
        training=_vae_training_text(train_config, trainer.step),
        command="\n".join(trainer.history),
        metrics=metrics,
        metrics_text="In nats per image on the 1,000 held-out digits (one posterior sample each, seed 2026"
        + (f"; {samples} for the importance-weighted bound" if samples else "")
        + ").\n\n| metric | nats per image |\n|---|---|\n"
        + "\n".join(rows),
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


def _shakespeare(args) -> tuple[str, str, str]:
    """(vocabulary, training text, validation text) of Tiny Shakespeare; a small slice for a dry run."""
    text = load_shakespeare(args.data_dir)
    train_text, validation_text = split_text(text)
    if args.dry_run:
        train_text, validation_text = train_text[:20_000], validation_text[:5_000]
        args.steps, args.save_every = 6, 3
    return "".join(sorted(set(text))), train_text, validation_text


def _ids(vocab: str, text: str) -> torch.Tensor:
    return torch.tensor([vocab.index(c) for c in text])


def train_chargpt(args) -> None:
    vocab, train_text, validation_text = _shakespeare(args)
    model_config = CharGPTConfig(
        vocab=vocab,
        block_size=args.block_size,
        n_layer=args.layers,
        n_head=args.heads,
        n_embd=args.width,
        dropout=args.dropout,
    )
    trainer = CharGPTTrainer(
        model_config,
        CharGPTTrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed),
        _ids(vocab, train_text),
    )
    validation_ids = _ids(vocab, validation_text)
    state_dir = _resume(trainer, args)

    def on_save(step: int, bar) -> None:
        trainer.save_state(state_dir)
        bar.write(f"step {step}: validation {evaluate_chargpt(trainer.export(), validation_ids):.4f} nats/char")

    _progress(trainer, trainer.run(), args.steps, args.save_every, on_save, args.stop_at)
    trainer.save_state(state_dir)
    if not trainer.is_main_process:
        return
    model = trainer.export()
    validation = evaluate_chargpt(model, validation_ids)
    train_loss = evaluate_chargpt(model, _ids(vocab, train_text[-len(validation_text) :]))
    metrics = {
        "validation_nats_per_char": round(validation, 4),
        "train_nats_per_char": round(train_loss, 4),
        "validation_bits_per_char": round(validation / math.log(2), 4),
        "steps": trainer.step,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    print(metrics)
    card = make_card(
        title="GenLab character-level GPT on Tiny Shakespeare",
        family="chargpt",
        summary=f"A {args.layers}-layer, {args.heads}-head, {args.width}-wide character-level GPT with a "
        f"{args.block_size}-character context and a {len(vocab)}-character vocabulary "
        f"({metrics['parameters']:,} parameters).",
        data="Tiny Shakespeare (1,115,394 characters of Shakespeare's plays, as distributed with char-rnn), "
        "read from GenLab's data directory (`tinyshakespeare/input.txt`).",
        held_out="The first 90% of the text trains; the last 10% is held out for validation and never trained on.",
        training=f"{trainer.step} steps of AdamW (lr {args.lr}, warm-up then cosine decay to a tenth, weight decay "
        f"0.1, gradient clipping at 1, dropout {args.dropout}), batches of {args.batch_size} random "
        f"{args.block_size}-character windows, seed {args.seed}.",
        command="\n".join(trainer.history),
        metrics=metrics,
        metrics_text="Cross-entropy on up to 200 evenly spaced, non-overlapping windows.\n\n"
        "| metric | value |\n|---|---|\n"
        f"| validation loss | {validation:.4f} nats/char ({metrics['validation_bits_per_char']:.3f} bits/char) |\n"
        f"| training loss (last 10% of the training text) | {train_loss:.4f} nats/char |",
        datasets=("tiny_shakespeare",),
        license_id="mit",
        licence_text="Weights and code: MIT (GenLab). The training text is in the public domain.",
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


PREDICTED = {"eps": "the noise", "v": "v, the noise and the clean image mixed by the step"}


def train_diffusion(args) -> None:
    from .diffusion import DEFAULT_GUIDANCE, DEFAULT_SAMPLER, DiffusionConfig
    from .diffusion_pipeline import card_metrics, judged_samples
    from .evaluate import HALF
    from .trainers import DiffusionTrainConfig, DiffusionTrainer

    train, held_out = mnist_splits(args.data_dir)
    if args.dry_run:
        train = type(train)(train.images[:512], train.labels[:512])
        args.steps, args.save_every = 6, 3
    model_config = DiffusionConfig(channels=args.channels, prediction=args.prediction, dropout=args.dropout)
    train_config = DiffusionTrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        min_snr_gamma=args.min_snr_gamma,
        cosine_steps=args.cosine_steps,
    )
    trainer = DiffusionTrainer(model_config, train_config, to_signed(train.images), train.labels)
    state_dir = _resume(trainer, args)
    classifier = load_checkpoint(MNISTClassifier, args.classifier).eval()
    reference = to_signed(held_out.images[:HALF])
    started = time.time()

    def measure(model, count: int) -> dict:
        return judged_samples(model, classifier, reference, count)

    def on_save(step: int, bar) -> None:
        trainer.save_state(state_dir)
        bar.write(
            f"step {step}: {measure(trainer.export(), 100 if args.dry_run else 500)} ({time.time() - started:.0f} s)"
        )

    _progress(trainer, trainer.run(), args.steps, args.save_every, on_save, args.stop_at)
    trainer.save_state(state_dir)
    if not trainer.is_main_process:
        return
    model = trainer.export()
    # the card's check, 100 samples of seed 2026 drawn on their own, is what tests/test_quality.py re-measures
    metrics = card_metrics(model, classifier, reference, None, *((100, 20) if args.dry_run else (2000, 100)))
    metrics |= {"steps": trainer.step, "parameters": sum(p.numel() for p in model.parameters())}
    print(metrics)
    summary = (
        f"A denoising diffusion model: a small U-Net ({args.channels} channels at 28x28, twice that at 14x14 and "
        f"7x7) predicts {PREDICTED[args.prediction]}, with a cosine schedule over 1,000 steps and classifier-free "
        "guidance (the class is dropped for 10% of training digits). Sampled with DDIM (deterministic) or DDPM "
        "(stochastic) over any number of steps."
    )
    if args.guide_for:
        summary = (
            f"The guide of `{args.guide_for}` for autoguidance (Karras et al., 2024): a deliberately weaker diffusion "
            f"model of the same digits, stopped after {trainer.step:,} steps. `{args.guide_for}` is sampled with "
            "out + a (out - guide's out), steering away from the errors this weaker model makes more of. Listed in "
            "no picker and on no scoreboard: it is loaded beside the model it guides. " + summary
        )
    card = make_card(
        title=f"GenLab MNIST diffusion guide for {args.guide_for}"
        if args.guide_for
        else "GenLab MNIST diffusion model (class-conditional)",
        family="diffusion-guide" if args.guide_for else "diffusion",
        summary=summary,
        data=DATA_TEXT,
        held_out=HELD_OUT_TEXT,
        training=f"{trainer.step} steps, batch {args.batch_size}, AdamW (lr {args.lr:g}, 500 warm-up steps, cosine "
        + (
            f"decay to a tenth at step {args.cosine_steps:,}, then held there)"
            if args.cosine_steps and args.cosine_steps < trainer.step
            else "decay to a tenth)"
        )
        + ", gradient clipping at 1, weights averaged with decay 0.999 (the exported model), "
        + (
            f"the error each noise level leaves in the clean image weighted by min(SNR, {args.min_snr_gamma:g}) "
            "(min-SNR, Hang et al., 2023), "
            if args.min_snr_gamma
            else ""
        )
        + (f"dropout {args.dropout:g} inside each residual block, " if args.dropout else "")
        + f"seed {args.seed}.",
        command="\n".join(trainer.history),
        metrics=metrics,
        metrics_text="| metric | value |\n|---|---|\n"
        + "\n".join(f"| {key} | {value} |" for key, value in metrics.items())
        + f"\n\nEach image costs one network pass per sampling step, two with guidance: "
        f"{metrics['ms_per_image_20_steps_guided']:.1f} ms per image for 20 guided steps on the CPU that trained "
        "it (16-image grids, 2 threads), where a GAN of the same data needs about 0.1 ms. The metrics use 20 "
        f"{DEFAULT_SAMPLER.upper()} steps with guidance {DEFAULT_GUIDANCE:g} (the Diffusion tab's defaults for a model "
        "without a guide), digits "
        "0-9 in turn, judged by GenLab's classifier; the Fréchet distance uses the first 500 samples against the "
        "first 500 held-out digits. "
        "`python -m genmodels.evaluate` scores it beside every other image model.",
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


def train_vqvae(args) -> None:
    """Stage 1, the autoencoder (run_dir/autoencoder), then stage 2, the prior on its codes (run_dir/prior)."""
    from .evaluate import HALF
    from .trainers import VQPriorTrainConfig, VQPriorTrainer, VQVAETrainConfig, VQVAETrainer
    from .vqvae import VQVAEConfig, reconstruction_metrics

    train, held_out = mnist_splits(args.data_dir)
    if args.dry_run:
        train = type(train)(train.images[:512], train.labels[:512])
        args.steps, args.prior_steps, args.save_every = 6, 6, 3
    model_config = VQVAEConfig(
        channels=args.channels,
        codebook_size=args.codebook_size,
        code_dim=args.code_dim,
        prior_layers=args.layers,
        prior_heads=args.heads,
        prior_width=args.width,
        prior_dropout=args.dropout,
    )
    images, held_out_images = to_signed(train.images), to_signed(held_out.images)
    trainer = VQVAETrainer(
        model_config,
        VQVAETrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed),
        images,
    )
    state_dir = _resume(trainer, args, "autoencoder")
    resumed_at = trainer.step
    classifier = load_checkpoint(MNISTClassifier, args.classifier)
    reference = held_out_images[:HALF]
    started = time.time()

    def on_save(step: int, bar) -> None:
        trainer.save_state(state_dir)
        scores = reconstruction_metrics(trainer.export(), held_out_images)
        bar.write(f"autoencoder step {step}: held-out {scores} ({time.time() - started:.0f} s)")

    _progress(trainer, trainer.run(), args.steps, args.save_every, on_save, args.stop_at)
    trainer.save_state(state_dir)

    prior_config = VQPriorTrainConfig(
        steps=args.prior_steps, batch_size=args.prior_batch_size, lr=args.prior_lr, seed=args.seed
    )
    prior_trainer = VQPriorTrainer(trainer.export(), prior_config, images, train.labels)
    stale = trainer.step != resumed_at  # a prior saved before this command trained on the old autoencoder's codes
    if stale and args.resume and (args.run_dir / "prior" / "trainer.json").is_file():
        print("the autoencoder trained on, so the prior starts over")
    prior_dir = _resume(prior_trainer, args, "prior", allowed=not stale)

    def measure(model, count: int, no_class: bool = True) -> dict:
        """The prior's held-out nats per code (also without the class, when no_class), and `count` samples judged."""
        labels = torch.arange(count) % 10
        generator = torch.Generator("cpu").manual_seed(2026)
        codes = torch.cat([model.sample_codes(chunk, 1.0, None, generator) for chunk in labels.split(250)])
        probabilities, features = classify(classifier, model.decode(codes).cpu())
        _, real = classify(classifier, reference)
        accuracy = float((probabilities.argmax(1) == labels).double().mean())
        held_out_codes = model.encode(held_out_images)
        scores = {"prior_nats_per_code": round(float(model.prior_nll(held_out_codes, held_out.labels).mean()), 4)}
        if no_class:
            null = torch.full_like(held_out.labels, model.null_class)
            scores["prior_nats_per_code_no_class"] = round(float(model.prior_nll(held_out_codes, null).mean()), 4)
        return scores | {
            "class_accuracy": round(accuracy, 4),
            "inception_score": round(inception_score(probabilities), 4),
            "frechet_distance_500": round(frechet_distance(features[:HALF], real), 3),
            "samples": count,
            "temperature": 1.0,
        }

    def on_save_prior(step: int, bar) -> None:
        prior_trainer.save_state(prior_dir)
        with torch.no_grad():
            scores = measure(prior_trainer.export(), 100, no_class=False)
        bar.write(f"prior step {step}: {scores} ({time.time() - started:.0f} s)")

    _progress(prior_trainer, prior_trainer.run(), args.prior_steps, args.save_every, on_save_prior)
    prior_trainer.save_state(prior_dir)
    if not prior_trainer.is_main_process:
        return
    model = prior_trainer.export()
    with torch.no_grad():
        metrics = reconstruction_metrics(model, held_out_images)
        second_half = held_out_images[HALF:]
        _, features = classify(classifier, torch.cat([reference, second_half, model.decode(model.encode(second_half))]))
        real, other, reconstructed = features.split(HALF)
        metrics["reconstruction_frechet_distance_500"] = round(frechet_distance(reconstructed, real), 3)
        metrics["real_frechet_floor_500"] = round(frechet_distance(other, real), 3)
        metrics |= measure(model, 100 if args.dry_run else HALF)
    metrics |= {
        "codebook_size": args.codebook_size,
        "autoencoder_steps": trainer.step,
        "prior_steps": prior_trainer.step,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    print(metrics)
    k = args.codebook_size
    rows = [
        f"| reconstruction: mean squared error per pixel, pixels in [0, 1] | {metrics['reconstruction_mse']:.4f} |",
        f"| reconstruction: Bernoulli negative log-likelihood, nats per image | {metrics['reconstruction_nats']:.2f} |",
        f"| codes used (of {k}) / dead codes | {metrics['codes_used']} / {metrics['dead_codes']} |",
        f"| code perplexity (exp of the usage entropy; {k} at most) | {metrics['perplexity']:.2f} |",
        "| Fréchet distance of 500 reconstructions to the other 500 held-out digits (the real digits' own: "
        f"{metrics['real_frechet_floor_500']:.3f}) | {metrics['reconstruction_frechet_distance_500']:.3f} |",
        f"| prior: negative log-likelihood, nats per code, given the class | {metrics['prior_nats_per_code']:.4f} |",
        f"| prior: the same without the class | {metrics['prior_nats_per_code_no_class']:.4f} |",
        f"| samples: class accuracy (the judge agrees with the requested digit) | {metrics['class_accuracy']:.2%} |",
        f"| samples: Inception score (classifier-based) | {metrics['inception_score']:.3f} |",
        f"| samples: Fréchet distance to 500 held-out digits (classifier features) | "
        f"{metrics['frechet_distance_500']:.3f} |",
    ]
    card = make_card(
        title="GenLab MNIST VQ-VAE with a class-conditional GPT prior",
        family="vqvae",
        summary=f"A VQ-VAE turns each digit into a 7x7 grid of codes, each one of {k} codebook vectors of "
        f"{args.code_dim} dimensions ({args.channels} and {2 * args.channels} convolution channels, a residual block, "
        "a Bernoulli decoder). The codebook follows the moving average (decay 0.99) of the encoder outputs assigned "
        "to each code, and a code that falls out of use restarts on a random encoder output; the encoder learns "
        f"through the straight-through estimator. A {args.layers}-layer, {args.heads}-head, {args.width}-wide GPT "
        "reads the 49 codes in raster order after a class token (a digit, or no class) and samples new grids, which "
        f"the decoder draws ({metrics['parameters']:,} parameters in all).",
        data=DATA_TEXT,
        held_out=HELD_OUT_TEXT,
        training=f"Autoencoder: {trainer.step} steps, batch {args.batch_size}, Adam (lr {args.lr:g}, 100 warm-up "
        f"steps, cosine decay to a tenth), commitment weight {model_config.beta}, seed {args.seed}. Prior: with the "
        f"autoencoder frozen, {prior_trainer.step} steps on the codes of the training digits (encoded once), batch "
        f"{args.prior_batch_size}, AdamW (lr {args.prior_lr:g}, 100 warm-up steps, cosine decay to a tenth, weight "
        f"decay 0.1), gradient clipping at 1, dropout {args.dropout}, the class dropped for "
        f"{model_config.class_dropout:.0%} of the digits. The judge is `checkpoints/mnist-classifier`.",
        command="\n".join(dict.fromkeys((*trainer.history, *prior_trainer.history))),
        metrics=metrics,
        metrics_text=f"On the 1,000 held-out digits; samples: {metrics['samples']} from the prior (seed 2026, digits "
        "0-9 in turn, temperature 1, no top-k), judged by `checkpoints/mnist-classifier`.\n\n"
        "| metric | value |\n|---|---|\n" + "\n".join(rows),
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


def train_maskedlm(args) -> None:
    vocab, train_text, validation_text = _shakespeare(args)
    model_config = MaskedCharLMConfig(
        vocab=vocab,
        block_size=args.block_size,
        n_layer=args.layers,
        n_head=args.heads,
        n_embd=args.width,
        dropout=args.dropout,
        mask_rate=args.mask_rate,
        mean_span=args.mean_span,
    )
    trainer = MaskedLMTrainer(
        model_config,
        CharGPTTrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed),
        _ids(vocab, train_text),
    )
    validation_ids = _ids(vocab, validation_text)
    state_dir = _resume(trainer, args)

    def on_save(step: int, bar) -> None:
        trainer.save_state(state_dir)
        scores = evaluate_masked(trainer.export(), validation_ids, args.mean_span)
        bar.write(f"step {step}: validation {scores['loss']:.4f} nats/hidden char, accuracy {scores['accuracy']:.3f}")

    _progress(trainer, trainer.run(), args.steps, args.save_every, on_save, args.stop_at)
    trainer.save_state(state_dir)
    if not trainer.is_main_process:
        return
    model = trainer.export()
    spans = evaluate_masked(model, validation_ids, args.mean_span)
    single = evaluate_masked(model, validation_ids, 1.0)
    train_spans = evaluate_masked(model, _ids(vocab, train_text[-len(validation_text) :]), args.mean_span)
    metrics = {
        "validation_masked_nats_per_char": round(spans["loss"], 4),
        "validation_masked_accuracy": round(spans["accuracy"], 4),
        "validation_single_nats_per_char": round(single["loss"], 4),
        "validation_single_accuracy": round(single["accuracy"], 4),
        "train_masked_nats_per_char": round(train_spans["loss"], 4),
        "steps": trainer.step,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    comparison = ""
    gpt_folder = PROJECT_ROOT / "checkpoints" / "chargpt-shakespeare"
    if (gpt_folder / "model.safetensors").is_file() and not args.dry_run:
        gpt = load_checkpoint(CharGPT, gpt_folder)
        versus = both_sides_against_left(model, gpt, validation_ids)
        metrics["both_sides_accuracy"] = round(versus["both_sides_accuracy"], 4)
        metrics["left_only_accuracy_chargpt"] = round(versus["left_only_accuracy"], 4)
        comparison = (
            f"\n| the same single blanks, this model (both sides) | accuracy {versus['both_sides_accuracy']:.1%} |"
            f"\n| the same single blanks, `chargpt-shakespeare` from the left only | "
            f"accuracy {versus['left_only_accuracy']:.1%} |"
        )
    print(metrics)
    card = make_card(
        title="GenLab character-level masked language model on Tiny Shakespeare",
        family="maskedlm",
        summary=f"A {args.layers}-layer, {args.heads}-head, {args.width}-wide bidirectional transformer (BERT-style: "
        f"every character sees both sides) over a {args.block_size}-character window and the {len(vocab)} characters "
        f"of Tiny Shakespeare plus a mask token ({metrics['parameters']:,} parameters). It fills blanks; it does "
        "not generate left to right.",
        data="Tiny Shakespeare (1,115,394 characters of Shakespeare's plays, as distributed with char-rnn), "
        "read from GenLab's data directory (`tinyshakespeare/input.txt`); the same characters and split as "
        "`chargpt-shakespeare`.",
        held_out="The first 90% of the text trains; the last 10% is held out for validation and never trained on.",
        training=f"{trainer.step} steps of AdamW (lr {args.lr}, warm-up then cosine decay to a tenth, weight decay "
        f"0.1, gradient clipping at 1, dropout {args.dropout}), batches of {args.batch_size} random "
        f"{args.block_size}-character windows, seed {args.seed}. In each window about {args.mask_rate:.0%} of the "
        f"characters are hidden, in spans of mean length {args.mean_span} (geometric, at most 10); as in BERT, 80% "
        "of hidden characters show the mask token, 10% a random character and 10% themselves. The loss is the "
        "cross-entropy on the hidden characters only.",
        command="\n".join(trainer.history),
        metrics=metrics,
        metrics_text="Cross-entropy and top-1 accuracy on the hidden characters of 200 evenly spaced held-out "
        "windows, the blanks drawn with seed 0 and all shown as the mask token.\n\n"
        "| metric | value |\n|---|---|\n"
        f"| validation, spans (mean {args.mean_span}) | {spans['loss']:.4f} nats per hidden char, accuracy "
        f"{spans['accuracy']:.1%} |\n"
        f"| validation, single characters (BERT's scheme) | {single['loss']:.4f} nats per hidden char, accuracy "
        f"{single['accuracy']:.1%} |\n"
        f"| training text (last 10%), spans | {train_spans['loss']:.4f} nats per hidden char |" + comparison,
        datasets=("tiny_shakespeare",),
        license_id="mit",
        licence_text="Weights and code: MIT (GenLab). The training text is in the public domain.",
    )
    save_checkpoint(model, args.out, card)
    print(f"saved {args.out}")


def main(argv: list[str] | None = None) -> None:
    keep_freed_memory()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["classifier", "gan", "vae", "chargpt", "maskedlm", "diffusion", "vqvae"])
    parser.add_argument("--out", type=Path, help="checkpoint folder to write")
    parser.add_argument("--data-dir", type=Path, default=None, help=f"default: {data_dir()}")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument(
        "--stop-at",
        type=int,
        default=0,
        help="end the run after this step; its schedule still spans --steps (VQ-VAE: the first stage only)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditional", action="store_true")
    parser.add_argument("--loss", choices=GAN_LOSSES, default="hinge")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 64 for GANs, 128 otherwise")
    parser.add_argument("--lr-g", type=float, default=2e-4)
    parser.add_argument("--lr-d", type=float, default=2e-4)
    parser.add_argument("--z-dim", type=int, default=64)
    parser.add_argument("--info-codes", type=int, default=0, help="GAN: an InfoGAN category with N values (0: none)")
    parser.add_argument("--info-weight", type=float, default=1.0, help="GAN: weight of the InfoGAN code loss")
    parser.add_argument(
        "--cluster-codes",
        type=int,
        default=0,
        help="GAN: a category with N values that the discriminator is taught by balanced k-means clusters of a "
        "VAE's codes (a self-conditioned GAN, no labels used; 0: none)",
    )
    parser.add_argument(
        "--cluster-vae",
        type=Path,
        default=PROJECT_ROOT / "checkpoints" / "vae-16d",
        help="GAN: the VAE whose codes --cluster-codes clusters",
    )
    parser.add_argument(
        "--cluster-space",
        choices=CLUSTER_SPACES,
        default="codes",
        help="GAN: cluster the VAE's codes themselves, or a spectral embedding of their nearest-neighbour graph",
    )
    parser.add_argument("--init-from", type=Path, default=None, help="GAN: start from this checkpoint's weights")
    parser.add_argument(
        "--decay-steps", type=int, default=0, help="GAN: learning rates fall to 0 over the last N steps"
    )
    parser.add_argument("--latent-dim", type=int, default=16, help="VAE latent size")
    parser.add_argument("--beta", type=float, default=1.0, help="VAE KL weight")
    parser.add_argument("--channels", type=int, default=32, help="VAE convolution channels (doubled at 7x7)")
    parser.add_argument("--hidden", type=int, default=128, help="VAE hidden layer width")
    parser.add_argument("--blocks", type=int, default=0, help="VAE residual blocks at each resolution (0: plain)")
    parser.add_argument(
        "--flow-steps", type=int, default=0, help="VAE: affine coupling steps after the Gaussian posterior (0: none)"
    )
    parser.add_argument(
        "--prior-flow-steps", type=int, default=0, help="VAE: affine coupling steps of a learned prior (0: N(0, I))"
    )
    parser.add_argument(
        "--free-nats", type=float, default=0.0, help="VAE: train the mean KL term as max(KL, this) (free bits)"
    )
    parser.add_argument(
        "--pixel-hidden", type=int, default=0, help="VAE: units of an autoregressive pixel head (0: none)"
    )
    parser.add_argument(
        "--pixel-kernel", type=int, default=5, help="VAE: the pixel head's window of earlier pixels (odd, >= 3)"
    )
    parser.add_argument("--lr-schedule", choices=VAE_LR_SCHEDULES, default="constant", help="VAE learning rate")
    parser.add_argument(
        "--final-lr-ratio", type=float, default=0.01, help="VAE: the cosine schedule ends at lr times this"
    )
    parser.add_argument("--shift-pixels", type=int, default=0, help="VAE: random shifts of training digits")
    parser.add_argument("--kl-warmup-steps", type=int, default=0, help="VAE: KL weight rises from 0 over N steps")
    parser.add_argument(
        "--ema-decay", type=float, default=0.0, help="VAE: export a moving average of the weights (0: off)"
    )
    parser.add_argument(
        "--binarize-targets",
        action="store_true",
        help="VAE: reconstruct a fresh binary draw of each training digit (dynamic binarisation)",
    )
    parser.add_argument("--weight-decay", type=float, default=0.0, help="VAE: AdamW weight decay (0: plain Adam)")
    parser.add_argument(
        "--iwae-samples", type=int, default=100, help="VAE: importance samples for the card's bound (0: none)"
    )
    parser.add_argument("--lr", type=float, default=None, help="VAE / char-GPT / VQ-VAE autoencoder learning rate")
    parser.add_argument("--layers", type=int, default=4, help="char-GPT / VQ-VAE prior layers")
    parser.add_argument("--heads", type=int, default=4, help="char-GPT / VQ-VAE prior attention heads")
    parser.add_argument("--width", type=int, default=128, help="char-GPT / VQ-VAE prior embedding width")
    parser.add_argument("--block-size", type=int, default=128, help="char-GPT context in characters")
    parser.add_argument(
        "--dropout",
        type=float,
        default=None,
        help="char-GPT / VQ-VAE prior / VAE decoder / diffusion U-Net dropout while training (0 / 0.1)",
    )
    parser.add_argument("--mask-rate", type=float, default=0.15, help="masked LM: share of characters hidden")
    parser.add_argument("--mean-span", type=float, default=2.5, help="masked LM: mean length of a hidden span")
    parser.add_argument("--codebook-size", type=int, default=128, help="VQ-VAE codes")
    parser.add_argument("--code-dim", type=int, default=32, help="VQ-VAE code vector size")
    parser.add_argument("--prior-steps", type=int, default=2000, help="VQ-VAE: prior steps, after --steps")
    parser.add_argument("--prior-batch-size", type=int, default=64, help="VQ-VAE: prior batch (code grids)")
    parser.add_argument("--prior-lr", type=float, default=1e-3, help="VQ-VAE: prior learning rate")
    parser.add_argument("--prediction", choices=["eps", "v"], default="eps", help="diffusion: what the U-Net predicts")
    parser.add_argument(
        "--min-snr-gamma", type=float, default=0.0, help="diffusion: min-SNR loss weighting with this gamma (0: off)"
    )
    parser.add_argument(
        "--guide-for",
        default="",
        metavar="NAME",
        help="diffusion: export as the guide of model NAME for autoguidance (save it in the folder NAME-guide)",
    )
    parser.add_argument(
        "--cosine-steps",
        type=int,
        default=0,
        help="diffusion: the cosine decay ends at step N and the rate stays at a tenth after it (0: at --steps)",
    )
    parser.add_argument("--classifier", type=Path, default=PROJECT_ROOT / "checkpoints" / "mnist-classifier")
    parser.add_argument("--run-dir", type=Path, default=None, help="resumable state; default runs/<out name>")
    parser.add_argument("--save-every", type=int, default=1000)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="a few steps on a small slice, into a temp folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    if args.dry_run:
        scratch = Path(tempfile.mkdtemp(prefix="genlab-dry-run-"))
        args.out, args.run_dir = scratch / "model", scratch / "run"
    if args.out is None:
        parser.error("--out is required")
    args.run_dir = args.run_dir or PROJECT_ROOT / "runs" / args.out.name
    defaults = {"classifier": (3000, 128, 2e-3), "gan": (12_000, 64, None), "vae": (6000, 128, 1e-3)}
    defaults["chargpt"] = (3000, 32, 2e-3)
    defaults["maskedlm"] = (5000, 32, 1.5e-3)
    defaults["diffusion"] = (20_000, 128, 5e-4)
    defaults["vqvae"] = (6000, 128, 1e-3)
    if args.dropout is None:
        args.dropout = 0.1 if args.model == "vqvae" else 0.0
    if args.model == "diffusion" and args.channels == 32:  # the VAE's default; the diffusion model's is 48
        args.channels = 48
    args.steps = args.steps or defaults[args.model][0]
    args.batch_size = args.batch_size or defaults[args.model][1]
    args.lr = args.lr or defaults[args.model][2]
    trainers = {"classifier": train_classifier, "gan": train_gan, "vae": train_vae, "chargpt": train_chargpt}
    trainers["diffusion"] = train_diffusion
    trainers["vqvae"] = train_vqvae
    trainers["maskedlm"] = train_maskedlm
    trainers[args.model](args)


if __name__ == "__main__":
    main()
