"""Failures that name themselves: read a training run's curves and say, in one sentence, what went wrong and what
to try instead.

A run's curves are a list of Points (step, the step's losses, and the occasional quality measure). Each detector
looks for the signature a student must learn to recognise:
- mode collapse (GAN): the judge's class histogram of the samples narrows; class entropy falls from above
  COLLAPSE_FROM_BITS to below COLLAPSE_ENTROPY_BITS (all ten digits drawn equally: log2(10) = 3.32 bits);
- posterior collapse (VAE): the KL term falls to about zero, so the latent code carries no information and every
  reconstruction is the same average blur;
- divergence (any): a loss becomes NaN, infinite or explodes (the trainers stop there: trainers.TrainingDiverged);
- overfitting (char-GPT): the validation loss rises while the training loss keeps falling.
The English sentences are templates with named values, so a page can show them in its own language.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

FULL_ENTROPY_BITS = math.log2(10)
COLLAPSE_ENTROPY_BITS = 1.5  # fewer than about three digits' worth of variety
COLLAPSE_FROM_BITS = 2.5  # ... after the samples had covered most digits
POSTERIOR_COLLAPSE_KL_NATS = 0.5  # per image, summed over latent dimensions
OVERFIT_RISE_NATS = 0.03  # validation loss this far above its best, with training loss still falling
ENTROPY_KEY = "class entropy (bits)"
VALIDATION_KEY = "validation loss (nats/char)"
TRAIN_KEY = "train"  # the character GPT trainer's loss

MODE_COLLAPSE = (
    "Mode collapse: the generator's samples have lost their variety and crowd onto a few patterns (class entropy "
    "{entropy:.2f} bits, of {full:.2f} for all ten digits alike; most samples read as {top}). Try lower learning "
    "rates, the hinge loss, or a discriminator that learns as fast as the generator."
)
POSTERIOR_COLLAPSE = (
    "Posterior collapse: the KL term is {kl:.2f} nats, so the code z carries almost no information and every "
    "reconstruction is the same average digit. β = {beta:g} makes information too expensive: try β = 1, or "
    "raise β slowly from 0 (KL warm-up)."
)
DIVERGENCE = (
    "Divergence: the loss became {value} at step {step}, so the run stopped itself without saving those weights. "
    "The learning rate {learning_rate:g} is too high: try one ten times smaller."
)
OVERFITTING = (
    "Overfitting: the validation loss rose from its best {best:.3f} to {latest:.3f} nats/char while the training "
    "loss kept falling ({train:.3f}). The model is memorising its text: use more text, fewer steps or a smaller "
    "model (or dropout)."
)


@dataclass(frozen=True)
class Point:
    step: int
    losses: dict[str, float] = field(default_factory=dict)
    quality: dict[str, float] | None = None


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # "mode collapse", "posterior collapse", "divergence" or "overfitting"
    step: int  # where it was seen
    template: str
    values: dict

    @property
    def message(self) -> str:
        return self.template.format(**self.values)


def _smoothed(points: list[Point], key: str, window: int) -> list[tuple[int, float]]:
    """(step, mean of the last `window` values of losses[key]) for each point that has it."""
    values, result = [], []
    for point in points:
        if key in point.losses and math.isfinite(point.losses[key]):
            values.append(point.losses[key])
            result.append((point.step, sum(values[-window:]) / len(values[-window:])))
    return result


def diverged(points: list[Point], learning_rate: float) -> Diagnosis | None:
    for point in points:
        for value in point.losses.values():
            if not math.isfinite(value):
                shown = "NaN" if math.isnan(value) else "infinite"
                return Diagnosis(
                    "divergence", point.step, DIVERGENCE, {"value": shown, "step": point.step,
                                                           "learning_rate": learning_rate}
                )  # fmt: skip
    return None


def mode_collapse(points: list[Point]) -> Diagnosis | None:
    """Class entropy that had reached COLLAPSE_FROM_BITS and then fell below COLLAPSE_ENTROPY_BITS.

    A fresh GAN's first samples are blobs the judge reads as one digit (entropy 0): that is not collapse yet, since
    the generator never covered the digits. Collapse is variety found, then lost. A collapsed generator often
    wanders between a few modes (its entropy bobs up and down), so once seen, the run keeps its diagnosis, named at
    its lowest point.
    """
    measured = [p for p in points if p.quality and ENTROPY_KEY in p.quality]
    for index, point in enumerate(measured):
        if point.quality[ENTROPY_KEY] >= COLLAPSE_FROM_BITS:
            after = measured[index + 1 :]
            if after:
                lowest = min(after, key=lambda p: p.quality[ENTROPY_KEY])
                if lowest.quality[ENTROPY_KEY] < COLLAPSE_ENTROPY_BITS:
                    top = lowest.quality.get("most common digit")
                    values = {
                        "entropy": lowest.quality[ENTROPY_KEY],
                        "full": FULL_ENTROPY_BITS,
                        "top": "?" if top is None else str(int(top)),
                    }
                    return Diagnosis("mode collapse", lowest.step, MODE_COLLAPSE, values)
            break
    return None


def posterior_collapse(points: list[Point], beta: float, window: int = 50) -> Diagnosis | None:
    """The KL term, averaged over the last `window` steps, under POSTERIOR_COLLAPSE_KL_NATS after 100 steps."""
    kl = _smoothed(points, "kl", window)
    if not kl or kl[-1][0] < 100:
        return None
    step, value = kl[-1]
    if value >= POSTERIOR_COLLAPSE_KL_NATS:
        return None
    return Diagnosis("posterior collapse", step, POSTERIOR_COLLAPSE, {"kl": value, "beta": beta})


def overfitting(points: list[Point], window: int = 50) -> Diagnosis | None:
    """Validation loss OVERFIT_RISE_NATS above its best, measured later than the best, while training loss fell."""
    measured = [(p.step, p.quality[VALIDATION_KEY]) for p in points if p.quality and VALIDATION_KEY in p.quality]
    if len(measured) < 3:
        return None
    best_step, best = min(measured, key=lambda item: item[1])
    latest_step, latest = measured[-1]
    if latest_step <= best_step or latest - best < OVERFIT_RISE_NATS:
        return None
    train = dict(_smoothed(points, TRAIN_KEY, window))
    if best_step not in train or latest_step not in train or train[latest_step] >= train[best_step]:
        return None
    values = {"best": best, "latest": latest, "train": train[latest_step]}
    return Diagnosis("overfitting", latest_step, OVERFITTING, values)


def diagnose(family: str, points: Iterable[Point], settings: dict | None = None) -> Diagnosis | None:
    """The first failure seen in a run of `family` ("gan", "vae" or "chargpt"); None while all looks well.

    settings: the run's settings that the advice names (learning_rate, beta).
    """
    points, settings = list(points), settings or {}
    found = diverged(points, settings.get("learning_rate", float("nan")))
    if found is None and family == "gan":
        found = mode_collapse(points)
    if found is None and family == "vae":
        found = posterior_collapse(points, settings.get("beta", 1.0))
    if found is None and family == "chargpt":
        found = overfitting(points)
    return found
