"""Failures that name themselves (issue 12, item 4): the detector on recorded curves, and a real diverging run."""

import math
import threading

import pytest
import torch

from genmodels.diagnose import (
    COLLAPSE_ENTROPY_BITS,
    ENTROPY_KEY,
    VALIDATION_KEY,
    Point,
    diagnose,
)
from genmodels.metrics import diversity
from genmodels.trainers import TrainingDiverged


def gan_run(entropies):
    return [Point(step=100 * (i + 1), losses={"d_loss": 1.0, "g_loss": 1.0},
                  quality={ENTROPY_KEY: e, "most common digit": 1}) for i, e in enumerate(entropies)]  # fmt: skip


def test_mode_collapse_is_named_when_class_entropy_falls():
    assert diagnose("gan", gan_run([3.2, 3.25, 3.3])) is None  # healthy: all ten digits
    found = diagnose("gan", gan_run([3.2, 2.4, 1.1]))
    assert found.kind == "mode collapse" and found.step == 300
    assert "1.10 bits" in found.message and "read as 1" in found.message and "lost their variety" in found.message
    assert diagnose("gan", gan_run([0.9])) is None  # one measure is no trend: the first preview of a fresh run
    # a fresh GAN's blobs all read as one digit: entropy starts near 0 and rises; that is not collapse
    assert diagnose("gan", gan_run([0.0, 0.0, 0.4, 1.2])) is None
    # a collapsed generator wanders between modes: the diagnosis stays, named at its lowest point
    wandering = diagnose("gan", gan_run([3.3, 3.3, 1.0, 0.35, 0.9, 1.7]))
    assert wandering.kind == "mode collapse" and wandering.step == 400 and "0.35 bits" in wandering.message


def vae_run(kl_values, beta=1.0):
    return [Point(step=i + 1, losses={"loss": 150.0, "reconstruction": 150 - kl, "kl": kl})
            for i, kl in enumerate(kl_values)]  # fmt: skip


def test_posterior_collapse_is_named_when_kl_goes_to_zero():
    healthy = vae_run([25.0 + math.sin(i) for i in range(300)])
    assert diagnose("vae", healthy, {"beta": 1.0}) is None
    collapsed = vae_run([max(20.0 - i / 5, 0.05) for i in range(300)])
    found = diagnose("vae", collapsed, {"beta": 20.0})
    assert found.kind == "posterior collapse" and "β = 20" in found.message
    assert diagnose("vae", collapsed[:80], {"beta": 20.0}) is None  # too early to tell


def gpt_run(train, validation):
    points = []
    for i, loss in enumerate(train):
        step = i + 1
        quality = {VALIDATION_KEY: validation[step]} if step in validation else None
        points.append(Point(step=step, losses={"train": loss}, quality=quality))
    return points


def test_overfitting_is_named_when_validation_rises_as_training_falls():
    train = [3.0 - i * 0.004 for i in range(500)]
    improving = gpt_run(train, {100: 2.6, 200: 2.3, 300: 2.1, 400: 2.0, 500: 1.95})
    assert diagnose("chargpt", improving) is None
    overfit = gpt_run(train, {100: 2.6, 200: 2.3, 300: 2.25, 400: 2.32, 500: 2.45})
    found = diagnose("chargpt", overfit)
    assert found.kind == "overfitting" and found.step == 500 and "2.250 to 2.450" in found.message
    # validation rising while training loss rises too is not overfitting (the whole run is going wrong)
    assert diagnose("chargpt", gpt_run(train[::-1], {100: 2.0, 300: 2.1, 500: 2.3})) is None


def test_divergence_is_named_with_its_step_and_learning_rate():
    points = [Point(1, {"loss": 2.0}), Point(2, {"loss": float("nan")})]
    found = diagnose("vae", points, {"learning_rate": 0.5})
    assert found.kind == "divergence" and "NaN at step 2" in found.message and "0.5" in found.message


def test_diversity_meter():
    confident = torch.eye(10).repeat(10, 1)  # 100 samples, ten of each digit, read with certainty
    meter = diversity(confident)
    assert meter["histogram"] == [0.1] * 10
    assert meter["entropy_bits"] == pytest.approx(math.log2(10), abs=1e-3)
    assert meter["inception_score"] == pytest.approx(10.0, rel=1e-3)
    collapsed = diversity(torch.eye(10)[[3] * 95 + [5] * 5])
    assert collapsed["most_common"] == 3 and collapsed["entropy_bits"] < COLLAPSE_ENTROPY_BITS
    assert collapsed["histogram"][3] == 0.95


def test_a_real_run_with_a_huge_learning_rate_stops_itself_and_says_why():
    from genmodels.trainers import VAETrainConfig, VAETrainer
    from genmodels.vae import VAEConfig

    images = torch.rand(256, 1, 28, 28)
    trainer = VAETrainer(VAEConfig(latent_dim=2), VAETrainConfig(steps=200, batch_size=32, lr=1e4, seed=1), images)
    seen = []
    with pytest.raises(TrainingDiverged) as caught:
        for event in trainer.run(threading.Event()):
            seen.append(event)
    assert all(math.isfinite(v) for event in seen for v in event.losses.values())  # no NaN reaches a curve
    assert caught.value.step == len(seen) + 1 < 200
    assert "too high" in str(caught.value) and "10000" in str(caught.value)


def test_a_loss_that_explodes_without_nan_stops_the_run_too():
    """Adam seldom reaches NaN: a VAE at learning rate 5 sends its KL to 1e9 and keeps going. That is divergence."""
    from genmodels.trainers import VAETrainConfig, VAETrainer
    from genmodels.vae import VAEConfig

    images = torch.rand(256, 1, 28, 28).round()
    trainer = VAETrainer(VAEConfig(latent_dim=16), VAETrainConfig(steps=200, batch_size=64, lr=5.0, seed=1), images)
    with pytest.raises(TrainingDiverged) as caught:
        for _ in trainer.run(threading.Event()):
            pass
    assert caught.value.step < 100 and "Divergence: the loss became" in str(caught.value)
    # a healthy run at the usual rate never trips it
    healthy = VAETrainer(VAEConfig(latent_dim=16), VAETrainConfig(steps=60, batch_size=64, lr=1e-3, seed=1), images)
    assert len(list(healthy.run(threading.Event()))) == 60
