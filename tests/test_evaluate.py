"""genmodels.evaluate (issue 15): the floors and baselines every number is read against."""

import math

import pytest

from genmodels.checkpoints import CHECKPOINTS_DIR, read_card
from genmodels.evaluate import shipped_evaluation, text_baselines


def test_text_baselines_on_a_text_whose_answer_is_known():
    baselines = text_baselines("ab" * 5000)  # two characters, equally common, always alternating
    assert baselines["uniform_nats_per_char"] == pytest.approx(math.log(2), abs=1e-4)
    assert baselines["unigram_nats_per_char"] == pytest.approx(math.log(2), abs=1e-3)  # the unigram knows no order
    assert baselines["bigram_nats_per_char"] < 0.01  # the bigram knows what comes next


def test_the_shipped_evaluation_has_every_model_beside_its_floor():
    evaluation = shipped_evaluation()
    real = evaluation["real digits"]
    for name in ("gan-mnist", "gan-mnist-clusters", "cgan-mnist"):
        ours = evaluation[name]
        assert ours["frechet_500_min"] <= ours["frechet_500_mean"] <= ours["frechet_500_max"]
        assert ours["frechet_500_spread"] > 0 and len(ours["seeds"]) == 5
        assert 1 <= ours["inception_score_1000"] <= 10
    assert 9.0 < real["inception_score_real_1000"] <= 10 and real["frechet_floor"] > 0
    for name in ("vae-2d", "vae-16d", "vae-16d-beta4", "vae-16d-pixel"):  # prior samples, judged like a GAN's
        assert evaluation[name]["frechet_500_spread"] > 0 and 1 <= evaluation[name]["inception_score_500_mean"] <= 10
        nats = read_card(CHECKPOINTS_DIR / name)["genlab_metrics"]["reconstruction_nats"]
        assert 40 < real["pixel_entropy_nats"] < nats, "the grey pixels' entropy is a floor under reconstruction"
    assert evaluation["vae-16d"]["frechet_500_mean"] < evaluation["vae-2d"]["frechet_500_mean"]
    assert evaluation["cgan-mnist"]["class_accuracy_500_mean"] >= 0.98  # issue 15's target for the conditional GAN
    text = evaluation["text baselines"]
    assert text["uniform_nats_per_char"] > text["unigram_nats_per_char"] > text["bigram_nats_per_char"] > 1.473
