"""Sample quality measured by a digit classifier (Inception score, Fréchet distance, class accuracy) and VAE bounds."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .classifier import MNISTClassifier


@torch.inference_mode()
def classify(classifier: MNISTClassifier, images: torch.Tensor, batch_size: int = 500):
    """images (N, 1, 28, 28) in [-1, 1] -> (probabilities (N, 10), features (N, D)), both float64 on CPU."""
    device = next(classifier.parameters()).device
    probabilities, features = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        feature = classifier.features(batch)
        probabilities.append(classifier.head(feature).softmax(dim=1).double().cpu())
        features.append(feature.double().cpu())
    return torch.cat(probabilities), torch.cat(features)


def judge_reads(classifier: MNISTClassifier, images: torch.Tensor) -> list[int]:
    """The digit the judge classifier reads in each image (N, 1, 28, 28) in [-1, 1]: for alt text and captions."""
    with torch.inference_mode():  # small batches: a 32 x 32 latent map must not raise a request's memory much
        probabilities, _ = classify(classifier, images.float(), batch_size=64)
    return probabilities.argmax(dim=1).tolist()


def describe_digits(what: str, digits: list[int], limit: int = 64) -> str:
    """Alt text for a picture of digits: "16 samples: 0 1 2 3 ...", as the judge reads them, in reading order."""
    shown = " ".join(str(digit) for digit in digits[:limit]) + (" …" if len(digits) > limit else "")
    return f"{what}, read by the digit classifier as: {shown}"


def inception_score(probabilities: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))): 10 for confident, perfectly balanced digits; 1 for useless ones."""
    probabilities = probabilities.double().clamp_min(1e-12)
    marginal = probabilities.mean(dim=0, keepdim=True)
    kl = (probabilities * (probabilities.log() - marginal.log())).sum(dim=1)
    return math.exp(kl.mean().item())


def diversity(probabilities: torch.Tensor) -> dict:
    """The diversity meter: how the judge spreads a set of samples over the ten digits.

    probabilities (N, 10) -> the class histogram (fraction of samples read as each digit), its entropy in bits
    (log2(10) = 3.32 when all ten are drawn equally, 0 when every sample is the same digit), the most common digit
    and the Inception score (which also rewards confident, unambiguous samples).
    """
    counts = torch.bincount(probabilities.argmax(dim=1), minlength=probabilities.shape[1]).double()
    histogram = counts / counts.sum()
    nonzero = histogram[histogram > 0]
    return {
        "histogram": [round(float(value), 4) for value in histogram],
        "entropy_bits": round(max(float(-(nonzero * nonzero.log2()).sum()), 0.0) + 0.0, 4),  # never -0.0
        "most_common": int(histogram.argmax()),
        "inception_score": round(inception_score(probabilities), 4),
    }


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D)."""
    a, b = features_a.double(), features_b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # tr(sqrt(cov_a cov_b)) = sum of sqrt eigenvalues of sqrt(cov_a) cov_b sqrt(cov_a), which is symmetric.
    eigenvalues, eigenvectors = torch.linalg.eigh(cov_a)
    sqrt_a = eigenvectors @ torch.diag(eigenvalues.clamp_min(0).sqrt()) @ eigenvectors.T
    cross = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp_min(0).sqrt().sum()
    distance = (mean_a - mean_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return max(float(distance), 0.0)


def per_class_accuracy(probabilities: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> list[float]:
    """Fraction of samples of each intended class that the classifier recognises as that class."""
    predicted = probabilities.argmax(dim=1)
    return [float((predicted[labels == k] == k).double().mean()) for k in range(num_classes)]


@torch.inference_mode()
def generate_for_evaluation(gan, count: int, seed: int, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` samples (balanced classes when conditional) from a fixed seed -> (images, intended labels)."""
    device = next(gan.parameters()).device
    rng = torch.Generator("cpu").manual_seed(seed)
    z = torch.randn(count, gan.config.z_dim, generator=rng)
    labels = torch.arange(count) % max(gan.config.num_classes, 1)
    images = []
    for start in range(0, count, batch_size):
        y = labels[start : start + batch_size].to(device) if gan.conditional else None
        images.append(gan.generator(z[start : start + batch_size].to(device), y).cpu())
    return torch.cat(images), labels


def evaluate_generator(
    gan, classifier: MNISTClassifier, held_out: torch.Tensor, count: int = 2000, seed: int = 2026
) -> dict:
    """Inception score, Fréchet distance to held-out digits (N, 1, 28, 28), and class accuracy if conditional."""
    images, labels = generate_for_evaluation(gan, count, seed)
    probabilities, features = classify(classifier, images)
    _, real_features = classify(classifier, held_out)
    result = {
        "samples": count,
        "inception_score": round(inception_score(probabilities), 4),
        "frechet_distance": round(frechet_distance(features, real_features), 4),
    }
    if gan.conditional:
        accuracy = per_class_accuracy(probabilities, labels, gan.config.num_classes)
        result["class_accuracy"] = round(sum(accuracy) / len(accuracy), 4)
        result["per_class_accuracy"] = [round(value, 4) for value in accuracy]
    return result


@torch.inference_mode()
def evaluate_vae(
    vae, images: torch.Tensor, seed: int = 2026, batch_size: int = 500, importance_samples: int = 0
) -> dict:
    """Held-out reconstruction NLL, KL and negative ELBO in nats per image (one posterior sample each).

    With importance_samples = K > 0 it adds `iwae_K_nats`, the negative importance-weighted bound (see
    importance_weighted_nats), a tighter estimate of -log p(x) than the ELBO.
    """
    from .vae import vae_losses

    device = next(vae.parameters()).device
    rng = torch.Generator("cpu").manual_seed(seed)
    totals = {"reconstruction": 0.0, "kl": 0.0, "negative_elbo": 0.0}
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        losses = vae_losses(vae, batch, 1.0, rng)
        for key in totals:
            totals[key] += losses[key].item() * len(batch)
    result = {f"{key}_nats": round(value / len(images), 3) for key, value in totals.items()}
    if importance_samples > 0:
        iwae = importance_weighted_nats(vae, images, importance_samples, seed)
        result[f"iwae_{importance_samples}_nats"] = round(iwae, 3)
    return result | {"images": len(images)}


def evaluate_refined_vae(
    vae, images: torch.Tensor, steps: int | None = None, seed: int = 2026, batch_size: int = 500
) -> dict:
    """evaluate_vae's single-sample measure with each image's posterior first refined by `steps` gradient steps
    (vae.refine_posterior; REFINE_STEPS when None): reconstruction, KL and negative ELBO in nats per image, keyed
    `..._refined_nats`, and the steps. The same model and decoder, a better q for each image: the bound tightens
    by the amortization gap. The ELBO's noise comes from `seed` as in evaluate_vae; refinement has its own stream."""
    from .vae import REFINE_STEPS, refine_posterior, vae_losses

    steps = REFINE_STEPS if steps is None else steps
    device = next(vae.parameters()).device
    rng = torch.Generator("cpu").manual_seed(seed)
    refine_rng = torch.Generator("cpu").manual_seed(seed + 1)
    totals = {"reconstruction": 0.0, "kl": 0.0, "negative_elbo": 0.0}
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        posterior = refine_posterior(vae, batch, steps, generator=refine_rng)
        with torch.no_grad():
            losses = vae_losses(vae, batch, 1.0, rng, posterior=posterior)
        for key in totals:
            totals[key] += losses[key].item() * len(batch)
    return {f"{key}_refined_nats": round(value / len(images), 3) for key, value in totals.items()} | {
        "refine_steps": steps
    }


def pixel_entropy_nats(images: torch.Tensor) -> float:
    """The floor under every Bernoulli decoder's reconstruction, in nats per image: the summed binary entropy of
    each pixel's own grey level, images (N, ...) in [0, 1]. A decoder that predicted every pixel exactly would still
    pay this, since a grey pixel x is scored as a coin that lands 1 with probability x."""
    x = images.double().flatten(1)
    entropy = -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x))
    return float(entropy.sum(1).mean())


@torch.inference_mode()
def importance_weighted_nats(
    vae, images: torch.Tensor, samples: int = 100, seed: int = 2026, batch_size: int = 20
) -> float:
    """The negative importance-weighted bound (IWAE, Burda et al. 2016) in nats per image, averaged over images.

    For each image x (N, 1, 28, 28) in [0, 1], with z_1..z_K drawn from q(z|x):
    -log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x). It upper-bounds -log p(x) in expectation, never exceeds the
    negative ELBO in expectation, and tightens as K grows; K = 1 is a single-sample ELBO with a sampled KL.
    batch_size images are decoded together with all their samples (batch_size * samples decodes at once), and
    each image's noise is drawn in turn from one seeded generator, so the result does not depend on batch_size.
    """
    device = next(vae.parameters()).device
    rng = torch.Generator("cpu").manual_seed(seed)
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)  # (B, 1, 28, 28)
        latent_dim = vae.config.latent_dim
        # one draw per image: a batched draw's values would depend on how the images are batched
        eps = torch.stack([torch.randn(samples, latent_dim, generator=rng) for _ in x]).to(device)  # (B, K, D)
        z, log_posterior = vae.posterior_sample(x, eps)  # (B, K, D), (B, K): q(z|x), with its flow if it has one
        scored = x.repeat_interleave(samples, 0)  # (B*K, 1, 28, 28): what a pixel head conditions on
        logits = vae.decode_logits(z.flatten(0, 1), scored).view(len(x), samples, -1)  # (B, K, 784)
        targets = x.flatten(1)[:, None].expand_as(logits)  # (B, K, 784)
        log_likelihood = -F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(2)  # (B, K)
        log_prior = vae.log_prior(z)  # (B, K): N(0, I), or the model's learned prior
        log_weights = (log_likelihood + log_prior - log_posterior).double()
        bound = torch.logsumexp(log_weights, dim=1) - math.log(samples)  # (B,)
        total -= bound.sum().item()
    return total / len(images)
