"""Issue 10, item 4: kill -9 a training worker in the middle of saving a run, and kill -9 the server while a run
trains. Nothing is lost: the previous checkpoint and state stay loadable, no half-written folder is ever listed,
and the run resumes on a fresh server."""

import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
from gradio_client import Client
from PIL import Image

from tests.conftest import ARTIFACTS
from tests.integration.conftest import start_server
from tests.integration.test_training_api import VAE, names, run, settings, text_source

# Loaded by every Python process the server starts (sitecustomize): the first time a save of the run named in
# GENLAB_TEST_DIE_SAVING moves the previous version aside, the process kills itself with SIGKILL, so the old
# version waits as ".NAME.old-*" and the new one is not yet in place: the worst moment to die.
HOOK = """
import os, signal
_name = os.environ.get("GENLAB_TEST_DIE_SAVING")
_marker = os.environ.get("GENLAB_TEST_DIE_MARKER")
if _name and _marker:
    _real_replace = os.replace
    def _replace(source, destination, *args, **kwargs):
        _real_replace(source, destination, *args, **kwargs)
        if os.path.basename(str(destination)).startswith("." + _name + ".old-") and not os.path.exists(_marker):
            open(_marker, "w").write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
    os.replace = _replace
"""


def _stop_once_it_trains(client: Client, job) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any("Step " in str(out[5]) for out in job.outputs()):
        time.sleep(0.1)
    assert "Stopping" in client.predict(api_name="/train_stop")


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_while_saving_then_the_server_killed_nothing_is_lost(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK)
    runs, marker = ARTIFACTS / "runs-kill-during-save", tmp_path / "died"
    shutil.rmtree(runs, ignore_errors=True)
    env = {
        "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]),
        "GENLAB_TEST_DIE_SAVING": "killsave",
        "GENLAB_TEST_DIE_MARKER": str(marker),
        "GENLAB_PRELOAD": "0",  # these servers only train: SmolLM2 would take the CPU from the runs
    }
    process, url = start_server("kill-during-save-1.log", runs, env)
    try:
        client = Client(url, verbose=False)
        args = settings(family=VAE, name="killsave", steps=150, batch=16, lr=1e-3, latent=2)
        # 1. Train and stop: the first save of this run (nothing to move aside, so the hook lets it through).
        job = client.submit(*args, *text_source(), api_name="/train_start")
        _stop_once_it_trains(client, job)
        _, final = run(job)
        stopped_at = int(final[5].split("Stopped at step ")[1].split(".")[0])
        first = client.predict("killsave", 0.5, 0.5, api_name="/vae_decode_point")[0]
        # 2. Resume to the end: the worker dies by SIGKILL in the middle of saving.
        _, final = run(client.submit(*args, *text_source(), api_name="/train_resume"))
        assert marker.is_file(), "the worker was killed mid-save"
        assert "unexpectedly" in final[5], final[5]
        assert not any(name.startswith(".") for name in names(final[7])), "a half-saved folder was listed"
        # The previous checkpoint is still there and still loads, and gives the same digit as before.
        again = client.predict("killsave", 0.5, 0.5, api_name="/vae_decode_point")[0]
        assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(first)))
        # 3. Start a long run and kill -9 the server while it trains.
        long_args = settings(family=VAE, name="killserver", steps=5000, batch=16, lr=1e-3, latent=2)
        job = client.submit(*long_args, *text_source(), api_name="/train_start")
        _wait(lambda: any("Step " in str(out[5]) for out in job.outputs()), 120, "the run to train")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)
        # Its worker notices the server has gone, stops after the current step and saves what it learned.
        _wait(lambda: (runs / "models" / "killserver" / "model.safetensors").is_file(), 90, "the orphaned run's save")
    finally:
        if process.poll() is None:
            process.kill()
    # 4. A fresh server: both runs are listed, load, and resume from where their saved state ended.
    process, url = start_server("kill-during-save-2.log", runs, {"GENLAB_PRELOAD": "0"})
    try:
        client = Client(url, verbose=False)
        leftovers = [p.name for folder in ("models", "states") for p in (runs / folder).iterdir()]
        assert not [name for name in leftovers if name.startswith(".")], leftovers  # interrupted saves undone
        _, final = run(client.submit(*args, *text_source(), api_name="/train_resume"))
        assert "Finished at step 150" in final[5], final[5]
        assert final[0]["data"][0][0] == stopped_at + 1, "resumed from the state saved before the kill"
        assert "killserver" in names(final[7]) and "killsave" in names(final[7])
        assert client.predict("killserver", 0.0, 0.0, api_name="/vae_decode_point")[0]
    finally:
        process.terminate()
        process.wait(timeout=20)
    for log in ("kill-during-save-1.log", "kill-during-save-2.log"):
        text = (ARTIFACTS / log).read_text()
        assert "handler" not in text or "failed" not in text, f"see artifacts/{log}"
    assert Path(marker).read_text().strip().isdigit()
