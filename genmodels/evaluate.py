"""One command for every shipped model's numbers, each beside the floor or ceiling that makes it meaningful (issue 15).

    python -m genmodels.evaluate            # prints the table (Markdown), writes checkpoints/evaluation.json

Image models are judged by GenLab's digit classifier, which trained on the first 9,000 digits; only the last 1,000
(held out) are fair references. So every Fréchet distance is computed against one half of them (500 digits) with
500 generated images, over several seeds (mean and spread), beside its floor: the distance from the other half of
the real digits to the first, with as many images. The real digits' own Inception score, with as many images as
the generated set, is the ceiling an Inception score is read against. Text is read against the unigram and bigram
baselines, in nats per character on the same held-out tenth of Tiny Shakespeare.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
from collections import Counter
from pathlib import Path

import torch

from .checkpoints import CHECKPOINTS_DIR, load_checkpoint
from .classifier import MNISTClassifier
from .data import load_shakespeare, mnist_splits, split_text, to_signed
from .gan import GAN
from .metrics import classify, frechet_distance, generate_for_evaluation, inception_score, per_class_accuracy
from .vae import VAE

HALF = 500  # real digits per half of the held-out set, and generated images per Fréchet distance
SEEDS = (2026, 2027, 2028, 2029, 2030)
EVALUATION = CHECKPOINTS_DIR / "evaluation.json"  # shipped: the GAN tab reads each model's numbers beside the floor


def shipped_evaluation() -> dict:
    """The last `python -m genmodels.evaluate` results shipped with the checkpoints ({} when there are none)."""
    try:
        return json.loads(EVALUATION.read_text())
    except (OSError, ValueError):
        return {}


def real_floor(classifier: MNISTClassifier, held_out: torch.Tensor) -> dict:
    """The floor and ceiling from real held-out digits (N, 1, 28, 28) in [-1, 1]: Fréchet distance between the two
    halves, and the Inception score of HALF and of all of them."""
    probabilities, features = classify(classifier, held_out)
    first, second = features[:HALF], features[HALF : 2 * HALF]
    return {
        "frechet_floor": round(frechet_distance(second, first), 3),
        "inception_score_real_500": round(inception_score(probabilities[:HALF]), 4),
        "inception_score_real_1000": round(inception_score(probabilities), 4),
    }


@torch.inference_mode()
def evaluate_gan(gan: GAN, classifier: MNISTClassifier, held_out: torch.Tensor, seeds=SEEDS) -> dict:
    """Fréchet distance (500 images against the first half of the held-out digits) over seeds, Inception score
    with 500 and 1,000 images, and class accuracy when conditional."""
    _, reference = classify(classifier, held_out[:HALF])
    distances, scores_500, accuracies = [], [], []
    for seed in seeds:
        images, labels = generate_for_evaluation(gan, HALF, seed)
        probabilities, features = classify(classifier, images)
        distances.append(frechet_distance(features, reference))
        scores_500.append(inception_score(probabilities))
        if gan.conditional:
            accuracies.append(sum(per_class_accuracy(probabilities, labels)) / 10)
    images, _ = generate_for_evaluation(gan, 2 * HALF, seeds[0])
    result = {
        "frechet_500_mean": round(statistics.mean(distances), 3),
        "frechet_500_spread": round(statistics.stdev(distances), 3),
        "frechet_500_min": round(min(distances), 3),
        "frechet_500_max": round(max(distances), 3),
        "inception_score_500_mean": round(statistics.mean(scores_500), 4),
        "inception_score_1000": round(inception_score(classify(classifier, images)[0]), 4),
        "seeds": list(seeds),
    }
    if accuracies:
        result["class_accuracy_500_mean"] = round(statistics.mean(accuracies), 4)
    return result


@torch.inference_mode()
def evaluate_vae_samples(vae, classifier: MNISTClassifier, held_out: torch.Tensor, seeds=SEEDS) -> dict:
    """A VAE's prior samples judged like a GAN's: Fréchet distance with 500 images over seeds, and the Inception
    score, against the same held-out half (the images are decoded means, in [0, 1], judged in [-1, 1])."""
    from .sampling import seeded_latents
    from .vae_pipeline import decode

    _, reference = classify(classifier, held_out[:HALF])
    distances, scores = [], []
    for seed in seeds:
        images = decode(vae, seeded_latents(seed, HALF, vae.config.latent_dim)) * 2 - 1
        probabilities, features = classify(classifier, images)
        distances.append(frechet_distance(features, reference))
        scores.append(inception_score(probabilities))
    return {
        "frechet_500_mean": round(statistics.mean(distances), 3),
        "frechet_500_spread": round(statistics.stdev(distances), 3),
        "inception_score_500_mean": round(statistics.mean(scores), 4),
        "seeds": list(seeds),
    }


def text_baselines(text: str) -> dict:
    """Unigram and add-one bigram models fitted on the training 90% of text, in nats per character on the rest."""
    train, held_out = split_text(text)
    vocab = sorted(set(text))
    unigram = Counter(train)
    total = sum(unigram.values())
    size = len(vocab)
    uni = -sum(math.log((unigram[c] + 1) / (total + size)) for c in held_out) / len(held_out)
    pairs = Counter(itertools.pairwise(train))
    bigram = 0.0
    for previous, current in itertools.pairwise(held_out):
        bigram -= math.log((pairs[(previous, current)] + 1) / (unigram[previous] + size))
    return {
        "unigram_nats_per_char": round(uni, 4),
        "bigram_nats_per_char": round(bigram / (len(held_out) - 1), 4),
        "uniform_nats_per_char": round(math.log(size), 4),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(EVALUATION))
    args = parser.parse_args(argv)
    classifier = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier").eval()
    held_out = to_signed(mnist_splits()[1].images)
    results = {"real digits": real_floor(classifier, held_out)}
    for name in ("gan-mnist", "cgan-mnist"):
        results[name] = evaluate_gan(load_checkpoint(GAN, CHECKPOINTS_DIR / name).eval(), classifier, held_out)
    for name in ("vae-2d", "vae-16d", "vae-16d-beta4"):
        results[name] = evaluate_vae_samples(load_checkpoint(VAE, CHECKPOINTS_DIR / name).eval(), classifier, held_out)
    results["text baselines"] = text_baselines(load_shakespeare())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    floor = results["real digits"]
    print("| model | Fréchet distance, 500 images (mean ± spread over 5 seeds) | floor | IS 1,000 | real IS 1,000 |")
    print("|---|---|---|---|---|")
    for name in ("gan-mnist", "cgan-mnist"):
        r = results[name]
        print(
            f"| {name} | {r['frechet_500_mean']:.1f} ± {r['frechet_500_spread']:.1f} "
            f"({r['frechet_500_min']:.1f} to {r['frechet_500_max']:.1f}) | {floor['frechet_floor']:.1f} | "
            f"{r['inception_score_1000']:.2f} ({r['inception_score_1000'] / floor['inception_score_real_1000']:.1%})"
            f" | {floor['inception_score_real_1000']:.2f} |"
        )
    print("\n| VAE prior samples | Fréchet distance, 500 images, 5 seeds | floor | IS, 500 | real IS, 500 |")
    print("|---|---|---|---|---|")
    for name in ("vae-2d", "vae-16d", "vae-16d-beta4"):
        r = results[name]
        print(
            f"| {name} | {r['frechet_500_mean']:.1f} ± {r['frechet_500_spread']:.1f} | {floor['frechet_floor']:.1f} | "
            f"{r['inception_score_500_mean']:.2f} | {floor['inception_score_real_500']:.2f} |"
        )
    baselines = results["text baselines"]
    print(
        f"\nText, nats per character on the held-out tenth: uniform {baselines['uniform_nats_per_char']:.3f}, "
        f"unigram {baselines['unigram_nats_per_char']:.3f}, bigram {baselines['bigram_nats_per_char']:.3f}"
    )
    return results


if __name__ == "__main__":
    main()
