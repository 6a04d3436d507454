import pytest

from genmodels.training_runs import RunSpec


def test_a_reasonable_spec_passes():
    RunSpec(family="gan", name="my-run-1").validate()
    RunSpec(family="chargpt", name="poet", heads=4, width=64).validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"family": "flow-matching"}, "family"),
        ({"name": "Has Spaces"}, "lowercase"),
        ({"name": "../escape"}, "lowercase"),
        ({"name": "x" * 41}, "lowercase"),
        ({"name": "gan-mnist"}, "shipped"),
        ({"steps": 0}, "steps"),
        ({"steps": 10**6}, "steps"),
        ({"batch_size": 10_000}, "batch"),
        ({"learning_rate": float("nan")}, "learning rates"),
        ({"discriminator_learning_rate": 11.0}, "learning rates"),
        ({"gan_loss": "bce"}, "GAN loss"),
        ({"latent_dim": 0}, "latent"),
        ({"beta": float("inf")}, "β"),
        ({"layers": 50}, "layers"),
        ({"heads": 3, "width": 64}, "divide"),
        ({"width": 4096, "heads": 4}, "width"),
        ({"context": 100_000}, "context"),
        ({"family": "lora", "steps": 501}, "at most 500 steps"),
        ({"family": "lora", "batch_size": 64}, "at most 16 sequences"),
        ({"family": "lora", "batch_size": 4, "context": 8}, "16 to 256 tokens"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(changes, message):
    settings = {"family": "gan", "name": "ok-name"} | changes
    with pytest.raises(ValueError, match=message):
        RunSpec(**settings).validate()
