import math

import torch

from genmodels.metrics import (
    evaluate_vae,
    frechet_distance,
    importance_weighted_nats,
    inception_score,
    per_class_accuracy,
)
from genmodels.vae import VAE, VAEConfig


def test_inception_score_extremes():
    confident_balanced = torch.eye(10).repeat(20, 1)
    assert math.isclose(inception_score(confident_balanced), 10.0, rel_tol=1e-6)
    uniform = torch.full((200, 10), 0.1)
    assert math.isclose(inception_score(uniform), 1.0, rel_tol=1e-6)
    one_class = torch.eye(10)[[3] * 200]
    assert math.isclose(inception_score(one_class), 1.0, rel_tol=1e-6), "mode collapse scores 1"


def test_inception_score_hand_computed_two_classes():
    # Two classes, half the samples each, each 90% confident: IS = exp(ln2 - H(0.9)).
    probabilities = torch.tensor([[0.9, 0.1]] * 50 + [[0.1, 0.9]] * 50, dtype=torch.float64)
    entropy = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert math.isclose(inception_score(probabilities), math.exp(math.log(2) - entropy), rel_tol=1e-9)


def test_frechet_distance_identical_and_shifted():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(4000, 6, generator=generator, dtype=torch.float64)
    assert frechet_distance(features, features) < 1e-8
    shifted = features + torch.tensor([3.0, 0, 0, 0, 0, 0], dtype=torch.float64)
    assert math.isclose(frechet_distance(features, shifted), 9.0, rel_tol=1e-6)


def test_frechet_distance_of_scaled_gaussian():
    # N(0, I) vs N(0, 4I) in d dims: d * (1 + 4 - 2*2) = d.
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(20000, 3, generator=generator, dtype=torch.float64)
    b = 2 * torch.randn(20000, 3, generator=generator, dtype=torch.float64)
    assert abs(frechet_distance(a, b) - 3.0) < 0.15


def test_per_class_accuracy():
    probabilities = torch.eye(3)[[0, 0, 1, 2, 2, 1]]
    labels = torch.tensor([0, 1, 1, 2, 2, 2])
    assert per_class_accuracy(probabilities, labels, 3) == [1.0, 0.5, 2 / 3]


class StandInVAE(torch.nn.Module):
    """q(z|x) = N(0, I), the prior, and decoder logits z @ weight: log p(x) is a known Gaussian integral."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)  # (latent_dim, 784)
        self.config = type("Config", (), {"latent_dim": weight.shape[0]})()

    def encode(self, x):
        return torch.zeros(len(x), self.weight.shape[0]), torch.zeros(len(x), self.weight.shape[0])

    def decode_logits(self, z, x=None):  # pixels independent given z: the images x change nothing
        return (z @ self.weight).view(-1, 1, 28, 28)

    def posterior_sample(self, x, eps):
        return eps, -0.5 * (eps.square() + math.log(2 * math.pi)).sum(-1)

    def log_prior(self, z):  # N(0, I)
        return -0.5 * (z.square() + math.log(2 * math.pi)).sum(-1)

    def forward(self, x, eps):  # q is the prior: the KL term is 0
        return self.decode_logits(eps), torch.zeros(len(x))


def test_iwae_of_a_constant_decoder_is_chance_for_any_sample_count():
    # q is the prior and every logit is 0: every importance weight is 2^-784, so the bound is 784 ln 2 exactly.
    vae = StandInVAE(torch.zeros(2, 784))
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    for samples in (1, 7, 100):
        assert math.isclose(importance_weighted_nats(vae, images, samples), 784 * math.log(2), rel_tol=1e-6)


def test_iwae_with_one_sample_is_the_hand_computed_single_sample_elbo():
    torch.manual_seed(0)
    vae = VAE(VAEConfig(latent_dim=3, channels=4, hidden=16)).eval()
    images = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, logvar = vae.encode(images)
        rng = torch.Generator().manual_seed(11)
        eps = torch.cat([torch.randn(1, 3, generator=rng) for _ in range(5)])  # one draw per image
        z = mu + torch.exp(0.5 * logvar) * eps
        p = torch.sigmoid(vae.decode_logits(z)).flatten(1).double()
        x = images.flatten(1).double()
        log_likelihood = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)
        log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
        log_posterior = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(1)
        expected = -(log_likelihood + log_prior - log_posterior).mean().item()
    assert math.isclose(importance_weighted_nats(vae, images, 1, seed=11, batch_size=2), expected, rel_tol=1e-5)


def test_iwae_is_below_the_elbo_tightens_with_samples_and_ignores_batch_size():
    # A decoder that depends strongly on z makes the Jensen gap between log E[p(x|z)] and E[log p(x|z)] large.
    vae = StandInVAE(torch.randn(2, 784, generator=torch.Generator().manual_seed(2)))
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(3)).round()
    elbo = evaluate_vae(vae, images)["negative_elbo_nats"]
    one, ten, hundred = (importance_weighted_nats(vae, images, k) for k in (1, 10, 100))
    assert hundred < ten < one and hundred < elbo - 50
    assert math.isclose(importance_weighted_nats(vae, images, 100, batch_size=7), hundred, rel_tol=1e-9)
    assert importance_weighted_nats(vae, images, 100) == hundred, "seeded"
    report = evaluate_vae(vae, images, importance_samples=100)
    assert report["iwae_100_nats"] == round(hundred, 3) and report["negative_elbo_nats"] == elbo


def test_pixel_entropy_is_the_floor_under_a_bernoulli_decoder():
    from genmodels.metrics import pixel_entropy_nats

    black_and_white = torch.zeros(3, 1, 28, 28)
    black_and_white[:, :, 10:20] = 1.0
    assert pixel_entropy_nats(black_and_white) == 0.0, "pure black and white cost nothing"
    grey = torch.full((2, 1, 28, 28), 0.5)
    assert abs(pixel_entropy_nats(grey) - 784 * math.log(2)) < 1e-6, "a 50% grey pixel is one fair coin"
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    logits = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    reconstruction = torch.nn.functional.binary_cross_entropy_with_logits(logits, images, reduction="sum") / 4
    exact = torch.nn.functional.binary_cross_entropy(images, images, reduction="sum") / 4
    assert pixel_entropy_nats(images) <= reconstruction.item()
    assert abs(pixel_entropy_nats(images) - exact.item()) < 1e-2, "predicting each pixel's own grey level reaches it"
