"""Drive every GAN endpoint of a real server through gradio_client, including bad inputs."""

import json
import time

import httpx
import numpy as np
import pytest
import torch
from gradio_client.exceptions import AppError
from PIL import Image

from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
from genmodels.classifier import MNISTClassifier

MIXED = "0-9 in turn"
TILE = 28 * 3 + 2  # tiles are upscaled 3x with 2-px gaps


def sample(client, model="gan-mnist", seed=1, size=4, digit=MIXED, psi=1.0, scores=False, offsets=(0, 0, 0, 0, 0)):
    path, info = client.predict(model, seed, size, digit, psi, scores, *offsets, api_name="/gan_sample")
    return np.asarray(Image.open(path).convert("L")), info


def tiles(picture: np.ndarray, count: int, columns: int) -> torch.Tensor:
    """Cut a grid back into (count, 1, 28, 28) images in [-1, 1]."""
    out = []
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = 2 + row * TILE, 2 + column * TILE
        tile = picture[top : top + 84 : 3, left : left + 84 : 3]
        out.append(torch.from_numpy(tile.astype(np.float32)) / 127.5 - 1)
    return torch.stack(out).unsqueeze(1)


def call_raw(server: str, api_name: str, body: str) -> str:
    """POST a raw JSON body (which may hold NaN or Infinity) and return the event stream's text."""
    started = httpx.post(
        f"{server}gradio_api/call/{api_name}", content=body, headers={"Content-Type": "application/json"}
    )
    started.raise_for_status()
    event_id = started.json()["event_id"]
    return httpx.get(f"{server}gradio_api/call/{api_name}/{event_id}", timeout=60).text


def test_every_action_has_a_named_endpoint(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/gan_sample", "/gan_interpolate", "/gan_new_seed", "/gan_model_info"} <= set(endpoints)


def test_same_seed_same_images_other_seed_other_images(client):
    first, info = sample(client, seed=123, size=9)
    again, _ = sample(client, seed=123, size=9)
    other, _ = sample(client, seed=124, size=9)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert "9 samples" in info and "seed 123" in info


def test_grid_sizes_and_prefix(client):
    one, _ = sample(client, seed=5, size=1)
    sixty_four, _ = sample(client, seed=5, size=64)
    assert one.shape == (TILE + 2, TILE + 2)
    assert sixty_four.shape == (8 * TILE + 2, 8 * TILE + 2)
    assert np.array_equal(one[2:86, 2:86], sixty_four[2:86, 2:86]), "sample 0 is the same in every grid size"


def test_conditional_digits_are_the_requested_ones(client):
    classifier = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier")
    picture, _ = sample(client, model="cgan-mnist", seed=9, size=16, digit="7")
    with torch.inference_mode():
        predicted = classifier(tiles(picture, 16, 4)).argmax(1)
    assert (predicted == 7).sum() >= 15, predicted.tolist()


def test_the_self_conditioned_gan_offers_its_30_categories_and_each_draws_one_kind_of_digit(client):
    """`gan-mnist-clusters` never saw a label: its categories are clusters of a VAE's codes. Through the server the
    picker lists all 30, a category past 9 is accepted, one past the last is refused, and a category whose cluster
    is one digit draws that digit (the judge reads the same digit in at least 14 of 16 samples)."""
    update, text = client.predict("gan-mnist-clusters", api_name="/gan_model_info")
    assert update["visible"] is True and "self-conditioned GAN" in text and "30 clusters" in text
    assert [c[1] if isinstance(c, (list, tuple)) else c for c in update["choices"]][-1] == "29"
    classifier = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier")
    drawn = []
    for category in ("4", "18"):  # by the card's judge, 100% fours and 100% twos over 200 samples each
        picture, info = sample(client, model="gan-mnist-clusters", seed=9, size=16, digit=category)
        assert "unconditional" not in info
        with torch.inference_mode():
            predicted = classifier(tiles(picture, 16, 4)).argmax(1)
        assert torch.bincount(predicted).max() >= 14, predicted.tolist()
        drawn.append(int(torch.bincount(predicted).argmax()))
    assert drawn[0] != drawn[1]  # two categories, two different digits
    with pytest.raises(AppError, match="Digit must be one of"):
        sample(client, model="gan-mnist-clusters", digit="30")


def test_unconditional_model_explains_that_it_ignores_the_digit(client):
    _, info = sample(client, model="gan-mnist", digit="3")
    assert "unconditional" in info


def test_truncation_scores_and_directions_change_the_picture(client):
    base, _ = sample(client, seed=2, size=4)
    assert not np.array_equal(base, sample(client, seed=2, size=4, psi=0.3)[0])
    with_scores, info = sample(client, seed=2, size=4, scores=True)
    assert not np.array_equal(base, with_scores) and "discriminator score" in info
    for index in range(5):
        offsets = [0.0] * 5
        offsets[index] = 2.5
        assert not np.array_equal(base, sample(client, seed=2, size=4, offsets=offsets)[0]), index


def test_interpolation_strip_and_gif(client):
    strip_path, gif_path, info = client.predict(
        "gan-mnist", 11, 12, 8, "linear (lerp)", 1.0, MIXED, api_name="/gan_interpolate"
    )
    strip = np.asarray(Image.open(strip_path).convert("L"))
    assert strip.shape == (28 * 2 + 4, 8 * (28 * 2 + 2) + 2)
    with Image.open(gif_path) as gif:
        assert gif.n_frames == 8 + 6  # there and back
        first_frame = np.asarray(gif.convert("L"))[::4, ::4]
    seed_a, _ = sample(client, seed=11, size=1)
    assert np.abs(first_frame.astype(int) - seed_a[2:86:3, 2:86:3].astype(int)).max() <= 1
    assert "8 frames" in info


def test_new_seed_and_model_info(client):
    seeds = {client.predict(api_name="/gan_new_seed") for _ in range(3)}
    assert len(seeds) > 1 and all(0 <= seed < 2**31 for seed in seeds)
    update, text = client.predict("cgan-mnist", api_name="/gan_model_info")
    assert update["visible"] is True and "Inception score" in text and "class accuracy" in text
    assert "Per-digit accuracy: 0:" in text
    update, text = client.predict("gan-mnist", api_name="/gan_model_info")
    assert update["visible"] is False and "Fréchet distance" in text


@pytest.mark.parametrize(
    ("position", "value", "message"),
    [
        (0, "no-such-model", "Unknown GAN model"),
        (0, 42, "Unknown GAN model"),
        (1, "abc", "Seed must be a number"),
        (2, [1, 2], "Grid size must be a number"),
        (3, "11", "Digit must be one of"),
        (5, "yes", "must be true or false"),
    ],
)
def test_bad_sample_inputs_get_clear_errors(client, position, value, message):
    args = ["gan-mnist", 1, 4, MIXED, 1.0, False, 0, 0, 0, 0, 0]
    args[position] = value
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/gan_sample")


def test_huge_values_are_clamped_with_a_notice(client):
    started = time.monotonic()
    picture, info = sample(client, seed=10**12, size=10**6, psi=7, offsets=(1e9, 0, 0, 0, 0))
    assert picture.shape == (8 * TILE + 2, 8 * TILE + 2)
    for fragment in ("Grid size", "using 64", "Seed", "Truncation ψ", "Direction 1"):
        assert fragment in info
    _, _, info = client.predict("gan-mnist", 1, 2, 10**6, "spherical (slerp)", 1.0, MIXED, api_name="/gan_interpolate")
    assert "Frames" in info and "using 64" in info
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_through_the_raw_api(server, literal):
    body = f'{{"data": ["gan-mnist", 1, 4, "{MIXED}", {literal}, false, 0, 0, 0, 0, 0]}}'
    stream = call_raw(server, "gan_sample", body)
    assert "event: error" in stream
    assert "finite number" in stream
    body = f'{{"data": ["gan-mnist", 1, 2, {literal}, "linear (lerp)", 1.0, "{MIXED}"]}}'
    assert "finite number" in call_raw(server, "gan_interpolate", body)


def test_server_still_serves_after_bad_inputs(server, client):
    assert httpx.get(server, timeout=5).status_code == 200
    picture, _ = sample(client, seed=3, size=4)
    assert picture.shape == (2 * TILE + 2, 2 * TILE + 2)
    body = json.dumps({"data": ["gan-mnist", 3, 4, MIXED, 1.0, False, 0, 0, 0, 0, 0]})
    assert "event: complete" in call_raw(server, "gan_sample", body)


def test_a_chinese_client_gets_chinese_results_notices_and_errors(server):
    """The server answers in the request's language (Accept-Language here; the page's cookie in a browser)."""
    from gradio_client import Client

    chinese = Client(server, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    _, info = sample(chinese, size=999)
    assert "网格大小 999 超出 1 到 64 的范围；改用 64。" in info and "64 个样本 · 种子 1" in info
    with pytest.raises(AppError, match="未知的 GAN 模型"):
        sample(chinese, model="no-such-model")
    with pytest.raises(AppError, match="随机种子必须是数字"):
        sample(chinese, seed="abc")
    _, english = sample(Client(server, verbose=False), size=999)
    assert "Grid size 999 is outside 1 to 64; using 64." in english  # others stay in English


def test_the_diversity_meter_reads_the_same_grid_and_compares_with_real_digits(client):
    plot, text = client.predict("gan-mnist", 3, 64, MIXED, 1.0, False, 0, 0, 0, 0, 0, api_name="/gan_diversity")
    rows = plot["data"]
    ours = [row[1] for row in rows if row[2] == "these samples"]
    real = [row[1] for row in rows if row[2] == "real digits"]
    assert len(ours) == len(real) == 10 and abs(sum(ours) - 1) < 1e-3 and abs(sum(real) - 1) < 1e-3
    assert "**Diversity meter** (64 samples)" in text and "of real held-out digits'" in text
    _, truncated = client.predict("gan-mnist", 3, 64, MIXED, 0.5, False, 0, 0, 0, 0, 0, api_name="/gan_diversity")

    def score(t):
        return float(t.split("Inception score **")[1].split("**")[0])

    assert score(truncated) < score(text)  # the meter sees truncation narrow the samples
