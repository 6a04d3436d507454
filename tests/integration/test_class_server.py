"""A class on one server (issue 14): two students' sessions through the API. Runs are their owners' own until
shared; nobody resumes, overwrites, shares or deletes another's; runs/ stays within its limits."""

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import ARTIFACTS
from tests.integration.conftest import start_server
from tests.integration.test_training_api import VAE, names, run, settings, text_source


@pytest.fixture(scope="module")
def class_server():
    env = {"GENLAB_PUBLISH_RUNS": "0", "GENLAB_PRELOAD": "0", "GENLAB_MAX_RUNS": "3"}
    process, url = start_server("class-server.log", extra_env=env)
    yield url
    process.terminate()
    process.wait(timeout=20)
    assert "Traceback" not in (ARTIFACTS / "class-server.log").read_text()


def vae_run(name: str, steps: int = 10) -> list:
    return [*settings(family=VAE, name=name, steps=steps, batch=16, lr=1e-3, latent=2), *text_source()]


def test_a_run_is_its_owners_until_shared(class_server):
    alice, bob = Client(class_server, verbose=False), Client(class_server, verbose=False)
    _, final = run(alice.submit(*vae_run("alice-vae"), api_name="/train_start"))
    assert "Finished at step 10" in final[5] and "Only you see it" in final[5]
    assert "alice-vae" in names(final[7])  # Alice's VAE picker lists it
    assert alice.predict("alice-vae", 0.0, 0.0, api_name="/vae_decode_point")[0]
    # Bob cannot see, use, overwrite, resume, share or delete it.
    with pytest.raises(AppError, match=r"(?i)unknown"):
        bob.predict("alice-vae", 0.0, 0.0, api_name="/vae_decode_point")
    with pytest.raises(AppError, match="another student's run"):
        bob.predict(*vae_run("alice-vae"), api_name="/train_start")
    with pytest.raises(AppError, match="no stopped run of yours"):
        bob.predict(*vae_run("alice-vae"), api_name="/train_resume")
    for api_name, args in (("/train_share", ("alice-vae", True)), ("/train_delete", ("alice-vae",))):
        with pytest.raises(AppError, match="no run of yours"):
            bob.predict(*args, api_name=api_name)
    # Bob's own run does not show in Alice's picker either.
    _, bobs = run(bob.submit(*vae_run("bob-vae"), api_name="/train_start"))
    assert "bob-vae" in names(bobs[7]) and "alice-vae" not in names(bobs[7])
    # Shared: Bob can use it, and still cannot change it.
    message, _ = alice.predict("alice-vae", True, api_name="/train_share")
    assert "shared with everyone" in message
    assert bob.predict("alice-vae", 0.0, 0.0, api_name="/vae_decode_point")[0]
    with pytest.raises(AppError, match="another student's run"):
        bob.predict(*vae_run("alice-vae"), api_name="/train_start")
    # Alice deletes it: gone for both.
    message, mine = alice.predict("alice-vae", api_name="/train_delete")
    assert "Deleted" in message and "alice-vae" not in names(mine)
    for client in (alice, bob):
        with pytest.raises(AppError, match=r"(?i)unknown"):
            client.predict("alice-vae", 0.0, 0.0, api_name="/vae_decode_point")


def test_runs_are_bounded_and_the_oldest_goes_with_a_notice(class_server):
    carol = Client(class_server, verbose=False)
    for name in ("carol-1", "carol-2", "carol-3"):  # bob-vae (from the test above) is older than all of these
        _, final = run(carol.submit(*vae_run(name, steps=2), api_name="/train_start"))
        assert "Finished at step 2" in final[5], final[5]
    assert "Removed the oldest run" in final[5] and "bob-vae" in final[5]
    assert {"carol-1", "carol-2", "carol-3"} <= set(names(final[7]))
    assert "vae-16d" in names(final[7])  # shipped checkpoints are never evicted
