"""One scoreboard for every image model (issue 11, item 3): the scorer, its rows, and the shipped table."""

import pytest
import torch

from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
from genmodels.classifier import MNISTClassifier
from genmodels.data import mnist_splits, to_signed
from genmodels.evaluate import (
    DIFFUSION_MORE_STEPS,
    DIFFUSION_STEPS,
    HALF,
    IMAGE_FAMILIES,
    _image_models,
    evaluate_model,
    more_steps_name,
    real_floor,
    score_samples,
    scoreboard,
    scoreboard_markdown,
    shipped_evaluation,
)
from genmodels.gan import GAN


@pytest.fixture(scope="module")
def judge_and_digits():
    held = mnist_splits()[1]
    judge = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier").eval()
    return judge, to_signed(held.images), held.labels


def test_real_digits_scored_as_a_model_sit_exactly_on_the_floor(judge_and_digits):
    judge, digits, labels = judge_and_digits

    def second_half(seed, count):  # a "model" that returns the other half of the real held-out digits
        return digits[HALF : HALF + count], labels[HALF : HALF + count]

    result = score_samples(second_half, judge, digits, seeds=(1, 2))
    floor = real_floor(judge, digits)
    assert result["frechet_500_mean"] == pytest.approx(floor["frechet_floor"], abs=1e-3)
    assert result["frechet_500_spread"] == 0.0  # the same digits for both seeds
    assert result["class_accuracy_500_mean"] > 0.97  # the judge reads real digits right
    assert result["entropy_bits_500_mean"] > 3.2 and result["samples"] == 1000 and result["ms_per_image"] >= 0


def test_a_gan_is_scored_with_its_speed_and_beats_noise(judge_and_digits):
    judge, digits, _ = judge_and_digits
    gan = load_checkpoint(GAN, CHECKPOINTS_DIR / "cgan-mnist")
    result = evaluate_model("gan", gan, judge, digits, seeds=(5, 6))
    noise = score_samples(lambda seed, count: (torch.rand(count, 1, 28, 28) * 2 - 1, None), judge, digits, (1, 2))
    assert result["family"] == "gan" and result["class_accuracy_500_mean"] > 0.95
    assert result["frechet_500_mean"] < noise["frechet_500_mean"] / 5
    assert result["inception_score_500_mean"] > 2 * noise["inception_score_500_mean"]
    assert "class_accuracy_500_mean" not in noise  # unconditional: no digit was asked for
    assert 0 < result["ms_per_image"] < 50


def test_rows_keep_family_order_and_read_against_the_floor():
    evaluation = {
        "real digits": {"frechet_floor": 380.0, "inception_score_real_500": 9.9, "inception_score_real_1000": 9.8},
        "d": {"family": "diffusion", "frechet_500_mean": 120.0, "frechet_500_spread": 3.0,
              "inception_score_500_mean": 9.8, "class_accuracy_500_mean": 0.99, "entropy_bits_500_mean": 3.3,
              "ms_per_image": 80.0, "samples": 2500},
        "g": {"family": "gan", "frechet_500_mean": 170.0, "frechet_500_spread": 4.0,
              "inception_score_500_mean": 8.91, "entropy_bits_500_mean": 3.2, "ms_per_image": 0.1, "samples": 2500},
        "text baselines": {"unigram_nats_per_char": 3.3},
    }  # fmt: skip
    rows = scoreboard(evaluation)
    assert [row["model"] for row in rows] == ["g", "d"]  # GANs, VAEs, VQ-VAE, diffusion
    assert rows[0]["share_of_real"] == pytest.approx(0.9) and rows[0]["class_accuracy"] is None
    table = scoreboard_markdown(rows)
    assert "| g | gan | 170.0 ± 4.0 | 380.0 | 8.91 (90%) | n/a (unconditional) | 3.20 | 0.10 |" in table
    assert "| d | diffusion | 120.0 ± 3.0 | 380.0 | 9.80 (99%) | 99.0% | 3.30 | 80.00 |" in table


def test_the_shipped_scoreboard_has_every_shipped_image_model():
    evaluation = shipped_evaluation()
    shipped = _image_models(CHECKPOINTS_DIR)
    assert {family for family, _ in shipped.values()} == set(IMAGE_FAMILIES)
    for name, (family, _) in shipped.items():
        result = evaluation[name]
        assert result["family"] == family and result["samples"] >= 2000 and result["ms_per_image"] > 0
        assert result["frechet_500_min"] <= result["frechet_500_mean"] <= result["frechet_500_max"]
    diffusion = [name for name, (family, _) in shipped.items() if family == "diffusion"]
    for name in diffusion:  # scored at the tab's default steps, and again with more
        assert evaluation[name]["sampling_steps"] == DIFFUSION_STEPS
        more = evaluation[more_steps_name(name)]
        assert (
            more["sampling_steps"] == DIFFUSION_MORE_STEPS and more["ms_per_image"] > evaluation[name]["ms_per_image"]
        )
    rows = scoreboard(evaluation)
    assert len(rows) == len(shipped) + len(diffusion)


def test_a_diffusion_model_is_scored_with_the_steps_asked_for(judge_and_digits, monkeypatch):
    from genmodels import diffusion
    from genmodels.diffusion import DiffusionConfig, DiffusionModel

    judge, digits, _ = judge_and_digits
    calls = []
    real_sample = diffusion.sample

    def counting(model, labels, steps, *rest):
        calls.append(steps)
        return real_sample(model, labels, steps, *rest)

    monkeypatch.setattr(diffusion, "sample", counting)
    model = DiffusionModel(DiffusionConfig(channels=8, timesteps=50)).eval()
    result = evaluate_model("diffusion", model, judge, digits, seeds=(1,), steps=2)
    assert result["sampling_steps"] == 2 and set(calls) == {2} and result["samples"] == HALF
    assert 0 <= result["class_accuracy_500_mean"] <= 1


def test_only_rescores_the_named_models_and_keeps_the_rest(tmp_path):
    import json

    from genmodels.evaluate import main

    out = tmp_path / "evaluation.json"
    kept = shipped_evaluation()["vae-2d"] | {"frechet_500_mean": 1.0}  # a value no measure gives
    stale = shipped_evaluation()["gan-mnist"] | {"frechet_500_mean": -1.0}
    out.write_text(json.dumps({"vae-2d": kept, "gan-mnist": stale}))
    results = main(["--out", str(out), "--only", "gan-mnist"])
    written = json.loads(out.read_text())
    assert written["vae-2d"] == kept  # not re-scored
    assert "vae-16d" not in written  # nothing invented for a model the old file did not have
    assert written["gan-mnist"]["frechet_500_mean"] > 50 and written["gan-mnist"] == results["gan-mnist"]
    assert written["real digits"]["frechet_floor"] > 0 and "text baselines" in written
    with pytest.raises(SystemExit):
        main(["--out", str(out), "--only", "no-such-model"])


def test_a_diffusion_model_with_a_guide_is_scored_autoguided(judge_and_digits, monkeypatch):
    from genmodels import diffusion
    from genmodels.diffusion import DiffusionConfig, DiffusionModel, default_guidance

    judge, digits, _ = judge_and_digits
    calls = []
    real_sample = diffusion.sample

    def recording(model, labels, steps, guidance, sampler, generator, guide=None, autoguidance=0.0):
        calls.append((guidance, guide, autoguidance))
        return real_sample(model, labels, steps, guidance, sampler, generator, guide, autoguidance)

    monkeypatch.setattr(diffusion, "sample", recording)
    model = DiffusionModel(DiffusionConfig(channels=8, timesteps=50)).eval()
    guide = DiffusionModel(DiffusionConfig(channels=8, timesteps=50)).eval()
    result = evaluate_model("diffusion", model, judge, digits, seeds=(1,), steps=2, guide=guide)
    guidance, autoguidance = default_guidance(True)
    assert {(g, a) for g, _, a in calls} == {(guidance, autoguidance)} and all(g is guide for _, g, _ in calls)
    assert result["autoguidance"] == autoguidance and result["guidance"] == guidance
    plain = evaluate_model("diffusion", model, judge, digits, seeds=(1,), steps=2)
    assert plain["autoguidance"] == 0 and plain["guidance"] == default_guidance(False)[0]
