"""A small MNIST classifier: the judge behind the Inception score and Fréchet distance."""

from dataclasses import dataclass

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


@dataclass
class ClassifierConfig:
    channels: int = 32
    feature_dim: int = 128
    num_classes: int = 10


class MNISTClassifier(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlab",
    tags=["image-classification", "mnist", "genlab"],
    license="cc-by-sa-3.0",
):
    """images (B, 1, 28, 28) in [-1, 1] -> logits (B, num_classes)."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 3, 1, 1),  # (B, 1, 28, 28) -> (B, c, 28, 28)
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, 1, 1),  # -> (B, 2c, 14, 14)
            nn.BatchNorm2d(2 * c),
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> (B, 2c, 7, 7)
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(2 * c * 49, config.feature_dim),  # -> (B, feature_dim)
            nn.ReLU(),
        )
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (B, feature_dim): the space the Fréchet distance is measured in."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
