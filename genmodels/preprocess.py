"""Make any picture of a digit look like MNIST: grey ink on black, cropped, fitted to 20x20, centred by mass.

MNIST's recipe (LeCun et al.): size-normalise the digit to fit a 20x20 box keeping its aspect ratio, then
centre it in 28x28 by its centre of mass. Uploads may be huge, palette, 16-bit, animated, transparent or
dark-on-light; all are handled here, and blank or uniform pictures are refused with a reason.
"""

import struct
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

MAX_FILE_BYTES = 10 * 2**20
MAX_PIXELS = 40_000_000  # refuse before decoding: a 10,000 x 10,000 image is 100 M pixels
# JPEGs decode at a reduced size (draft); other formats decode whole first, so their decoded size is bounded too.
MAX_DECODED_BYTES = 64 * 2**20
BYTES_PER_BAND = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}
WORKING_SIZE = 512  # large images are reduced to this before any per-pixel work
INK_THRESHOLD = 0.08  # fraction of full contrast below which there is no ink
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageRejected(ValueError):
    """The picture cannot be turned into a digit; the message says why, for a person."""


DAMAGED = (
    "This picture file is damaged or incomplete (part of it is missing or corrupt), so it cannot be read. "
    "Save or export it again and upload the new file."
)
# The first bytes of the formats PIL reads most often: a file that starts like one but fails is damaged.
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def _looks_like_an_image(path: Path) -> bool:
    with open(path, "rb") as handle:
        start = handle.read(16)
    return start.startswith(IMAGE_SIGNATURES) or (start[:4] == b"RIFF" and start[8:12] == b"WEBP")


def open_image(path: Path) -> Image.Image:
    """Open an uploaded file safely: size and pixel count are checked before any pixel is decoded."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImageRejected(f"The file is {size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(f"The image has too many pixels; the limit is {MAX_PIXELS // 10**6} megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        if _looks_like_an_image(path):
            raise ImageRejected(DAMAGED) from None
        raise ImageRejected("That file is not an image GenLab can read (try PNG or JPEG).") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageRejected(f"The image is {width}x{height} pixels; the limit is {MAX_PIXELS // 10**6} megapixels.")
    decoded = width * height * len(image.getbands()) * BYTES_PER_BAND.get(image.mode, 1)
    if image.format != "JPEG" and decoded > MAX_DECODED_BYTES:
        raise ImageRejected(
            f"The picture would take {decoded / 2**20:.0f} MB to decode ({width}x{height} {image.mode}); the limit is "
            f"{MAX_DECODED_BYTES // 2**20} MB. Save it as JPEG or make it smaller."
        )
    # Decode every pixel here, where the file enters: a damaged file fails now, with a reason a person understands,
    # not deep in the preprocessing. JPEGs decode straight at a reduced size.
    try:
        image.draft("L", (WORKING_SIZE, WORKING_SIZE))
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError):
        raise ImageRejected(DAMAGED) from None
    return image


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    scale = longest / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _ink(image: Image.Image) -> np.ndarray:
    """A float array in [0, 1] where 1 is ink, whatever the format, polarity or transparency."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated: the first frame
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = values.min(), values.max()
        image = Image.fromarray(((values - low) / max(high - low, 1e-9) * 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    image.draft("L", (WORKING_SIZE, WORKING_SIZE))  # JPEGs decode straight at a reduced size
    if max(image.size) > WORKING_SIZE:  # a reduced copy: never a second full-size one
        image = image.resize(_fit(image.size, WORKING_SIZE), Image.Resampling.BOX, reducing_gap=2.0)
    if image.mode in ("RGBA", "LA") or (image.mode == "RGB" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        alpha = rgba[..., 3]
        if alpha.max() - alpha.min() > INK_THRESHOLD:
            return alpha  # strokes on a transparent canvas: the alpha channel is the ink
        gray = np.asarray(image.convert("RGBA").convert("L"), dtype=np.float64) / 255.0
    else:
        gray = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    ink = gray - background if background < 0.5 else background - gray  # light-on-dark or dark-on-light
    return np.clip(ink, 0.0, None)


def to_mnist(image: Image.Image | np.ndarray) -> torch.Tensor:
    """Any digit picture -> (1, 28, 28) float in [0, 1], normalised the way MNIST was made."""
    if isinstance(image, np.ndarray):
        if image.size == 0 or image.ndim not in (2, 3):
            raise ImageRejected("The image is empty.")
        if image.dtype != np.uint8:
            image = np.clip(np.nan_to_num(image.astype(np.float64)), 0, 255).astype(np.uint8)
        image = Image.fromarray(image)
    ink = _ink(image)
    if ink.max() < INK_THRESHOLD:
        raise ImageRejected("The image is blank or a single colour: draw or upload a digit.")
    ink = ink / ink.max()
    rows, columns = np.nonzero(ink > INK_THRESHOLD)
    ink = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]  # crop to the bounding box
    height, width = ink.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    fitted = Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    digit = np.asarray(fitted, dtype=np.float64) / 255.0
    canvas = np.zeros((28, 28))
    top, left = (28 - digit.shape[0]) // 2, (28 - digit.shape[1]) // 2
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    mass = canvas.sum()
    ys, xs = np.indices(canvas.shape)
    shift_y = round(14.0 - (ys * canvas).sum() / mass)
    shift_x = round(14.0 - (xs * canvas).sum() / mass)
    # Shift by the centre of mass, but never push ink off the canvas.
    shift_y = int(np.clip(shift_y, -top, 28 - (top + digit.shape[0])))
    shift_x = int(np.clip(shift_x, -left, 28 - (left + digit.shape[1])))
    canvas = np.roll(canvas, (shift_y, shift_x), axis=(0, 1))
    return torch.from_numpy(np.clip(canvas, 0, 1)).float().unsqueeze(0)
