"""Install a requirements file into this Python's environment, quickly where it can: `make setup` runs this.

The runtime stack is about 6 GB unpacked (torch's CUDA build brings NVIDIA's libraries). pip unpacks it and then
compiles every module on one core; uv (from PyPI) unpacks in parallel and compiles on every core, from the same
sources pip is configured with (`pip config list`: indexes, find-links, constraints, certificate), picking the best
version across them as pip does. Measured on a 2-core machine from an empty cache: see the README.

Where uv cannot be installed or fails, pip installs instead, so a setup never depends on uv.
GENLAB_INSTALLER=pip skips uv.

    python tools/install_requirements.py requirements.txt
"""

import os
import shlex
import subprocess
import sys

UV_VERSION = "0.13.9"


def pip_settings() -> dict[str, list[str]]:
    """pip's configured sources, e.g. {"find-links": ["/opt/wheels"], "extra-index-url": [...]}, as
    `pip config list` shows them: a PIP_* variable wins over the files, and a later file over an earlier one."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    files, variables = {}, {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in ("index-url", "extra-index-url", "find-links", "constraint", "cert"):
            values = " ".join(shlex.split(value)).split()
            (variables if key.startswith(":env:") else files)[name] = values
    return files | variables


def uv_command(requirements: str, settings: dict[str, list[str]]) -> list[str]:
    command = [sys.executable, "-m", "uv", "pip", "install", "--python", sys.executable, "--quiet"]
    command += ["--compile-bytecode", "--index-strategy", "unsafe-best-match", "-r", requirements]
    for name in ("index-url", "extra-index-url", "find-links"):
        for value in settings.get(name, []):
            command += [f"--{name}", value]
    for value in settings.get("constraint", []):
        command += ["--constraint", value]
    return command


def install_with_uv(requirements: str) -> bool:
    try:
        settings = pip_settings()
        quiet = ["--disable-pip-version-check", "-q"]
        subprocess.run([sys.executable, "-m", "pip", "install", *quiet, f"uv=={UV_VERSION}"], check=True)
        environment = dict(os.environ)
        if settings.get("cert"):
            environment.setdefault("SSL_CERT_FILE", settings["cert"][0])
        subprocess.run(uv_command(requirements, settings), check=True, env=environment)
        return True
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"uv could not install {requirements} ({error}); pip installs it instead", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    requirements = argv[0]
    if os.environ.get("GENLAB_INSTALLER", "uv") != "pip" and install_with_uv(requirements):
        return 0
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", requirements]
    return subprocess.run(pip).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
