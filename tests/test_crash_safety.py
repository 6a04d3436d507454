"""A process killed with SIGKILL in the middle of saving (the server, or a training worker) loses nothing: the
previous checkpoint stays loadable, and a half-written folder is never listed in any picker."""

import subprocess
import sys
import textwrap

import pytest
import torch

from genmodels.checkpoints import load_checkpoint, recover_interrupted_saves
from genmodels.registry import Registry
from genmodels.vae import VAE, VAEConfig

# A child process saves version 1 normally, then version 2, and kills itself with SIGKILL at `stage`.
CHILD = textwrap.dedent(
    """
    import os, signal, sys, torch
    from genmodels.checkpoints import make_card, save_checkpoint
    from genmodels.vae import VAE, VAEConfig

    root, stage = sys.argv[1], sys.argv[2]
    card = lambda version: make_card(title=f"v{version}", family="vae", summary="test", data="none",
        held_out="none", training="none", command="none", metrics={"version": version}, metrics_text="")

    def model(fill):
        vae = VAE(VAEConfig(latent_dim=2, channels=4, hidden=8))
        with torch.no_grad():
            for parameter in vae.parameters():
                parameter.fill_(fill)
        return vae

    save_checkpoint(model(1.0), os.path.join(root, "crashy"), card(1))
    die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    if stage == "while-writing":  # after the weights, before the card
        import genmodels.checkpoints as checkpoints
        original = VAE.save_pretrained
        def save_then_die(self, folder, **kwargs):
            original(self, folder, **kwargs)
            die()
        VAE.save_pretrained = save_then_die
    elif stage == "between-renames":  # the old version moved aside, the new one not yet in place
        real_replace, calls = os.replace, []
        def replace_then_die(source, target):
            real_replace(source, target)
            calls.append(target)
            if len(calls) == 1:
                die()
        os.replace = replace_then_die
    save_checkpoint(model(2.0), os.path.join(root, "crashy"), card(2))
    """
)


@pytest.mark.parametrize("stage", ["while-writing", "between-renames"])
def test_a_save_killed_halfway_leaves_the_previous_checkpoint(tmp_path, stage):
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), stage], capture_output=True, text=True)
    assert result.returncode == -9, result.stderr[-2000:]  # it really died by SIGKILL
    leftovers = [folder.name for folder in tmp_path.iterdir()]
    assert any(name.startswith(".crashy.") for name in leftovers), leftovers  # a half-done save was left behind
    registry = Registry(roots=(tmp_path,), device="cpu")  # a picker's view: recovers, then lists
    assert registry.names() == ["crashy"]
    assert registry.entry("crashy").metrics["version"] == 1
    vae = load_checkpoint(VAE, tmp_path / "crashy")
    assert all(torch.all(parameter == 1.0) for parameter in vae.parameters())
    assert sorted(folder.name for folder in tmp_path.iterdir()) == ["crashy"]


def test_a_save_that_finishes_replaces_the_checkpoint(tmp_path):
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "none"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    recover_interrupted_saves(tmp_path)
    assert Registry(roots=(tmp_path,), device="cpu").entry("crashy").metrics["version"] == 2


def test_a_folder_being_written_by_a_live_process_is_left_alone(tmp_path):
    writing = tmp_path / f".model.tmp-{__import__('os').getpid()}-1"
    writing.mkdir()
    (writing / "config.json").write_text("{}")
    recover_interrupted_saves(tmp_path)
    assert writing.is_dir()
    assert Registry(roots=(tmp_path,), device="cpu").names() == []
    VAE(VAEConfig())  # the module imports cleanly beside it
