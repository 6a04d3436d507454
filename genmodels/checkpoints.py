"""Checkpoint folders in the Hugging Face layout: config.json + model.safetensors + README.md card.

Weights load through safetensors only. A folder holding only pickled weights is refused, never unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import torch
from huggingface_hub import ModelCard, ModelCardData
from safetensors import SafetensorError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS_DIR = PROJECT_ROOT / "checkpoints"
RUNS_DIR = Path(os.environ.get("GENLAB_RUNS_DIR", PROJECT_ROOT / "runs"))
MODELS_DIR = RUNS_DIR / "models"  # models trained in the app's Training tab
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")
CARD_SECTIONS = ("## Data", "## Held-out split", "## Training", "## Metrics", "## Licence")


def recover_interrupted_saves(root: Path) -> None:
    """Undo what a process killed in the middle of atomic_replace_dir left in root.

    Killed while building: a `.NAME.tmp-*` folder, removed. Killed between its two renames: NAME is missing and the
    previous version waits as `.NAME.old-*`, so it is put back. Folders starting with "." are never models.
    """
    root = Path(root)
    if not root.is_dir():
        return
    for folder in sorted(root.glob(".*.old-*")):
        name, owner = folder.name[1:].rsplit(".old-", 1)
        owner = owner.split("-")[0]
        if owner.isdigit() and _process_alive(int(owner)):
            continue  # a save in progress, between its two renames: its own process finishes the swap
        if not (root / name).exists():
            try:
                os.replace(folder, root / name)
                continue
            except OSError:
                pass
        shutil.rmtree(folder, ignore_errors=True)
    for folder in root.glob(".*.tmp-*"):
        owner = folder.name.rsplit(".tmp-", 1)[1].split("-")[0]
        if not owner.isdigit() or not _process_alive(int(owner)):  # a live process may still be writing it
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_replace_dir(build, destination: Path) -> None:
    """Call build(tmp_folder), then swap tmp_folder into place: readers see the old or the new, never half.

    A process killed at any point leaves the previous version loadable (see recover_interrupted_saves).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(f".{destination.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        build(tmp)
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}-{threading.get_ident()}")
        if destination.exists():
            os.replace(destination, old)
        os.replace(tmp, destination)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class CheckpointError(ValueError):
    """A checkpoint folder is missing, incomplete, inconsistent or unsafe."""


def read_config(folder: Path) -> dict:
    """config.json as a dict, with a clear error when it is missing or malformed."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{folder.name}: config.json is missing")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{folder.name}: config.json is not valid JSON ({error.msg})") from error
    if not isinstance(config, dict):
        raise CheckpointError(f"{folder.name}: config.json must hold an object")
    return config


def read_card(folder: Path) -> dict:
    """The card's YAML metadata (family, metrics, ...); {} when there is no card."""
    path = Path(folder) / CARD
    if not path.is_file():
        return {}
    return ModelCard.load(path).data.to_dict()


def validate_card(text: str) -> list[str]:
    """Problems with a card's text: missing sections or metadata. An empty list means it is complete."""
    problems = [f"missing section {section!r}" for section in CARD_SECTIONS if section not in text]
    card = ModelCard(text)
    data = card.data.to_dict()
    for key in ("license", "genlab_family", "genlab_metrics", "genlab_command"):
        if not data.get(key):
            problems.append(f"missing metadata {key!r}")
    return problems


def load_checkpoint(model_class, folder: Path, device: torch.device | str = "cpu"):
    """Rebuild `model_class` from a checkpoint folder, strictly, from safetensors only."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"no checkpoint folder at {folder}")
    weights = folder / WEIGHTS
    if not weights.is_file():
        pickled = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickled:
            raise CheckpointError(
                f"{folder.name}: only pickled weights ({', '.join(pickled)}); GenLab loads safetensors only"
            )
        raise CheckpointError(f"{folder.name}: model.safetensors is missing")
    read_config(folder)
    try:
        model = model_class.from_pretrained(str(folder), map_location=str(device), strict=True)
    except SafetensorError as error:
        raise CheckpointError(f"{folder.name}: model.safetensors is not a valid safetensors file ({error})") from error
    except (TypeError, KeyError, RuntimeError, ValueError) as error:
        raise CheckpointError(
            f"{folder.name}: config and weights do not fit {model_class.__name__} ({error})"
        ) from error
    return model.to(device).eval().requires_grad_(False)


def make_card(
    *,
    title: str,
    family: str,
    summary: str,
    data: str,
    held_out: str,
    training: str,
    command: str,
    metrics: dict,
    metrics_text: str,
    datasets: tuple[str, ...] = ("mnist",),
    license_id: str = "cc-by-sa-3.0",
    licence_text: str = "Weights: CC BY-SA 3.0, following the MNIST data they were trained on. Code: GenLab's licence.",
) -> str:
    """A model card with the sections validate_card requires and machine-readable metadata."""
    card_data = ModelCardData(
        license=license_id,
        library_name="genlab",
        datasets=list(datasets),
        tags=["genlab", family],
        genlab_family=family,
        genlab_metrics=metrics,
        genlab_command=command,
    )
    body = f"""# {title}

{summary}

## Data
{data}

## Held-out split
{held_out}

## Training
{training}

Reproduce with:

```bash
{command}
```

## Metrics
{metrics_text}

## Licence
{licence_text}
"""
    return f"---\n{card_data.to_yaml()}\n---\n\n{body}"


def save_checkpoint(model, folder: Path, card_text: str) -> None:
    """Write config.json + model.safetensors (through the hub mixin) + README.md, atomically."""
    problems = validate_card(card_text)
    if problems:
        raise CheckpointError("incomplete model card: " + "; ".join(problems))

    def build(tmp: Path) -> None:
        model.save_pretrained(str(tmp))
        (tmp / CARD).write_text(card_text)

    atomic_replace_dir(build, Path(folder))
