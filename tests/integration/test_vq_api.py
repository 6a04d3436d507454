"""The VAE tab's VQ-VAE section through a real server (issue 11): encode, edit a cell, usage, prior samples."""

import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from genmodels.vq_pipeline import parse_codes

MODEL = "vqvae-mnist"


def test_the_endpoints_are_named(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/vq_encode", "/vq_edit", "/vq_decode", "/vq_usage", "/vq_sample", "/vq_model_info"} <= set(endpoints)


def test_encode_then_change_one_code(client):
    _, picture, text, info = client.predict(MODEL, 3, api_name="/vq_encode")
    codes = parse_codes(text, 128)
    assert np.asarray(Image.open(picture)).shape[:2] == (224, 224)
    assert "Held-out digit #3" in info and "became 49 codes" in info
    new = (int(codes[3, 3]) + 1) % 128
    edited_picture, edited_text, edit_info = client.predict(MODEL, text, 3, 3, new, api_name="/vq_edit")
    edited = parse_codes(edited_text, 128)
    assert int(edited[3, 3]) == new and int((edited != codes).sum()) == 1
    assert f"code {int(codes[3, 3])} → {new}" in edit_info
    before = np.asarray(Image.open(picture).convert("L"), dtype=int)
    after = np.asarray(Image.open(edited_picture).convert("L"), dtype=int)
    assert np.abs(before - after).sum() > 0
    _, same_text, _ = client.predict(MODEL, edited_text, api_name="/vq_decode")
    assert parse_codes(same_text, 128).tolist() == edited.tolist()


def test_usage_shows_every_code_and_the_dead_ones(client):
    table, text = client.predict(MODEL, api_name="/vq_usage")
    counts = [row[1] for row in table["data"]]
    assert len(counts) == 128 and sum(counts) == 49_000
    assert f"**{sum(c > 0 for c in counts)}** of 128 codes are used" in text


def test_prior_samples_are_seeded(client):
    first = client.predict(MODEL, 5, 8, "0-9 in turn", 1.0, 0, api_name="/vq_sample")
    again = client.predict(MODEL, 5, 8, "0-9 in turn", 1.0, 0, api_name="/vq_sample")
    assert first[1] == again[1] and "8 digits written by the prior" in first[2]
    other = client.predict(MODEL, 6, 8, "0-9 in turn", 1.0, 0, api_name="/vq_sample")
    assert other[1] != first[1]


@pytest.mark.parametrize(
    "endpoint, args, message",
    [
        ("/vq_decode", [MODEL, "1 2 3"], "needs 7 rows of 7 numbers"),
        ("/vq_decode", [MODEL, "500 " * 49], "codes must be 0 to 127"),
        ("/vq_edit", [MODEL, "0 " * 49, "a", 1, 1], "Row must be a number"),
        ("/vq_sample", [MODEL, 1, 4, "eleven", 1.0, 0], "Digit must be one of"),
        ("/vq_encode", ["vae-16d", 3], "Unknown VQ-VAE model"),
    ],
)
def test_bad_input_gets_a_clean_error(client, endpoint, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=endpoint)


def test_out_of_range_values_are_clamped_with_a_notice(client):
    _, _, info = client.predict(MODEL, "0 " * 49, 9, -2, 1000, api_name="/vq_edit")
    assert "Row 9 is outside 0 to 6; using 6." in info and "Code 1,000 is outside 0 to 127; using 127." in info
    _, _, info = client.predict(MODEL, 1, 500, "3", 99, 9999, api_name="/vq_sample")
    assert "Samples 500 is outside 1 to 64" in info and "Temperature 99 is outside" in info
