"""Drive every Diffusion endpoint of a real server through gradio_client, including bad inputs (issue 11)."""

import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from tests.integration.test_gan_api import call_raw

MIXED = "0-9 in turn"
DDIM, DDPM = "DDIM (deterministic)", "DDPM (stochastic)"


def sample(client, seed=1, size=4, digit=MIXED, steps=8, guidance=2.0, sampler=DDIM, frames=5, shown=2, auto=0.0):
    return client.predict(
        "diffusion-mnist",
        seed,
        size,
        digit,
        steps,
        guidance,
        sampler,
        frames,
        shown,
        auto,
        api_name="/diffusion_sample",
    )


def picture(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def test_every_action_has_a_named_endpoint(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    expected = {"/diffusion_sample", "/diffusion_forward", "/diffusion_diversity", "/diffusion_model_info"}
    assert expected | {"/diffusion_new_seed", "/diffusion_experiment"} <= set(endpoints)


def test_a_grid_its_trajectory_and_gif(client):
    grid, strip, gif, info, trajectory = sample(client, seed=21, size=9, steps=6, frames=4, shown=3)
    assert picture(grid).shape == (3 * 86 + 2, 3 * 86 + 2)  # 3x3 tiles of 28x3 pixels and 2-pixel gaps
    # the strip: per sample two rows (state, prediction) of 4 frames at 2x, samples 6 pixels apart
    assert picture(strip).shape == (3 * (2 * 58 + 2) + 2 * 6, 4 * 58 + 2)
    with Image.open(gif) as movie:
        assert movie.n_frames == 6  # every sampler step
    assert "9 samples · seed 21 · 6 DDIM steps · guidance 2" in info
    assert "after 0, 1, 3, 6 of 6 sampler steps" in trajectory


def test_same_seed_same_images_and_ddpm_differs(client):
    first = picture(sample(client, seed=5)[0])
    again = picture(sample(client, seed=5)[0])
    other_seed = picture(sample(client, seed=6)[0])
    stochastic = picture(sample(client, seed=5, sampler=DDPM)[0])
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other_seed) and not np.array_equal(first, stochastic)


def test_the_diversity_meter_reads_the_grid_on_screen(client):
    sample(client, seed=8, size=10)
    table, text = client.predict(
        "diffusion-mnist", 8, 10, MIXED, 8, 2.0, DDIM, 5, 2, 0.0, api_name="/diffusion_diversity"
    )
    shares = [row[1] for row in table["data"] if row[2] == "these samples"]
    assert len(shares) == 10 and abs(sum(shares) - 1) < 1e-3
    assert "**Diversity meter** (10 samples)" in text and "real held-out digits" in text


def test_the_forward_process_of_a_held_out_digit(client):
    path, info = client.predict("diffusion-mnist", 3, 500, 1, api_name="/diffusion_forward")
    assert picture(path).shape[1] == 8 * 86 + 2  # the ladder's 8 steps (500 is one of them)
    assert "Held-out digit #3" in info and "At t = 500" in info and "49.2% of the variance is the digit" in info
    path, info = client.predict("diffusion-mnist", 3, 123, 1, api_name="/diffusion_forward")
    assert picture(path).shape[1] == 9 * 86 + 2 and "At t = 123" in info


def test_out_of_range_settings_are_clamped_with_a_notice(client):
    grid, _, _, info, _ = sample(client, size=500, steps=2, guidance=99, frames=0, shown=99)
    assert "Grid size 500 is outside 1 to 64; using 64." in info
    assert "Guidance scale 99 is outside 0 to 10; using 10." in info
    assert "Frames 0 is outside 2 to 20; using 2." in info
    assert picture(grid).shape == (8 * 86 + 2, 8 * 86 + 2)
    _, _, gif, info, _ = sample(client, size=1, steps=10_000, guidance=0)
    assert "Sampling steps 10,000 is outside 1 to 100; using 100." in info
    with Image.open(gif) as movie:
        assert movie.n_frames == 100
    _, info = client.predict("diffusion-mnist", 5000, 1000, 1, api_name="/diffusion_forward")
    assert "Held-out digit 5,000 is outside 0 to 999" in info and "Step t 1,000 is outside 0 to 999" in info


def test_no_class_with_guidance_says_guidance_does_nothing(client):
    info = sample(client, digit="any digit (no class)", guidance=3)[3]
    assert "With no class, guidance has nothing to push towards" in info


@pytest.mark.parametrize(
    "args, message",
    [
        ({"digit": "eleven"}, "Digit must be one of"),
        ({"sampler": "euler"}, "Sampler must be one of"),
        ({"steps": "many"}, "Sampling steps must be a number"),
        ({"seed": None}, "Seed must be a number"),
        ({"guidance": [1, 2]}, "Guidance scale must be a number"),
    ],
)
def test_bad_input_gets_a_clean_error(client, args, message):
    with pytest.raises(AppError, match=message):
        sample(client, **args)


def test_unknown_model_and_non_finite_values_get_clean_errors(client, server):
    with pytest.raises(AppError, match="Unknown diffusion model"):
        client.predict("gan-mnist", 1, 4, MIXED, 5, 1.0, DDIM, 4, 2, api_name="/diffusion_sample")
    body = '{"data": ["diffusion-mnist", 1, 4, "0-9 in turn", 5, NaN, "DDIM (deterministic)", 4, 2, 0]}'
    text = call_raw(server, "diffusion_sample", body)
    assert "event: error" in text and "Guidance scale must be a finite number" in text


def test_the_forward_process_experiment_through_the_api(client):
    path, _, lines, result, explanation = client.predict("diffusion.forward", 0, api_name="/diffusion_experiment")
    assert picture(path).shape[0] > 4 * 56
    assert "49.2%" in result and "Your prediction, “About half”, was right." in explanation
    values = [row[1] for row in lines["data"]]
    assert values[0] > 0.99 and values == sorted(values, reverse=True)


def test_autoguidance_through_the_api(client, server):
    from genmodels.diffusion import DEFAULT_AUTOGUIDANCE

    plain = sample(client, seed=12, size=10, guidance=0, sampler=DDPM)
    guided = sample(client, seed=12, size=10, guidance=0, sampler=DDPM, auto=1.5)
    assert "autoguidance" not in plain[3] and "guidance 0 · autoguidance 1.5" in guided[3]
    assert not np.array_equal(picture(plain[0]), picture(guided[0]))
    table, text = client.predict(
        "diffusion-mnist", 12, 10, MIXED, 8, 0, DDPM, 5, 2, 1.5, api_name="/diffusion_diversity"
    )
    shares = [row[1] for row in table["data"] if row[2] == "these samples"]
    assert "**Diversity meter** (10 samples)" in text and abs(sum(shares) - 1) < 1e-3
    # left out, it takes the slider's starting value: the shipped model starts autoguided
    default = client.predict("diffusion-mnist", 12, 10, MIXED, 8, 0, DDPM, 5, 2, api_name="/diffusion_sample")
    assert f"autoguidance {DEFAULT_AUTOGUIDANCE:g}" in default[3]
    info = sample(client, size=1, steps=2, auto=99)[3]
    assert "Autoguidance 99 is outside 0 to 10; using 10." in info
    with pytest.raises(AppError, match="Autoguidance must be a number"):
        sample(client, auto="lots")
    body = '{"data": ["diffusion-mnist", 1, 4, "0-9 in turn", 5, 0, "DDIM (deterministic)", 4, 2, NaN]}'
    text = call_raw(server, "diffusion_sample", body)
    assert "event: error" in text and "Autoguidance must be a finite number" in text
