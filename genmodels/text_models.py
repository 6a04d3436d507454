"""The language models the Text tab offers: SmolLM2 offline, the shipped char-GPTs, and hub models when reachable.

Hub models are listed only if they are already in the local Hugging Face cache or the hub answered a quick
check made in the background at start-up; nothing here ever blocks on the network.
"""

import os
import threading
from pathlib import Path

import torch

from .lm import CharModel, HFModel, LanguageModel
from .registry import Registry, UnknownModel
from .smollm import CACHE_DIR

SMOLLM = "smollm2-135m-instruct"
HUB_MODELS = ("distilgpt2", "gpt2", "HuggingFaceTB/SmolLM2-135M")
HUB_CHECK_TIMEOUT_SECONDS = 2.0


def preferred_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 where the hardware computes it natively (CUDA, or a CPU with AVX-512 BF16/AMX), else float32."""
    override = os.environ.get("GENLAB_LM_DTYPE")
    if override:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[override]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    capability = torch.backends.cpu.get_cpu_capability().lower()
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    return (
        torch.bfloat16 if ("avx512_bf16" in flags or "amx_bf16" in flags) and "avx512" in capability else torch.float32
    )


class TextModels:
    """Named language models, loaded lazily once each, shared read-only."""

    def __init__(self, registry: Registry, smollm_dir: Path = CACHE_DIR, check_hub: bool = True):
        self.registry = registry
        self.smollm_dir = Path(smollm_dir)
        self.device = registry.device
        self._models: dict[str, LanguageModel] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._hub_reachable = False
        if check_hub and os.environ.get("HF_HUB_OFFLINE") != "1":
            threading.Thread(target=self._check_hub, daemon=True).start()

    def _check_hub(self) -> None:
        try:
            import httpx

            response = httpx.head("https://huggingface.co/api/models/gpt2", timeout=HUB_CHECK_TIMEOUT_SECONDS)
            self._hub_reachable = response.status_code < 500
        except Exception:
            self._hub_reachable = False

    @staticmethod
    def _cached_on_disk(repo_id: str) -> bool:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)

    def names(self) -> list[str]:
        names = [SMOLLM] if (self.smollm_dir / "model.safetensors").is_file() else []
        names += self.registry.names("chargpt")
        names += [repo for repo in HUB_MODELS if self._hub_reachable or self._cached_on_disk(repo)]
        return names

    def is_chat_model(self, name: str) -> bool:
        return name == SMOLLM

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def load(self, name: str) -> LanguageModel:
        if not isinstance(name, str) or name not in self.names():
            raise UnknownModel(
                f"unknown language model {str(name)[:80]!r}; available: {', '.join(self.names()) or 'none'}"
            )
        model = self._models.get(name)
        if model is not None:
            return model
        with self._lock(name):
            if name not in self._models:
                self._models[name] = self._build(name)
        return self._models[name]

    def _build(self, name: str) -> LanguageModel:
        if name in self.registry.names("chargpt"):
            return CharModel(self.registry.load(name, "chargpt"))
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = str(self.smollm_dir) if name == SMOLLM else name
        local = name == SMOLLM or self._cached_on_disk(name)
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
        model = AutoModelForCausalLM.from_pretrained(
            source, dtype=preferred_dtype(self.device), local_files_only=local, use_safetensors=name == SMOLLM or None
        )
        return HFModel(model.to(self.device).eval().requires_grad_(False), tokenizer)

    def chat_prompt(self, name: str, prompt: str) -> str:
        """The prompt wrapped in the instruct model's chat template, ready for the assistant's answer."""
        model = self.load(name)
        if not isinstance(model, HFModel) or not model.tokenizer.chat_template:
            raise ValueError(f"{name} has no chat template")
        messages = [{"role": "user", "content": prompt}]
        return model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
