"""tools/install_requirements.py: uv gets pip's own sources, and pip installs whenever uv cannot."""

import importlib.util
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT

_SPEC = importlib.util.spec_from_file_location("install_requirements", PROJECT_ROOT / "tools/install_requirements.py")
install_requirements = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(install_requirements)

LISTING = """:env:.find-links='/opt/wheels'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/somewhere/else'
global.constraint='/etc/xdg/pip/constraints.txt'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.timeout='60'
"""


class Recorder:
    """Stands in for subprocess.run: records each command, answers `pip config list`, fails the commands told."""

    def __init__(self, fail_when=lambda command: False):
        self.commands, self.environments, self.fail_when = [], [], fail_when

    def __call__(self, command, **kwargs):
        self.commands.append(command)
        self.environments.append(kwargs.get("env"))
        if self.fail_when(command):
            raise subprocess.CalledProcessError(1, command)
        return subprocess.CompletedProcess(command, 0, stdout=LISTING if "config" in command else "")


def test_uv_gets_pips_sources_with_variables_winning_over_files(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(install_requirements.subprocess, "run", recorder)
    monkeypatch.delenv("GENLAB_INSTALLER", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert install_requirements.main(["requirements.txt"]) == 0
    uv = next(command for command in recorder.commands if "uv" in command and "pip" in command[3:])
    text = " ".join(uv)
    assert "--find-links /opt/wheels" in text and "/somewhere/else" not in text  # PIP_FIND_LINKS wins
    assert "--extra-index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple" in text
    assert "--constraint /etc/xdg/pip/constraints.txt" in text and "-r requirements.txt" in text
    assert "--index-strategy unsafe-best-match" in text  # pip's rule: the best version from any source
    assert "--compile-bytecode" in text and "timeout" not in text
    assert recorder.environments[recorder.commands.index(uv)]["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert not any(command[1:4] == ["-m", "pip", "install"] and "-r" in command for command in recorder.commands)


@pytest.mark.parametrize("failing", ["uv==", "uv pip install"])
def test_pip_installs_when_uv_cannot(monkeypatch, capsys, failing):
    recorder = Recorder(fail_when=lambda command: failing in " ".join(command))
    monkeypatch.setattr(install_requirements.subprocess, "run", recorder)
    monkeypatch.delenv("GENLAB_INSTALLER", raising=False)
    assert install_requirements.main(["requirements-dev.txt"]) == 0
    assert recorder.commands[-1][1:] == [
        "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", "requirements-dev.txt"
    ]  # fmt: skip
    assert "pip installs it instead" in capsys.readouterr().err


def test_genlab_installer_pip_skips_uv(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(install_requirements.subprocess, "run", recorder)
    monkeypatch.setenv("GENLAB_INSTALLER", "pip")
    assert install_requirements.main(["requirements.txt"]) == 0
    assert len(recorder.commands) == 1 and "uv" not in " ".join(recorder.commands[0])
