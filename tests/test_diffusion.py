"""The diffusion model's parts (issue 11, groundwork): schedule, forward process, U-Net shapes, samplers."""

import threading

import pytest
import torch

from genmodels.diffusion import DiffusionConfig, DiffusionModel, alpha_bars, diffusion_loss, sample

TINY = DiffusionConfig(channels=8, timesteps=100)


def test_the_cosine_schedule_goes_from_signal_to_noise():
    abar = alpha_bars(1000)
    assert abar.shape == (1000,) and abar[0] > 0.999 and abar[-1] < 1e-4
    assert bool((abar[1:] < abar[:-1]).all())  # every step adds noise


def test_the_forward_process_keeps_unit_variance_and_fades_the_digit():
    model = DiffusionModel(TINY)
    x0 = torch.ones(4000, 1, 28, 28)
    noise = torch.randn(4000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    early = model.noised(x0, torch.full((4000,), 1), noise)
    late = model.noised(x0, torch.full((4000,), 99), noise)
    assert early.mean() > 0.95 and late.mean().abs() < 0.05 and abs(late.std() - 1) < 0.02


def test_the_unet_keeps_the_image_shape_and_starts_at_zero():
    model = DiffusionModel(TINY)
    x = torch.randn(3, 1, 28, 28)
    out = model(x, torch.tensor([0, 50, 99]), torch.tensor([0, 5, TINY.num_classes]))
    assert out.shape == x.shape and float(out.abs().max()) == 0.0  # the last layer starts at zero


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_samplers_are_seeded_and_yield_every_step(sampler):
    model = DiffusionModel(TINY).eval()
    labels = torch.arange(4)

    def run(seed):
        return list(sample(model, labels, 5, 2.0, sampler, torch.Generator().manual_seed(seed)))

    first, again, other = run(1), run(1), run(2)
    assert len(first) == 5 and first[-1].t == 0 and all(step.x.shape == (4, 1, 28, 28) for step in first)
    assert [step.t for step in first] == sorted((step.t for step in first), reverse=True)  # noise to digit
    assert torch.equal(first[-1].x, again[-1].x) and not torch.equal(first[-1].x, other[-1].x)
    assert float(first[-1].x0.abs().max()) <= 1.0


def test_sampling_in_chunks_gives_the_images_of_one_pass(monkeypatch):
    from genmodels import diffusion

    torch.manual_seed(0)
    model = DiffusionModel(TINY).eval()
    with torch.no_grad():  # a model that does something: the zero-initialised last layer would hide any mix-up
        model.out[-1].weight.normal_(0, 0.3)
    labels = torch.arange(70) % 10  # with guidance, 140 rows: three passes of 64, the last one short
    calls = []
    original = DiffusionModel.forward

    def counted(self, x, t, y):
        calls.append(len(x))
        return original(self, x, t, y)

    monkeypatch.setattr(DiffusionModel, "forward", counted)
    chunked = list(sample(model, labels, 3, 1.0, "ddpm", torch.Generator().manual_seed(5)))[-1].x
    assert calls == [64, 64, 12] * 3
    monkeypatch.setattr(diffusion, "SAMPLE_CHUNK", 1000)
    whole = list(sample(model, labels, 3, 1.0, "ddpm", torch.Generator().manual_seed(5)))[-1].x
    assert calls[9:] == [140] * 3
    # the same images: a pass over fewer rows may add its sums in another order, and guidance and three steps grow
    # that rounding (up to 4e-4 here on one thread); a mix-up of rows would move pixels by a whole unit
    assert (chunked - whole).abs().max() < 1e-2 and whole.std() > 0.1


def test_bad_sampler_settings_are_refused():
    model = DiffusionModel(TINY)
    with pytest.raises(ValueError, match="unknown sampler"):
        list(sample(model, torch.arange(2), 5, 0.0, "euler", torch.Generator()))
    with pytest.raises(ValueError, match="steps must be 1 to 100"):
        list(sample(model, torch.arange(2), 0, 0.0, "ddim", torch.Generator()))


def test_a_few_training_steps_lower_the_loss():
    from genmodels.trainers import DiffusionTrainConfig, DiffusionTrainer

    images = torch.zeros(64, 1, 28, 28) - 1
    images[:, :, 8:20, 12:16] = 1  # a bar: easy to learn
    trainer = DiffusionTrainer(
        TINY, DiffusionTrainConfig(steps=60, batch_size=32, lr=3e-3, warmup_steps=5), images, torch.arange(64) % 10
    )
    losses = [event.losses["loss"] for event in trainer.run(threading.Event())]
    assert sum(losses[-10:]) / 10 < 0.8 * sum(losses[:10]) / 10
    generator = torch.Generator().manual_seed(0)
    assert diffusion_loss(trainer.export(), images[:8], torch.arange(8), generator) > 0


def test_the_learning_rate_holds_at_a_tenth_after_cosine_steps():
    from genmodels.trainers import DiffusionTrainConfig, DiffusionTrainer

    images, labels = torch.zeros(8, 1, 28, 28), torch.arange(8) % 10

    def rates(**options):
        trainer = DiffusionTrainer(TINY, DiffusionTrainConfig(lr=1e-3, warmup_steps=10, **options), images, labels)
        found = {}
        for step in (5, 50, 100, 150, 300):
            trainer.step = step
            found[step] = trainer.learning_rate()
        return found

    plain, held = rates(steps=300), rates(steps=300, cosine_steps=100)
    assert held[5] == plain[5] == pytest.approx(6e-4)  # the warm-up is the same
    assert plain[150] > 1.5e-4 and plain[300] == pytest.approx(1e-4)  # the plain schedule decays to its last step
    assert held[50] < plain[50]  # the shorter cosine falls faster ...
    assert held[100] == held[150] == held[300] == pytest.approx(1e-4)  # ... and stays at a tenth after it


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_the_true_target_gives_back_the_clean_digit_at_every_step(prediction):
    model = DiffusionModel(DiffusionConfig(channels=8, timesteps=100, prediction=prediction))
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand(6, 1, 28, 28, generator=generator) * 2 - 1
    noise = torch.randn(6, 1, 28, 28, generator=generator)
    t = torch.tensor([0, 1, 40, 70, 98, 99])  # abar from nearly 1 to nearly 0
    x, target = model.noised(x0, t, noise), model.target(x0, t, noise)
    for i in range(6):
        recovered = model.clean_image_from_output(x[i], model.alpha_bar[t[i]], target[i])
        # eps divides by sqrt(abar), which loses precision where almost no signal is left; v never divides
        tolerance = 1e-4 if prediction == "v" or t[i] < 90 else 5e-2
        assert torch.allclose(recovered, x0[i], atol=tolerance), (prediction, int(t[i]))
    if prediction == "eps":
        assert torch.equal(target, noise)
    else:  # v has unit variance at every step, where eps-prediction's x0 error grows as abar falls
        big = torch.randn(4000, 1, 28, 28, generator=generator)
        clean = torch.sign(torch.randn(4000, 1, 28, 28, generator=generator))
        for step in (1, 50, 99):
            v = model.target(clean, torch.full((4000,), step), big)
            assert abs(float(v.std()) - 1) < 0.02


def test_an_unknown_prediction_is_refused():
    with pytest.raises(ValueError, match="unknown prediction 'x0'"):
        DiffusionModel(DiffusionConfig(channels=8, prediction="x0"))


def test_dropout_works_only_while_training_and_leaves_the_weights_as_they_were():
    plain = DiffusionModel(DiffusionConfig(channels=8, timesteps=100))
    model = DiffusionModel(DiffusionConfig(channels=8, timesteps=100, dropout=0.5))
    assert plain.state_dict().keys() == model.state_dict().keys()  # a model saved before dropout existed loads
    torch.nn.init.normal_(model.out[-1].weight, std=0.1)
    x, t, y = torch.randn(2, 1, 28, 28), torch.tensor([10, 90]), torch.tensor([3, 10])
    model.train()
    assert not torch.equal(model(x, t, y), model(x, t, y))  # a different mask each pass
    model.eval()
    assert torch.equal(model(x, t, y), model(x, t, y))
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
            DiffusionModel(DiffusionConfig(channels=8, dropout=bad))


def test_a_run_with_dropout_repeats_resumes_exactly_and_leaves_the_global_rng_alone(tmp_path):
    from genmodels.trainers import DiffusionTrainConfig, DiffusionTrainer

    images, labels = torch.rand(32, 1, 28, 28) * 2 - 1, torch.arange(32) % 10
    config = DiffusionConfig(channels=8, timesteps=100, dropout=0.3, prediction="v")

    def trainer():
        return DiffusionTrainer(config, DiffusionTrainConfig(steps=6, batch_size=8, warmup_steps=2), images, labels)

    torch.manual_seed(1)
    before = torch.get_rng_state()
    uninterrupted = [event.losses for event in trainer().run()]
    assert torch.equal(torch.get_rng_state(), before), "training drew dropout masks from the global RNG"
    assert [event.losses for event in trainer().run()] == uninterrupted  # the same masks on a second run
    first = trainer()
    for event in first.run():
        if event.step == 3:
            first.save_state(tmp_path / "state")
            break
    resumed = trainer()
    resumed.load_state(tmp_path / "state")
    assert [event.losses for event in resumed.run()] == uninterrupted[3:]
    assert not resumed.export().training
    assert torch.equal(resumed.preview(), resumed.preview()), "previews sample the average without dropout"


def test_min_snr_weighting_lowers_the_weight_of_nearly_clean_steps_only():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    labels = torch.arange(64) % 10
    for prediction in ("eps", "v"):
        model = DiffusionModel(DiffusionConfig(channels=8, timesteps=100, prediction=prediction))
        torch.nn.init.normal_(model.out[-1].weight, std=0.1)  # a network whose errors differ from step to step

        def loss(gamma, model=model):
            return float(diffusion_loss(model, images, labels, torch.Generator().manual_seed(3), gamma))

        plain = loss(0.0)
        if prediction == "eps":  # min(SNR, gamma) / SNR is 1 wherever SNR <= gamma: a huge gamma changes nothing
            assert loss(1e12) == pytest.approx(plain, rel=1e-5)
        assert loss(5.0) < plain and loss(1.0) < loss(5.0)  # weights <= 1 shrink as gamma falls


def test_a_v_prediction_model_trains_samples_and_keeps_its_kind_through_a_checkpoint(tmp_path):
    from genmodels.checkpoints import load_checkpoint, save_checkpoint
    from genmodels.trainers import DiffusionTrainConfig, DiffusionTrainer
    from tests.conftest import card_for

    images = torch.zeros(64, 1, 28, 28) - 1
    images[:, :, 8:20, 12:16] = 1
    config = DiffusionConfig(channels=8, timesteps=100, prediction="v")
    trainer = DiffusionTrainer(
        config,
        DiffusionTrainConfig(steps=60, batch_size=32, lr=3e-3, warmup_steps=5, min_snr_gamma=5.0),
        images,
        torch.arange(64) % 10,
    )
    losses = [event.losses["loss"] for event in trainer.run(threading.Event())]
    assert sum(losses[-10:]) / 10 < 0.8 * sum(losses[:10]) / 10
    model = trainer.export()
    save_checkpoint(model, tmp_path / "v-model", card_for("diffusion"))
    loaded = load_checkpoint(DiffusionModel, tmp_path / "v-model")
    assert loaded.config.prediction == "v"
    steps = list(sample(loaded, torch.arange(4), 10, 0.5, "ddim", torch.Generator().manual_seed(0)))
    final = steps[-1].x
    assert bool(torch.isfinite(final).all())
    # the bar it learned: brighter inside the bar than outside
    assert float(final[:, :, 8:20, 12:16].mean()) > float(final[:, :, :, :6].mean()) + 0.25


def test_the_tab_says_what_each_model_predicts(tmp_path):
    from demos.diffusion import DiffusionTab
    from genmodels.checkpoints import save_checkpoint
    from genmodels.registry import Registry
    from tests.conftest import card_for

    for prediction in ("eps", "v"):
        model = DiffusionModel(DiffusionConfig(channels=8, timesteps=100, prediction=prediction))
        save_checkpoint(model, tmp_path / f"{prediction}-model", card_for("diffusion"))
    tab = DiffusionTab(Registry(roots=(tmp_path,), device="cpu"))
    assert "trained to predict the noise, 100 noise levels" in tab.model_info("eps-model")
    assert "trained to predict v (the noise and the clean digit mixed" in tab.model_info("v-model")


def test_the_train_command_writes_a_checkpoint_with_its_card(capsys):
    import re
    import shutil
    from pathlib import Path

    from genmodels.checkpoints import load_checkpoint, read_card
    from genmodels.train import main

    options = "--channels 8 --prediction v --min-snr-gamma 5 --cosine-steps 4 --dropout 0.1"
    main(["diffusion", "--dry-run", *options.split()])
    out = Path(re.search(r"^saved (.+)$", capsys.readouterr().out, re.MULTILINE).group(1))
    try:
        model = load_checkpoint(DiffusionModel, out)
        metrics = read_card(out)["genlab_metrics"]
        assert model.config.channels == 8 and metrics["steps"] == 6 and model.config.prediction == "v"
        assert 0 <= metrics["class_accuracy"] <= 1 and metrics["ms_per_image_20_steps_guided"] > 0
        card = (out / "README.md").read_text()
        assert "one network pass per sampling step" in card and "min(SNR, 5)" in card and "predicts v," in card
        assert "decay to a tenth at step 4, then held there" in card
        assert model.config.dropout == 0.1 and "dropout 0.1 inside each residual block" in card
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)  # the dry run's scratch folder


def test_stop_at_ends_a_run_early_with_its_schedule_unchanged(capsys):
    import json
    import re
    import shutil
    from pathlib import Path

    from genmodels.checkpoints import read_card
    from genmodels.train import main

    main(["diffusion", "--dry-run", "--channels", "8", "--stop-at", "4"])
    out = Path(re.search(r"^saved (.+)$", capsys.readouterr().out, re.MULTILINE).group(1))
    try:
        assert read_card(out)["genlab_metrics"]["steps"] == 4, "stopped after step 4"
        state = json.loads((out.parent / "run" / "state" / "trainer.json").read_text())
        assert state["step"] == 4 and state["train_config"]["steps"] == 6, "the schedule still spans --steps"
        assert read_card(out)["genlab_metrics"]["sampler"] in ("ddim", "ddpm")
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def test_the_tab_and_the_scoreboard_show_what_more_sampling_steps_buy():
    from demos.diffusion import DiffusionTab
    from demos.scoreboard import ScoreboardTab
    from genmodels.evaluate import DIFFUSION_MORE_STEPS, more_steps_name, shipped_evaluation
    from genmodels.registry import Registry

    registry = Registry()
    more = shipped_evaluation()[more_steps_name("diffusion-mnist")]
    info = DiffusionTab(registry).model_info("diffusion-mnist")
    assert f"With {DIFFUSION_MORE_STEPS} sampling steps in place of 20" in info
    assert f"**{more['frechet_500_mean']:.1f} ± {more['frechet_500_spread']:.1f}**" in info
    frame, note = ScoreboardTab(registry).table()
    assert "listed twice" in note and "diffusion-mnist, 50 sampling steps" in frame.to_string()
    assert "diffusion model" in frame.to_string() and more_steps_name("diffusion-mnist") in shipped_evaluation()


def _random_model(seed: int, **config) -> DiffusionModel:
    """A tiny model whose output is not zero (the last layer starts at zero), so guidance has something to mix."""
    torch.manual_seed(seed)
    model = DiffusionModel(DiffusionConfig(channels=8, timesteps=100, **config)).eval()
    with torch.no_grad():
        model.out[-1].weight.normal_(0, 0.3)
    return model


def test_autoguidance_steers_away_from_the_guide_by_the_formula():
    model, guide = _random_model(0), _random_model(1)
    labels = torch.tensor([3, 7])
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(9))
    a_t = model.alpha_bar.double()[99].float()
    t = torch.full((2,), 99)
    with torch.inference_mode():
        mixed = model(x, t, labels) + 1.5 * (model(x, t, labels) - guide(x, t, labels))
    expected = model.clean_image_from_output(x, a_t, mixed).clamp(-1, 1)
    step = next(sample(model, labels, 1, 0.0, "ddim", torch.Generator().manual_seed(9), guide, 1.5))
    assert torch.allclose(step.x0, expected, atol=1e-5)
    plain = next(sample(model, labels, 1, 0.0, "ddim", torch.Generator().manual_seed(9)))
    assert (plain.x0 - step.x0).abs().max() > 1e-2, "a different guide changes the digit"
    # guided by itself, the difference is zero: the samples of the model alone
    itself = next(sample(model, labels, 1, 0.0, "ddim", torch.Generator().manual_seed(9), model, 1.5))
    assert torch.allclose(itself.x0, plain.x0, atol=1e-6)


def test_both_kinds_of_guidance_add_up_on_the_conditional_output():
    model, guide = _random_model(0), _random_model(1)
    labels = torch.tensor([2])
    x = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    t, null = torch.full((1,), 99), torch.full((1,), model.null_class)
    with torch.inference_mode():
        conditional = model(x, t, labels)
        mixed = conditional + 0.5 * (conditional - model(x, t, null)) + 2.0 * (conditional - guide(x, t, labels))
    expected = model.clean_image_from_output(x, model.alpha_bar.double()[99].float(), mixed).clamp(-1, 1)
    step = next(sample(model, labels, 1, 0.5, "ddim", torch.Generator().manual_seed(4), guide, 2.0))
    assert torch.allclose(step.x0, expected, atol=1e-5)


def test_autoguidance_without_a_fitting_guide_is_refused():
    model = _random_model(0, prediction="v")
    labels = torch.arange(2)
    with pytest.raises(ValueError, match="autoguidance needs a guide"):
        list(sample(model, labels, 2, 0.0, "ddpm", torch.Generator(), None, 1.0))
    for other in (_random_model(1, prediction="eps"), DiffusionModel(DiffusionConfig(channels=8, timesteps=50))):
        with pytest.raises(ValueError, match="same noise schedule, prediction and classes"):
            list(sample(model, labels, 2, 0.0, "ddpm", torch.Generator(), other, 1.0))
    # a guide given with autoguidance 0 is not used
    assert len(list(sample(model, labels, 2, 0.0, "ddpm", torch.Generator(), None, 0.0))) == 2


def _pixels(path: str):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path))


def test_a_guide_is_found_beside_its_model_and_listed_in_no_picker(tmp_path):
    from demos.diffusion import DiffusionTab
    from genmodels.checkpoints import save_checkpoint
    from genmodels.diffusion import default_guidance
    from genmodels.diffusion_pipeline import load_guide
    from genmodels.registry import Registry
    from tests.conftest import card_for

    save_checkpoint(_random_model(0), tmp_path / "digits", card_for("diffusion"))
    save_checkpoint(_random_model(1), tmp_path / "digits-guide", card_for("diffusion-guide"))
    save_checkpoint(_random_model(2), tmp_path / "alone", card_for("diffusion"))
    registry = Registry(roots=(tmp_path,), device="cpu")
    assert registry.names("diffusion") == ["alone", "digits"]
    assert registry.has_guide("digits") and not registry.has_guide("alone") and not registry.has_guide(None)
    assert registry.guide("alone") is None
    guide = registry.guide("digits")
    assert torch.equal(guide.out[-1].weight, load_guide(tmp_path / "digits").out[-1].weight)
    assert load_guide(tmp_path / "alone") is None

    tab = DiffusionTab(registry)
    cfg, auto = default_guidance(True)
    assert cfg == 0 and auto > 0 and default_guidance(False)[1] == 0
    guided = tab.sample("digits", 3, 4, "0-9 in turn", 3, 0.0, "DDPM (stochastic)", 3, 2, auto)
    plain = tab.sample("digits", 3, 4, "0-9 in turn", 3, 0.0, "DDPM (stochastic)", 3, 2, 0.0)
    assert f"autoguidance {auto:g}" in guided[3] and "autoguidance" not in plain[3]
    assert not (_pixels(guided[0]) == _pixels(plain[0])).all()
    # a model without a guide: a notice, and the images of no autoguidance
    alone = tab.sample("alone", 3, 4, "0-9 in turn", 3, 0.0, "DDPM (stochastic)", 3, 2, 2.0)
    alone_plain = tab.sample("alone", 3, 4, "0-9 in turn", 3, 0.0, "DDPM (stochastic)", 3, 2, 0.0)
    assert "alone has no guide model, so autoguidance is off" in alone[3]
    assert (_pixels(alone[0]) == _pixels(alone_plain[0])).all()
    assert "Shipped with a guide for autoguidance, **digits-guide**" in tab.model_info("digits")
    assert "guide" not in tab.model_info("alone")
    # the sliders follow the model picked
    cfg_update, auto_update = tab.guidance_defaults("alone")
    assert cfg_update["value"] == default_guidance(False)[0] and auto_update == {
        "__type__": "update",
        "value": 0.0,
        "interactive": False,
    }
    assert tab.guidance_defaults("digits")[1]["value"] == auto


@pytest.mark.parametrize("bad", [-0.5, 10.5, float("nan"), "2"])
def test_bad_autoguidance_is_refused_by_the_pipeline(bad):
    from genmodels.diffusion_pipeline import denoise

    model = _random_model(0)
    with pytest.raises(ValueError, match="autoguidance must be between 0 and 10"):
        denoise(model, 1, 2, None, 2, 0.0, "ddpm", model, bad)
    with pytest.raises(ValueError, match="autoguidance needs this model's guide"):
        denoise(model, 1, 2, None, 2, 0.0, "ddpm", None, 1.0)


def test_the_train_command_exports_a_guide_with_its_own_family(capsys):
    import re
    import shutil
    from pathlib import Path

    from genmodels.checkpoints import read_card
    from genmodels.train import main

    main(["diffusion", "--dry-run", "--channels", "8", "--stop-at", "3", "--guide-for", "diffusion-mnist"])
    out = Path(re.search(r"^saved (.+)$", capsys.readouterr().out, re.MULTILINE).group(1))
    try:
        card = read_card(out)
        assert card["genlab_family"] == "diffusion-guide" and card["genlab_metrics"]["steps"] == 3
        text = (out / "README.md").read_text()
        assert "The guide of `diffusion-mnist` for autoguidance" in text and "stopped after 3 steps" in text
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def test_card_metrics_are_measured_at_each_models_default_guidance():
    from genmodels.classifier import ClassifierConfig, MNISTClassifier
    from genmodels.diffusion import default_guidance
    from genmodels.diffusion_pipeline import card_metrics, judged_samples

    torch.manual_seed(0)
    judge = MNISTClassifier(ClassifierConfig()).eval()
    reference = torch.rand(20, 1, 28, 28) * 2 - 1
    model, guide = _random_model(0), _random_model(1)
    guided = card_metrics(model, judge, reference, guide, count=20, check=10)
    plain = card_metrics(model, judge, reference, None, count=20, check=10)
    assert (guided["guidance"], guided["autoguidance"]) == default_guidance(True)
    assert plain["guidance"] == default_guidance(False)[0] and "autoguidance" not in plain
    for metrics in (guided, plain):
        assert metrics["samples"] == 20 and metrics["ms_per_image_20_steps_guided"] > 0
        assert 0 <= metrics["check_class_accuracy_100"] <= 1 and metrics["frechet_distance_500"] > 0
    # the check is its own draw of `check` samples with the same seed
    assert guided["check_inception_score_100"] == judged_samples(model, judge, reference, 10, guide)["inception_score"]
    assert guided["frechet_distance_500"] != plain["frechet_distance_500"]
