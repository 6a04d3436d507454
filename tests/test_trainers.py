import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genmodels.chargpt import CharGPTConfig
from genmodels.checkpoints import atomic_replace_dir, read_card, read_config
from genmodels.gan import GANConfig
from genmodels.trainers import CharGPTTrainConfig, CharGPTTrainer, GANTrainConfig, GANTrainer, evaluate_chargpt
from tests.conftest import PROJECT_ROOT

TINY = GANConfig(z_dim=8, g_channels=4, d_channels=4, num_classes=10)


def tiny_data():
    generator = torch.Generator().manual_seed(0)
    return torch.rand(64, 1, 28, 28, generator=generator) * 2 - 1, torch.arange(64) % 10


def make_trainer(steps=6, loss="hinge"):
    images, labels = tiny_data()
    return GANTrainer(
        TINY, GANTrainConfig(steps=steps, batch_size=8, loss=loss, preview_every=3, preview_count=4), images, labels
    )


@pytest.mark.parametrize("loss", ["hinge", "nonsaturating", "lsgan", "wgan-gp"])
def test_each_loss_trains_and_yields_events(loss):
    events = list(make_trainer(steps=4, loss=loss).run())
    assert [event.step for event in events] == [1, 2, 3, 4]
    assert all(set(event.losses) == {"G", "D"} for event in events)
    assert all(torch.isfinite(torch.tensor(list(event.losses.values()))).all() for event in events)
    assert events[2].preview is not None and events[2].preview.shape == (4, 1, 28, 28)
    assert events[0].preview is None


def test_discriminator_learns_to_separate_real_from_fake():
    trainer = make_trainer(steps=30)
    losses = [event.losses["D"] for event in trainer.run()]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5


def test_same_seed_same_curve():
    first = [event.losses for event in make_trainer().run()]
    second = [event.losses for event in make_trainer().run()]
    assert first == second


def test_stop_event_stops_between_steps():
    import threading

    stop = threading.Event()
    trainer = make_trainer(steps=100)
    for event in trainer.run(stop):
        if event.step == 3:
            stop.set()
    assert trainer.step == 3


def test_resume_continues_the_same_curve(tmp_path):
    uninterrupted = [event.losses for event in make_trainer(steps=6).run()]
    first_half = make_trainer(steps=6)
    for event in first_half.run():
        if event.step == 3:
            first_half.save_state(tmp_path / "state")
            break
    resumed = make_trainer(steps=6)
    resumed.load_state(tmp_path / "state")
    assert resumed.step == 3
    assert [event.losses for event in resumed.run()] == uninterrupted[3:]


def test_export_gives_an_eval_model_with_the_ema_generator():
    trainer = make_trainer(steps=2)
    list(trainer.run())
    model = trainer.export()
    assert not model.training
    assert model.generator(torch.randn(2, 8), torch.tensor([0, 1])).shape == (2, 1, 28, 28)


def test_atomic_replace_keeps_old_content_when_saving_fails(tmp_path):
    target = tmp_path / "ckpt"
    atomic_replace_dir(lambda folder: (folder / "weights").write_text("old"), target)

    def failing(folder):
        (folder / "weights").write_text("half-written")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_replace_dir(failing, target)
    assert (target / "weights").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"], "no temporary folders left behind"


VAE_OPTIONS = ["vae", "--latent-dim", "2", "--binarize-targets", "--weight-decay", "1e-4", "--lr-schedule", "cosine"]
VAE_OPTIONS += ["--pixel-hidden", "4", "--free-nats", "2"]


@pytest.mark.parametrize("family", [["gan", "--conditional"], VAE_OPTIONS, ["chargpt"]])
def test_training_cli_dry_run(family):
    result = subprocess.run(
        [sys.executable, "-m", "genmodels.train", *family, "--dry-run"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "saved" in result.stdout and "steps': 6" in result.stdout
    if family == VAE_OPTIONS:  # the card names the options that shaped the run
        folder = Path(result.stdout.split("saved ")[-1].split()[0])
        training = (folder / "README.md").read_text().split("## Training")[1]
        assert "AdamW (weight decay 0.0001, lr 0.001, cosine decay" in training
        assert "a fresh binary draw of each digit" in training
        assert "max(KL, 2 nats) (free bits" in training
        card = (folder / "README.md").read_text()
        assert "an autoregressive pixel head on the decoder's logits (a one-layer PixelCNN of 4 units" in card
        assert "5x5 window" in card and read_config(folder)["pixel_hidden"] == 4
        assert "posterior refined by 3 gradient steps (semi-amortized inference" in card
        metrics = read_card(folder)["genlab_metrics"]
        assert metrics["refine_steps"] == 3 and metrics["check_negative_elbo_refined_25_nats"] > 0


def test_learning_rates_decay_linearly_to_zero():
    images, labels = tiny_data()
    config = GANTrainConfig(steps=4, batch_size=8, decay_steps=2, lr_g=1e-3, lr_d=2e-3)
    trainer = GANTrainer(TINY, config, images, labels)
    seen = []
    for _ in trainer.run():
        seen.append((trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"]))
    assert seen == [(1e-3, 2e-3), (1e-3, 2e-3), (1e-3, 2e-3), (5e-4, 1e-3)]


def test_saved_state_remembers_the_commands_that_made_it(tmp_path):
    trainer = make_trainer(steps=2)
    trainer.history = ("python -m genmodels.train gan --steps 2",)
    list(trainer.run())
    trainer.save_state(tmp_path / "state")
    resumed = make_trainer(steps=4)
    resumed.load_state(tmp_path / "state")
    assert resumed.history == ("python -m genmodels.train gan --steps 2",)


def chargpt_trainer(steps=8):
    config = CharGPTConfig(vocab="abcd ", block_size=8, n_layer=1, n_head=2, n_embd=8)
    ids = torch.tensor([0, 1, 2, 3, 4] * 40)
    return CharGPTTrainer(config, CharGPTTrainConfig(steps=steps, batch_size=4, lr=1e-2, warmup_steps=2), ids)


def test_chargpt_trainer_learns_resumes_and_saves_tied_weights(tmp_path):
    trainer = chargpt_trainer(steps=60)
    losses = [event.losses["train"] for event in trainer.run()]
    assert losses[-1] < losses[0] * 0.8
    uninterrupted = [event.losses for event in chargpt_trainer().run()]
    first = chargpt_trainer()
    for event in first.run():
        if event.step == 4:
            first.save_state(tmp_path / "state")
            break
    resumed = chargpt_trainer()
    resumed.load_state(tmp_path / "state")
    assert [event.losses for event in resumed.run()] == uninterrupted[4:]
    model = resumed.export()
    assert model.head.weight is model.token_embedding.weight
    validation = evaluate_chargpt(model, torch.tensor([0, 1, 2, 3, 4] * 10))
    assert 0 < validation < math.log(5)


def vae_trainer(steps=6):
    from genmodels.trainers import VAETrainConfig, VAETrainer
    from genmodels.vae import VAEConfig

    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)).round()
    config = VAEConfig(latent_dim=2, channels=4, hidden=16)
    return VAETrainer(config, VAETrainConfig(steps=steps, batch_size=16, lr=3e-3, preview_every=3), images)


def test_vae_trainer_learns_is_deterministic_and_resumes(tmp_path):
    losses = [event.losses["loss"] for event in vae_trainer(steps=40).run()]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    first = [event.losses for event in vae_trainer().run()]
    assert first == [event.losses for event in vae_trainer().run()]
    half = vae_trainer()
    for event in half.run():
        if event.step == 3:
            assert event.preview is not None and event.preview.shape == (16, 1, 28, 28)
            half.save_state(tmp_path / "state")
            break
    resumed = vae_trainer()
    resumed.load_state(tmp_path / "state")
    assert [event.losses for event in resumed.run()] == first[3:]


FAULTS_PER_STEP = """
import ctypes, resource, sys
import torch
from genmodels.trainers import keep_freed_memory
# Pin glibc's starting thresholds (128 KiB); left alone, they adapt in ways that depend on the process's history.
libc = ctypes.CDLL("libc.so.6")
assert libc.mallopt(-3, 128 * 1024) and libc.mallopt(-1, 128 * 1024)
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def step():
    activations = [torch.ones(2 * 2**20) for _ in range(10)]  # ten 8 MB tensors, freed together
    del activations
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 10)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator is what keep_freed_memory tunes")
def test_training_processes_keep_freed_memory_instead_of_faulting_it_back_in():
    def faults(mode):
        command = [sys.executable, "-c", FAULTS_PER_STEP, mode]
        return int(subprocess.run(command, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT).stdout)

    default, kept = faults("default"), faults("keep")
    assert default > 1000, "with its starting thresholds glibc hands the 80 MB back and faults it in every step"
    assert kept < default / 20


INFO = GANConfig(z_dim=8, g_channels=4, d_channels=4, info_codes=4)


def info_trainer(steps=6, config=INFO):
    images, labels = tiny_data()
    return GANTrainer(config, GANTrainConfig(steps=steps, batch_size=16, lr_d=2e-3, lr_g=2e-3), images, labels)


def test_an_infogan_learns_to_make_its_category_recoverable():
    trainer = info_trainer(steps=40)
    losses = [event.losses["info"] for event in trainer.run()]
    assert abs(losses[0] - math.log(4)) < 0.3  # chance: the category is not yet in the image
    assert sum(losses[-10:]) / 10 < 0.5 * math.log(4)
    discriminator = trainer.D
    z = torch.randn(256, 8, generator=torch.Generator().manual_seed(1))
    from genmodels.gan import latent_code

    with torch.no_grad():
        read = discriminator.code_logits(trainer.G(z)).argmax(1)
    assert (read == latent_code(z, 4)).float().mean() > 0.6


def started_from_a_plain_gan(trainer):
    """(trainer, the plain GAN it now starts from, latents to compare them with)."""
    plain = info_trainer(config=GANConfig(z_dim=8, g_channels=4, d_channels=4))
    list(plain.run())
    model = plain.export()
    trainer.init_from(model)
    return trainer, model, torch.randn(8, 8, generator=torch.Generator().manual_seed(2))


def test_an_infogan_can_start_from_a_plain_gan_and_draws_its_images_at_first():
    trainer, model, z = started_from_a_plain_gan(info_trainer())
    trainer.ema.eval(), trainer.D.eval()  # eval: no power-iteration step of the spectral norms
    with torch.no_grad():
        assert torch.allclose(trainer.ema(z), model.generator(z), atol=1e-6)  # the code's inputs start at zero
        real = torch.rand(4, 1, 28, 28) * 2 - 1
        assert torch.allclose(trainer.D(real), model.discriminator(real), atol=1e-6)
    assert trainer.G.project.weight[:, 8:].abs().sum() == 0
    trainer.D.train()
    events = list(trainer.run())
    assert "info" in events[-1].losses
    assert trainer.G.project.weight[:, 8:].abs().sum() > 0  # and then it learns to use them


def test_starting_from_a_model_of_another_shape_is_refused():
    other = GANTrainer(GANConfig(z_dim=8, g_channels=8, d_channels=4), GANTrainConfig(steps=1), *tiny_data()).export()
    with pytest.raises(ValueError, match="cannot start from this model"):
        info_trainer().init_from(other)


CLUSTERED = GANConfig(z_dim=8, g_channels=4, d_channels=4, info_codes=4, code_source="clusters")


def clustered_trainer(steps=6, codes="default", loss="hinge"):
    images, labels = tiny_data()
    codes = torch.arange(64) % 4 if isinstance(codes, str) else codes
    config = GANTrainConfig(steps=steps, batch_size=16, lr_d=2e-3, lr_g=2e-3, loss=loss)
    return GANTrainer(CLUSTERED, config, images, labels, codes=codes)


def test_a_self_conditioned_gan_trains_its_category_projection():
    trainer = clustered_trainer(steps=8)
    before = trainer.D.code_embed.parametrizations.weight.original.detach().clone()
    events = list(trainer.run())
    assert all(math.isfinite(e.losses["G"]) and math.isfinite(e.losses["D"]) for e in events)
    assert not torch.equal(before, trainer.D.code_embed.parametrizations.weight.original)
    model = trainer.export()
    assert model.clustered and model.config.code_source == "clusters"


@pytest.mark.parametrize(
    "codes, loss, message",
    [
        (None, "hinge", "needs each training image's cluster"),
        (torch.arange(10), "hinge", "needs each training image's cluster"),
        (torch.arange(64) % 5, "hinge", "clusters must be 0 to 3"),
        (torch.arange(64) % 4, "wgan-gp", "trains with the hinge"),
    ],
)
def test_a_self_conditioned_gan_refuses_missing_or_wrong_clusters(codes, loss, message):
    with pytest.raises(ValueError, match=message):
        clustered_trainer(codes=codes, loss=loss)


def test_a_self_conditioned_gan_can_start_from_a_plain_gan():
    trainer, model, z = started_from_a_plain_gan(clustered_trainer())
    trainer.ema.eval()
    with torch.no_grad():
        assert torch.allclose(trainer.ema(z), model.generator(z), atol=1e-6)
    events = list(trainer.run())
    assert math.isfinite(events[-1].losses["G"])


def test_the_cli_trains_a_self_conditioned_gan_from_a_vaes_clusters(capsys):
    """`--cluster-codes` clusters the training digits by the shipped VAE's codes (here through the spectral
    embedding of their neighbour graph) and trains a GAN whose discriminator is told each real digit's cluster; the
    card says how, and how digit-like the clusters were."""
    import re
    import shutil

    from genmodels.checkpoints import load_checkpoint
    from genmodels.gan import GAN
    from genmodels.train import main

    plain = str(PROJECT_ROOT / "checkpoints" / "gan-mnist")
    main(["gan", "--dry-run", "--cluster-codes", "20", "--cluster-space", "spectral", "--init-from", plain])
    printed = capsys.readouterr().out
    purity = float(re.search(r"purity ([\d.]+)%", printed).group(1))
    assert 50 < purity <= 100
    out = Path(re.search(r"^saved (.+)$", printed, re.MULTILINE).group(1))
    try:
        model = load_checkpoint(GAN, out)
        assert model.clustered and model.config.info_codes == 20
        card = (out / "README.md").read_text()
        assert card.split("\n# ")[1].startswith("GenLab self-conditioned MNIST GAN (unconditional: no labels)")
        assert "self-conditioned GAN" in card and f"{purity:.1f}% of the training digits" in card
        assert "spectral embedding of the graph that links each digit to its 10 nearest neighbours" in card
        assert "started from the weights of" in card
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    with pytest.raises(SystemExit, match="without --info-codes and --conditional"):
        main(["gan", "--dry-run", "--cluster-codes", "20", "--conditional"])
