"""Issue 11's Fréchet target measured as the issue words it: 2,000 samples against all 1,000 held-out digits.

    python bench/diffusion_guidance_fd.py [--guidance 0 0.1 0.25 0.5] [--seeds 2026 2027 2028 2029 2030]

For the diffusion model at each guidance (20 DDPM steps, digits 0-9 in turn) and for `cgan-mnist`, over the seeds:
the Fréchet distance in the judge's features (mean ± spread), class accuracy, Inception score, and the trace of the
features' covariance (how widely the samples spread in the judge's eyes). As a reference, the same measure for real
training digits (2,000 drawn per seed). The scoreboard uses 500 images beside a floor of two real halves of 500,
which this measure has no room for (1,000 held-out digits); the diffusion card's table comes from this script.
About 2 minutes per guided seed on a 2-core CPU (half that without guidance); run it alone.
"""

import argparse
import statistics

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
from genmodels.classifier import MNISTClassifier
from genmodels.data import mnist_splits, to_signed
from genmodels.diffusion import DEFAULT_SAMPLER, DiffusionModel, sample
from genmodels.metrics import classify, frechet_distance, generate_for_evaluation, inception_score
from genmodels.registry import MODEL_CLASSES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guidance", type=float, nargs="+", default=[0.0, 0.1, 0.25, 0.5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026, 2027, 2028, 2029, 2030])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--model", default="diffusion-mnist")
    args = parser.parse_args()
    judge = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier").eval()
    train, held_out = mnist_splits()
    _, reference = classify(judge, to_signed(held_out.images))
    training_digits = to_signed(train.images)
    labels = torch.arange(args.count) % 10

    def report(name: str, make) -> None:
        distances, accuracies, scores, spreads = [], [], [], []
        for seed in args.seeds:
            images, asked = make(seed)
            probabilities, features = classify(judge, images)
            distances.append(frechet_distance(features, reference))
            scores.append(inception_score(probabilities))
            spreads.append(float(torch.cov(features.double().T).trace()))
            if asked is not None:
                accuracies.append(float((probabilities.argmax(1) == asked).double().mean()))
        spread = statistics.stdev(distances) if len(distances) > 1 else 0.0
        accuracy = f"{statistics.mean(accuracies):.2%}" if accuracies else "n/a"
        print(
            f"{name:34s} FD {statistics.mean(distances):6.1f} ± {spread:4.1f} {[round(d, 1) for d in distances]}  "
            f"class accuracy {accuracy}  IS {statistics.mean(scores):.3f}  "
            f"feature spread {statistics.mean(spreads):.0f}",
            flush=True,
        )

    print(f"{args.count} images per seed against all {len(reference)} held-out digits; seeds {args.seeds}")
    print(f"{'held-out digits':34s} feature spread {float(torch.cov(reference.double().T).trace()):.0f}")
    report(
        "real training digits",
        lambda seed: (
            training_digits[torch.randperm(len(training_digits), generator=_seeded(seed))[: args.count]],
            None,
        ),
    )
    cgan = load_checkpoint(MODEL_CLASSES["gan"], CHECKPOINTS_DIR / "cgan-mnist").eval()
    report("cgan-mnist", lambda seed: generate_for_evaluation(cgan, args.count, seed))
    model = load_checkpoint(DiffusionModel, CHECKPOINTS_DIR / args.model).eval()
    for guidance in args.guidance:

        def draw(seed: int, guidance: float = guidance):
            generator = _seeded(seed)
            images = [
                list(sample(model, chunk, 20, guidance, DEFAULT_SAMPLER, generator))[-1].x
                for chunk in labels.split(500)
            ]
            return torch.cat(images), labels

        report(f"{args.model}, guidance {guidance:g}", draw)


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


if __name__ == "__main__":
    main()
