"""The one place where tensors become pictures: uint8 arrays, labelled grids, strips and GIFs."""

import math
import uuid
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw


def to_uint8(images: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """(N, 1, H, W) with values in value_range (GANs: [-1, 1], VAEs: [0, 1]) -> (N, H, W) uint8."""
    low, high = value_range
    scaled = (images.detach().float().cpu().clamp(low, high) - low) * (255.0 / (high - low))
    return scaled.round().to(torch.uint8).squeeze(1).numpy()


def grid(
    images: torch.Tensor,
    columns: int | None = None,
    scale: int = 3,
    padding: int = 2,
    captions: list[str] | None = None,
    caption_colors: list[tuple[int, int, int]] | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> np.ndarray:
    """(N, 1, H, W) in [-1, 1] -> an RGB grid (rows, cols) as uint8 (H', W', 3), tiles upscaled `scale` times.

    Captions, if given, are drawn in the top-left corner of each tile on a coloured box.
    """
    tiles = to_uint8(images, value_range)
    count, height, width = tiles.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    tile_h, tile_w = height * scale, width * scale
    # All tiles at once: cells of (tile + padding below and right), laid out row by row, then a top-left margin.
    cells = np.full((rows * columns, tile_h + padding, tile_w + padding), 40, np.uint8)
    cells[:count, :tile_h, :tile_w] = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    plane = cells.reshape(rows, columns, tile_h + padding, tile_w + padding).transpose(0, 2, 1, 3)
    plane = np.pad(plane.reshape(rows * (tile_h + padding), columns * (tile_w + padding)), ((padding, 0), (padding, 0)))
    plane[:padding], plane[:, :padding] = 40, 40
    canvas = np.repeat(plane[..., None], 3, axis=2)
    if not captions:
        return canvas
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    for index, caption in enumerate(captions[:count]):
        row, column = divmod(index, columns)
        top, left = padding + row * (tile_h + padding), padding + column * (tile_w + padding)
        box = draw.textbbox((left + 2, top + 1), caption)
        color = caption_colors[index] if caption_colors else (30, 30, 160)
        draw.rectangle((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1), fill=color)
        draw.text((left + 2, top + 1), caption, fill=(255, 255, 255))
    return np.asarray(picture)


def strip(images: torch.Tensor, scale: int = 3, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """One row of tiles: (N, 1, H, W) -> (H', W', 3) uint8."""
    return grid(images, columns=len(images), scale=scale, value_range=value_range)


def write_gif(
    images: torch.Tensor,
    path: Path,
    frame_ms: int = 80,
    scale: int = 4,
    bounce: bool = True,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Path:
    """Write frames (N, 1, H, W) as a looping animated GIF (there and back when `bounce`)."""
    tiles = to_uint8(images, value_range)
    frames = [Image.fromarray(tile) for tile in tiles.repeat(scale, axis=1).repeat(scale, axis=2)]
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    # A per-file comment makes every GIF's bytes unique: servers that cache files by content hash then never
    # rewrite one file in place while another client is downloading it.
    comment = f"GenLab {uuid.uuid4().hex}".encode()
    frames[0].save(
        path, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0, optimize=False, comment=comment
    )
    return Path(path)


def score_colors(scores: list[float]) -> list[tuple[int, int, int]]:
    """Blue for scores the discriminator finds real (>= 0), orange for fake (< 0), stronger with confidence.

    Okabe and Ito's blue and orange stay apart for every kind of colour blindness; the captions carry the sign too.
    """
    colors = []
    for score in scores:
        strength = 0.5 + 0.5 * min(abs(score) / 2.0, 1.0)
        hue = (0, 114, 178) if score >= 0 else (230, 159, 0)
        colors.append(tuple(round(c * strength) for c in hue))
    return colors


def mark(picture: np.ndarray, points: list[tuple[float, float, str]], color=(255, 80, 40)) -> np.ndarray:
    """Draw a labelled ring at each (x, y, label) pixel position of an RGB picture."""
    marked = Image.fromarray(picture)
    draw = ImageDraw.Draw(marked)
    for x, y, label in points:
        draw.ellipse((x - 7, y - 7, x + 7, y + 7), outline=color, width=3)
        draw.text((x + 9, y - 14), label, fill=color)
    return np.asarray(marked)


def side_by_side(pictures: list[np.ndarray], gap: int = 16, background: int = 255) -> np.ndarray:
    """RGB pictures (H_i, W_i, 3) placed left to right, top-aligned, `gap` pixels apart: one picture to compare."""
    height = max(p.shape[0] for p in pictures)
    parts = []
    for index, picture in enumerate(pictures):
        padded = np.full((height, picture.shape[1], 3), background, np.uint8)
        padded[: picture.shape[0]] = picture
        parts.append(padded)
        if index < len(pictures) - 1:
            parts.append(np.full((height, gap, 3), background, np.uint8))
    return np.concatenate(parts, axis=1)


def stacked(pictures: list[np.ndarray], gap: int = 12, background: int = 255) -> np.ndarray:
    """RGB pictures placed top to bottom, left-aligned: rows to compare."""
    width = max(p.shape[1] for p in pictures)
    parts = []
    for index, picture in enumerate(pictures):
        padded = np.full((picture.shape[0], width, 3), background, np.uint8)
        padded[:, : picture.shape[1]] = picture
        parts.append(padded)
        if index < len(pictures) - 1:
            parts.append(np.full((gap, width, 3), background, np.uint8))
    return np.concatenate(parts, axis=0)


def ellipses(picture: np.ndarray, shapes: list[tuple[float, float, float, float, str]], color=(213, 94, 0)):
    """Draw an axis-aligned ellipse (x, y, half-width, half-height in pixels) with a dot and a label for each."""
    marked = Image.fromarray(picture)
    draw = ImageDraw.Draw(marked)
    for x, y, half_width, half_height, label in shapes:
        draw.ellipse((x - half_width, y - half_height, x + half_width, y + half_height), outline=color, width=2)
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=color)
        draw.text((x + 5, y - 13), label, fill=color)
    return np.asarray(marked)


def code_grid(
    image: torch.Tensor,
    codes: torch.Tensor,
    scale: int = 8,
    highlight: tuple[int, int] | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> np.ndarray:
    """A digit (1, 28, 28) enlarged `scale` times with its code grid (G, G) drawn over it: cell lines, each cell's
    code index in its corner, and the `highlight` (row, column) cell outlined. Cells are 28 * scale / G pixels, so a
    click at (x, y) is the cell (y // cell, x // cell)."""
    tile = to_uint8(image.reshape(1, 1, *image.shape[-2:]), value_range)[0]
    picture = Image.fromarray(np.repeat(tile.repeat(scale, axis=0).repeat(scale, axis=1)[..., None], 3, axis=2))
    draw = ImageDraw.Draw(picture)
    size = codes.shape[-1]
    cell = picture.width // size
    for index in range(1, size):
        draw.line((index * cell, 0, index * cell, picture.height), fill=(90, 90, 90))
        draw.line((0, index * cell, picture.width, index * cell), fill=(90, 90, 90))
    for row in range(size):
        for column in range(size):
            text = str(int(codes[row, column]))
            box = draw.textbbox((column * cell + 2, row * cell + 1), text)
            draw.rectangle((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1), fill=(0, 70, 140))
            draw.text((column * cell + 2, row * cell + 1), text, fill=(255, 255, 255))
    if highlight is not None:
        row, column = highlight
        draw.rectangle(
            (column * cell, row * cell, (column + 1) * cell - 1, (row + 1) * cell - 1), outline=(230, 159, 0), width=3
        )
    return np.asarray(picture)
