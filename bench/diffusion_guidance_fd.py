"""Issue 11's Fréchet target measured as the issue words it: 2,000 samples against all 1,000 held-out digits.

    python bench/diffusion_guidance_fd.py [--guidance 0 0.5] [--autoguidance 1.5] [--seeds 2031 2032 2033 2034 2035]
    python bench/diffusion_guidance_fd.py --card     # the diffusion card's metrics at the tab's defaults

For the diffusion model at each classifier-free guidance and each autoguidance (by its guide, the folder
`<model>-guide`; 20 DDPM steps, digits 0-9 in turn) and for every shipped GAN (drawn as the scoreboard draws them),
over the seeds: the Fréchet distance in the judge's features (mean ± spread), class accuracy, Inception score, and
the trace of the features' covariance (how widely the samples spread in the judge's eyes). As a reference, the same
measure for real training digits (2,000 drawn per seed). The scoreboard uses 500 images beside a floor of two real
halves of 500, which this measure has no room for (1,000 held-out digits); the diffusion card's table comes from this
script. About 2 minutes per guided seed on a 2-core CPU (half that without guidance); run it alone.

--card prints the card's metrics as `python -m genmodels.train diffusion` measures them at export (2,000 samples
with seed 2026, the Fréchet distance of the first 500 against the first 500 held-out digits, the 100-image check
tests/test_quality.py repeats, and milliseconds per image for 16-image grids), at the tab's default guidance.
"""

import argparse
import statistics

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
from genmodels.classifier import MNISTClassifier
from genmodels.data import mnist_splits, to_signed
from genmodels.diffusion import DEFAULT_SAMPLER, DiffusionModel, default_guidance, sample
from genmodels.diffusion_pipeline import card_metrics, load_guide
from genmodels.evaluate import HALF, _image_models, _sampler
from genmodels.metrics import classify, frechet_distance, inception_score
from genmodels.registry import MODEL_CLASSES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guidance", type=float, nargs="*", default=[0.0, 0.5], help="classifier-free guidance")
    parser.add_argument("--autoguidance", type=float, nargs="*", default=None, help="default: the tab's default")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026, 2027, 2028, 2029, 2030])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--model", default="diffusion-mnist")
    parser.add_argument("--no-gans", action="store_true", help="skip the shipped GANs (seconds each) and real digits")
    parser.add_argument("--card", action="store_true", help="print the card's metrics at the tab's defaults only")
    args = parser.parse_args()
    judge = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier").eval()
    train, held_out = mnist_splits()
    model = load_checkpoint(DiffusionModel, CHECKPOINTS_DIR / args.model).eval()
    guide = load_guide(CHECKPOINTS_DIR / args.model)
    if args.card:
        print(card_metrics(model, judge, to_signed(held_out.images[:HALF]), guide))
        return
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
            f"{name:44s} FD {statistics.mean(distances):6.1f} ± {spread:4.1f} {[round(d, 1) for d in distances]}  "
            f"class accuracy {accuracy}  IS {statistics.mean(scores):.3f}  "
            f"feature spread {statistics.mean(spreads):.0f}",
            flush=True,
        )

    print(f"{args.count} images per seed against all {len(reference)} held-out digits; seeds {args.seeds}")
    print(f"{'held-out digits':44s} feature spread {float(torch.cov(reference.double().T).trace()):.0f}")
    if not args.no_gans:
        report(
            "real training digits",
            lambda seed: (
                training_digits[torch.randperm(len(training_digits), generator=_seeded(seed))[: args.count]],
                None,
            ),
        )
        for name, (family, folder) in _image_models(CHECKPOINTS_DIR).items():
            if family == "gan":
                draw = _sampler(family, load_checkpoint(MODEL_CLASSES[family], folder).eval())
                report(name, lambda seed, draw=draw: draw(seed, args.count))

    def draw(seed: int, guidance: float, autoguidance: float = 0.0):
        generator = _seeded(seed)
        images = [
            list(sample(model, chunk, 20, guidance, DEFAULT_SAMPLER, generator, guide, autoguidance))[-1].x
            for chunk in labels.split(500)
        ]
        return torch.cat(images), labels

    for guidance in args.guidance:
        report(f"{args.model}, guidance {guidance:g}", lambda seed, guidance=guidance: draw(seed, guidance))
    autoguidance = args.autoguidance if args.autoguidance is not None else [default_guidance(True)[1]]
    for weight in autoguidance if guide is not None else []:
        report(f"{args.model}, autoguidance {weight:g}", lambda seed, weight=weight: draw(seed, 0.0, weight))


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


if __name__ == "__main__":
    main()
