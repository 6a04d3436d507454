import numpy as np
import torch
from PIL import Image

from genmodels.imaging import grid, score_colors, strip, to_uint8, write_gif


def test_to_uint8_maps_range():
    images = torch.tensor([-1.0, 0.0, 1.0, 5.0]).view(1, 1, 1, 4)
    assert to_uint8(images).tolist() == [[[0, 128, 255, 255]]]


def test_grid_layout_and_scale():
    images = -torch.ones(5, 1, 28, 28)
    images[1] = 1.0
    picture = grid(images, scale=2, padding=2)
    assert picture.shape == (2 * 58 + 2, 3 * 58 + 2, 3)  # 2 rows x 3 columns of 56-px tiles, 2-px gaps
    assert picture[2, 2].tolist() == [0, 0, 0] and picture[2, 2 + 58].tolist() == [255, 255, 255]
    assert strip(images, scale=1).shape == (32, 2 + 5 * 30, 3)


def test_captions_are_drawn():
    images = -torch.ones(2, 1, 28, 28)
    plain = grid(images)
    captioned = grid(images, captions=["+1.0", "-2.0"], caption_colors=score_colors([1.0, -2.0]))
    assert plain.shape == captioned.shape and not np.array_equal(plain, captioned)
    real, fake = score_colors([1.5, -1.5])
    assert real[2] > real[0] and fake[0] > fake[2]  # blue for real, orange for fake
    # Still far apart as people with each kind of colour blindness see them (Viénot, Brettel and Mollon 1999).
    simulations = {
        "protanopia": [[0.112, 0.888, 0.0], [0.112, 0.888, 0.0], [0.004, -0.004, 1.0]],
        "deuteranopia": [[0.292, 0.708, 0.0], [0.292, 0.708, 0.0], [-0.022, 0.022, 1.0]],
        "tritanopia": [[1.0, 0.0, 0.0], [0.0, 0.733, 0.267], [0.0, 0.733, 0.267]],
    }
    for kind, matrix in simulations.items():
        seen = [np.array(matrix) @ np.array(color, float) for color in (real, fake)]
        assert np.linalg.norm(seen[0] - seen[1]) > 100, kind


def test_gif_has_all_frames_and_bounces(tmp_path):
    frames = torch.linspace(-1, 1, 4).view(4, 1, 1, 1).expand(4, 1, 28, 28)
    path = write_gif(frames, tmp_path / "walk.gif", scale=1)
    with Image.open(path) as gif:
        assert gif.n_frames == 6  # 4 forward + 2 back
        assert gif.size == (28, 28)


def test_grid_puts_every_tile_in_its_cell_and_leaves_the_rest_background():
    images = torch.rand(7, 1, 5, 4) * 2 - 1
    tiles = to_uint8(images)
    scale, padding, columns = 3, 2, 3
    picture = grid(images, columns=columns, scale=scale, padding=padding)
    cell_h, cell_w = 5 * scale + padding, 4 * scale + padding
    assert picture.shape == (3 * cell_h + padding, columns * cell_w + padding, 3)
    expected = np.full(picture.shape[:2], 40, np.uint8)  # a straightforward reference, tile by tile
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        top, left = padding + row * cell_h, padding + column * cell_w
        expected[top : top + 5 * scale, left : left + 4 * scale] = np.kron(tile, np.ones((scale, scale), np.uint8))
    assert all(np.array_equal(picture[..., channel], expected) for channel in range(3))
