"""The shipped generators meet the quality targets, and their cards report what they really score."""

import math

import pytest
import torch

from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint, read_card
from genmodels.classifier import MNISTClassifier
from genmodels.data import mnist_splits, to_signed
from genmodels.gan import GAN
from genmodels.gan_pipeline import generate, sample_latents
from genmodels.metrics import classify, evaluate_generator
from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def judge():
    _, held_out = mnist_splits(SHARED_DATA)
    return load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier"), held_out


def test_classifier_held_out_accuracy_matches_its_card(judge):
    classifier, held_out = judge
    probabilities, _ = classify(classifier, to_signed(held_out.images))
    accuracy = (probabilities.argmax(1) == held_out.labels).double().mean().item()
    assert accuracy >= 0.98
    assert math.isclose(
        accuracy, read_card(CHECKPOINTS_DIR / "mnist-classifier")["genlab_metrics"]["held_out_accuracy"], abs_tol=1e-4
    )


@pytest.mark.parametrize("name", ["gan-mnist", "gan-mnist-clusters", "cgan-mnist"])
def test_generators_meet_targets_and_match_their_cards(judge, name):
    classifier, held_out = judge
    gan = load_checkpoint(GAN, CHECKPOINTS_DIR / name)
    measured = evaluate_generator(gan, classifier, to_signed(held_out.images), count=2000)
    card = read_card(CHECKPOINTS_DIR / name)["genlab_metrics"]
    assert measured["inception_score"] >= 9.0
    assert math.isclose(measured["inception_score"], card["inception_score"], abs_tol=0.01)
    assert math.isclose(measured["frechet_distance"], card["frechet_distance"], rel_tol=0.01)
    if gan.conditional:
        assert measured["class_accuracy"] >= 0.97
        assert min(measured["per_class_accuracy"]) >= 0.9


def test_the_self_conditioned_gan_meets_issue_15s_target_for_an_unconditional_gan(judge):
    """Issue 15: an Inception score within 3% of the real held-out digits' with 500 images, and a Fréchet distance no
    worse than the plain GAN's. Re-measured as the scoreboard measures it (five seeds of 500 images each), it must
    match the shipped evaluation and meet the target, without a label anywhere in the model."""
    from genmodels.evaluate import evaluate_model, shipped_evaluation

    classifier, held_out = judge
    gan = load_checkpoint(GAN, CHECKPOINTS_DIR / "gan-mnist-clusters")
    assert gan.clustered and not gan.conditional
    measured = evaluate_model("gan", gan, classifier, to_signed(held_out.images))
    shipped = shipped_evaluation()
    assert measured["inception_score_500_mean"] == pytest.approx(
        shipped["gan-mnist-clusters"]["inception_score_500_mean"], abs=1e-3
    )
    assert measured["inception_score_500_mean"] >= 0.97 * shipped["real digits"]["inception_score_real_500"]
    assert measured["frechet_500_mean"] <= shipped["gan-mnist"]["frechet_500_mean"]


def test_shipped_generator_is_deterministic_per_seed():
    gan = load_checkpoint(GAN, CHECKPOINTS_DIR / "gan-mnist")
    first, _ = generate(gan, sample_latents(gan, 31337, 16))
    torch.manual_seed(999)  # the global RNG must not matter
    second, _ = generate(gan, sample_latents(gan, 31337, 16))
    assert torch.equal(first, second)


@pytest.mark.parametrize("name", ["vae-2d", "vae-16d", "vae-16d-beta4", "vae-16d-pixel"])
def test_vae_cards_report_what_the_models_score(name):
    from genmodels.metrics import evaluate_vae
    from genmodels.vae import VAE

    _, held_out = mnist_splits(SHARED_DATA)
    vae = load_checkpoint(VAE, CHECKPOINTS_DIR / name)
    measured = evaluate_vae(vae, held_out.images.float().unsqueeze(1) / 255.0)
    card = read_card(CHECKPOINTS_DIR / name)["genlab_metrics"]
    for key in ("reconstruction_nats", "kl_nats", "negative_elbo_nats"):
        assert math.isclose(measured[key], card[key], rel_tol=1e-3, abs_tol=0.01), key
    assert measured["negative_elbo_nats"] < 200, "a trained VAE explains MNIST digits far better than chance (543 nats)"
    # Each digit's posterior refined (the card's semi-amortized bound), re-measured on the card's check digits.
    from genmodels.metrics import evaluate_refined_vae

    refined = evaluate_refined_vae(vae, held_out.images[:25].float().unsqueeze(1) / 255.0, card["refine_steps"])
    assert math.isclose(
        refined["negative_elbo_refined_nats"], card["check_negative_elbo_refined_25_nats"], abs_tol=0.05
    )
    assert card["negative_elbo_refined_nats"] < card["negative_elbo_nats"]


def test_beta_trades_reconstruction_for_a_smaller_kl():
    plain = read_card(CHECKPOINTS_DIR / "vae-16d")["genlab_metrics"]
    beta = read_card(CHECKPOINTS_DIR / "vae-16d-beta4")["genlab_metrics"]
    assert beta["kl_nats"] < plain["kl_nats"]
    assert beta["reconstruction_nats"] > plain["reconstruction_nats"]
    two_d = read_card(CHECKPOINTS_DIR / "vae-2d")["genlab_metrics"]
    assert plain["reconstruction_nats"] < two_d["reconstruction_nats"], "16 dimensions reconstruct more sharply than 2"


def test_the_diffusion_model_matches_its_card_and_meets_the_class_target(judge):
    from genmodels.diffusion import DEFAULT_SAMPLER, DiffusionModel, default_guidance
    from genmodels.diffusion_pipeline import judged_samples, load_guide

    classifier, held_out = judge
    model = load_checkpoint(DiffusionModel, CHECKPOINTS_DIR / "diffusion-mnist")
    guide = load_guide(CHECKPOINTS_DIR / "diffusion-mnist")
    assert guide is not None, "the shipped model is autoguided by diffusion-mnist-guide"
    guidance, autoguidance = default_guidance(True)
    card = read_card(CHECKPOINTS_DIR / "diffusion-mnist")["genlab_metrics"]
    assert card["guidance"] == guidance and card["autoguidance"] == autoguidance and card["sampler"] == DEFAULT_SAMPLER
    # the card's check: the first 100 samples (seed 2026, 20 steps, the tab's defaults), as the card measured them
    check = judged_samples(model, classifier, to_signed(held_out.images[:500]), 100, guide)
    assert check["autoguidance"] == autoguidance and check["guidance"] == guidance
    assert math.isclose(check["class_accuracy"], card["check_class_accuracy_100"], abs_tol=0.011)  # 1 of 100 may differ
    assert math.isclose(check["inception_score"], card["check_inception_score_100"], abs_tol=0.05)
    assert card["class_accuracy"] >= 0.98 and card["samples"] == 2000  # issue 11's target, on 2,000 samples
    assert card["class_accuracy_2000_fresh_seeds"] >= 0.98


def test_the_vqvae_card_reports_what_it_reconstructs():
    from genmodels.vqvae import VQVAE, reconstruction_metrics

    model = load_checkpoint(VQVAE, CHECKPOINTS_DIR / "vqvae-mnist")
    card = read_card(CHECKPOINTS_DIR / "vqvae-mnist")["genlab_metrics"]
    _, held_out = mnist_splits(SHARED_DATA)
    measured = reconstruction_metrics(model, to_signed(held_out.images))
    assert math.isclose(measured["reconstruction_mse"], card["reconstruction_mse"], rel_tol=1e-3)
    assert measured["codes_used"] == card["codes_used"] and model.config.codebook_size >= 64


def test_the_masked_model_matches_its_card_and_sees_more_than_the_left():
    from genmodels.chargpt import CharGPT
    from genmodels.data import load_shakespeare, split_text
    from genmodels.maskedlm import MaskedCharLM, both_sides_against_left, evaluate_masked

    folder = CHECKPOINTS_DIR / "maskedlm-shakespeare"
    model = load_checkpoint(MaskedCharLM, folder)
    card = read_card(folder)["genlab_metrics"]
    gpt = load_checkpoint(CharGPT, CHECKPOINTS_DIR / "chargpt-shakespeare")
    assert model.config.vocab == gpt.config.vocab, "the same characters as the char-GPT"
    _, validation = split_text(load_shakespeare(SHARED_DATA))
    ids = torch.tensor(model.encode(validation))
    spans = evaluate_masked(model, ids, model.config.mean_span)
    single = evaluate_masked(model, ids, 1.0)
    assert math.isclose(spans["loss"], card["validation_masked_nats_per_char"], abs_tol=2e-3)
    assert math.isclose(single["accuracy"], card["validation_single_accuracy"], abs_tol=2e-3)
    versus = both_sides_against_left(model, gpt, ids)
    assert math.isclose(versus["both_sides_accuracy"], card["both_sides_accuracy"], abs_tol=2e-3)
    assert versus["both_sides_accuracy"] > versus["left_only_accuracy"] + 0.05, "seeing both sides must help"
    assert (folder / "model.safetensors").stat().st_size < 8 * 2**20
