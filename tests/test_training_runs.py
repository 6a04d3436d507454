import pytest

from genmodels.training_runs import MIN_QUALITY_EVERY, RunSpec, quality_every


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


def test_a_gan_runs_quality_is_the_judges_and_a_second_measure_at_one_step_is_the_first(monkeypatch):
    """The curve's quick measure judges one set of 500 samples against the judge's features of 500 held-out
    digits, computed once per run, and gives what evaluate_generator gives; the card's measure after the last step
    reuses the curve's last point instead of judging again."""
    import torch

    from genmodels import metrics
    from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
    from genmodels.classifier import MNISTClassifier
    from genmodels.data import to_signed
    from genmodels.training_runs import Run

    judge = load_checkpoint(MNISTClassifier, CHECKPOINTS_DIR / "mnist-classifier").eval()
    run = Run(RunSpec(family="gan", name="quality-cache", steps=2, batch_size=8), classifier=judge)
    next(run.trainer.run())  # one step, so the numbers are a trained generator's
    judged = []
    real_classify = metrics.classify

    def counted(classifier, images):
        judged.append(len(images))
        return real_classify(classifier, images)

    monkeypatch.setattr("genmodels.training_runs.classify", counted)
    first = run.evaluate()
    assert judged == [500, 500], "the samples once, the held-out digits once"
    again = run.evaluate()
    assert again == first and judged == [500, 500], "the same step: no second judging"
    torch.manual_seed(0)
    expected = metrics.evaluate_generator(
        run.trainer.export(calibration_batches=4), judge, to_signed(run.held_out.images[:500]), count=500, seed=7
    )
    assert first["Inception score"] == expected["inception_score"]
    assert abs(first["Fréchet distance"] - expected["frechet_distance"]) < 1e-3 * expected["frechet_distance"]
    next(run.trainer.run())
    run.evaluate()
    assert judged == [500, 500, 500], "a new step: new samples, the held-out features kept"


def test_a_run_measures_its_quality_ten_times_but_a_short_one_only_every_ten_steps():
    assert quality_every(300) == 30 and quality_every(100) == 10 and quality_every(5000) == 500
    assert quality_every(30) == MIN_QUALITY_EVERY == 10 and quality_every(3) == 10  # its last step is measured too
