"""LoRA fine-tuning of SmolLM2 (issue 16): only the adapter trains, the held-out loss falls, resume is exact, and a
saved adapter (safetensors only) merges back into the same model."""

import copy
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from genmodels.lora import (
    ADAPTER_WEIGHTS,
    LoRATrainConfig,
    LoRATrainer,
    held_out_loss,
    load_base,
    load_merged,
    tokenize_split,
)

SENTENCES = [
    "The lighthouse keeper of Varrow Point counts the ships at dusk.",
    "Every evening the keeper of Varrow Point writes the count in a green book.",
    "When fog comes to Varrow Point the keeper rings the bell nine times.",
    "The green book of Varrow Point holds forty years of ships and fog.",
]
TEXT = "\n".join(SENTENCES[i % 4] for i in range(160))  # about 1,900 words, a style SmolLM2 has never seen


@pytest.fixture(scope="module")
def base():
    return load_base()


def trainer_for(base, steps=12, seed=0, **changes):
    model, tokenizer = base
    train, _ = tokenize_split(tokenizer, TEXT, 32)
    config = LoRATrainConfig(steps=steps, batch_size=2, sequence_length=32, lr=3e-3, warmup_steps=2, seed=seed)
    for key, value in changes.items():
        setattr(config, key, value)
    return LoRATrainer(config, train, copy.deepcopy(model))


def test_the_text_is_split_into_training_and_held_out_tokens(base):
    _, tokenizer = base
    train, held_out = tokenize_split(tokenizer, TEXT, 32)
    assert len(train) > 8 * len(held_out) > 0
    with pytest.raises(ValueError, match="too short"):
        tokenize_split(tokenizer, "Too short a text.", 32)


def test_only_the_adapter_trains_and_the_held_out_loss_falls(base):
    _, tokenizer = base
    _, held_out = tokenize_split(tokenizer, TEXT, 32)
    trainer = trainer_for(base)
    frozen = {name: p.detach().clone() for name, p in trainer.model.named_parameters() if not p.requires_grad}
    assert (
        0
        < trainer.trainable_parameters
        < 0.01 * (trainer.trainable_parameters + sum(map(torch.numel, frozen.values())))
    )
    before = held_out_loss(trainer.model, held_out, 32)
    losses = [event.losses["train"] for event in trainer.run()]
    after = held_out_loss(trainer.model, held_out, 32)
    assert after < before - 0.5, (before, after)
    assert sum(losses[-3:]) < sum(losses[:3])
    for name, p in trainer.model.named_parameters():
        if not p.requires_grad:
            assert torch.equal(p, frozen[name]), f"{name} is part of the frozen base model and changed"
    with trainer.model.disable_adapter():  # the base model itself is untouched
        assert held_out_loss(trainer.model, held_out, 32) == pytest.approx(before, abs=1e-5)


def test_stop_and_resume_reach_the_same_adapter(base, tmp_path):
    whole = trainer_for(base, steps=4)
    list(whole.run())
    first = trainer_for(base, steps=4)
    for event in first.run():
        if event.step == 2:
            break
    first.save_state(tmp_path / "state")
    state = load_file(str(tmp_path / "state" / "trainer.safetensors"))
    assert all("lora_" in key for key in state if key.startswith("lora.")), "only the adapter is saved, not the base"
    assert sum(v.numel() for k, v in state.items() if k.startswith("lora.")) == whole.trainable_parameters
    second = trainer_for(base, steps=4)
    second.load_state(tmp_path / "state")
    list(second.run())
    for (name, a), b in zip(
        whole.modules["lora"].state_dict().items(), second.modules["lora"].state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_a_saved_adapter_merges_back_into_the_same_model(base, tmp_path):
    trainer = trainer_for(base, steps=3)
    list(trainer.run())
    folder = tmp_path / "my-lora"
    trainer.save_adapter(folder, "---\nlicense: apache-2.0\n---\n# card\n")
    names = {path.name for path in folder.iterdir()}
    assert {"adapter_config.json", ADAPTER_WEIGHTS, "config.json", "README.md"} <= names
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in names)
    assert json.loads((folder / "config.json").read_text())["genlab_family"] == "lora"
    merged, _ = load_merged(folder)
    ids = torch.tensor([base[1].encode("When fog comes to Varrow Point")])
    with torch.no_grad():
        expected = trainer.export()(input_ids=ids).logits
        got = merged(input_ids=ids).logits
    assert torch.allclose(expected, got, atol=2e-4)


def test_foreign_weights_are_refused(base, tmp_path):
    trainer = trainer_for(base, steps=1)
    folder = tmp_path / "bad"
    trainer.save_adapter(folder, "# card\n")
    weights = load_file(str(folder / ADAPTER_WEIGHTS))
    weights["base_model.model.lm_head.weight"] = torch.zeros(2, 2)
    save_file(weights, str(folder / ADAPTER_WEIGHTS))
    with pytest.raises(ValueError, match="do not fit SmolLM2"):
        load_merged(folder)
    (folder / ADAPTER_WEIGHTS).unlink()
    with pytest.raises(ValueError, match="not a GenLab LoRA adapter"):
        load_merged(folder)


def test_a_lora_request_is_checked_without_loading_the_model(tmp_path, monkeypatch):
    import genmodels.lora
    import genmodels.training_runs as runs

    def refuse():
        raise AssertionError("the server must not load SmolLM2 just to check a request")

    monkeypatch.setattr(genmodels.lora, "load_base", refuse)
    monkeypatch.setattr(runs, "STATES_DIR", tmp_path)
    spec = runs.RunSpec(family="lora", name="keeper", steps=20, batch_size=2, learning_rate=1e-3, context=32)
    assert runs.starting_step(spec, TEXT) == 0
    with pytest.raises(ValueError, match="too short"):
        runs.starting_step(spec, "Too short a text.")
    with pytest.raises(ValueError, match="the limit is"):
        runs.starting_step(spec, "x" * (runs.MAX_TEXT_CHARACTERS + 1))
    with pytest.raises(ValueError, match="at most 500 steps"):
        runs.starting_step(runs.RunSpec(family="lora", name="keeper", steps=501), TEXT)
    (tmp_path / "keeper").mkdir()
    (tmp_path / "keeper" / "trainer.json").write_text(json.dumps({"step": 7, "train_config": {}}))
    assert runs.starting_step(spec, TEXT) == 7, "a saved run resumes from its step"
