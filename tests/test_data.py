import gzip
import struct

import numpy as np
import pytest

from genmodels import data
from genmodels.data import DatasetUnavailable, load_mnist, mnist_splits, read_idx, to_signed
from tests.conftest import SHARED_DATA


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def make_mnist(folder, count=5):
    (folder / "mnist").mkdir(parents=True)
    images = np.arange(count * 28 * 28).reshape(count, 28, 28) % 256
    write_idx(folder / "mnist" / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "mnist" / "t10k-labels-idx1-ubyte.gz", np.arange(count) % 10)
    return images


def test_read_idx_round_trip_and_bad_files(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (3, 4, 5))
    write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="unsigned-byte"):
        read_idx(tmp_path / "bad")
    truncated = bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3
    (tmp_path / "short").write_bytes(truncated)
    with pytest.raises(ValueError, match="header says"):
        read_idx(tmp_path / "short")


def test_load_from_a_configured_data_dir(tmp_path, monkeypatch):
    images = make_mnist(tmp_path)
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path))
    digits = load_mnist(download=False)
    assert digits.images.shape == (5, 28, 28)
    assert np.array_equal(digits.images.numpy(), images)
    assert digits.labels.tolist() == [0, 1, 2, 3, 4]


def test_offline_and_absent_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(DatasetUnavailable, match="not in"):
        load_mnist(tmp_path, download=False)

    def offline(root):
        raise DatasetUnavailable(f"MNIST is not in {root} and could not be downloaded (URLError).")

    monkeypatch.setattr(data, "_download_mnist", offline)
    with pytest.raises(DatasetUnavailable, match="could not be downloaded"):
        load_mnist(tmp_path)


def test_download_failure_is_wrapped(tmp_path, monkeypatch):
    import torchvision.datasets

    class NoNetwork:
        def __init__(self, *args, **kwargs):
            raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "MNIST", NoNetwork)
    with pytest.raises(DatasetUnavailable, match="GENLAB_DATA_DIR"):
        load_mnist(tmp_path)


def test_shared_mnist_split_holds_out_the_last_thousand():
    train, held_out = mnist_splits(SHARED_DATA)
    assert train.images.shape == (9000, 28, 28) and held_out.images.shape == (1000, 28, 28)
    full = load_mnist(SHARED_DATA)
    assert np.array_equal(held_out.images.numpy(), full.images[-1000:].numpy())
    assert set(held_out.labels.tolist()) == set(range(10))
    signed = to_signed(held_out.images[:2])
    assert signed.shape == (2, 1, 28, 28) and signed.min() >= -1 and signed.max() <= 1
