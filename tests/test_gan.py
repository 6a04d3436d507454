import pytest
import torch

from genmodels.gan_pipeline import (
    discriminator_scores,
    generate,
    interpolation_latents,
    latent_directions,
    sample_latents,
)
from tests.conftest import tiny_gan


def test_generator_and_discriminator_shapes():
    gan = tiny_gan()
    images = gan.generator(torch.randn(5, 8))
    assert images.shape == (5, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert gan.discriminator(images).shape == (5,)


def test_conditional_models_need_labels():
    gan = tiny_gan(conditional=True)
    y = torch.tensor([0, 9])
    assert gan.generator(torch.randn(2, 8), y).shape == (2, 1, 28, 28)
    assert gan.discriminator(torch.zeros(2, 1, 28, 28), y).shape == (2,)
    with pytest.raises(ValueError):
        gan.generator(torch.randn(2, 8))
    with pytest.raises(ValueError):
        gan.discriminator(torch.zeros(2, 1, 28, 28))


def test_class_label_changes_the_image():
    gan = tiny_gan(conditional=True)
    z = torch.randn(1, 8).repeat(2, 1)
    images = gan.generator(z, torch.tensor([1, 7]))
    assert not torch.allclose(images[0], images[1])


def test_same_seed_same_images_different_seed_different_images():
    gan = tiny_gan()
    first, _ = generate(gan, sample_latents(gan, 5, 9))
    again, _ = generate(gan, sample_latents(gan, 5, 9))
    other, _ = generate(gan, sample_latents(gan, 6, 9))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)


def test_truncation_zero_collapses_to_one_image():
    gan = tiny_gan()
    images, _ = generate(gan, sample_latents(gan, 1, 4, psi=0.0))
    assert torch.allclose(images, images[0].expand_as(images))


def test_sample_latents_rejects_bad_values():
    gan = tiny_gan()
    for kwargs in (
        {"seed": -1, "count": 4},
        {"seed": 2**40, "count": 4},
        {"seed": 1, "count": 0},
        {"seed": 1, "count": 65},
        {"seed": 1, "count": 4, "psi": float("nan")},
        {"seed": 1, "count": 4, "psi": 1.5},
    ):
        with pytest.raises(ValueError):
            sample_latents(gan, **kwargs)


def test_latent_directions_are_deterministic_unit_vectors_that_move_samples():
    gan = tiny_gan()
    directions = latent_directions(gan, count=3, samples=256)
    again = latent_directions(gan, count=3, samples=256)
    assert torch.equal(directions.vectors, again.vectors)
    assert directions.vectors.shape == (3, 8)
    assert torch.allclose(directions.vectors.norm(dim=1), torch.ones(3), atol=1e-5)
    explained = directions.explained_variance
    assert torch.all(explained[:-1] >= explained[1:]) and explained.sum() <= 1.0
    base = sample_latents(gan, 3, 4)
    moved = sample_latents(gan, 3, 4, offsets=[2.0, 0.0, 0.0], directions=directions)
    assert torch.allclose(moved - base, 2.0 * directions.vectors[0].expand_as(base), atol=1e-5)
    with pytest.raises(ValueError):
        sample_latents(gan, 3, 4, offsets=[float("inf")], directions=directions)


def test_top_direction_changes_early_activations_more_than_a_random_one():
    gan = tiny_gan()
    directions = latent_directions(gan, count=2, samples=512)
    z = torch.randn(64, 8, generator=torch.Generator().manual_seed(3))
    random_direction = torch.randn(8, generator=torch.Generator().manual_seed(4))
    random_direction /= random_direction.norm()
    from genmodels.gan_pipeline import _early_activations

    def change(direction):
        with torch.inference_mode():
            return (_early_activations(gan, z + direction, None) - _early_activations(gan, z, None)).norm()

    assert change(directions.vectors[0]) > change(random_direction)


def test_discriminator_scores_one_per_image():
    gan = tiny_gan(conditional=True)
    images, labels = generate(gan, sample_latents(gan, 2, 6), label=4)
    assert labels.tolist() == [4] * 6
    scores = discriminator_scores(gan, images, labels)
    assert scores.shape == (6,) and torch.isfinite(scores).all()


def test_interpolation_latents_end_at_the_seeds():
    gan = tiny_gan()
    path = interpolation_latents(gan, 1, 2, 5, "lerp")
    assert path.shape == (5, 8)
    assert torch.allclose(path[0], sample_latents(gan, 1, 1)[0])
    assert torch.allclose(path[-1], sample_latents(gan, 2, 1)[0])
    with pytest.raises(ValueError):
        interpolation_latents(gan, 1, 2, 10**6)
