"""The masked character model (issue 16): span masking, BERT's corruption, both-sides attention, training, resume."""

import pytest
import torch

from genmodels.chargpt import CharGPT, CharGPTConfig
from genmodels.maskedlm import (
    MASK,
    MAX_SPAN,
    MaskedCharLM,
    MaskedCharLMConfig,
    both_sides_against_left,
    evaluate_masked,
    mask_inputs,
    span_mask,
)
from genmodels.trainers import CharGPTTrainConfig, MaskedLMTrainer

VOCAB = "\n abcdefghijklmnopqrstuvwxyz"


def tiny(seed: int = 0, **changes) -> MaskedCharLM:
    torch.manual_seed(seed)
    config = MaskedCharLMConfig(vocab=VOCAB, block_size=32, n_layer=1, n_head=2, n_embd=16, **changes)
    return MaskedCharLM(config).eval()


def spans(mask: torch.Tensor) -> list[int]:
    """The lengths of the runs of True in each row."""
    lengths = []
    for row in mask.tolist():
        run = 0
        for value in [*row, False]:
            if value:
                run += 1
            elif run:
                lengths.append(run)
                run = 0
    return lengths


def test_span_mask_hides_the_rate_asked_in_spans_of_the_mean_length():
    mask = span_mask((400, 128), 0.15, 2.5, torch.Generator().manual_seed(0))
    assert 0.12 < mask.float().mean() < 0.16  # spans that touch or run off the end overlap a little
    lengths = spans(mask)
    assert 2.0 < sum(lengths) / len(lengths) < 3.2 and max(lengths) <= 2 * MAX_SPAN
    single = span_mask((400, 128), 0.15, 1.0, torch.Generator().manual_seed(0))
    assert 0.13 < single.float().mean() < 0.16
    assert sum(spans(single)) / len(spans(single)) < 1.2  # BERT's scheme: single characters, rarely adjacent


def test_span_mask_is_seeded_and_never_leaves_a_row_without_a_blank():
    first = span_mask((50, 8), 0.01, 2.0, torch.Generator().manual_seed(3))
    again = span_mask((50, 8), 0.01, 2.0, torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    assert first.any(dim=1).all()


def test_masking_for_evaluation_hides_every_target_and_training_corrupts_like_bert():
    ids = torch.randint(0, 20, (200, 64), generator=torch.Generator().manual_seed(0))
    mask = span_mask(tuple(ids.shape), 0.15, 2.5, torch.Generator().manual_seed(1))
    inputs, targets = mask_inputs(ids, mask, 99, 20, None, corrupt=False)
    assert torch.equal(inputs[mask], torch.full_like(ids[mask], 99)) and torch.equal(inputs[~mask], ids[~mask])
    assert torch.equal(targets[mask], ids[mask]) and (targets[~mask] == -1).all()
    inputs, _ = mask_inputs(ids, mask, 99, 20, torch.Generator().manual_seed(2), corrupt=True)
    shown_mask = (inputs[mask] == 99).float().mean()
    kept = (inputs[mask] == ids[mask]).float().mean()
    assert 0.77 < shown_mask < 0.83 and 0.09 < kept < 0.16  # 10% kept, plus random picks that hit the true one


def test_the_masked_model_sees_both_sides_and_the_gpt_only_the_left():
    masked = tiny()
    torch.manual_seed(0)
    gpt = CharGPT(CharGPTConfig(vocab=VOCAB, block_size=32, n_layer=1, n_head=2, n_embd=16)).eval()
    a = torch.tensor([masked.encode("the cat_sat")])
    b = torch.tensor([masked.encode("the cat_sit")])  # only the right side of the blank differs
    with torch.no_grad():
        assert not torch.allclose(masked(a)[0][0, 7], masked(b)[0][0, 7])
        left_a = torch.tensor([gpt.encode("the cat sat")])
        left_b = torch.tensor([gpt.encode("the cat sit")])
        assert torch.allclose(gpt(left_a)[0][0, 7], gpt(left_b)[0][0, 7])


def test_attention_falls_with_distance_from_the_first_step():
    """The distance bias makes an untrained masked model's blank depend far more on its neighbours than on
    characters 20 places away (without it, nothing tells positions apart but a learned embedding)."""
    model = tiny()
    base = "abcdefghijklmnopqrstuvwxyzabcdef"
    blank = model.encode(base[:10] + "_" + base[11:])

    def change_at(position):
        ids = list(blank)
        ids[position] = (ids[position] + 5) % len(VOCAB)
        with torch.no_grad():
            return (model(torch.tensor([ids]))[0][0, 10] - model(torch.tensor([blank]))[0][0, 10]).abs().sum()

    assert change_at(11) > 3 * change_at(31)
    gpt_like = MaskedCharLM(MaskedCharLMConfig(vocab=VOCAB, block_size=32, n_layer=1, n_head=2, n_embd=16))
    gpt_like.blocks[0].attention.causal = True  # with a causal mask the bias keeps the future hidden
    with torch.no_grad():
        a = gpt_like(torch.tensor([model.encode("abc_efg")]))[0][0, 3]
        b = gpt_like(torch.tensor([model.encode("abc_xyz")]))[0][0, 3]
    assert torch.allclose(a, b)


def test_encoding_blanks_and_bad_vocabularies():
    model = tiny()
    assert model.encode("a_b") == [VOCAB.index("a"), model.mask_id, VOCAB.index("b")]
    assert model.decode(model.encode("a_b")) == "a_b"
    with pytest.raises(ValueError, match="not in the model's vocabulary: 'Z'"):
        model.encode("aZ")
    with pytest.raises(ValueError, match="cannot be in the vocabulary"):
        MaskedCharLM(MaskedCharLMConfig(vocab="ab" + MASK))
    logits, _ = model(torch.tensor([model.encode("ab_")]))
    assert logits.shape == (1, 3, len(VOCAB))  # the output covers real characters only, never the mask


def test_training_lowers_the_masked_loss_and_resumes_exactly(tmp_path):
    text = "the quick brown fox jumps over the lazy dog\n" * 60
    ids = torch.tensor([VOCAB.index(c) for c in text])
    config = MaskedCharLMConfig(vocab=VOCAB, block_size=32, n_layer=2, n_head=2, n_embd=32, mean_span=1.0)

    def trainer(steps):
        return MaskedLMTrainer(config, CharGPTTrainConfig(steps=steps, batch_size=16, lr=3e-3, warmup_steps=5), ids)

    before = evaluate_masked(trainer(1).export(), ids, 1.0, max_windows=40)["loss"]
    whole = trainer(120)
    list(whole.run())
    after = evaluate_masked(whole.export(), ids, 1.0, max_windows=40)
    assert after["loss"] < before - 1.0 and after["accuracy"] > 0.4
    first = trainer(120)
    for event in first.run():
        if event.step == 60:
            break
    first.save_state(tmp_path / "state")
    second = trainer(120)
    second.load_state(tmp_path / "state")
    assert second.step == 60
    list(second.run())
    for (name, a), b in zip(whole.export().state_dict().items(), second.export().state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_evaluation_is_repeatable_and_the_comparison_needs_one_vocabulary():
    model = tiny()
    ids = torch.randint(0, len(VOCAB), (2000,), generator=torch.Generator().manual_seed(0))
    first, again = evaluate_masked(model, ids, 2.5), evaluate_masked(model, ids, 2.5)
    assert first == again and 0 <= first["accuracy"] <= 1 and first["hidden"] > 0
    gpt = CharGPT(CharGPTConfig(vocab=VOCAB, block_size=32, n_layer=1, n_head=2, n_embd=16))
    versus = both_sides_against_left(model, gpt, ids)
    assert 0 <= versus["both_sides_accuracy"] <= 1 and versus["hidden"] > 0
    other = CharGPT(CharGPTConfig(vocab=VOCAB[:-1], block_size=32, n_layer=1, n_head=2, n_embd=16))
    with pytest.raises(ValueError, match="same vocabulary"):
        both_sides_against_left(model, other, ids)
