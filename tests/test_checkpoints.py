import json
import pickle

import pytest
import torch

from genmodels.checkpoints import (
    CHECKPOINTS_DIR,
    CheckpointError,
    load_checkpoint,
    read_card,
    save_checkpoint,
    validate_card,
)
from genmodels.gan import GAN
from genmodels.registry import MODEL_CLASSES
from tests.conftest import card_for, tiny_gan

SHIPPED = sorted(p for p in CHECKPOINTS_DIR.iterdir() if (p / "config.json").is_file())


def test_round_trip_gives_identical_outputs(tmp_path):
    gan = tiny_gan(conditional=True)
    save_checkpoint(gan, tmp_path / "model", card_for("gan"))
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"config.json", "model.safetensors", "README.md"}
    loaded = load_checkpoint(GAN, tmp_path / "model")
    z, y = torch.randn(3, 8), torch.tensor([1, 2, 3])
    with torch.inference_mode():
        assert torch.equal(gan.generator(z, y), loaded.generator(z, y))
    assert loaded.config == gan.config
    assert not any(p.requires_grad for p in loaded.parameters())
    assert read_card(tmp_path / "model")["genlab_family"] == "gan"


def test_card_validation_finds_missing_parts():
    assert validate_card(card_for("gan")) == []
    problems = validate_card(card_for("gan").replace("## Held-out split", "## Something else"))
    assert any("Held-out split" in problem for problem in problems)
    assert any("genlab_family" in problem for problem in validate_card("# a card without metadata"))


def test_save_refuses_an_incomplete_card(tmp_path):
    with pytest.raises(CheckpointError):
        save_checkpoint(tiny_gan(), tmp_path / "model", "# no sections")
    assert not (tmp_path / "model").exists()


class Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('unpickled!')",))


def test_pickled_weights_are_refused_and_never_unpickled(tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"config": {}}))
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError, match="safetensors only"):
        load_checkpoint(GAN, folder)


def test_pickle_disguised_as_safetensors_is_refused(tmp_path):
    save_checkpoint(tiny_gan(), tmp_path / "model", card_for("gan"))
    (tmp_path / "model" / "model.safetensors").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError):
        load_checkpoint(GAN, tmp_path / "model")


def test_missing_or_inconsistent_config_is_a_clear_error(tmp_path):
    save_checkpoint(tiny_gan(), tmp_path / "model", card_for("gan"))
    config_path = tmp_path / "model" / "config.json"
    config = json.loads(config_path.read_text())
    config["g_channels"] = 16  # the weights were saved with 4
    config_path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(GAN, tmp_path / "model")
    config_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(GAN, tmp_path / "model")
    config_path.unlink()
    with pytest.raises(CheckpointError, match=r"config\.json is missing"):
        load_checkpoint(GAN, tmp_path / "model")
    with pytest.raises(CheckpointError, match="no checkpoint folder"):
        load_checkpoint(GAN, tmp_path / "absent")


def test_shipped_checkpoints_load_with_complete_cards():
    families = set()
    for folder in SHIPPED:
        card_text = (folder / "README.md").read_text()
        assert validate_card(card_text) == [], folder.name
        family = read_card(folder)["genlab_family"]
        model = load_checkpoint(MODEL_CLASSES[family], folder)
        families.add(family)
        size_mb = (folder / "model.safetensors").stat().st_size / 2**20
        assert size_mb < 8, f"{folder.name} is {size_mb:.1f} MB; shipped checkpoints stay small"
        assert isinstance(model, MODEL_CLASSES[family])
    assert {"gan", "vae", "classifier"} <= families
    expected = {"gan-mnist", "cgan-mnist", "mnist-classifier", "vae-2d", "vae-16d", "vae-16d-beta4"}
    assert expected <= {folder.name for folder in SHIPPED}


def test_the_shipped_diffusion_model_has_a_compatible_guide_in_no_picker():
    from genmodels.diffusion import DiffusionModel, compatible_guide
    from genmodels.diffusion_pipeline import load_guide
    from genmodels.registry import Registry

    model = load_checkpoint(DiffusionModel, CHECKPOINTS_DIR / "diffusion-mnist")
    guide = load_guide(CHECKPOINTS_DIR / "diffusion-mnist")
    assert read_card(CHECKPOINTS_DIR / "diffusion-mnist-guide")["genlab_family"] == "diffusion-guide"
    assert compatible_guide(model, guide) and not guide.training
    # the guide is a weaker model: trained for fewer steps than the model it guides
    steps = {
        name: read_card(CHECKPOINTS_DIR / name)["genlab_metrics"]["steps"]
        for name in ("diffusion-mnist", "diffusion-mnist-guide")
    }
    assert steps["diffusion-mnist-guide"] < steps["diffusion-mnist"]
    registry = Registry()
    assert "diffusion-mnist-guide" not in registry.names("diffusion") and registry.has_guide("diffusion-mnist")
