"""The VQ-VAE and its GPT prior (issue 11): codes, the EMA codebook and its restarts, sampling, saving, the CLI."""

import math
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from genmodels.checkpoints import load_checkpoint, read_card, save_checkpoint, validate_card
from genmodels.trainers import VQPriorTrainConfig, VQPriorTrainer, VQVAETrainConfig, VQVAETrainer
from genmodels.vqvae import VQVAE, VQVAEConfig, reconstruction_metrics
from tests.conftest import PROJECT_ROOT, card_for

TINY = VQVAEConfig(channels=4, codebook_size=16, code_dim=4, prior_layers=1, prior_heads=2, prior_width=16)


def tiny_vqvae(seed: int = 0) -> VQVAE:
    torch.manual_seed(seed)
    return VQVAE(TINY).eval()


def digits(count: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def bars(count: int = 64) -> torch.Tensor:
    """Easy digits: a vertical bar at one of four places, on a background of -1."""
    images = torch.full((count, 1, 28, 28), -1.0)
    for index in range(count):
        left = 4 + 5 * (index % 4)
        images[index, :, 6:22, left : left + 4] = 1.0
    return images


def test_shapes_ranges_and_codes_in_range():
    model = tiny_vqvae()
    codes = model.encode(digits())
    assert codes.shape == (6, 7, 7) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < TINY.codebook_size
    images = model.decode(codes)
    assert images.shape == (6, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    reconstruction, losses = model(digits())
    assert reconstruction.shape == (6, 1, 28, 28) and reconstruction.abs().max() <= 1
    assert set(losses) == {"reconstruction", "commitment", "loss", "perplexity"}
    assert all(math.isfinite(value.item()) for value in losses.values())
    assert model.prior_logits(codes, torch.arange(6)).shape == (6, 49, TINY.codebook_size)
    usage = model.codebook_usage(codes)
    assert usage.shape == (TINY.codebook_size,) and int(usage.sum()) == 6 * 49
    assert 1 <= model.perplexity(codes) <= int((usage > 0).sum()) + 1e-9


def test_quantize_picks_the_nearest_code_and_decode_matches_forward():
    model = tiny_vqvae()
    codes = torch.randint(TINY.codebook_size, (3, 7, 7), generator=torch.Generator().manual_seed(1))
    assert torch.equal(model.quantize(model.lookup(codes)), codes)  # a code's own vector is nearest to itself
    x = digits(3)
    assert torch.allclose(model.decode(model.encode(x)), model(x)[0], atol=1e-6)  # the straight-through value


def test_forward_in_eval_mode_leaves_the_codebook_alone():
    model = tiny_vqvae()
    before = {name: buffer.clone() for name, buffer in model.named_buffers()}
    model(digits(), torch.Generator().manual_seed(0))
    assert all(torch.equal(buffer, before[name]) for name, buffer in model.named_buffers())


def test_dead_codes_restart_on_encoder_outputs():
    model = tiny_vqvae().train()
    x = digits(8)
    with torch.no_grad():
        model.codebook[1:] = 100.0  # every code but 0 is far from every encoder output: dead
        model.ema_sum.copy_(model.codebook * model.ema_count[:, None])
    assert int((model.codebook_usage(model.encode(x)) > 0).sum()) == 1
    model(x, torch.Generator().manual_seed(0))
    encoder_outputs = model.encoder(x).permute(0, 2, 3, 1).reshape(-1, TINY.code_dim)  # (8*49, D)
    for row in model.codebook[1:]:  # each restarted code sits on one of this batch's encoder outputs
        assert (encoder_outputs - row).abs().amax(dim=1).min() < 1e-5
    assert int((model.codebook_usage(model.encode(x)) > 0).sum()) > TINY.codebook_size // 2


def test_the_codebook_follows_the_moving_average():
    model = tiny_vqvae().train()
    x = digits(4)
    with torch.no_grad():
        model.ema_count.fill_(1000.0)  # nothing is dead: only the moving average acts
        model.ema_sum.copy_(model.codebook * 1000.0)
        start = model.codebook.clone()
        z = model.encoder(x).permute(0, 2, 3, 1).reshape(-1, TINY.code_dim)  # (4*49, D)
        codes = model.quantize(model.encoder(x)).flatten()
    model(x)
    counts = 0.99 * 1000 + 0.01 * torch.bincount(codes, minlength=TINY.codebook_size).float()
    sums = 0.99 * 1000 * start + 0.01 * torch.zeros_like(start).index_add_(0, codes, z)
    assert torch.allclose(model.ema_count, counts) and torch.allclose(model.ema_sum, sums, atol=1e-4)
    assert torch.allclose(model.codebook, sums / counts[:, None], atol=1e-4)  # the mean of what each code received


def test_a_few_training_steps_lower_both_losses_and_sharpen_reconstructions():
    images = bars()
    trainer = VQVAETrainer(TINY, VQVAETrainConfig(steps=40, batch_size=16, lr=1e-2, warmup_steps=2), images)
    before = reconstruction_metrics(trainer.export(), images)
    losses = [event.losses["reconstruction"] for event in trainer.run(threading.Event())]
    assert sum(losses[-5:]) < 0.7 * sum(losses[:5])
    model = trainer.export()
    assert reconstruction_metrics(model, images)["reconstruction_mse"] < 0.5 * before["reconstruction_mse"]
    assert trainer.preview().shape == (16, 1, 28, 28)

    prior_trainer = VQPriorTrainer(
        model, VQPriorTrainConfig(steps=30, batch_size=16, lr=1e-2, warmup_steps=2), images, torch.arange(64) % 10
    )
    nats = [event.losses["nats_per_code"] for event in prior_trainer.run(threading.Event())]
    assert sum(nats[-5:]) < 0.7 * sum(nats[:5])
    preview = prior_trainer.preview()
    assert preview.shape == (10, 1, 28, 28) and preview.abs().max() <= 1
    exported = prior_trainer.export()
    assert torch.equal(exported.codebook, model.codebook)  # the autoencoder stayed frozen


def test_resumed_autoencoder_training_is_exact(tmp_path):
    config = VQVAETrainConfig(steps=4, batch_size=8)
    straight = VQVAETrainer(TINY, config, bars(16))
    list(straight.run())
    first = VQVAETrainer(TINY, VQVAETrainConfig(steps=2, batch_size=8), bars(16))
    list(first.run())
    first.save_state(tmp_path / "state")
    resumed = VQVAETrainer(TINY, config, bars(16))
    resumed.load_state(tmp_path / "state")
    list(resumed.run())
    for (name, a), b in zip(
        straight.export().state_dict().items(), resumed.export().state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def peaked_prior() -> VQVAE:
    model = tiny_vqvae()
    with torch.no_grad():
        model.prior.code_embedding.weight.mul_(10)  # the tied head: logits far apart, so no near-ties
    return model


def test_cached_sampling_steps_match_the_full_forward():
    model = peaked_prior()
    codes = torch.randint(TINY.codebook_size, (3, 7, 7), generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([0, 7, TINY.num_classes])
    with torch.no_grad():
        full = model.prior_logits(codes, labels)  # (3, 49, K)
        cache, steps, tokens = [], [], model.prior.class_embedding(labels)
        for position, code in enumerate(codes.flatten(1).T):
            steps.append(model.prior.step(tokens, position, cache))
            tokens = model.prior.code_embedding(code)
    assert torch.allclose(torch.stack(steps, dim=1), full, atol=1e-4)


def test_sample_codes_are_seeded():
    model = tiny_vqvae()
    labels = torch.tensor([0, 3, 9, TINY.num_classes])

    def run(seed):
        return model.sample_codes(labels, generator=torch.Generator().manual_seed(seed))

    first, again, other = run(1), run(1), run(2)
    assert first.shape == (4, 7, 7) and first.dtype == torch.int64
    assert int(first.min()) >= 0 and int(first.max()) < TINY.codebook_size
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_sample_codes_respect_top_k():
    model = peaked_prior()
    labels = torch.tensor([0, 3, 9, TINY.num_classes])

    def run(seed, **options):
        return model.sample_codes(labels, generator=torch.Generator().manual_seed(seed), **options)

    greedy = run(1, top_k=1)
    assert torch.equal(greedy, run(2, top_k=1))  # one candidate: the seed no longer matters
    assert torch.equal(model.prior_logits(greedy, labels).argmax(-1), greedy.flatten(1))
    two = run(3, top_k=2, temperature=5.0)
    assert not torch.equal(two, greedy)
    top_two = model.prior_logits(two, labels).topk(2, dim=-1).indices  # (4, 49, 2)
    assert bool((top_two == two.flatten(1)[..., None]).any(-1).all())


def test_prior_nll_is_per_code_and_starts_near_log_k():
    model = tiny_vqvae()
    codes = model.encode(digits(5))
    labels = torch.tensor([0, 1, 2, 3, TINY.num_classes])
    nll = model.prior_nll(codes, labels)
    assert nll.shape == (5,) and bool(torch.isfinite(nll).all())
    assert abs(nll.mean().item() - math.log(TINY.codebook_size)) < 0.1  # a fresh prior is close to uniform
    logits = model.prior_logits(codes, labels)
    expected = F.cross_entropy(logits.reshape(-1, TINY.codebook_size), codes.flatten())
    assert torch.isclose(nll.mean(), expected)


def test_save_and_load_give_the_same_model(tmp_path):
    trainer = VQVAETrainer(TINY, VQVAETrainConfig(steps=3, batch_size=8), bars(16))
    list(trainer.run())  # moves the codebook and its averages away from their initial values
    model = trainer.export()
    save_checkpoint(model, tmp_path / "vqvae", card_for("vqvae"))
    assert {p.name for p in (tmp_path / "vqvae").iterdir()} == {"config.json", "model.safetensors", "README.md"}
    loaded = load_checkpoint(VQVAE, tmp_path / "vqvae")
    assert loaded.config == model.config
    x, labels = digits(4), torch.tensor([1, 2, 3, TINY.num_classes])
    codes = model.encode(x)
    assert torch.equal(loaded.encode(x), codes) and torch.equal(loaded.decode(codes), model.decode(codes))
    assert torch.equal(loaded.prior_logits(codes, labels), model.prior_logits(codes, labels))
    assert torch.equal(
        loaded.sample_codes(labels, generator=torch.Generator().manual_seed(5)),
        model.sample_codes(labels, generator=torch.Generator().manual_seed(5)),
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.encode(torch.zeros(2, 28, 28)), r"\(B, 1, 28, 28\)"),
        (lambda m: m.encode(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)), "floats"),
        (lambda m: m.decode(torch.zeros(2, 7, 6, dtype=torch.long)), r"\(B, 7, 7\)"),
        (lambda m: m.decode(torch.full((1, 7, 7), 16)), r"\[0, 16\)"),
        (lambda m: m.decode(torch.full((1, 7, 7), -1)), r"\[0, 16\)"),
        (lambda m: m.decode(torch.zeros(1, 7, 7)), "integers"),
        (lambda m: m.prior_nll(torch.zeros(2, 7, 7, dtype=torch.long), torch.tensor([0, 11])), "0 to 9"),
        (lambda m: m.prior_nll(torch.zeros(2, 7, 7, dtype=torch.long), torch.tensor([0])), "1 labels for 2"),
        (lambda m: m.sample_codes(torch.tensor([-1])), "0 to 9"),
        (lambda m: m.sample_codes(torch.tensor([1.0])), "integers"),
        (lambda m: m.sample_codes(torch.tensor([1]), temperature=0.0), "temperature"),
        (lambda m: m.sample_codes(torch.tensor([1]), temperature=float("nan")), "temperature"),
        (lambda m: m.sample_codes(torch.tensor([1]), top_k=0), "top_k"),
        (lambda m: m.sample_codes(torch.tensor([1]), top_k=17), "top_k"),
    ],
)
def test_bad_inputs_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny_vqvae())


def test_training_cli_dry_run_writes_a_loadable_checkpoint_with_a_card():
    result = subprocess.run(
        [sys.executable, "-m", "genmodels.train", "vqvae", "--dry-run"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    folder = Path(re.search(r"^saved (.+)$", result.stdout, re.MULTILINE).group(1))
    try:
        check_dry_run_checkpoint(folder)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)  # the run's scratch folder


def check_dry_run_checkpoint(folder: Path) -> None:
    model = load_checkpoint(VQVAE, folder)
    assert model.config.codebook_size == 128
    assert model.decode(torch.zeros(1, 7, 7, dtype=torch.long)).shape == (1, 1, 28, 28)
    card = read_card(folder)
    assert validate_card((folder / "README.md").read_text()) == []
    assert card["genlab_family"] == "vqvae"
    metrics = card["genlab_metrics"]
    assert metrics["autoencoder_steps"] == 6 and metrics["prior_steps"] == 6 and metrics["samples"] == 100
    for key in ("reconstruction_mse", "codes_used", "dead_codes", "perplexity", "prior_nats_per_code"):
        assert math.isfinite(metrics[key])
    for key in ("class_accuracy", "inception_score", "frechet_distance_500"):
        assert math.isfinite(metrics[key])


def test_both_stages_repeat_with_the_same_seed():
    def run():
        trainer = VQVAETrainer(TINY, VQVAETrainConfig(steps=2, batch_size=8), bars(16))
        list(trainer.run())
        prior = VQPriorTrainer(
            trainer.export(), VQPriorTrainConfig(steps=2, batch_size=8), bars(16), torch.arange(16) % 10
        )
        list(prior.run())
        return prior.export().state_dict()

    first, second = run(), run()
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_the_prior_trainer_refuses_labels_outside_the_digits():
    with pytest.raises(ValueError, match="0 to 9"):
        VQPriorTrainer(tiny_vqvae(), VQPriorTrainConfig(steps=1), bars(4), torch.tensor([0, 1, 2, 12]))


def test_resumed_prior_training_is_exact(tmp_path):
    autoencoder, labels = tiny_vqvae(), torch.arange(16) % 10

    def trainer(steps):
        return VQPriorTrainer(autoencoder, VQPriorTrainConfig(steps=steps, batch_size=8), bars(16), labels)

    straight, first = trainer(4), trainer(2)
    list(straight.run())
    list(first.run())
    first.save_state(tmp_path / "prior")
    resumed = trainer(4)
    resumed.load_state(tmp_path / "prior")
    list(resumed.run())
    expected, actual = straight.export().state_dict(), resumed.export().state_dict()
    assert all(torch.equal(expected[name], actual[name]) for name in expected)
