"""Builds and loads GenLab's fused CPU decode step (`csrc/decode_step.cpp`), or says why it could not.

The step is compiled once per machine with the local C++ compiler (about a minute on two cores) into a
git-ignored folder named after the CPU, torch's version and the source, so a copy of the project moved to
another CPU builds its own. Without a compiler, or when the build fails, everything still works through the
Python decode path; only speed differs. `make setup` builds it ahead of time.
"""

import hashlib
import logging
import os
import platform
import threading
from pathlib import Path

import torch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).resolve().parent / "csrc" / "decode_step.cpp"
BUILD_ROOT = PROJECT_ROOT / ".cache" / "extensions"
DISABLE_ENVIRONMENT = "GENLAB_LM_FUSED"  # "0" turns the fused step off

log = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict[str, object] = {}


def _cpu_identity() -> str:
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(("flags", "Features", "model name")):
                    flags += line
    except OSError:
        flags = platform.processor()
    return f"{platform.machine()}|{torch.__version__}|{torch.backends.cpu.get_cpu_capability()}|{flags}"


def build_directory() -> Path:
    digest = hashlib.sha256((_cpu_identity() + SOURCE.read_text(encoding="utf-8")).encode()).hexdigest()[:16]
    return BUILD_ROOT / f"decode-step-{platform.machine()}-{digest}"


def disabled(environ: dict | None = None) -> bool:
    return (os.environ if environ is None else environ).get(DISABLE_ENVIRONMENT, "").strip() == "0"


def load() -> bool:
    """True when torch.ops.genlab.decode_step is ready (building it if needed); never raises."""
    if disabled():
        return False
    with _lock:
        if "loaded" in _state:
            return bool(_state["loaded"])
        _state["loaded"] = False
        try:
            from torch.utils import cpp_extension

            folder = build_directory()
            folder.mkdir(parents=True, exist_ok=True)
            # -march=native: the folder's name ties the build to this CPU. -fopenmp: at::parallel_for is OpenMP inline.
            for flags in (["-O3", "-march=native", "-fopenmp"], ["-O3", "-fopenmp"], ["-O3"]):
                try:
                    cpp_extension.load(
                        name="genlab_decode_step",
                        sources=[str(SOURCE)],
                        extra_cflags=flags,
                        build_directory=str(folder),
                        is_python_module=False,
                        verbose=False,
                    )
                    break
                except (RuntimeError, OSError, ImportError) as error:
                    _state["error"] = str(error).strip().splitlines()[-1][:300] if str(error).strip() else repr(error)
            _state["loaded"] = hasattr(torch.ops.genlab, "decode_step")
        except Exception as error:  # a missing compiler or toolchain shows up in many forms
            _state["error"] = f"{type(error).__name__}: {str(error)[:300]}"
        if not _state["loaded"]:
            log.info("fused decode step unavailable (%s); using the Python decode path", _state.get("error"))
        return bool(_state["loaded"])


def unavailable_reason() -> str | None:
    if disabled():
        return f"{DISABLE_ENVIRONMENT}=0"
    return None if _state.get("loaded") else str(_state.get("error", "not built"))


if __name__ == "__main__":
    print("fused decode step:", "ready" if load() else f"unavailable ({unavailable_reason()})")
