"""The language models the Text tab offers: SmolLM2 offline, the shipped char-GPTs, and hub models when reachable.

Hub models are listed only if they are already in the local Hugging Face cache or the hub answered a quick
check made in the background at start-up; nothing here ever blocks on the network.
"""

import os
import threading
from pathlib import Path

import torch

from .fastllama import FastLlama
from .lm import CharModel, FastModel, HFModel, LanguageModel
from .registry import Registry, UnknownModel
from .smollm import CACHE_DIR

SMOLLM = "smollm2-135m-instruct"
HUB_MODELS = ("distilgpt2", "gpt2", "HuggingFaceTB/SmolLM2-135M")
HUB_CHECK_TIMEOUT_SECONDS = 2.0
MAX_CONTEXT_TOKENS = 2048  # longer prompts are cut: prefilling more on a small CPU takes too long


def preferred_dtype(device: torch.device) -> torch.dtype:
    """On a GPU, half precision (bfloat16 where supported); on a CPU, float32 (decoding goes int8 there)."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


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

    def forget(self, name: str) -> None:
        """Drop a cached model whose checkpoint a training run replaced."""
        with self._guard:
            self._models.pop(name, None)
        self.registry.forget(name)

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
        from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

        source = str(self.smollm_dir) if name == SMOLLM else name
        local = name == SMOLLM or self._cached_on_disk(name)
        if name == SMOLLM:  # a known fast tokenizer: loading it directly skips AutoTokenizer's 1.3 s of probing
            tokenizer = PreTrainedTokenizerFast.from_pretrained(source, local_files_only=True)
        else:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
        on_cpu = self.device.type == "cpu"
        model = AutoModelForCausalLM.from_pretrained(source, dtype=preferred_dtype(self.device), local_files_only=local)
        model = model.to(self.device).eval().requires_grad_(False)
        context = min(int(getattr(model.config, "max_position_embeddings", 1024)), MAX_CONTEXT_TOKENS)
        if model.config.model_type == "llama":
            # int8 decoding on a CPU (prompt perplexity and greedy quality are checked in tests and the benchmark).
            return FastModel(FastLlama(model, dtype=model.dtype, int8_decode=on_cpu), tokenizer, context)
        wrapped = HFModel(model, tokenizer)
        wrapped.context_length = context
        return wrapped

    def chat_prompt(self, name: str, prompt: str) -> str:
        """The prompt wrapped in the instruct model's chat template, ready for the assistant's answer."""
        model = self.load(name)
        if not isinstance(model, HFModel) or not model.tokenizer.chat_template:
            raise ValueError(f"{name} has no chat template")
        messages = [{"role": "user", "content": prompt}]
        return model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
