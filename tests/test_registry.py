import threading
import time

import pytest
import torch

from genmodels import registry as registry_module
from genmodels.checkpoints import save_checkpoint
from genmodels.registry import Registry, UnknownModel, select_device
from tests.conftest import card_for, tiny_gan


@pytest.fixture
def roots(tmp_path):
    save_checkpoint(tiny_gan(), tmp_path / "a-gan", card_for("gan"))
    save_checkpoint(tiny_gan(conditional=True), tmp_path / "b-cgan", card_for("gan", {"inception_score": 9.5}))
    (tmp_path / "not-a-model").mkdir()
    return tmp_path


def test_lists_models_by_family_with_metrics(roots):
    registry = Registry(roots=(roots,), device="cpu")
    assert registry.names("gan") == ["a-gan", "b-cgan"]
    assert registry.names("classifier") == []
    assert registry.entry("b-cgan").metrics["inception_score"] == 9.5
    with pytest.raises(UnknownModel, match="available: a-gan, b-cgan"):
        registry.entry("nope")
    with pytest.raises(UnknownModel):
        registry.entry("a-gan", family="classifier")
    with pytest.raises(UnknownModel):
        registry.entry(["a list"])


def test_loads_lazily_once_under_concurrency(roots, monkeypatch):
    calls = []
    real_load = registry_module.load_checkpoint

    def slow_counting_load(*args, **kwargs):
        calls.append(1)
        time.sleep(0.2)  # widen the race window
        return real_load(*args, **kwargs)

    monkeypatch.setattr(registry_module, "load_checkpoint", slow_counting_load)
    registry = Registry(roots=(roots,), device="cpu")
    assert calls == [], "nothing loads before first use"
    results = []

    def load_one():
        results.append(registry.load("a-gan"))

    threads = [threading.Thread(target=load_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(model is results[0] for model in results)
    model = results[0]
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_derived_values_are_cached_per_model(roots):
    registry = Registry(roots=(roots,), device="cpu")
    computed = []

    def compute(model):
        computed.append(1)
        assert torch.is_inference_mode_enabled()
        return model.config.z_dim

    assert registry.derived("a-gan", "z", compute) == 8
    assert registry.derived("a-gan", "z", compute) == 8
    assert computed == [1]


def test_refresh_sees_new_checkpoints(roots):
    registry = Registry(roots=(roots,), device="cpu")
    save_checkpoint(tiny_gan(), roots / "c-new", card_for("gan"))
    assert "c-new" not in registry.names()
    registry.refresh()
    assert "c-new" in registry.names("gan")


def test_device_selection(monkeypatch):
    monkeypatch.setenv("GENLAB_DEVICE", "cpu")
    assert select_device() == torch.device("cpu")
    monkeypatch.delenv("GENLAB_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert select_device().type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            select_device("cuda")
