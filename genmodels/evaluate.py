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

from .checkpoints import CHECKPOINTS_DIR, MODELS_DIR, load_checkpoint
from .classifier import MNISTClassifier
from .data import load_shakespeare, mnist_splits, split_text, to_signed
from .diffusion_pipeline import load_guide
from .metrics import (
    classify,
    frechet_distance,
    generate_for_evaluation,
    inception_score,
    per_class_accuracy,
    pixel_entropy_nats,
)
from .registry import MODEL_CLASSES

HALF = 500  # real digits per half of the held-out set, and generated images per Fréchet distance
SEEDS = (2026, 2027, 2028, 2029, 2030)
# The diffusion model is scored at the Diffusion tab's default number of sampling steps, and again with more steps:
# each step is a network pass, so the second row shows what the slower sampling buys.
DIFFUSION_STEPS, DIFFUSION_MORE_STEPS = 20, 50
EVALUATION = CHECKPOINTS_DIR / "evaluation.json"  # shipped: the GAN tab reads each model's numbers beside the floor


def shipped_evaluation() -> dict:
    """The last `python -m genmodels.evaluate` results shipped with the checkpoints ({} when there are none)."""
    try:
        return json.loads(EVALUATION.read_text())
    except (OSError, ValueError):
        return {}


def real_floor(classifier: MNISTClassifier, held_out: torch.Tensor) -> dict:
    """The floor and ceiling from real held-out digits (N, 1, 28, 28) in [-1, 1]: Fréchet distance between the two
    halves, the Inception score of HALF and of all of them, and the pixels' own entropy (the VAEs' floor in nats)."""
    probabilities, features = classify(classifier, held_out)
    first, second = features[:HALF], features[HALF : 2 * HALF]
    return {
        "pixel_entropy_nats": round(pixel_entropy_nats((held_out + 1) / 2), 3),
        "frechet_floor": round(frechet_distance(second, first), 3),
        "inception_score_real_500": round(inception_score(probabilities[:HALF]), 4),
        "inception_score_real_1000": round(inception_score(probabilities), 4),
    }


def _sampler(family: str, model, steps: int = DIFFUSION_STEPS, guide=None):
    """(seed, count) -> (images (count, 1, 28, 28) in [-1, 1], the digits asked for or None) for one image model.

    GANs and VAEs draw their latents from the seed; the diffusion model samples `steps` steps with DEFAULT_SAMPLER
    and the tab's default guidance (autoguidance by `guide` when it has one, else classifier-free guidance); the
    VQ-VAE draws its code grid from its prior. Conditional models draw the digits 0-9 in turn.
    """
    if family == "gan":
        return lambda seed, count: (lambda images, labels: (images, labels if model.conditional else None))(
            *generate_for_evaluation(model, count, seed)
        )
    if family == "vae":
        from .sampling import seeded_latents
        from .vae_pipeline import decode, prior_codes

        def vae(seed: int, count: int):
            codes = prior_codes(model, seeded_latents(seed, count, model.config.latent_dim))
            return decode(model, codes) * 2 - 1, None

        return vae
    if family == "diffusion":
        from .diffusion import DEFAULT_SAMPLER, default_guidance, sample

        guidance, autoguidance = default_guidance(guide is not None)

        def diffusion(seed: int, count: int):
            labels = torch.arange(count) % model.config.num_classes
            generator = torch.Generator("cpu").manual_seed(seed)
            chunks = [
                list(sample(model, chunk, steps, guidance, DEFAULT_SAMPLER, generator, guide, autoguidance))[-1].x
                for chunk in labels.split(250)
            ]
            return torch.cat(chunks).clamp(-1, 1), labels

        return diffusion
    if family == "vqvae":

        def vqvae(seed: int, count: int):
            labels = torch.arange(count) % 10
            generator = torch.Generator("cpu").manual_seed(seed)
            codes = model.sample_codes(labels, 1.0, None, generator)
            return model.decode(codes).float().clamp(-1, 1), labels

        return vqvae
    raise ValueError(f"no sampler for family {family!r}")


@torch.inference_mode()
def score_samples(make, classifier: MNISTClassifier, held_out: torch.Tensor, seeds=SEEDS) -> dict:
    """Judge a sampler (seed, count) -> (images, digits asked for or None) like every image model: Fréchet distance
    with 500 images against the first half of the held-out digits over seeds (mean, spread, range), Inception score
    (mean over seeds with 500 images; and with the first two seeds' 1,000 images), the diversity meter's class
    entropy, class accuracy when conditional, and milliseconds per image (the first seed's sampling, 500 images)."""
    import time

    from .metrics import diversity

    _, reference = classify(classifier, held_out[:HALF])
    distances, scores, entropies, accuracies, pooled = [], [], [], [], []
    elapsed = 0.0
    for index, seed in enumerate(seeds):
        started = time.perf_counter()
        images, labels = make(seed, HALF)
        if index == 0:
            elapsed = time.perf_counter() - started
        probabilities, features = classify(classifier, images)
        distances.append(frechet_distance(features, reference))
        scores.append(inception_score(probabilities))
        entropies.append(diversity(probabilities)["entropy_bits"])
        if index < 2:
            pooled.append(probabilities)
        if labels is not None:
            accuracies.append(sum(per_class_accuracy(probabilities, labels)) / 10)
    result = {
        "frechet_500_mean": round(statistics.mean(distances), 3),
        "frechet_500_spread": round(statistics.stdev(distances), 3) if len(distances) > 1 else 0.0,
        "frechet_500_min": round(min(distances), 3),
        "frechet_500_max": round(max(distances), 3),
        "inception_score_500_mean": round(statistics.mean(scores), 4),
        "inception_score_1000": round(inception_score(torch.cat(pooled)), 4),
        "entropy_bits_500_mean": round(statistics.mean(entropies), 4),
        "ms_per_image": round(1000 * elapsed / HALF, 3),
        "samples": HALF * len(seeds),
        "seeds": list(seeds),
    }
    if accuracies:
        result["class_accuracy_500_mean"] = round(statistics.mean(accuracies), 4)
    return result


def evaluate_model(
    family: str,
    model,
    classifier: MNISTClassifier,
    held_out: torch.Tensor,
    seeds=SEEDS,
    steps: int = DIFFUSION_STEPS,
    guide=None,
) -> dict:
    """One image model's scoreboard row (score_samples), with its family (and, for diffusion, its sampling steps and
    guidance: autoguidance by `guide` when given)."""
    result = {"family": family, **score_samples(_sampler(family, model, steps, guide), classifier, held_out, seeds)}
    if family != "diffusion":
        return result
    from .diffusion import default_guidance

    guidance, autoguidance = default_guidance(guide is not None)
    return result | {"sampling_steps": steps, "guidance": guidance, "autoguidance": autoguidance}


def more_steps_name(name: str) -> str:
    """The scoreboard's name for a diffusion model sampled with DIFFUSION_MORE_STEPS steps."""
    return f"{name}, {DIFFUSION_MORE_STEPS} steps"


IMAGE_FAMILIES = ("gan", "vae", "vqvae", "diffusion")


def scoreboard(evaluation: dict) -> list[dict]:
    """The rows of the one table every image model is read in: from `evaluation` (shipped_evaluation() or main's
    result), in family order, each with the floor and the real digits' Inception score beside it."""
    real = evaluation.get("real digits", {})
    rows = []
    for family in IMAGE_FAMILIES:
        for name, result in evaluation.items():
            if not isinstance(result, dict) or result.get("family") != family:
                continue
            accuracy = result.get("class_accuracy_500_mean")
            rows.append(
                {
                    "model": name,
                    "family": family,
                    "frechet_distance": result["frechet_500_mean"],
                    "spread": result["frechet_500_spread"],
                    "floor": real.get("frechet_floor"),
                    "inception_score": result["inception_score_500_mean"],
                    "share_of_real": (
                        round(result["inception_score_500_mean"] / real["inception_score_real_500"], 4)
                        if real
                        else None
                    ),
                    "class_accuracy": accuracy,
                    "entropy_bits": result.get("entropy_bits_500_mean"),
                    "ms_per_image": result.get("ms_per_image"),
                    "samples": result.get("samples"),
                }
            )
    return rows


def scoreboard_markdown(rows: list[dict]) -> str:
    """The scoreboard as a Markdown table (the README's, and what the command prints)."""
    lines = [
        "| model | family | Fréchet distance, 500 images (mean ± spread over seeds) | floor | Inception score, 500 "
        "(share of real) | class accuracy | class entropy (bits of 3.32) | ms per image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        accuracy = f"{row['class_accuracy']:.1%}" if row["class_accuracy"] is not None else "n/a (unconditional)"
        floor = f"{row['floor']:.1f}" if row["floor"] is not None else "?"
        share = f" ({row['share_of_real']:.0%})" if row["share_of_real"] is not None else ""
        entropy = f"{row['entropy_bits']:.2f}" if row["entropy_bits"] is not None else "?"
        speed = f"{row['ms_per_image']:.2f}" if row["ms_per_image"] is not None else "?"
        lines.append(
            f"| {row['model']} | {row['family']} | {row['frechet_distance']:.1f} ± {row['spread']:.1f} | {floor} | "
            f"{row['inception_score']:.2f}{share} | {accuracy} | {entropy} | {speed} |"
        )
    return "\n".join(lines)


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
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="score only these shipped image models; the other entries of --out are kept as they are",
    )
    parser.add_argument(
        "--runs", action="store_true", help="also score the saved Training-tab runs (runs/), in the printed table only"
    )
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    classifier = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier").eval()
    held_out = to_signed(mnist_splits()[1].images)
    shipped = _image_models(CHECKPOINTS_DIR)
    if args.only and set(args.only) - set(shipped):
        parser.error(f"no shipped image model named {', '.join(sorted(set(args.only) - set(shipped)))}")
    previous = json.loads(Path(args.out).read_text()) if args.only and Path(args.out).is_file() else {}
    results = {"real digits": real_floor(classifier, held_out)}
    for name, (family, folder) in shipped.items():
        names = [name, more_steps_name(name)] if family == "diffusion" else [name]
        if args.only and name not in args.only:
            results |= {key: previous[key] for key in names if key in previous}
            continue
        model = load_checkpoint(MODEL_CLASSES[family], folder).eval()
        guide = load_guide(folder) if family == "diffusion" else None
        results[name] = evaluate_model(family, model, classifier, held_out, guide=guide)
        print(f"{name}: {results[name]}", flush=True)
        if family == "diffusion":
            more = more_steps_name(name)
            results[more] = evaluate_model(family, model, classifier, held_out, steps=DIFFUSION_MORE_STEPS, guide=guide)
            print(f"{more}: {results[more]}", flush=True)
    results["text baselines"] = text_baselines(load_shakespeare())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    table = dict(results)
    if args.runs:
        for name, (family, folder) in _image_models(MODELS_DIR).items():
            model = load_checkpoint(MODEL_CLASSES[family], folder).eval()
            guide = load_guide(folder) if family == "diffusion" else None
            table[f"{name} (run)"] = evaluate_model(family, model, classifier, held_out, guide=guide)
    floor = results["real digits"]
    print(
        f"\nReal held-out digits: Fréchet floor {floor['frechet_floor']:.1f} (two halves of 500), Inception score "
        f"{floor['inception_score_real_500']:.2f} with 500, {floor['inception_score_real_1000']:.2f} with 1,000; "
        f"the pixels' own entropy (no Bernoulli decoder goes below it) {floor['pixel_entropy_nats']:.1f} nats\n"
    )
    print(scoreboard_markdown(scoreboard(table)))
    baselines = results["text baselines"]
    print(
        f"\nText, nats per character on the held-out tenth: uniform {baselines['uniform_nats_per_char']:.3f}, "
        f"unigram {baselines['unigram_nats_per_char']:.3f}, bigram {baselines['bigram_nats_per_char']:.3f}"
    )
    return results


def _image_models(root: Path) -> dict[str, tuple[str, Path]]:
    """The image models under a checkpoint root: name -> (family, folder), from each card's family."""
    from .checkpoints import read_card

    found = {}
    for folder in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        if folder.name.startswith(".") or not (folder / "config.json").is_file():
            continue
        family = read_card(folder).get("genlab_family")
        if family in IMAGE_FAMILIES and family in MODEL_CLASSES:
            found[folder.name] = (family, folder)
    return found


if __name__ == "__main__":
    main()
