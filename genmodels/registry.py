"""Named models, loaded lazily on first use, once per process, shared read-only by every request."""

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .chargpt import CharGPT
from .checkpoints import (
    CHECKPOINTS_DIR,
    MODELS_DIR,
    CheckpointError,
    load_checkpoint,
    read_card,
    read_config,
    recover_interrupted_saves,
)
from .classifier import MNISTClassifier
from .diffusion import GUIDE_SUFFIX, DiffusionModel
from .gan import GAN
from .maskedlm import MaskedCharLM
from .ownership import RunOwners, current_session
from .vae import VAE
from .vqvae import VQVAE

MODEL_CLASSES: dict[str, type] = {
    "gan": GAN,
    "vae": VAE,
    "chargpt": CharGPT,
    "classifier": MNISTClassifier,
    "diffusion": DiffusionModel,
    # The weaker model a diffusion model `<name>` is autoguided by, in the folder `<name>-guide`; listed in no picker.
    "diffusion-guide": DiffusionModel,
    "vqvae": VQVAE,
    "maskedlm": MaskedCharLM,
}
# Families listed like the others but loaded elsewhere: a LoRA adapter is merged into SmolLM2 by TextModels.
ADAPTER_FAMILIES = ("lora",)


class UnknownModel(ValueError):
    """No model of that name (and family) is registered."""


def select_device(preference: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU; $GENLAB_DEVICE or `preference` ('cpu', 'cuda', 'mps', 'auto') overrides."""
    preference = (preference or os.environ.get("GENLAB_DEVICE") or "auto").lower()
    if preference != "auto":
        if preference.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("GENLAB_DEVICE asks for CUDA but no CUDA device is available")
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    family: str
    folder: Path
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    owners: RunOwners | None = None  # a Training-tab run's owners (None: a shipped checkpoint, seen by all)

    def visible(self, session: str | None) -> bool:
        return self.owners is None or self.owners.may_see(self.name, session)


class Registry:
    """Scans checkpoint roots for folders whose card names a known family; loads each model once.

    Folders under the shipped checkpoints root are seen by everyone; the others are Training-tab runs, listed and
    loaded only for the sessions that may see them (genmodels.ownership: the session of the request being served).
    """

    def __init__(
        self, roots: tuple[Path, ...] = (CHECKPOINTS_DIR, MODELS_DIR), device: torch.device | str | None = None
    ):
        self.roots = tuple(Path(root) for root in roots)
        self.device = torch.device(device) if device is not None else select_device()
        self._entries: dict[str, ModelEntry] = {}
        self._models: dict[str, torch.nn.Module] = {}
        self._derived: dict[tuple[str, str], object] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Re-scan the roots (new training runs appear here)."""
        entries = {}
        for root in self.roots:
            if not root.is_dir():
                continue
            recover_interrupted_saves(root)
            owners = None if root == CHECKPOINTS_DIR else RunOwners(root.parent)
            for folder in sorted(root.iterdir()):
                if folder.name.startswith(".") or not (folder / "config.json").is_file():
                    continue  # a save in progress (or interrupted) is never listed
                card = read_card(folder)
                family = card.get("genlab_family")
                if (family in MODEL_CLASSES or family in ADAPTER_FAMILIES) and folder.name not in entries:
                    entries[folder.name] = ModelEntry(
                        folder.name, family, folder, card.get("genlab_metrics") or {}, read_config(folder), owners
                    )
        with self._guard:
            self._entries = entries

    def forget(self, name: str) -> None:
        """Drop a cached model and what was derived from it (its checkpoint was replaced by a new run)."""
        with self._guard:
            self._models.pop(name, None)
            for key in [key for key in self._derived if key[0] == name]:
                del self._derived[key]

    def names(self, family: str | None = None) -> list[str]:
        """The models of `family` the current session may see."""
        session = current_session()
        return [
            name
            for name, entry in self._entries.items()
            if (family is None or entry.family == family) and entry.visible(session)
        ]

    def entry(self, name: str, family: str | None = None) -> ModelEntry:
        entry = self._entries.get(name) if isinstance(name, str) else None
        if entry is not None and not entry.visible(current_session()):
            entry = None  # another student's unpublished run: as if it were not there
        if entry is None or (family is not None and entry.family != family):
            known = ", ".join(self.names(family)) or "none"
            raise UnknownModel(f"unknown model {str(name)[:80]!r}; available: {known}")
        return entry

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def load(self, name: str, family: str | None = None) -> torch.nn.Module:
        """The model, in eval mode without gradients, on the registry's device. Concurrent callers load once."""
        entry = self.entry(name, family)
        model = self._models.get(name)
        if model is not None:
            return model
        with self._lock(name):
            model = self._models.get(name)
            if model is None:
                if entry.family not in MODEL_CLASSES:
                    raise UnknownModel(f"{name} is a {entry.family} adapter: load it through the Text tab's models")
                model = load_checkpoint(MODEL_CLASSES[entry.family], entry.folder, self.device)
                self._models[name] = model
        return model

    def has_guide(self, name: str) -> bool:
        """Whether diffusion model `name` has a guide for autoguidance: a model `<name>-guide` (loads nothing)."""
        return isinstance(name, str) and f"{name}{GUIDE_SUFFIX}" in self.names("diffusion-guide")

    def guide(self, name: str) -> torch.nn.Module | None:
        """The weaker model that autoguides diffusion model `name`: the model `<name>-guide`, or None if it has none."""
        return self.load(f"{name}{GUIDE_SUFFIX}", "diffusion-guide") if self.has_guide(name) else None

    def derived(self, name: str, key: str, compute: Callable[[torch.nn.Module], object]) -> object:
        """compute(model), cached per (model, key): for things derived from weights, such as latent directions."""
        cache_key = (name, key)
        if cache_key in self._derived:
            return self._derived[cache_key]
        model = self.load(name)
        with self._lock(f"{name}/{key}"):
            if cache_key not in self._derived:
                with torch.inference_mode():
                    self._derived[cache_key] = compute(model)
        return self._derived[cache_key]


__all__ = ["CheckpointError", "ModelEntry", "Registry", "UnknownModel", "select_device"]
