import pytest
import torch

from genmodels.gan import GAN, GANConfig, latent_code, with_code
from genmodels.gan_pipeline import (
    categories_in_turn,
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


def test_the_infogan_category_is_the_largest_of_the_first_entries_and_uniform():
    z = torch.randn(20_000, 16, generator=torch.Generator().manual_seed(0))
    codes = latent_code(z, 10)
    assert torch.equal(codes, z[:, :10].argmax(1))
    counts = torch.bincount(codes, minlength=10).float()
    assert (counts / len(z) - 0.1).abs().max() < 0.01
    assert torch.equal(latent_code(0.3 * z, 10), codes)  # truncation keeps the category


def test_with_code_moves_a_latent_to_its_category_by_one_swap():
    z = torch.randn(64, 16, generator=torch.Generator().manual_seed(1))
    moved = with_code(z, 3, 10)
    assert (latent_code(moved, 10) == 3).all()
    assert torch.equal(moved.sort(dim=1).values, z.sort(dim=1).values)  # the same values, only swapped
    assert ((moved != z).sum(1) <= 2).all()
    assert torch.equal(moved[:, 10:], z[:, 10:])
    already = latent_code(z, 10) == 3
    assert torch.equal(moved[already], z[already])
    each = with_code(z, torch.arange(64) % 10, 10)
    assert torch.equal(latent_code(each, 10), torch.arange(64) % 10)


def test_an_infogan_draws_the_chosen_category_and_others_are_refused():
    torch.manual_seed(0)
    gan = GAN(GANConfig(z_dim=16, g_channels=4, d_channels=4, info_codes=10)).eval()
    assert gan.coded and not gan.conditional
    z = sample_latents(gan, seed=5, count=6)
    own, labels = generate(gan, z)
    assert labels is None
    assert torch.equal(own, generate(gan, z)[0])
    chosen, _ = generate(gan, z, 7)
    assert torch.allclose(chosen, generate(gan, with_code(z, 7, 10))[0])
    assert not torch.allclose(chosen, own)
    turn = categories_in_turn(gan, z)
    assert torch.equal(latent_code(turn, 10), torch.arange(6))
    with pytest.raises(ValueError, match="category must be 0 to 9"):
        generate(gan, z, 10)
    assert discriminator_scores(gan, own, labels).shape == (6,)
    with torch.inference_mode():
        with pytest.raises(ValueError, match="no InfoGAN code head"):
            tiny_gan().discriminator(own, with_codes=True)
        assert gan.discriminator.code_logits(own).shape == (6, 10)


def test_the_gan_tab_offers_an_infogans_categories(tmp_path):
    """The GAN tab with an InfoGAN checkpoint (trained with --info-codes): the picker becomes the category, a grid
    of one category moves every latent to it, and "0-9 in turn" lays the categories out in columns."""
    import numpy as np
    from PIL import Image

    from demos.gan import MIXED, GANTab
    from genmodels.checkpoints import save_checkpoint
    from genmodels.registry import Registry
    from tests.conftest import card_for

    torch.manual_seed(0)
    save_checkpoint(
        GAN(GANConfig(z_dim=16, g_channels=4, d_channels=4, info_codes=10)), tmp_path / "info", card_for("gan")
    )
    tab = GANTab(Registry(roots=(tmp_path,), device="cpu"))
    picker, info = tab.model_info("info")
    assert picker["visible"] and picker["label"] == "Category (InfoGAN, found without labels)"
    assert "An InfoGAN" in info

    def grid(digit):
        picture, notice = tab.sample("info", 9, 10, digit, 1.0, False, 0, 0, 0, 0, 0)
        return np.asarray(Image.open(picture).convert("L")), notice

    in_turn, _ = grid(MIXED)
    three, notice = grid("3")
    assert "unconditional" not in notice
    tile = 28 * 3 + 2  # each tile is upscaled 3x with 2-pixel gaps; tile 3 has the same latent and category in both
    corner = (slice(2, tile), slice(2 + 3 * tile, 4 * tile))  # 10 tiles: 4 columns, so tile 3 ends the first row
    assert np.array_equal(three[corner], in_turn[corner])
    assert not np.array_equal(three, in_turn)


def clustered_gan(codes=12):
    torch.manual_seed(0)
    return GAN(GANConfig(z_dim=16, g_channels=4, d_channels=4, info_codes=codes, code_source="clusters")).eval()


def test_a_self_conditioned_gan_scores_images_against_their_category():
    gan = clustered_gan()
    assert gan.coded and gan.clustered and gan.config.clustered and not gan.conditional
    assert not GANConfig(info_codes=12).clustered and not GANConfig(code_source="clusters").clustered
    assert not hasattr(gan.discriminator, "q_head")
    z = sample_latents(gan, seed=5, count=6)
    images, codes = generate(gan, z)
    assert torch.equal(codes, latent_code(z, 12))  # the categories that drew them, for the discriminator
    _, chosen = generate(gan, z, 11)
    assert (chosen == 11).all()
    own = discriminator_scores(gan, images, codes)
    other = discriminator_scores(gan, images, (codes + 1) % 12)
    assert own.shape == (6,) and not torch.allclose(own, other)  # the category changes the score
    best = discriminator_scores(gan, images, None)  # real digits have no category: the best-fitting one
    every = torch.stack([discriminator_scores(gan, images, torch.full((6,), c)) for c in range(12)], 1)
    assert torch.allclose(best, every.max(1).values)
    with torch.inference_mode():
        with pytest.raises(ValueError, match="pass each one's code"):
            gan.discriminator(images)
        with pytest.raises(ValueError, match="no InfoGAN code head"):
            gan.discriminator.code_logits(images)
        infogan = GAN(GANConfig(z_dim=16, g_channels=4, d_channels=4, info_codes=12)).eval()
        with pytest.raises(ValueError, match="only an unconditional self-conditioned GAN"):
            infogan.discriminator.best_category_scores(images)


def test_an_unknown_code_source_is_refused():
    with pytest.raises(ValueError, match="code_source must be"):
        GANConfig(info_codes=4, code_source="labels")


def test_the_gan_tab_offers_a_self_conditioned_gans_categories(tmp_path):
    """A self-conditioned GAN with more categories than digits: the picker names it and lists every category, a
    category past 9 draws, one past the last is refused with a message, and its discriminator scores show."""
    from demos.common import UserError
    from demos.gan import GANTab
    from genmodels.checkpoints import save_checkpoint
    from genmodels.registry import Registry
    from tests.conftest import card_for

    save_checkpoint(clustered_gan(), tmp_path / "clusters", card_for("gan"))
    tab = GANTab(Registry(roots=(tmp_path,), device="cpu"))
    picker, info = tab.model_info("clusters")
    assert picker["visible"] and picker["label"] == "Category (clusters found without labels)"
    assert [c if isinstance(c, str) else c[1] for c in picker["choices"]][-3:] == ["9", "10", "11"]
    assert "self-conditioned GAN" in info and "12 clusters" in info
    eleven, notice = tab.sample("clusters", 9, 4, "11", 1.0, True, 0, 0, 0, 0, 0)
    assert "discriminator score" in notice
    ten, _ = tab.sample("clusters", 9, 4, "10", 1.0, True, 0, 0, 0, 0, 0)
    assert open(eleven, "rb").read() != open(ten, "rb").read()  # the category changes the drawing
    with pytest.raises(UserError, match="Digit must be one of"):
        tab.sample("clusters", 9, 4, "12", 1.0, False, 0, 0, 0, 0, 0)
