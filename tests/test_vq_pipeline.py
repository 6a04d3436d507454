"""The VQ-VAE section's pipeline (issue 11): codes as text and back, editing a cell, usage, and prior samples."""

import pytest
import torch

from genmodels.vq_pipeline import (
    codebook_usage,
    decode_codes,
    encode_digit,
    format_codes,
    parse_codes,
    replace_code,
    sample_digits,
)
from genmodels.vqvae import VQVAE, VQVAEConfig

SMALL = VQVAEConfig(channels=8, codebook_size=16, code_dim=4, prior_layers=1, prior_width=16, prior_heads=2)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return VQVAE(SMALL).eval()


def test_codes_survive_text_and_back():
    codes = torch.arange(49).view(7, 7) % 16
    text = format_codes(codes)
    assert len(text.splitlines()) == 7 and all(len(line.split()) == 7 for line in text.splitlines())
    assert torch.equal(parse_codes(text, 16), codes)
    assert torch.equal(parse_codes(str(codes.tolist()), 16), codes)  # a Python list pasted in works too


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 2 3", "needs 7 rows of 7 numbers \\(49\\), not 3"),
        ("x " * 49, "only whole numbers"),
        ("1.5 " * 49, "only whole numbers"),
        ("16 " * 49, "codes must be 0 to 15"),
        ("-1 " * 49, "codes must be 0 to 15"),
        (None, "must be text"),
    ],
)
def test_bad_code_grids_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_codes(text, 16)


def test_editing_one_cell_changes_that_cell_only(model):
    codes, reconstruction = encode_digit(model, torch.zeros(1, 28, 28) - 1)
    assert codes.shape == (7, 7) and reconstruction.shape == (1, 28, 28)
    assert torch.allclose(decode_codes(model, codes), reconstruction)
    new = (int(codes[2, 3]) + 1) % 16
    changed = replace_code(codes, 2, 3, new, 16)
    assert int(changed[2, 3]) == new and int((changed != codes).sum()) == 1
    assert not torch.equal(decode_codes(model, changed), reconstruction)
    for args, message in [((7, 0, 1), "row"), ((0, -1, 1), "column"), ((0, 0, 16), "code must be 0 to 15")]:
        with pytest.raises(ValueError, match=message):
            replace_code(codes, *args, 16)


def test_usage_counts_every_cell(model):
    images = torch.rand(20, 1, 28, 28) * 2 - 1
    counts = codebook_usage(model, images)
    assert counts.shape == (16,) and int(counts.sum()) == 20 * 49


def test_prior_samples_are_seeded_and_checked(model):
    first = sample_digits(model, 4, 6, None, 1.0, 0)
    again = sample_digits(model, 4, 6, None, 1.0, 0)
    other = sample_digits(model, 5, 6, None, 1.0, 0)
    assert first[0].shape == (6, 1, 28, 28) and first[1].shape == (6, 7, 7) and first[2].shape == (6,)
    assert torch.equal(first[1], again[1]) and not torch.equal(first[1], other[1])
    greedy = sample_digits(model, 4, 3, 5, 1.0, 1)[1]  # top-k 1: the likeliest code at every step
    assert torch.equal(greedy, sample_digits(model, 9, 3, 5, 1.0, 1)[1])
    for kwargs, message in [
        ({"count": 0}, "samples must be 1 to 64"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 17}, "top-k must be 0"),
        ({"digit": 12}, "digit must be 0 to 9"),
        ({"seed": -3}, "seed"),
    ]:
        settings = {"seed": 1, "count": 2, "digit": None, "temperature": 1.0, "top_k": 0} | kwargs
        with pytest.raises(ValueError, match=message):
            sample_digits(model, **settings)
