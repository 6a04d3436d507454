import math

import pytest
import torch
from safetensors import safe_open

from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint, read_config
from genmodels.trainers import VAETrainConfig, VAETrainer
from genmodels.vae import VAE, VAEConfig, kl_divergence, posterior_kl, random_shift, reparameterize, vae_losses
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


@pytest.mark.parametrize("name", ["vae-2d", "vae-16d", "vae-16d-beta4", "vae-16d-pixel"])
def test_shipped_checkpoints_load_strictly_with_their_original_layers(name):
    folder = CHECKPOINTS_DIR / name
    config = VAEConfig(**read_config(folder))
    with safe_open(folder / "model.safetensors", "pt") as weights:
        assert set(weights.keys()) == set(VAE(config).state_dict())
    vae = load_checkpoint(VAE, folder)
    x = torch.rand(3, 1, 28, 28)
    logits, kl = vae(x, torch.zeros(3, config.latent_dim))  # zero noise: the posterior's centre
    assert logits.shape == x.shape and torch.allclose(vae.decode_logits(vae.embed(x), x), logits, atol=1e-5)
    assert kl.shape == (3,) and bool(torch.isfinite(kl).all())


def test_the_wider_model_keeps_every_shape_and_stays_under_8_mb():
    torch.manual_seed(0)
    vae = VAE(VAEConfig(latent_dim=16, hidden=256)).eval()
    x = torch.rand(5, 1, 28, 28)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (5, 16)
    logits, _ = vae(x, torch.randn(5, 16))
    images = vae.decode(torch.randn(5, 16))
    assert logits.shape == images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert sum(p.numel() for p in vae.parameters()) * 4 < 8 * 10**6, "model.safetensors under 8 MB"


def test_random_shift_moves_each_image_within_range_and_keeps_values():
    dot = torch.zeros(200, 1, 28, 28)
    dot[:, 0, 14, 10] = 1.0
    shifted = random_shift(dot, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == dot.shape and shifted.min() >= 0 and shifted.max() <= 1
    assert torch.equal(shifted.sum((1, 2, 3)), torch.ones(200)), "an inner pixel never leaves the image"
    positions = shifted.flatten(1).argmax(1)
    rows, columns = positions // 28, positions % 28
    assert set((rows - 14).tolist()) == set((columns - 10).tolist()) == {-2, -1, 0, 1, 2}
    digits = torch.rand(8, 1, 28, 28)
    again = random_shift(digits, 1, torch.Generator().manual_seed(3))
    assert torch.equal(again, random_shift(digits, 1, torch.Generator().manual_seed(3))), "seeded"
    assert again.min() >= 0 and again.max() <= 1
    assert random_shift(digits, 0) is digits
    edge = torch.zeros(1, 1, 28, 28)
    edge[0, 0, :, 0] = 1.0  # a stroke on the left edge falls off when moved left, and 0 fills in behind
    moved = [random_shift(edge, 1, torch.Generator().manual_seed(seed)) for seed in range(20)]
    assert {int(m.sum()) for m in moved} <= {0, 26, 27, 28}


def test_trainer_schedule_warmup_and_shifts():
    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)).round()
    config = VAEConfig(latent_dim=2, channels=4, hidden=16, beta=2.0)
    trainer = VAETrainer(
        config,
        VAETrainConfig(steps=11, batch_size=8, lr=1e-3, lr_schedule="cosine", shift_pixels=2, kl_warmup_steps=4),
        images,
    )
    rates, weights = [], []
    events = trainer.run()
    for _ in range(11):
        rates.append(trainer.learning_rate())
        weights.append(trainer.kl_weight())
        next(events)
        assert trainer.optimizer.param_groups[0]["lr"] == rates[-1], "the step used the scheduled rate"
    assert math.isclose(rates[0], 1e-3) and math.isclose(rates[5], 1e-3 * (0.01 + 0.99 * 0.5))
    assert math.isclose(rates[-1], 1e-5) and rates == sorted(rates, reverse=True)
    assert weights[:5] == [0.5, 1.0, 1.5, 2.0, 2.0], "β = 2 reached over the first 4 steps"
    plain = VAETrainer(config, VAETrainConfig(steps=3, batch_size=8), images)
    assert [plain.learning_rate(), plain.kl_weight()] == [1e-3, 2.0], "the defaults train as before"

    def losses(shift_pixels: int) -> list[dict]:
        train_config = VAETrainConfig(steps=3, batch_size=8, shift_pixels=shift_pixels)
        return [event.losses for event in VAETrainer(config, train_config, images).run()]

    assert losses(2) == losses(2) != losses(0), "shifted batches differ from plain ones, reproducibly"
    with pytest.raises(ValueError):
        VAETrainer(config, VAETrainConfig(lr_schedule="linear"), images)


def test_a_run_with_every_option_resumes_exactly(tmp_path):
    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)).round()
    config = VAEConfig(latent_dim=2, channels=4, hidden=16)
    options = VAETrainConfig(
        steps=6,
        batch_size=8,
        lr_schedule="cosine",
        shift_pixels=1,
        kl_warmup_steps=3,
        ema_decay=0.9,
        binarize_targets=True,
        weight_decay=1e-2,
    )
    whole = VAETrainer(config, options, images)
    uninterrupted = [event.losses for event in whole.run()]
    first = VAETrainer(config, options, images)
    for event in first.run():
        if event.step == 2:
            first.save_state(tmp_path / "state")
            break
    resumed = VAETrainer(config, options, images)
    resumed.load_state(tmp_path / "state")
    assert [event.losses for event in resumed.run()] == uninterrupted[2:]
    for name, tensor in whole.export().state_dict().items():  # the moving average resumed too
        assert torch.equal(resumed.export().state_dict()[name], tensor), name


def test_binary_targets_keep_the_expected_loss_and_are_drawn_reproducibly():
    vae = VAE(VAEConfig(latent_dim=2, channels=4, hidden=16)).eval()
    grey = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    draws = [(torch.rand(grey.shape, generator=torch.Generator().manual_seed(k)) < grey).float() for k in range(2)]
    against = [vae_losses(vae, grey, 1.0, torch.Generator().manual_seed(1), target) for target in draws]
    plain = vae_losses(vae, grey, 1.0, torch.Generator().manual_seed(1))
    assert against[0]["kl"] == plain["kl"], "the targets change only the reconstruction term"
    assert against[0]["reconstruction"] != plain["reconstruction"] != against[1]["reconstruction"]
    # the Bernoulli log-likelihood is linear in its target: the mean over draws is the loss against the grey levels
    mean = (against[0]["reconstruction"] + against[1]["reconstruction"]) / 2
    averaged = vae_losses(vae, grey, 1.0, torch.Generator().manual_seed(1), (draws[0] + draws[1]) / 2)
    assert torch.allclose(mean, averaged["reconstruction"], rtol=1e-5)

    config = VAEConfig(latent_dim=2, channels=4, hidden=16)

    def run(**options) -> tuple[list[dict], VAETrainer]:
        trainer = VAETrainer(config, VAETrainConfig(steps=3, batch_size=8, **options), grey.repeat(4, 1, 1, 1))
        return [event.losses for event in trainer.run()], trainer

    binary, trainer = run(binarize_targets=True)
    assert binary == run(binarize_targets=True)[0] != run()[0], "binary draws differ from grey targets, reproducibly"
    assert "targets" in trainer.rngs and "targets" not in run()[1].rngs, "a plain run's saved state is unchanged"
    decayed, plain_trainer = run(weight_decay=0.5)[1], run()[1]
    assert isinstance(getattr(decayed.optimizer, "optimizer", decayed.optimizer), torch.optim.AdamW)
    assert decayed.optimizer.param_groups[0]["weight_decay"] == 0.5
    assert type(getattr(plain_trainer.optimizer, "optimizer", plain_trainer.optimizer)) is torch.optim.Adam
    assert plain_trainer.optimizer.param_groups[0]["weight_decay"] == 0


def test_the_moving_average_is_what_a_run_exports():
    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)).round()
    config = VAEConfig(latent_dim=2, channels=4, hidden=16)
    trainer = VAETrainer(config, VAETrainConfig(steps=30, batch_size=8, lr=1e-2, ema_decay=0.5), images)
    average = {name: tensor.clone() for name, tensor in trainer.vae.state_dict().items()}
    for event in trainer.run():
        decay = min(0.5, (1 + event.step - 1) / (10 + event.step - 1))  # the step counter before it moved
        for name, tensor in trainer.vae.state_dict().items():
            average[name] = decay * average[name] + (1 - decay) * tensor
    exported = trainer.export().state_dict()
    raw = trainer.vae.state_dict()
    assert any(not torch.allclose(exported[name], raw[name]) for name in raw), "not the last weights"
    for name, tensor in average.items():
        assert torch.allclose(exported[name], tensor, atol=1e-6), name
    plain = VAETrainer(config, VAETrainConfig(steps=3, batch_size=8), images)
    assert plain.ema is None and "ema" not in plain.modules, "off unless asked for: old runs resume as before"


def test_residual_blocks_deepen_both_halves_and_keep_every_shape():
    torch.manual_seed(0)
    plain = VAE(VAEConfig(latent_dim=4, channels=4, hidden=16))
    deep = VAE(VAEConfig(latent_dim=4, channels=4, hidden=16, blocks=2))
    new = set(deep.state_dict()) - set(plain.state_dict())
    # two blocks at each of the encoder's and the decoder's two resolutions, each with two convolutions
    assert sum(name.endswith("first.weight") for name in new) == 8
    assert sum(p.numel() for p in deep.parameters()) > sum(p.numel() for p in plain.parameters())
    x = torch.zeros(6, 1, 28, 28)
    for index in range(6):  # three bars, each twice: structure a model can learn, unlike random bits
        x[index, 0, 6 + 6 * (index % 3) : 10 + 6 * (index % 3), 4:24] = 1.0
    logits, kl = deep(x, torch.zeros(6, 4))
    assert logits.shape == x.shape and kl.shape == (6,)
    mu, logvar = deep.encode(x)
    assert mu.shape == logvar.shape == (6, 4)
    trainer = VAETrainer(deep.config, VAETrainConfig(steps=60, batch_size=6, lr=1e-2), x)
    losses = [event.losses["loss"] for event in trainer.run()]
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5]), "the deeper model learns"


def test_decoder_dropout_acts_only_while_training_and_keeps_old_names():
    plain = VAE(VAEConfig(latent_dim=2, channels=4, hidden=16))
    dropped = VAE(VAEConfig(latent_dim=2, channels=4, hidden=16, dropout=0.5))
    assert sum(isinstance(m, torch.nn.Dropout) for m in plain.modules()) == 0, "no layers added at 0"
    assert sum(isinstance(m, torch.nn.Dropout) for m in dropped.decoder) == 2
    assert sum(isinstance(m, torch.nn.Dropout) for m in dropped.encoder) == 0, "the encoder is untouched"
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    dropped.train()
    assert not torch.equal(dropped.decode(z), dropped.decode(z)), "random while training"
    dropped.eval()
    assert torch.equal(dropped.decode(z), dropped.decode(z)), "deterministic once trained"
    assert len(dropped.state_dict()) == len(plain.state_dict()), "dropout has no weights"


def flow_vae(latent_dim=2, flow_steps=4, seed=0):
    torch.manual_seed(seed)
    vae = VAE(VAEConfig(latent_dim=latent_dim, channels=4, hidden=16, flow_steps=flow_steps)).eval()
    with torch.no_grad():  # move every coupling away from the identity it starts as
        for step in vae.flow:
            step.net[-1].weight.normal_(0, 0.5)
            step.net[-1].bias.normal_(0, 0.5)
    return vae


@pytest.mark.parametrize("latent_dim", [1, 2, 5])
def test_flow_log_density_is_the_change_of_variables_of_its_samples(latent_dim):
    """log q(z|x) from the flow must be the density of the samples it returns: the Gaussian's density of the noise
    minus log|det| of the whole map from noise to z, with the Jacobian computed by autograd."""
    vae = flow_vae(latent_dim)
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    mu, logvar, context = vae._encoded(x)
    eps = torch.randn(1, 7, latent_dim, generator=torch.Generator().manual_seed(4))
    z, log_q = vae.posterior_sample(x, eps)
    assert z.shape == eps.shape and log_q.shape == (1, 7)
    for k in range(7):

        def through(e):
            return vae._flow(mu + torch.exp(0.5 * logvar) * e[None], context)[0][0]

        jacobian = torch.autograd.functional.jacobian(through, eps[0, k])  # dz/deps (D, D)
        base = -0.5 * (eps[0, k].square() + math.log(2 * math.pi)).sum()
        expected = base - torch.logdet(jacobian)
        assert torch.allclose(log_q[0, k], expected, atol=1e-4), (k, log_q[0, k], expected)


def test_flow_vae_elbo_kl_and_iwae_agree_with_their_definitions():
    from genmodels.metrics import importance_weighted_nats

    vae = flow_vae(2)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()
    losses = vae_losses(vae, x, 1.0, torch.Generator().manual_seed(2))
    eps = torch.randn(6, 2, generator=torch.Generator().manual_seed(2))
    z, log_q = vae.posterior_sample(x, eps)
    log_prior = -0.5 * (z.square() + math.log(2 * math.pi)).sum(1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(vae.decode_logits(z), x, reduction="none")
    assert torch.allclose(losses["kl"], (log_q - log_prior).mean(), atol=1e-5)
    assert torch.allclose(losses["reconstruction"], bce.flatten(1).sum(1).mean(), atol=1e-3)
    # the sampled KL averages to the true KL, which is never negative; the bound tightens with samples
    assert posterior_kl(vae, x, samples=4000, generator=torch.Generator().manual_seed(0)).min() > 0
    one = importance_weighted_nats(vae, x, samples=1, seed=7)
    many = importance_weighted_nats(vae, x, samples=200, seed=7)
    assert many < one


def test_a_flow_adds_only_its_own_weights_and_learns():
    plain = VAE(VAEConfig(latent_dim=2, channels=4, hidden=16))
    flowed = VAE(VAEConfig(latent_dim=2, channels=4, hidden=16, flow_steps=3))
    assert len(plain.flow) == 0
    new = set(flowed.state_dict()) - set(plain.state_dict())
    assert new and all(name.startswith("flow.") for name in new), "plain models keep their weight names"
    assert {name.split(".")[1] for name in new} == {"0", "1", "2"}
    x = torch.zeros(6, 1, 28, 28)
    for index in range(6):
        x[index, 0, 6 + 6 * (index % 3) : 10 + 6 * (index % 3), 4:24] = 1.0
    fresh = flowed.eval()
    z = torch.randn(4, 2)
    # a new flow is the identity: the same codes and densities as the Gaussian it starts from
    mu, logvar = fresh.encode(x)
    assert torch.allclose(fresh.embed(x), mu)
    assert torch.allclose(encode(fresh, x), mu)
    eps = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    sampled, log_q = fresh.posterior_sample(x, eps)
    assert torch.allclose(sampled, mu + torch.exp(0.5 * logvar) * eps)
    assert torch.allclose(log_q, -0.5 * (eps.square() + logvar + math.log(2 * math.pi)).sum(1))
    trainer = VAETrainer(flowed.config, VAETrainConfig(steps=60, batch_size=6, lr=1e-2), x)
    losses = [event.losses["loss"] for event in trainer.run()]
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5]), "the flow model learns"
    trained = trainer.export()
    assert any(step.net[-1].weight.abs().sum() > 0 for step in trained.flow), "the flow itself trained"
    assert decode(trained, z).shape == (4, 1, 28, 28)


def test_a_flow_models_posteriors_and_kl_are_read_from_its_samples():
    from genmodels.experiments import beta_result, posteriors

    vae = flow_vae(2)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    result = posteriors(vae, x)
    mu, _ = vae.encode(x)
    z, _ = vae.posterior_sample(x, torch.randn(5, 20_000, 2, generator=torch.Generator().manual_seed(9)))
    tolerance = 5 * z.std(1) / 256**0.5  # five standard errors of a 256-draw mean
    assert ((result.means - z.mean(1)).abs() < tolerance).all()
    assert torch.allclose(result.sigmas, z.std(1), rtol=0.3)
    assert ((result.means - mu).abs() > tolerance).any(), "the flow moved the posterior, and the picture shows it"
    kl = posterior_kl(vae, x, samples=20_000, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(beta_result(vae, x, seed=3).kl_nats * torch.ones(()), kl.mean(), rtol=0.05)
    plain = tiny_vae()
    assert torch.allclose(posterior_kl(plain, x), kl_divergence(*plain.encode(x))), "exact without a flow"


def prior_flow_vae(latent_dim=2, flow_steps=0, prior_steps=3):
    """A VAE with a learned prior whose couplings are moved away from the identity they start as."""
    torch.manual_seed(0)
    config = VAEConfig(latent_dim=latent_dim, channels=4, hidden=16, flow_steps=flow_steps)
    config.prior_flow_steps, config.prior_flow_hidden = prior_steps, 8
    vae = VAE(config).eval()
    with torch.no_grad():
        for step in [*vae.flow, *vae.prior_flow]:
            step.net[-1].weight.normal_(0, 0.5)
            step.net[-1].bias.normal_(0, 0.5)
    return vae


@pytest.mark.parametrize("latent_dim", [1, 2, 5])
def test_the_learned_prior_is_the_density_of_its_own_samples(latent_dim):
    """log p(z) must be the change of variables of the prior's sampler z = f(u): log N(u) - log|det df/du|, with
    the Jacobian by autograd; and f's inverse inside log_prior must undo the sampler exactly."""
    vae = prior_flow_vae(latent_dim)
    u = torch.randn(6, latent_dim, generator=torch.Generator().manual_seed(1))
    z = vae.prior_latents(u)
    assert not torch.allclose(z, u), "the prior moved its noise"
    log_p = vae.log_prior(z)
    for k in range(len(u)):
        jacobian = torch.autograd.functional.jacobian(lambda e: vae.prior_latents(e[None])[0], u[k])
        expected = -0.5 * (u[k].square() + math.log(2 * math.pi)).sum() - torch.logdet(jacobian)
        assert torch.allclose(log_p[k], expected, atol=1e-4), (k, log_p[k], expected)
    back = z
    for step in reversed(vae.prior_flow):
        back, _ = step.inverse(back, back[:, :0])
    assert torch.allclose(back, u, atol=1e-5)
    assert vae.log_prior(z[None].expand(3, -1, -1)).shape == (3, 6), "any leading shape"


def test_the_learned_prior_integrates_to_one_and_a_new_one_is_the_standard_normal():
    vae = prior_flow_vae(2)
    grid = torch.linspace(-14, 14, 561)
    points = torch.cartesian_prod(grid, grid)
    with torch.no_grad():
        mass = vae.log_prior(points).exp().sum() * (grid[1] - grid[0]) ** 2
    assert abs(float(mass) - 1) < 2e-3, mass
    fresh = VAE(VAEConfig(latent_dim=3, channels=4, hidden=16, prior_flow_steps=2))
    z = torch.randn(5, 3)
    assert torch.allclose(fresh.prior_latents(z), z)
    assert torch.allclose(fresh.log_prior(z), -0.5 * (z.square() + math.log(2 * math.pi)).sum(1))
    plain = tiny_vae()
    assert len(plain.prior_flow) == 0 and not any(name.startswith("prior_flow") for name in plain.state_dict())


@pytest.mark.parametrize("flow_steps", [0, 2])
def test_a_learned_priors_kl_and_bounds_use_its_density(flow_steps):
    from genmodels.metrics import importance_weighted_nats

    vae = prior_flow_vae(2, flow_steps=flow_steps)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()
    losses = vae_losses(vae, x, 1.0, torch.Generator().manual_seed(2))
    eps = torch.randn(6, 2, generator=torch.Generator().manual_seed(2))
    z, log_q = vae.posterior_sample(x, eps)
    assert torch.allclose(losses["kl"], (log_q - vae.log_prior(z)).mean(), atol=1e-5)
    standard = -0.5 * (z.square() + math.log(2 * math.pi)).sum(1)
    assert not torch.allclose(vae.log_prior(z), standard), "not the N(0, I) prior's KL"
    assert posterior_kl(vae, x, samples=4000, generator=torch.Generator().manual_seed(0)).min() > 0
    assert importance_weighted_nats(vae, x, samples=200, seed=7) < importance_weighted_nats(vae, x, samples=1, seed=7)


def test_prior_samples_previews_and_far_out_codes_go_through_the_learned_prior():
    from genmodels.experiments import far_outside_prior
    from genmodels.sampling import seeded_latents
    from genmodels.vae_pipeline import prior_codes

    vae = prior_flow_vae(4)
    noise = seeded_latents(5, 3, 4)
    expected = decode(vae, vae.prior_latents(noise).detach())
    assert torch.allclose(prior_samples(vae, 5, 3), expected)
    assert not torch.allclose(prior_samples(vae, 5, 3), decode(vae, noise)), "not the N(0, I) codes"
    assert prior_codes(vae, noise * 1e3).abs().max() <= 10, "codes stay within the decoder's bound"
    from genmodels.classifier import ClassifierConfig, MNISTClassifier

    judge = MNISTClassifier(ClassifierConfig()).eval()
    far = far_outside_prior(vae, judge, seed=1, radii=(1.0, 8.0), directions=2)
    assert far.log_prior[1] < far.log_prior[0]
    trainer = VAETrainer(vae.config, VAETrainConfig(steps=2, batch_size=4, preview_count=3), torch.rand(8, 1, 28, 28))
    with torch.no_grad():
        fixed = trainer.vae.decode(trainer.vae.prior_latents(trainer.fixed_z)) * 2 - 1
    assert torch.allclose(trainer.preview(), fixed)


def test_a_learned_prior_trains_with_the_rest_and_round_trips_through_a_checkpoint(tmp_path):
    x = torch.zeros(6, 1, 28, 28)
    for index in range(6):
        x[index, 0, 6 + 6 * (index % 3) : 10 + 6 * (index % 3), 4:24] = 1.0
    config = VAEConfig(latent_dim=2, channels=4, hidden=16, prior_flow_steps=2)
    trainer = VAETrainer(config, VAETrainConfig(steps=60, batch_size=6, lr=1e-2), x)
    losses = [event.losses["loss"] for event in trainer.run()]
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5])
    trained = trainer.export()
    assert any(step.net[-1].weight.abs().sum() > 0 for step in trained.prior_flow), "the prior itself trained"
    trained.save_pretrained(str(tmp_path / "model"))
    loaded = load_checkpoint(VAE, tmp_path / "model")
    z = torch.randn(4, 2)
    assert torch.allclose(loaded.log_prior(z), trained.log_prior(z))


def test_decoding_many_codes_goes_in_passes_with_the_same_images(monkeypatch):
    from genmodels import vae_pipeline

    vae = tiny_vae()
    z = torch.randn(600, 2, generator=torch.Generator().manual_seed(0))
    sizes = []
    original = VAE.decode

    def counted(self, codes):
        sizes.append(len(codes))
        return original(self, codes)

    monkeypatch.setattr(VAE, "decode", counted)
    passes = decode(vae, z)
    assert sizes == [256, 256, 88], "memory stays bounded however many codes are asked for"
    monkeypatch.setattr(vae_pipeline, "DECODE_CHUNK", 10_000)
    assert torch.allclose(decode(vae, z), passes, atol=1e-6)


def test_refining_each_posterior_tightens_the_bound_of_the_same_model():
    from genmodels.data import mnist_splits
    from genmodels.metrics import evaluate_refined_vae, evaluate_vae
    from genmodels.vae import refine_posterior

    vae = load_checkpoint(VAE, CHECKPOINTS_DIR / "vae-16d").eval()
    digits = mnist_splits()[1].images[:50].float().unsqueeze(1) / 255
    before = {name: p.clone() for name, p in vae.state_dict().items()}
    flags = [p.requires_grad for p in vae.parameters()]
    amortized = evaluate_vae(vae, digits)["negative_elbo_nats"]
    refined = evaluate_refined_vae(vae, digits, steps=20)
    assert refined["refine_steps"] == 20
    assert refined["negative_elbo_refined_nats"] < amortized - 1  # the amortization gap, partly closed
    assert refined["negative_elbo_refined_nats"] == pytest.approx(
        refined["reconstruction_refined_nats"] + refined["kl_refined_nats"], abs=0.01
    )
    assert all(torch.equal(p, before[name]) for name, p in vae.state_dict().items())  # the model is untouched
    assert [p.requires_grad for p in vae.parameters()] == flags
    # No steps: the encoder's own posterior. Inside inference mode (as the app runs) refinement still works.
    mu, logvar, _ = refine_posterior(vae, digits[:4], steps=0)
    assert torch.equal(mu, vae.encode(digits[:4])[0]) and torch.equal(logvar, vae.encode(digits[:4])[1])
    with torch.inference_mode():
        moved, _, _ = refine_posterior(vae, digits[:4], steps=5, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(moved, mu) and bool(torch.isfinite(moved).all())


@pytest.mark.parametrize("flows", [False, True])
def test_refinement_works_with_and_without_flows(flows):
    from genmodels.vae import refine_posterior

    vae = (flow_vae(latent_dim=2, flow_steps=2) if flows else tiny_vae()).eval()
    x = torch.rand(6, 1, 28, 28)

    def mean_bound(posterior):
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            return sum(
                float(vae_losses(vae, x, 1.0, generator, posterior=posterior)["negative_elbo"]) for _ in range(16)
            )

    start = refine_posterior(vae, x, steps=0)
    refined = refine_posterior(vae, x, steps=30, generator=torch.Generator().manual_seed(0))
    assert mean_bound(refined) < mean_bound(start)
    given = refine_posterior(vae, x, steps=30, generator=torch.Generator().manual_seed(0), start=start)
    assert all(torch.equal(a, b) for a, b in zip(given, refined, strict=True))  # the encoder pass handed in: same
    assert all(p.requires_grad for p in vae.parameters())  # a model being trained stays trainable


def test_one_digits_amortization_gap_is_shown_with_both_reconstructions():
    """refine_one (the VAE tab's "Refine A's code"): on a held-out digit the refined posterior gives a lower negative
    ELBO than the encoder's guess and a reconstruction closer to the digit; the same call gives the same answer, and
    with no steps there is no gap."""
    from genmodels.data import mnist_splits
    from genmodels.vae_pipeline import refine_one

    vae = load_checkpoint(VAE, CHECKPOINTS_DIR / "vae-16d")
    digit = mnist_splits()[1].images[1].float().unsqueeze(0) / 255  # a digit the encoder guesses poorly
    result = refine_one(vae, digit)
    assert result.encoder_nats - result.refined_nats > 1.0
    assert result.moved > 0.05
    assert result.encoder_image.shape == result.refined_image.shape == (1, 1, 28, 28)

    def error(image):
        return float((image[0] - digit).square().sum())

    assert error(result.refined_image) < error(result.encoder_image)
    again = refine_one(vae, digit)
    assert again.refined_nats == result.refined_nats and torch.equal(again.refined_image, result.refined_image)
    unrefined = refine_one(vae, digit, steps=0)
    assert unrefined.refined_nats == unrefined.encoder_nats and unrefined.moved == 0
    with pytest.raises(ValueError, match="pixels must be in"):
        refine_one(vae, digit * 2)
    with pytest.raises(ValueError, match="refinement steps"):
        refine_one(vae, digit, steps=10**6)


def pixel_vae(kernel=3, seed=0):
    torch.manual_seed(seed)
    vae = VAE(VAEConfig(latent_dim=3, channels=4, hidden=16, pixel_hidden=8, pixel_kernel=kernel)).eval()
    for parameter in vae.pixel_head.parameters():  # a trained head, not the fresh one that changes nothing
        torch.nn.init.normal_(parameter, std=0.5)
    return vae


def test_a_new_pixel_head_changes_nothing_and_adds_only_its_own_weights():
    torch.manual_seed(0)
    plain = VAE(VAEConfig(latent_dim=3, channels=4, hidden=16))
    torch.manual_seed(0)
    headed = VAE(VAEConfig(latent_dim=3, channels=4, hidden=16, pixel_hidden=8))
    extra = set(headed.state_dict()) - set(plain.state_dict())
    assert extra and all(name.startswith("pixel_head.") for name in extra)
    headed.load_state_dict({**headed.state_dict(), **plain.state_dict()})
    z, x = torch.randn(2, 3), torch.rand(2, 1, 28, 28)
    assert torch.allclose(headed.decode_logits(z, x), plain.decode_logits(z))
    assert torch.allclose(headed.decode(z), plain.decode(z))


@pytest.mark.parametrize("kernel", [3, 5])
def test_each_pixel_sees_only_the_pixels_before_it_within_its_window(kernel):
    vae = pixel_vae(kernel)
    z = torch.randn(1, 3)
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    row, column = 13, 9
    moved = x.clone()
    moved[0, 0, row, column] = 1 - moved[0, 0, row, column]
    with torch.no_grad():
        changed = (vae.decode_logits(z, moved) - vae.decode_logits(z, x)).abs()[0, 0] > 1e-6
    reach = kernel // 2
    for r, c in changed.nonzero().tolist():
        after = r > row or (r == row and c > column)
        assert after and r - row <= reach and abs(c - column) <= reach, (r, c)
    assert changed[row, column + 1] and changed[row + 1, column]  # its right and lower neighbours do see it


def test_decoding_pixel_by_pixel_is_the_scored_model_fed_its_own_probabilities():
    vae = pixel_vae(5)
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = vae.decode_logits(z)  # no images: drawn in reading order
        again = vae.decode_logits(z, torch.sigmoid(logits))  # scored, each pixel seeing the drawn ones
        images = vae.decode(z)
    assert torch.allclose(logits, again, atol=1e-5)
    assert torch.allclose(images, torch.sigmoid(logits)) and images.shape == (4, 1, 28, 28)
    assert not torch.allclose(logits, vae.decoder(z), atol=1e-2)  # the head does change the picture


def test_a_pixel_heads_bounds_score_the_images_themselves():
    from genmodels.metrics import importance_weighted_nats

    vae = pixel_vae(3)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()
    losses = vae_losses(vae, x, 1.0, torch.Generator().manual_seed(2))
    eps = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    mu, logvar = vae.encode(x)
    logits = vae.decode_logits(mu + torch.exp(0.5 * logvar) * eps, x)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    assert torch.allclose(losses["reconstruction"], bce.mean(), atol=1e-3)
    # the importance-weighted bound scores each pixel given the image's own earlier pixels too (else it would bound
    # nothing): with one sample it is log p(x|z) + log p(z) - log q(z|x) at that sample, computed here by hand
    rng = torch.Generator().manual_seed(7)
    eps = torch.stack([torch.randn(1, 3, generator=rng) for _ in x])  # (5, 1, 3), drawn as the bound draws them
    z, log_q = vae.posterior_sample(x, eps)
    logits = vae.decode_logits(z[:, 0], x)
    log_likelihood = -torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)
    by_hand = -(log_likelihood.sum(1) + vae.log_prior(z[:, 0]) - log_q[:, 0]).mean().item()
    assert importance_weighted_nats(vae, x, samples=1, seed=7) == pytest.approx(by_hand, rel=1e-5)


def test_a_pixel_heads_kernel_must_be_odd_and_wide_enough():
    for kernel in (1, 2, 4):
        with pytest.raises(ValueError, match="odd and at least 3"):
            VAE(VAEConfig(latent_dim=2, channels=4, hidden=16, pixel_hidden=4, pixel_kernel=kernel))


def test_free_nats_stop_training_from_squeezing_the_code_below_them():
    images = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)).round()
    config = VAEConfig(latent_dim=2, channels=4, hidden=16)

    def kl_gradient(free_nats):
        trainer = VAETrainer(config, VAETrainConfig(steps=1, batch_size=8, free_nats=free_nats, lr=0.0), images)
        trainer.train_step()
        return sum(p.grad.abs().sum() for p in trainer.vae.encoder.parameters() if p.grad is not None)

    # a new model's KL term is far below 1,000 nats, so with that floor only the reconstruction trains the encoder
    # (its gradient is smaller than with the KL term pulling too), and the reported losses are the true ones
    assert kl_gradient(1000.0) != kl_gradient(0.0)
    trainer = VAETrainer(config, VAETrainConfig(steps=1, batch_size=8, free_nats=1000.0), images)
    losses = trainer.train_step()
    assert losses["loss"] == pytest.approx(losses["reconstruction"] + losses["kl"], rel=1e-5)


def test_a_run_saved_before_a_setting_existed_resumes_only_with_that_settings_default(tmp_path):
    import json

    images = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)).round()
    options = VAETrainConfig(steps=4, batch_size=8)
    trainer = VAETrainer(VAEConfig(latent_dim=2, channels=4, hidden=16), options, images)
    next(iter(trainer.run()))
    trainer.save_state(tmp_path / "state")
    meta_file = tmp_path / "state" / "trainer.json"
    meta = json.loads(meta_file.read_text())
    for key in ("pixel_hidden", "pixel_kernel"):  # as a state saved before the pixel head existed has it
        del meta["model_config"][key]
    meta_file.write_text(json.dumps(meta))
    resumed = VAETrainer(VAEConfig(latent_dim=2, channels=4, hidden=16), options, images)
    resumed.load_state(tmp_path / "state")
    assert resumed.step == 1
    headed = VAETrainer(VAEConfig(latent_dim=2, channels=4, hidden=16, pixel_hidden=4), options, images)
    with pytest.raises(ValueError, match="different model configuration"):
        headed.load_state(tmp_path / "state")
