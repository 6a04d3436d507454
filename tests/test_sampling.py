import math

import pytest
import torch

from genmodels.sampling import interpolate, lerp, seeded_latents, slerp, truncate


def test_same_seed_same_latents_and_grid_prefix():
    a = seeded_latents(7, 16, 32)
    assert torch.equal(a, seeded_latents(7, 16, 32))
    assert torch.equal(a[:4], seeded_latents(7, 4, 32)), "a smaller grid must show the first images of a larger one"
    assert torch.equal(a[5:9], seeded_latents(7, 4, 32, start=5))
    assert not torch.allclose(a, seeded_latents(8, 16, 32))


def test_seeded_latents_ignore_global_rng():
    torch.manual_seed(0)
    first = seeded_latents(3, 4, 8)
    torch.manual_seed(123)
    torch.randn(100)
    assert torch.equal(first, seeded_latents(3, 4, 8))


def test_seeded_latents_look_standard_normal():
    z = seeded_latents(1, 64, 256)
    assert abs(z.mean().item()) < 0.05
    assert abs(z.std().item() - 1.0) < 0.05


def test_truncation_scales_towards_mean():
    z = torch.randn(4, 8)
    assert torch.equal(truncate(z, 1.0), z)
    assert torch.count_nonzero(truncate(z, 0.0)) == 0
    assert torch.allclose(truncate(z, 0.5).norm(dim=1), 0.5 * z.norm(dim=1))


def test_lerp_endpoints_and_midpoint():
    a, b = torch.randn(8), torch.randn(8)
    path = lerp(a, b, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(path[0], a) and torch.allclose(path[2], b)
    assert torch.allclose(path[1], (a + b) / 2)


def test_slerp_endpoints_constant_angle_and_norms():
    a, b = torch.randn(16), torch.randn(16)
    path = slerp(a, b, torch.linspace(0, 1, 9))
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    unit = path / path.norm(dim=1, keepdim=True)
    steps = torch.arccos((unit[:-1] * unit[1:]).sum(1).clamp(-1, 1))
    assert torch.allclose(steps, steps.mean().expand_as(steps), atol=1e-4), "slerp moves at constant angular speed"
    expected_norms = torch.linspace(a.norm().item(), b.norm().item(), 9)
    assert torch.allclose(path.norm(dim=1), expected_norms, atol=1e-4)


def test_slerp_keeps_norm_where_lerp_shrinks_it():
    a = torch.tensor([1.0, 0.0])
    b = torch.tensor([-0.0, 1.0])
    middle_s = slerp(a, b, torch.tensor([0.5]))[0]
    middle_l = lerp(a, b, torch.tensor([0.5]))[0]
    assert math.isclose(middle_s.norm().item(), 1.0, rel_tol=1e-5)
    assert middle_l.norm().item() < 0.75


def test_slerp_of_parallel_or_zero_vectors_falls_back_to_lerp():
    a = torch.ones(4)
    assert torch.allclose(slerp(a, 2 * a, torch.tensor([0.5]))[0], 1.5 * a)
    assert torch.allclose(slerp(torch.zeros(4), a, torch.tensor([0.5]))[0], 0.5 * a)


def test_interpolate_validates():
    a, b = torch.randn(4), torch.randn(4)
    assert interpolate(a, b, 5, "lerp").shape == (5, 4)
    with pytest.raises(ValueError):
        interpolate(a, b, 1)
    with pytest.raises(ValueError):
        interpolate(a, b, 4, "cubic")
