"""The Diffusion tab's pipeline (issue 11): seeded grids with their trajectory, frames, and the forward process."""

import math

import pytest
import torch

from genmodels.diffusion import DiffusionConfig, DiffusionModel
from genmodels.diffusion_pipeline import (
    MAX_GRID,
    MAX_STEPS,
    denoise,
    forward_process,
    frame_indices,
    labels_for,
    signal_share,
)

TINY = DiffusionConfig(channels=8)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    model = DiffusionModel(TINY)
    for parameter in model.parameters():  # the last layer starts at zero: give it weights so eps is not 0
        parameter.data.add_(0.05 * torch.randn_like(parameter))
    return model.eval()


def test_a_grid_keeps_every_step_of_its_first_samples(model):
    result = denoise(model, seed=5, count=20, digit=None, steps=6, guidance=2.0, sampler="ddim")
    assert result.images.shape == (20, 1, 28, 28) and float(result.images.abs().max()) <= 1.0
    assert result.labels.tolist() == [i % 10 for i in range(20)]
    assert result.states.shape == (6, 16, 1, 28, 28) and result.predictions.shape == (6, 16, 1, 28, 28)
    assert result.times[-1] == 0 and result.times == sorted(result.times, reverse=True)
    assert torch.allclose(result.states[-1], result.images[:16].clamp(-1, 1), atol=1e-5)
    # the strip's first frame is the starting noise, the same as the sampler drew
    assert result.start.shape == (16, 1, 28, 28) and abs(float(result.start.std()) - 1) < 0.05


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_same_seed_same_images_and_another_seed_others(model, sampler):
    first = denoise(model, 11, 6, 3, 4, 1.0, sampler).images
    again = denoise(model, 11, 6, 3, 4, 1.0, sampler).images
    other = denoise(model, 12, 6, 3, 4, 1.0, sampler).images
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_a_small_ddim_grid_is_the_start_of_the_large_one(model):
    small = denoise(model, 9, 4, None, 5, 2.0, "ddim").images
    large = denoise(model, 9, 32, None, 5, 2.0, "ddim").images
    assert torch.allclose(small, large[:4], atol=1e-4)


def test_digits_in_turn_one_digit_or_no_class(model):
    assert labels_for(model, None, 12).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert labels_for(model, 7, 3).tolist() == [7, 7, 7]
    assert labels_for(model, model.null_class, 2).tolist() == [10, 10]


def test_frames_are_evenly_spaced_and_end_at_the_last_step():
    assert frame_indices(20, 5) == [0, 5, 10, 14, 19]
    assert frame_indices(3, 8) == [0, 1, 2]  # never more frames than steps
    assert frame_indices(50, 1) == [49]


def test_the_forward_process_fades_the_digit_by_the_schedule(model):
    digit = torch.zeros(1, 28, 28) - 1
    digit[:, 8:20, 12:16] = 1  # a bar
    result = forward_process(model, digit, [0, 500, 999], seed=3)
    assert result.noisy.shape == (3, 1, 28, 28) and result.predictions.shape == (3, 1, 28, 28)
    assert result.signal[0] > 0.99 and abs(result.signal[1] ** 2 - 0.49) < 0.02 and result.signal[2] < 0.01
    assert torch.allclose(result.noisy[0], digit.unsqueeze(0)[0], atol=0.05)  # t = 0: the digit itself
    assert signal_share(model, 250) > signal_share(model, 750)
    again = forward_process(model, digit, [0, 500, 999], seed=3)
    assert torch.equal(result.noisy, again.noisy)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": -1}, "seed must be a whole number"),
        ({"count": 0}, f"grid size must be 1 to {MAX_GRID}"),
        ({"count": MAX_GRID + 1}, "grid size must be"),
        ({"steps": 0}, f"sampling steps must be 1 to {MAX_STEPS}"),
        ({"steps": MAX_STEPS + 1}, "sampling steps must be"),
        ({"guidance": math.nan}, "guidance must be between"),
        ({"guidance": -1.0}, "guidance must be between"),
        ({"sampler": "euler"}, "sampler must be ddim or ddpm"),
        ({"digit": 11}, "digit must be 0 to 9"),
        ({"digit": "3"}, "digit must be 0 to 9"),
    ],
)
def test_bad_settings_are_refused_with_a_message(model, kwargs, message):
    settings = {"seed": 1, "count": 2, "digit": None, "steps": 2, "guidance": 1.0, "sampler": "ddim", **kwargs}
    with pytest.raises(ValueError, match=message):
        denoise(model, **settings)


def test_bad_forward_process_inputs_are_refused(model):
    digit = torch.zeros(1, 28, 28)
    with pytest.raises(ValueError, match="steps t must be 0 to 999"):
        forward_process(model, digit, [1000], seed=1)
    with pytest.raises(ValueError, match="steps t must be"):
        forward_process(model, digit, [], seed=1)
    with pytest.raises(ValueError, match=r"the digit must be in \[-1, 1\]"):
        forward_process(model, digit + 5, [10], seed=1)
    with pytest.raises(ValueError, match="frames must be 1 to"):
        frame_indices(10, 0)
