import numpy as np
import pytest
import torch
from PIL import Image

from genmodels.data import load_mnist
from genmodels.preprocess import MAX_FILE_BYTES, ImageRejected, open_image, to_mnist
from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    return load_mnist(SHARED_DATA).images[0].numpy()


def similarity(processed: torch.Tensor, original: np.ndarray) -> float:
    return float(np.corrcoef(processed.flatten().numpy(), original.flatten() / 255.0)[0, 1])


def centre_of_mass(image: torch.Tensor) -> tuple[float, float]:
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = image[0].sum()
    return float((ys * image[0]).sum() / mass), float((xs * image[0]).sum() / mass)


def test_an_mnist_digit_comes_back_as_itself(digit):
    processed = to_mnist(Image.fromarray(digit))
    assert processed.shape == (1, 28, 28) and processed.min() >= 0 and processed.max() <= 1
    assert similarity(processed, digit) > 0.97


def test_shifted_off_centre_large_and_inverted_digits_are_normalised(digit):
    canvas = np.zeros((600, 900), np.uint8)
    canvas[20 : 20 + 28 * 8, 600 : 600 + 28 * 8] = np.kron(digit, np.ones((8, 8), np.uint8))  # big, top-right
    for variant in (canvas, 255 - canvas):  # light-on-dark and dark-on-light
        processed = to_mnist(Image.fromarray(variant))
        assert similarity(processed, digit) > 0.95
        y, x = centre_of_mass(processed)
        assert abs(y - 14) < 1 and abs(x - 14) < 1


def test_fits_a_20_pixel_box_keeping_aspect_ratio():
    bar = np.zeros((200, 200), np.uint8)
    bar[20:180, 90:110] = 255  # a tall stroke, 8:1
    processed = to_mnist(Image.fromarray(bar))[0]
    rows, columns = torch.nonzero(processed > 0.5, as_tuple=True)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)
    assert columns.max() - columns.min() + 1 <= 4


def test_alpha_palette_16_bit_and_animated_images(digit):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit  # black strokes on a transparent canvas, as a sketchpad makes them
    assert similarity(to_mnist(Image.fromarray(rgba, "RGBA")), digit) > 0.97
    palette = Image.fromarray(255 - digit).convert("P")
    assert similarity(to_mnist(palette), digit) > 0.95
    sixteen = Image.fromarray(digit.astype(np.uint16) * 257)
    assert sixteen.mode.startswith("I")
    assert similarity(to_mnist(sixteen), digit) > 0.97


def test_animated_gif_uses_the_first_frame(tmp_path, digit):
    frames = [Image.fromarray(digit), Image.fromarray(np.zeros_like(digit))]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    image = open_image(tmp_path / "a.gif")
    assert image.n_frames == 2
    assert similarity(to_mnist(image), digit) > 0.95


@pytest.mark.parametrize("value", [0, 255, 128])
def test_blank_or_uniform_images_are_refused(value):
    with pytest.raises(ImageRejected, match="blank"):
        to_mnist(np.full((50, 50), value, np.uint8))


def test_empty_array_is_refused():
    with pytest.raises(ImageRejected):
        to_mnist(np.zeros((0, 0), np.uint8))


def test_huge_dimensions_are_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (10_000, 10_000)).save(path)  # 100 megapixels, a small file
    with pytest.raises(ImageRejected, match="megapixels"):
        open_image(path)


def test_large_files_and_non_images_are_refused(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\x00" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ImageRejected, match="MB"):
        open_image(big)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ImageRejected, match="not an image"):
        open_image(text)


def test_large_image_is_reduced_before_processing(digit, tmp_path):
    large = Image.fromarray(np.kron(digit, np.ones((100, 100), np.uint8)))  # 2800 x 2800
    large.save(tmp_path / "large.png")
    processed = to_mnist(open_image(tmp_path / "large.png"))
    assert similarity(processed, digit) > 0.95


def _png_bytes(size=(64, 64)) -> bytes:
    import io

    buffer = io.BytesIO()
    picture = np.zeros((size[1], size[0]), np.uint8)
    picture[10:50, 28:36] = 255
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut off mid-file
        lambda data: data[:40],  # only the header survives
        lambda data: data[:33] + bytes(len(data) - 33),  # pixel data zeroed: corrupt compressed stream
    ],
)
def test_damaged_pictures_are_refused_where_they_enter(tmp_path, damage):
    path = tmp_path / "digit.png"
    path.write_bytes(damage(_png_bytes()))
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        open_image(path)


def test_empty_and_fake_image_files_are_refused(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.png"
    fake.write_text("<html>not a picture</html>")
    for path in (empty, fake):
        with pytest.raises(ImageRejected, match="not an image"):
            open_image(path)


def test_an_intact_picture_opens_fully_decoded(tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(_png_bytes())
    image = open_image(path)
    assert image.size == (64, 64) and np.asarray(image).max() == 255


def test_pictures_too_large_to_decode_are_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("RGBA", (6000, 6000)).save(path)  # 36 megapixels, 137 MB decoded
    with pytest.raises(ImageRejected, match="MB to decode"):
        open_image(path)
    grey = tmp_path / "huge-grey.png"
    Image.new("L", (6000, 6000), 0).save(grey)  # 36 MB decoded: accepted
    assert open_image(grey).size == (6000, 6000)
