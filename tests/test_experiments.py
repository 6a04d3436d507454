"""The experiments' outcomes (issue 12, item 2), on the shipped models: what each explanation promises is measured
here, so a retrained model that broke a promise fails a test instead of misleading a class. (The temperature and
repetition experiments' promises are checked through the server in tests/integration/test_lesson_walkthrough.py.)"""

import pytest
import torch

from genmodels.data import mnist_splits, to_signed
from genmodels.experiments import (
    beta_result,
    discriminator_real_versus_fake,
    far_outside_prior,
    gan_walk_versus_fade,
    half_tone_fraction,
    lerp_versus_slerp,
    posteriors,
    truncation_pair,
    vae_walk_versus_fade,
)
from genmodels.registry import Registry


@pytest.fixture(scope="module")
def registry():
    return Registry()


@pytest.fixture(scope="module")
def judge(registry):
    return registry.load("mnist-classifier", "classifier")


@pytest.fixture(scope="module")
def held_out():
    return mnist_splits()[1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_truncation_narrows_the_diversity_meter(registry, judge, seed):
    low, full = truncation_pair(registry.load("gan-mnist", "gan"), judge, seed)
    assert low.meter["inception_score"] < full.meter["inception_score"]
    assert low.meter["entropy_bits"] < full.meter["entropy_bits"]


def test_lerp_dips_inside_the_shell_and_slerp_stays_on_it(registry):
    result = lerp_versus_slerp(registry.load("gan-mnist", "gan"), 1, 2, frames=9)
    lerp, slerp = result.norms["lerp"], result.norms["slerp"]
    assert min(lerp) < 0.85 * min(lerp[0], lerp[-1])  # the midpoint falls well inside
    assert min(slerp) >= min(slerp[0], slerp[-1]) - 1e-3 and max(slerp) <= max(slerp[0], slerp[-1]) + 1e-3
    assert abs(slerp[4] - result.shell) / result.shell < 0.25  # endpoints are typical draws of the prior


@pytest.mark.parametrize("seeds", [(1, 2), (3, 4), (5, 6)])
def test_a_pixel_fade_is_two_ghosts_where_a_latent_walk_is_one_digit(registry, seeds):
    result = gan_walk_versus_fade(registry.load("gan-mnist", "gan"), *seeds, frames=9)
    middle = slice(3, 6)
    assert min(result.fade_half_tone[middle]) > 1.5 * max(result.walk_half_tone[middle])


def test_the_discriminator_still_scores_real_digits_higher(registry, held_out):
    result = discriminator_real_versus_fake(
        registry.load("gan-mnist", "gan"), to_signed(held_out.images), held_out.labels, seed=3
    )
    real, fake = torch.tensor(result.real_scores), torch.tensor(result.fake_scores)
    assert real.mean() > fake.mean() + 0.1


def test_beta_four_trades_kl_for_blur(registry, held_out):
    images = held_out.images[:64].float().unsqueeze(1) / 255
    one = beta_result(registry.load("vae-16d", "vae"), images, seed=0)
    four = beta_result(registry.load("vae-16d-beta4", "vae"), images, seed=0)
    assert four.kl_nats < 0.7 * one.kl_nats and four.squared_error > 1.2 * one.squared_error


def test_the_encoder_is_sure_where_a_digit_goes(registry, held_out):
    result = posteriors(registry.load("vae-2d", "vae"), held_out.images[:16].float().unsqueeze(1) / 255)
    assert result.means.shape == (16, 2) and float(result.sigmas.max()) < 0.3  # the prior's sigma is 1


def test_vae_walk_versus_fade(registry, held_out):
    images = held_out.images[:2].float().unsqueeze(1) / 255
    result = vae_walk_versus_fade(registry.load("vae-16d", "vae"), images[0], images[1], frames=9)
    assert result.fade_half_tone[4] > result.walk_half_tone[4]


def test_far_outside_the_prior_the_decoder_still_draws_harder_digits(registry, judge):
    result = far_outside_prior(registry.load("vae-16d", "vae"), judge, seed=3)
    assert result.confidence[-1] > 0.8  # still digits to the judge
    assert result.half_tone[-1] < result.half_tone[0]  # with harder edges
    assert result.log_prior[-1] < result.log_prior[0] - 100  # where the prior almost never goes


def test_half_tone_fraction():
    solid = torch.zeros(1, 1, 28, 28)
    solid[..., 10:18, 10:18] = 1.0
    assert half_tone_fraction(solid) == [0.0] and half_tone_fraction(solid * 0.5) == [1.0]


@pytest.fixture(scope="module")
def smollm(registry):
    from genmodels.text_models import TextModels

    return TextModels(registry, check_hub=False).load("smollm2-135m-instruct")


@pytest.fixture(scope="module")
def chargpt(registry):
    from genmodels.text_models import TextModels

    return TextModels(registry, check_hub=False).load("chargpt-shakespeare")


def test_top_p_keeps_a_handful_of_tokens(smollm):
    from genmodels.experiments import nucleus_cut

    half = nucleus_cut(smollm, "The old lighthouse keeper opened the door and", 0.5)
    full = nucleus_cut(smollm, "The old lighthouse keeper opened the door and", 1.0)
    assert half.kept < 50 and 0.5 <= half.kept_mass < 0.8 and len(half.removed) == 12
    assert full.kept == full.vocabulary and not full.removed
    assert max(p for _, p in half.removed) < 0.5


def test_a_character_model_spells_and_a_token_model_writes_pieces(chargpt, smollm):
    from genmodels.data import load_shakespeare
    from genmodels.experiments import characters_versus_tokens

    result = characters_versus_tokens(
        [chargpt, smollm], ["ROMEO:\nThe night is", "ROMEO:\nThe night is"], seed=0, steps=60,
        reference=load_shakespeare(),
    )  # fmt: skip
    assert result.characters_per_step[0] == 1.0 and result.characters_per_step[1] > 2.5


# The Diffusion tab's experiments (issue 11), with the tab's seed and sizes (demos/experiments.py).


@pytest.fixture(scope="module")
def diffusion(registry):
    return registry.load("diffusion-mnist", "diffusion")


def test_two_steps_leave_blurred_averaged_digits_where_fifty_draw_them(diffusion, judge):
    """The shipped model predicts v: from pure noise its guess of the clean digit is an average, a blur."""
    from genmodels.experiments import steps_pair

    few, many = steps_pair(diffusion, judge, 3, steps=(2, 50), count=20)
    assert few.half_tone > many.half_tone + 0.05  # "smudged strokes with more half-tone ink"
    assert few.within_class_distance < 0.75 * many.within_class_distance  # "less variety"
    assert few.class_accuracy >= 0.9 and many.class_accuracy >= 0.95  # "still reads them as the digit asked for"


def test_guidance_buys_fidelity_with_variety(diffusion, judge):
    from genmodels.experiments import guidance_pair

    free, guided = guidance_pair(diffusion, judge, 3, scales=(0.0, 3.0), count=40)
    assert guided.class_accuracy > free.class_accuracy
    assert guided.within_class_distance < free.within_class_distance


def test_autoguidance_buys_fidelity_and_keeps_the_variety_classifier_free_guidance_gives_up(diffusion, judge, registry):
    from genmodels.diffusion import default_guidance
    from genmodels.experiments import guidance_kinds

    guide = registry.guide("diffusion-mnist")
    free, cfg, auto = guidance_kinds(diffusion, guide, judge, 3, count=40, autoguidance=default_guidance(True)[1])
    assert cfg.within_class_distance < free.within_class_distance  # classifier-free guidance narrows each digit
    assert auto.within_class_distance > cfg.within_class_distance  # the experiment's answer: autoguidance keeps it
    assert auto.within_class_distance > 0.9 * free.within_class_distance
    assert auto.class_accuracy >= free.class_accuracy


def test_ddim_repeats_itself_and_ddpm_takes_another_path(diffusion, judge):
    from genmodels.experiments import sampler_pair

    result = sampler_pair(diffusion, judge, 3, steps=30, count=30)
    assert torch.equal(result.ddim.images, result.ddim_again.images)
    assert result.same_digit < 0.6  # "much less often" than always


def test_half_the_variance_is_digit_at_t_500(diffusion):
    from genmodels.diffusion_pipeline import signal_share

    assert 0.45 < signal_share(diffusion, 500) ** 2 < 0.55
    assert signal_share(diffusion, 999) ** 2 < 0.01 < 0.99 < signal_share(diffusion, 0) ** 2


@pytest.mark.parametrize("example", ["RIGHT_CONTEXT", "LINE_START"])
def test_only_the_masked_model_fills_the_blank_right(registry, example):
    """The fill experiments' promise (answer: only the masked model puts the hidden character first)."""
    from demos import experiments as demo_experiments
    from genmodels.experiments import read_blank

    text, answer = getattr(demo_experiments, example)
    reading = read_blank(
        registry.load("maskedlm-shakespeare", "maskedlm"), registry.load("chargpt-shakespeare", "chargpt"), text, answer
    )
    assert reading.both[0][0] == answer and reading.left[0][0] != answer
    assert reading.both_answer > 2 * reading.left_answer
