"""Drive every VAE endpoint of a real server through gradio_client, including bad uploads and values."""

import json

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from genmodels.checkpoints import CHECKPOINTS_DIR, read_card
from genmodels.data import mnist_splits
from genmodels.evaluate import shipped_evaluation
from tests.conftest import SHARED_DATA
from tests.integration.test_gan_api import call_raw


@pytest.fixture(scope="module")
def held_out():
    return mnist_splits(SHARED_DATA)[1]


def read(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(float).flatten(), b.astype(float).flatten())[0, 1])


@pytest.fixture(scope="module")
def inputs(client):
    a, _ = client.predict(3, api_name="/vae_digit_a")
    b, _ = client.predict(10, api_name="/vae_digit_b")
    return a, b


def test_every_action_has_a_named_endpoint(client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    expected = {"/vae_digit_a", "/vae_sketch_a", "/vae_upload_a", "/vae_digit_b", "/vae_sketch_b", "/vae_upload_b"}
    expected |= {"/vae_encode", "/vae_interpolate", "/vae_latent_map", "/vae_decode_point", "/vae_explore"}
    expected |= {"/vae_refine"}
    assert expected | {"/vae_prior", "/vae_model_info"} <= endpoints


def test_held_out_digit_is_what_the_model_sees(client, inputs, held_out):
    picture = read(inputs[0])
    assert picture.shape == (28, 28)
    assert np.array_equal(picture, held_out.images[3].numpy())


def test_upload_is_normalised_like_mnist(client, held_out, tmp_path):
    digit = held_out.images[5].numpy()
    canvas = np.full((400, 700), 255, np.uint8)  # dark ink on white, large and off-centre
    canvas[10 : 10 + 28 * 6, 450 : 450 + 28 * 6] = 255 - np.kron(digit, np.ones((6, 6), np.uint8))
    Image.fromarray(canvas).save(tmp_path / "photo.png")
    path, note = client.predict(handle_file(str(tmp_path / "photo.png")), api_name="/vae_upload_a")
    assert "your upload" in note
    best = max(correlation(np.roll(read(path), (dy, dx), (0, 1)), digit) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    assert best > 0.95


def test_unusual_image_formats_are_accepted(client, held_out, tmp_path):
    digit = held_out.images[7].numpy()
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit
    variants = {
        "alpha.png": Image.fromarray(rgba, "RGBA"),
        "palette.png": Image.fromarray(255 - digit).convert("P"),
        "sixteen.png": Image.fromarray(digit.astype(np.uint16) * 257),
    }
    for name, image in variants.items():
        image.save(tmp_path / name)
    frames = [Image.fromarray(digit), Image.fromarray(255 - digit)]
    frames[0].save(tmp_path / "animated.gif", save_all=True, append_images=frames[1:])
    for name in [*variants, "animated.gif"]:
        path, _ = client.predict(handle_file(str(tmp_path / name)), api_name="/vae_upload_b")
        assert correlation(read(path), digit) > 0.9, name


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("notes.png", lambda p: p.write_text("not an image"), "not an image"),
        ("blank.png", lambda p: Image.new("L", (64, 64), 255).save(p), "blank"),
        ("huge.png", lambda p: Image.new("1", (10_000, 10_000)).save(p), "megapixels"),
        ("big.png", lambda p: p.write_bytes(b"\x89PNG" + b"\x00" * (11 * 2**20)), "maximum file size"),
    ],
)
def test_bad_uploads_get_clear_errors(client, tmp_path, name, make, message):
    make(tmp_path / name)
    # Gradio's own limit (max_file_size) refuses big files before they are sent; the app's checks do the rest.
    with pytest.raises((AppError, ValueError), match=message):
        client.predict(handle_file(str(tmp_path / name)), api_name="/vae_upload_a")


def test_encode_gives_reconstruction_and_code(client, inputs):
    reconstruction, code = client.predict("vae-16d", handle_file(inputs[0]), api_name="/vae_encode")
    assert read(reconstruction).shape == (28 * 6, 28 * 6)
    assert len(json.loads(code)) == 16
    _, code = client.predict("vae-2d", handle_file(inputs[0]), api_name="/vae_encode")
    assert len(json.loads(code)) == 2


def test_the_pixel_head_model_reconstructs_its_input_and_says_how_it_draws(client, inputs):
    """vae-16d-pixel draws its pictures pixel by pixel (each pixel after the ones above and to its left): through a
    real server its reconstruction of digit A is still digit A, and its model card in the tab says how it draws."""
    reconstruction, code = client.predict("vae-16d-pixel", handle_file(inputs[0]), api_name="/vae_encode")
    assert len(json.loads(code)) == 16
    assert correlation(read(reconstruction)[::6, ::6], read(inputs[0])) > 0.9
    info = client.predict("vae-16d-pixel", api_name="/vae_model_info")
    assert "pixel head" in info and "3×3" in info
    assert "pixel head" not in client.predict("vae-16d", api_name="/vae_model_info")


def test_refining_a_digits_code_shows_its_amortization_gap(client, inputs):
    """Through a real server: input A, its reconstruction from the encoder's code and from the refined code, side
    by side, and the digit's negative ELBO before and after, the refined one lower."""
    import re

    picture, info = client.predict("vae-16d", handle_file(inputs[0]), api_name="/vae_refine")
    assert read(picture).shape == (28 * 6 + 4, 3 * (28 * 6 + 2) + 2)  # three tiles, scaled 6x, 2-pixel gaps
    before, after, gap = (float(v) for v in re.findall(r"\*\*([\d.]+)\*\*", info))
    assert before > after and gap == pytest.approx(before - after, abs=0.11) and "amortization gap" in info
    with pytest.raises(AppError, match="Prepare input A"):
        client.predict("vae-16d", None, api_name="/vae_refine")
    with pytest.raises(AppError, match="Unknown VAE model"):
        client.predict("gan-mnist", handle_file(inputs[0]), api_name="/vae_refine")


def test_interpolation_strip_gif_and_crossfade(client, inputs):
    strip, gif, fade, info = client.predict(
        "vae-16d",
        handle_file(inputs[0]),
        handle_file(inputs[1]),
        6,
        "spherical (slerp)",
        True,
        api_name="/vae_interpolate",
    )
    assert read(strip).shape == (28 * 2 + 4, 6 * 58 + 2)
    assert read(fade).shape == read(strip).shape
    with Image.open(gif) as animation:
        assert animation.n_frames == 6 + 4
    reconstruction, _ = client.predict("vae-16d", handle_file(inputs[0]), api_name="/vae_encode")
    first_tile = read(strip)[2:58:2, 2:58:2].astype(int)
    assert np.abs(first_tile - read(reconstruction)[::6, ::6].astype(int)).max() <= 2, "the walk starts at A's code"
    _, _, fade, _ = client.predict(
        "vae-16d",
        handle_file(inputs[0]),
        handle_file(inputs[1]),
        6,
        "linear (lerp)",
        False,
        api_name="/vae_interpolate",
    )
    assert fade is None
    assert "6 steps" in info


def test_latent_map_and_decoding_a_point(client, inputs):
    picture, info = client.predict(
        "vae-2d", handle_file(inputs[0]), handle_file(inputs[1]), 10, api_name="/vae_latent_map"
    )
    assert read(picture).shape == (10 * 56, 10 * 56)
    assert "A = [" in info and "B = [" in info
    with pytest.raises(AppError, match="2-D latent space"):
        client.predict("vae-16d", handle_file(inputs[0]), handle_file(inputs[1]), 10, api_name="/vae_latent_map")
    near, _ = client.predict("vae-2d", 0.0, 0.0, api_name="/vae_decode_point")
    far, _ = client.predict("vae-2d", 2.5, -2.5, api_name="/vae_decode_point")
    assert not np.array_equal(read(near), read(far))


def test_explore_and_prior(client, inputs):
    still, _ = client.predict("vae-16d", handle_file(inputs[0]), 0, 0, 0, 0, 0, 0, api_name="/vae_explore")
    moved, info = client.predict("vae-16d", handle_file(inputs[0]), 2.5, 0, 0, 0, 0, 0, api_name="/vae_explore")
    assert not np.array_equal(read(still), read(moved)) and "z = [" in info
    first, _ = client.predict("vae-16d", 4, 9, api_name="/vae_prior")
    again, _ = client.predict("vae-16d", 4, 9, api_name="/vae_prior")
    assert np.array_equal(read(first), read(again))
    info = client.predict("vae-2d", api_name="/vae_model_info")
    floor = shipped_evaluation()["real digits"]["pixel_entropy_nats"]
    elbo = read_card(CHECKPOINTS_DIR / "vae-2d")["genlab_metrics"]["negative_elbo_nats"]
    assert "nats per image" in info and f"**{floor:.1f}**" in info and f"**{elbo - floor:.1f}** nats above" in info
    card = read_card(CHECKPOINTS_DIR / "vae-16d")["genlab_metrics"]
    gap = card["negative_elbo_nats"] - card["negative_elbo_refined_nats"]
    info = client.predict("vae-16d", api_name="/vae_model_info")
    assert f"**{card['negative_elbo_refined_nats']:.1f}**" in info and f"leaves {gap:.1f} nats" in info


def test_bad_values(server, client, inputs):
    _, _, _, info = client.predict(
        "vae-16d",
        handle_file(inputs[0]),
        handle_file(inputs[1]),
        10**6,
        "linear (lerp)",
        False,
        api_name="/vae_interpolate",
    )
    assert "using 64" in info
    with pytest.raises(AppError, match="Prepare input A"):
        client.predict("vae-16d", None, handle_file(inputs[1]), 4, "linear (lerp)", False, api_name="/vae_interpolate")
    with pytest.raises(AppError, match="Unknown VAE model"):
        client.predict("gan-mnist", 3, 4, api_name="/vae_prior")
    with pytest.raises(AppError, match="must be a number"):
        client.predict("abc", api_name="/vae_digit_a")
    stream = call_raw(server, "vae_decode_point", '{"data": ["vae-2d", NaN, 0]}')
    assert "event: error" in stream and "finite number" in stream
    stream = call_raw(server, "vae_explore", '{"data": ["vae-16d", null, Infinity, 0, 0, 0, 0, 0]}')
    assert "event: error" in stream
