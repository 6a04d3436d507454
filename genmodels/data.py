"""Dataset access: MNIST from IDX files in a configurable data directory, downloaded only when online."""

from __future__ import annotations

import functools
import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MNIST_HOLDOUT = 1000  # the last 1,000 digits of the file are never trained on


class DatasetUnavailable(RuntimeError):
    """The dataset is neither in the data directory nor downloadable."""


def data_dir() -> Path:
    """The data directory: $GENLAB_DATA_DIR, else ../shared/datasets beside the project, else ./data."""
    configured = os.environ.get("GENLAB_DATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    shared = PROJECT_ROOT.parent / "shared" / "datasets"
    return shared if shared.is_dir() else PROJECT_ROOT / "data"


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a numpy array, checking its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path.name} is not an unsigned-byte IDX file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(f"{path.name}: header says {shape} but the file holds {len(raw) - header} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_mnist_files(root: Path, split: str) -> tuple[Path, Path] | None:
    prefix = "t10k" if split == "test" else "train"
    for folder in (root / "mnist", root / "MNIST" / "raw", root):
        for suffix in (".gz", ""):
            images = folder / f"{prefix}-images-idx3-ubyte{suffix}"
            labels = folder / f"{prefix}-labels-idx1-ubyte{suffix}"
            if images.is_file() and labels.is_file():
                return images, labels
    return None


def _download_mnist(root: Path) -> None:
    try:
        from torchvision.datasets import MNIST

        MNIST(str(root), train=False, download=True)
    except Exception as error:
        raise DatasetUnavailable(
            f"MNIST is not in {root} and could not be downloaded ({type(error).__name__}). "
            "Set GENLAB_DATA_DIR to a folder holding mnist/t10k-images-idx3-ubyte.gz and its labels."
        ) from error


@dataclass(frozen=True)
class DigitSplit:
    """uint8 images (N, 28, 28) and int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor


def load_mnist(root: Path | None = None, download: bool = True) -> DigitSplit:
    """All 10,000 MNIST test-set digits (the set GenLab trains and evaluates on)."""
    root = Path(root) if root is not None else data_dir()
    found = _find_mnist_files(root, "test")
    if found is None:
        if not download:
            raise DatasetUnavailable(f"MNIST is not in {root} (looked for mnist/t10k-images-idx3-ubyte.gz)")
        _download_mnist(root)
        found = _find_mnist_files(root, "test")
        if found is None:
            raise DatasetUnavailable(f"MNIST download finished but no IDX files appeared in {root}")
    images, labels = (read_idx(path) for path in found)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise ValueError(f"unexpected MNIST shapes {images.shape} and {labels.shape}")
    return DigitSplit(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))


def mnist_splits(root: Path | None = None, holdout: int = MNIST_HOLDOUT) -> tuple[DigitSplit, DigitSplit]:
    """(train, held_out): the held-out slice is the last `holdout` digits of the file."""
    full = load_mnist(root)
    cut = len(full.labels) - holdout
    return (
        DigitSplit(full.images[:cut], full.labels[:cut]),
        DigitSplit(full.images[cut:], full.labels[cut:]),
    )


def to_signed(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [-1, 1], the range every GenLab image model uses."""
    return images.float().unsqueeze(1).div(127.5).sub(1.0)


@functools.lru_cache(maxsize=1)
def held_out_digits() -> DigitSplit:
    """The held-out slice, read once per process (the app's dataset picker shows these)."""
    return mnist_splits()[1]


TEXT_VALIDATION_FRACTION = 0.1  # the last 10% of a text is held out for validation


def load_shakespeare(root: Path | None = None) -> str:
    """Tiny Shakespeare (1.1 M characters) from the data directory's tinyshakespeare/input.txt."""
    root = Path(root) if root is not None else data_dir()
    path = root / "tinyshakespeare" / "input.txt"
    if not path.is_file():
        raise DatasetUnavailable(f"Tiny Shakespeare is not in {root} (looked for tinyshakespeare/input.txt)")
    return path.read_text(encoding="utf-8")


def split_text(text: str, validation_fraction: float = TEXT_VALIDATION_FRACTION) -> tuple[str, str]:
    """(train, validation): validation is the last fraction of the text, so no passage is in both."""
    cut = int(len(text) * (1 - validation_fraction))
    return text[:cut], text[cut:]
