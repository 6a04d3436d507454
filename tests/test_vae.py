import math

import pytest
import torch

from genmodels.vae import VAE, VAEConfig, kl_divergence, reparameterize, vae_losses
from genmodels.vae_pipeline import (
    crossfade,
    decode,
    encode,
    interpolate_codes,
    latent_map,
    map_coordinates,
    map_point,
    map_position,
    prior_samples,
)


def tiny_vae(latent_dim=2):
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=latent_dim, channels=4, hidden=16)).eval()


def test_encoder_decoder_shapes_and_ranges():
    vae = tiny_vae(latent_dim=5)
    mu, logvar = vae.encode(torch.rand(3, 1, 28, 28))
    assert mu.shape == logvar.shape == (3, 5)
    images = vae.decode(torch.randn(3, 5))
    assert images.shape == (3, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_reparameterisation_mean_spread_and_seed():
    mu, logvar = torch.full((20000, 2), 1.5), torch.log(torch.full((20000, 2), 0.25))
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.full((2,), 1.5), atol=0.02)
    assert torch.allclose(z.std(0), torch.full((2,), 0.5), atol=0.02)
    again = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert torch.equal(z, again)


def test_kl_hand_computed():
    mu = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    logvar = torch.tensor([[0.0, 0.0], [0.0, math.log(4.0)]])
    expected = torch.tensor([0.0, 0.5 * 1.0 + 0.5 * (4.0 - 1.0 - math.log(4.0))])
    assert torch.allclose(kl_divergence(mu, logvar), expected)


def test_losses_add_up_and_beta_weights_kl():
    vae = tiny_vae()
    x = torch.rand(4, 1, 28, 28)
    one = vae_losses(vae, x, 1.0, torch.Generator().manual_seed(1))
    four = vae_losses(vae, x, 4.0, torch.Generator().manual_seed(1))
    assert torch.allclose(one["negative_elbo"], one["reconstruction"] + one["kl"])
    assert torch.allclose(four["loss"], four["reconstruction"] + 4 * four["kl"])
    assert torch.allclose(one["negative_elbo"], four["negative_elbo"])


def test_interpolation_end_points_are_the_encoded_inputs():
    vae = tiny_vae(latent_dim=3)
    a, b = torch.rand(1, 28, 28), torch.rand(1, 28, 28)
    codes = encode(vae, torch.stack([a, b]))
    for mode in ("lerp", "slerp"):
        path = interpolate_codes(vae, codes[0], codes[1], 7, mode)
        assert path.shape == (7, 3)
        assert torch.allclose(path[0], codes[0], atol=1e-5) and torch.allclose(path[-1], codes[1], atol=1e-5)
    with pytest.raises(ValueError):
        interpolate_codes(vae, codes[0], codes[1], 65)
    fade = crossfade(a, b, 3)
    assert torch.allclose(fade[0], a) and torch.allclose(fade[1], (a + b) / 2) and torch.allclose(fade[2], b)


def test_decode_rejects_non_finite_and_huge_codes():
    vae = tiny_vae()
    for bad in (float("nan"), float("inf"), 1e6):
        with pytest.raises(ValueError):
            decode(vae, torch.tensor([[bad, 0.0]]))
    with pytest.raises(ValueError):
        decode(vae, torch.zeros(1, 3))


def test_latent_map_layout_and_click_round_trip():
    vae = tiny_vae()
    coordinates = map_coordinates(4, 2.0)
    assert coordinates.shape == (16, 2)
    assert coordinates[0].tolist() == [-1.5, 1.5] and coordinates[-1].tolist() == [1.5, -1.5]
    assert latent_map(vae, 4).shape == (16, 1, 28, 28)
    x, y = map_position(torch.tensor([0.7, -1.2]), 600.0)
    assert torch.allclose(map_point(x, y, 600.0), torch.tensor([[0.7, -1.2]]), atol=1e-5)
    assert map_point(0, 0, 600.0).tolist() == [[-3.0, 3.0]]
    with pytest.raises(ValueError):
        latent_map(tiny_vae(latent_dim=3))


def test_prior_samples_are_seeded():
    vae = tiny_vae()
    assert torch.equal(prior_samples(vae, 4, 6), prior_samples(vae, 4, 6))
    assert not torch.equal(prior_samples(vae, 4, 6), prior_samples(vae, 5, 6))
    with pytest.raises(ValueError):
        prior_samples(vae, -1, 6)
