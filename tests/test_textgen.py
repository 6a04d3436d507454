import math

import pytest
import torch

from genmodels.textgen import SamplingSettings, choose, next_token_distribution, penalize_repetition

LOGITS = torch.log(torch.tensor([0.5, 0.25, 0.15, 0.1], dtype=torch.float64))


def test_plain_sampling_keeps_the_model_distribution():
    before, after = next_token_distribution(LOGITS, SamplingSettings())
    assert torch.allclose(before, torch.tensor([0.5, 0.25, 0.15, 0.1], dtype=torch.float64))
    assert torch.allclose(after, before)


def test_temperature_reshapes_as_p_to_the_one_over_t():
    _, after = next_token_distribution(LOGITS, SamplingSettings(temperature=0.5))
    squared = torch.tensor([0.25, 0.0625, 0.0225, 0.01], dtype=torch.float64)
    assert torch.allclose(after, squared / squared.sum())
    _, flat = next_token_distribution(LOGITS, SamplingSettings(temperature=2.0))
    assert flat.max() < 0.5 and flat.min() > 0.1


def test_greedy_is_one_hot_on_the_argmax():
    _, after = next_token_distribution(LOGITS, SamplingSettings(temperature=0.0))
    assert after.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_top_k_keeps_k_and_renormalises():
    _, after = next_token_distribution(LOGITS, SamplingSettings(top_k=2))
    assert torch.allclose(after, torch.tensor([2 / 3, 1 / 3, 0.0, 0.0], dtype=torch.float64))


def test_top_p_keeps_the_smallest_prefix_reaching_p():
    _, after = next_token_distribution(LOGITS, SamplingSettings(top_p=0.7))  # 0.5 + 0.25 >= 0.7
    assert torch.allclose(after, torch.tensor([2 / 3, 1 / 3, 0.0, 0.0], dtype=torch.float64))
    _, after = next_token_distribution(LOGITS, SamplingSettings(top_p=0.75))  # exactly reached by two
    assert torch.allclose(after, torch.tensor([2 / 3, 1 / 3, 0.0, 0.0], dtype=torch.float64))
    _, after = next_token_distribution(LOGITS, SamplingSettings(top_p=0.1))  # the top token always stays
    assert after.tolist() == [1.0, 0.0, 0.0, 0.0]
    shuffled = LOGITS[[2, 0, 3, 1]]
    _, after = next_token_distribution(shuffled, SamplingSettings(top_p=0.7))
    assert torch.allclose(after, torch.tensor([0.0, 2 / 3, 0.0, 1 / 3], dtype=torch.float64))


def test_repetition_penalty_hand_computed():
    logits = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    penalized = penalize_repetition(logits, [0, 1, 1], 2.0)
    assert penalized.tolist() == [1.0, -2.0, 0.5]
    assert logits.tolist() == [2.0, -1.0, 0.5], "the input is not modified"


def test_settings_are_validated():
    for bad in (
        {"temperature": float("nan")},
        {"temperature": 2.5},
        {"temperature": -0.1},
        {"top_k": -1},
        {"top_p": 0.0},
        {"top_p": 1.5},
        {"repetition_penalty": 0.5},
        {"repetition_penalty": math.inf},
    ):
        with pytest.raises(ValueError):
            SamplingSettings(**bad)


def test_choose_is_reproducible_per_generator():
    _, after = next_token_distribution(LOGITS, SamplingSettings())
    first = [choose(after, torch.Generator().manual_seed(5)) for _ in range(3)]
    assert len(set(first)) == 1
    draws = [choose(after, generator) for generator in [torch.Generator().manual_seed(1)] for _ in range(4000)]
    frequency = torch.bincount(torch.tensor(draws), minlength=4).double() / len(draws)
    assert torch.allclose(frequency, after, atol=0.03)
