"""Output files the tabs return: unique bytes per request, grey pictures stored as one channel."""

import numpy as np
from PIL import Image

from demos.common import picture_file


def test_grey_pictures_are_saved_as_one_channel_and_colour_ones_keep_theirs():
    grey = np.repeat(np.arange(64, dtype=np.uint8).reshape(8, 8, 1), 3, axis=2)
    colour = grey.copy()
    colour[0, 0] = (255, 0, 0)
    with Image.open(picture_file(grey)) as saved:
        assert saved.mode == "L" and np.array_equal(np.asarray(saved), grey[..., 0])
    with Image.open(picture_file(colour)) as saved:
        assert saved.mode == "RGB" and np.array_equal(np.asarray(saved), colour)


def test_identical_pictures_get_different_files_and_bytes():
    picture = np.zeros((4, 4, 3), np.uint8)
    first, second = picture_file(picture), picture_file(picture)
    assert first != second
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() != b.read()
