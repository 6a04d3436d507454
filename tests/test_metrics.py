import math

import torch

from genmodels.metrics import frechet_distance, inception_score, per_class_accuracy


def test_inception_score_extremes():
    confident_balanced = torch.eye(10).repeat(20, 1)
    assert math.isclose(inception_score(confident_balanced), 10.0, rel_tol=1e-6)
    uniform = torch.full((200, 10), 0.1)
    assert math.isclose(inception_score(uniform), 1.0, rel_tol=1e-6)
    one_class = torch.eye(10)[[3] * 200]
    assert math.isclose(inception_score(one_class), 1.0, rel_tol=1e-6), "mode collapse scores 1"


def test_inception_score_hand_computed_two_classes():
    # Two classes, half the samples each, each 90% confident: IS = exp(ln2 - H(0.9)).
    probabilities = torch.tensor([[0.9, 0.1]] * 50 + [[0.1, 0.9]] * 50, dtype=torch.float64)
    entropy = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert math.isclose(inception_score(probabilities), math.exp(math.log(2) - entropy), rel_tol=1e-9)


def test_frechet_distance_identical_and_shifted():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(4000, 6, generator=generator, dtype=torch.float64)
    assert frechet_distance(features, features) < 1e-8
    shifted = features + torch.tensor([3.0, 0, 0, 0, 0, 0], dtype=torch.float64)
    assert math.isclose(frechet_distance(features, shifted), 9.0, rel_tol=1e-6)


def test_frechet_distance_of_scaled_gaussian():
    # N(0, I) vs N(0, 4I) in d dims: d * (1 + 4 - 2*2) = d.
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(20000, 3, generator=generator, dtype=torch.float64)
    b = 2 * torch.randn(20000, 3, generator=generator, dtype=torch.float64)
    assert abs(frechet_distance(a, b) - 3.0) < 0.15


def test_per_class_accuracy():
    probabilities = torch.eye(3)[[0, 0, 1, 2, 2, 1]]
    labels = torch.tensor([0, 1, 1, 2, 2, 2])
    assert per_class_accuracy(probabilities, labels, 3) == [1.0, 0.5, 2 / 3]
