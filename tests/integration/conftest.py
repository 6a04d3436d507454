"""A real GenLab server on a free port, started as `python app.py` would be, shared by the integration tests."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.conftest import ARTIFACTS, PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    log_name: str, runs: Path | None = None, extra_env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """Start app.py on a free loopback port and wait until it answers; returns (process, url).

    Models trained by tests go to `runs` (kept as it is) or to a fresh folder under artifacts/ named after the log.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    if runs is None:
        runs = ARTIFACTS / f"runs-{Path(log_name).stem}"  # models trained by tests stay out of the project's runs/
        shutil.rmtree(runs, ignore_errors=True)
    env = {**os.environ, "GENLAB_DEVICE": "cpu", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    env["GENLAB_RUNS_DIR"] = str(runs)
    env.update(extra_env or {})
    env.pop("GRADIO_SERVER_NAME", None)
    log = open(ARTIFACTS / log_name, "w")
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}; see {ARTIFACTS / log_name}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("app.py did not answer within 120 s")


@pytest.fixture(scope="session")
def server():
    process, url = start_server("integration-server.log")
    yield url
    process.terminate()
    process.wait(timeout=20)
    log = (ARTIFACTS / "integration-server.log").read_text()
    assert "Traceback" not in log, "the server logged a traceback; see artifacts/integration-server.log"


@pytest.fixture(scope="session")
def client(server) -> Client:
    return Client(server, verbose=False)
