"""The language models the Text tab offers: SmolLM2 offline, the shipped char-GPTs, and hub models when reachable.

Hub models are listed only if they are already in the local Hugging Face cache or the hub answered a quick
check made in the background at start-up; nothing here ever blocks on the network.

`preload()` prepares and loads SmolLM2 in a background thread, so a server answers at once and its first
Generate finds the model warm; until then `status()` says what is happening and how long it should take.
"""

import ctypes
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import smollm
from .fastllama import load_fast_llama
from .lm import CharModel, FastModel, HFModel, LanguageModel
from .registry import Registry, UnknownModel
from .smollm import CACHE_DIR

log = logging.getLogger(__name__)

SMOLLM = "smollm2-135m-instruct"
HUB_MODELS = ("distilgpt2", "gpt2", "HuggingFaceTB/SmolLM2-135M")
HUB_CHECK_TIMEOUT_SECONDS = 2.0
MAX_CONTEXT_TOKENS = 2048  # longer prompts are cut: prefilling more on a small CPU takes too long
# The text every decode path is checked on against float32 when SmolLM2 loads (not one of the tests' texts).
SELF_CHECK_TEXT = (
    "The old lighthouse keeper climbed the stairs each evening to light the lamp. Ships passing in the night "
    "never knew his name, but they trusted the beam that swept across the water until dawn."
)
DEFAULT_LOAD_SECONDS = 8.0  # the expected wait before any load has been measured on this machine
LOAD_TIMES_FILE = CACHE_DIR.parent / "load-seconds.json"
DECODE_PATHS_FILE = CACHE_DIR.parent / "decode-paths.json"  # each machine's measured decode path (fastllama)


def release_free_memory() -> bool:
    """Hand memory that was freed back to the OS (glibc's malloc_trim); False where that is not available."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class LoadStatus:
    """Where a model's background preparation stands."""

    state: str  # "absent", "waiting", "preparing", "loading", "ready" or "failed"
    message: str
    elapsed_seconds: float = 0.0
    expected_seconds: float = 0.0
    ready_wall_time: float | None = None  # time.time() when it became ready

    @property
    def ready(self) -> bool:
        return self.state == "ready"


def preferred_dtype(device: torch.device) -> torch.dtype:
    """For models other than Llama: half precision on a GPU (bfloat16 where supported), float32 on a CPU."""
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
        self._status: dict[str, LoadStatus] = {}
        self._started: dict[str, float] = {}
        if check_hub and os.environ.get("HF_HUB_OFFLINE") != "1":
            threading.Thread(target=self._check_hub, daemon=True).start()

    def _expected_seconds(self, name: str) -> float:
        try:
            return float(json.loads(LOAD_TIMES_FILE.read_text(encoding="utf-8"))[name])
        except (OSError, ValueError, KeyError, TypeError):
            return DEFAULT_LOAD_SECONDS

    def _record_seconds(self, name: str, seconds: float) -> None:
        try:
            times = json.loads(LOAD_TIMES_FILE.read_text(encoding="utf-8")) if LOAD_TIMES_FILE.is_file() else {}
            times[name] = round(seconds, 2)
            LOAD_TIMES_FILE.parent.mkdir(parents=True, exist_ok=True)
            LOAD_TIMES_FILE.write_text(json.dumps(times), encoding="utf-8")
        except (OSError, ValueError):
            pass

    def _set_status(self, name: str, state: str, message: str) -> None:
        started = self._started.get(name, time.monotonic())
        self._status[name] = LoadStatus(state, message, time.monotonic() - started, self._expected_seconds(name))

    def preload(self, name: str = SMOLLM, after: threading.Event | None = None) -> threading.Thread:
        """Prepare (convert once) and load `name` in the background, once `after` is set; returns the thread."""
        self._started[name] = time.monotonic()
        self._set_status(name, "waiting", "waiting for the server to start")
        thread = threading.Thread(target=self._preload, args=(name, after), daemon=True, name=f"preload-{name}")
        thread.start()
        return thread

    def _preload(self, name: str, after: threading.Event | None) -> None:
        if after is not None:
            after.wait()
        try:
            if name == SMOLLM and not (self.smollm_dir / "model.safetensors").is_file():
                self._set_status(name, "preparing", "fetching and converting SmolLM2 (once per machine)")
                smollm.prepare(self.smollm_dir)
            self._set_status(name, "loading", "loading the weights and choosing the fastest accurate kernel")
            self.load(name)
            release_free_memory()  # loading freed a float32 copy and the checked candidates: give it back
            seconds = time.monotonic() - self._started[name]
            self._record_seconds(name, seconds)
            self._status[name] = LoadStatus(
                "ready", f"ready (loaded in {seconds:.1f} s)", seconds, seconds, time.time()
            )
            log.info("%s preloaded in %.1f s", name, seconds)
        except Exception as error:  # reported to the page; the server keeps serving the other models
            self._set_status(name, "failed", f"could not be loaded: {str(error)[:300]}")
            log.warning("preloading %s failed: %s", name, error)

    def status(self, name: str) -> LoadStatus:
        """How far `name` is from ready; a model never preloaded is 'ready' once loaded, else 'absent'."""
        status = self._status.get(name)
        if name in self._models:
            return status if status is not None and status.ready else LoadStatus("ready", "ready")
        if status is None:
            return LoadStatus("absent", "loads on first use")
        if status.state in ("ready", "failed"):
            return status
        return LoadStatus(
            status.state,
            status.message,
            time.monotonic() - self._started[name],
            status.expected_seconds,
        )

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
        preparing = self._status.get(SMOLLM) is not None and self._status[SMOLLM].state != "failed"
        names = [SMOLLM] if preparing or (self.smollm_dir / "model.safetensors").is_file() else []
        names += self.registry.names("chargpt")
        if (self.smollm_dir / "model.safetensors").is_file():
            names += self.registry.names("lora")  # fine-tuned SmolLM2s need the base model
        names += [repo for repo in HUB_MODELS if self._hub_reachable or self._cached_on_disk(repo)]
        return names

    def forget(self, name: str) -> None:
        """Drop a cached model whose checkpoint a training run replaced."""
        with self._guard:
            self._models.pop(name, None)
        self.registry.forget(name)

    def is_chat_model(self, name: str) -> bool:
        return name == SMOLLM or (isinstance(name, str) and name in self.registry.names("lora"))

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
                if name == SMOLLM and not (self.smollm_dir / "model.safetensors").is_file():
                    raise UnknownModel(f"{SMOLLM} is still being prepared")
                self._models[name] = self._build(name)
        return self._models[name]

    def kernel_report(self, name: str = SMOLLM):
        """The decode path a loaded Llama-architecture model uses and why (None if not loaded or not one)."""
        model = self._models.get(name)
        return getattr(getattr(model, "fast", None), "report", None)

    def _build(self, name: str) -> LanguageModel:
        if name in self.registry.names("chargpt"):
            return CharModel(self.registry.load(name, "chargpt"))
        if name in self.registry.names("lora"):
            return self._build_adapter(name)
        from .imports import names

        AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast = names(
            "transformers", "AutoConfig", "AutoModelForCausalLM", "AutoTokenizer", "PreTrainedTokenizerFast"
        )

        source = str(self.smollm_dir) if name == SMOLLM else name
        local = name == SMOLLM or self._cached_on_disk(name)
        if name == SMOLLM:  # a known fast tokenizer: loading it directly skips AutoTokenizer's 1.3 s of probing
            tokenizer = PreTrainedTokenizerFast.from_pretrained(source, local_files_only=True)
        else:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
        # Llama-architecture models load in float32: it is the reference their decode paths are checked against.
        is_llama = AutoConfig.from_pretrained(source, local_files_only=local).model_type == "llama"
        dtype = torch.float32 if is_llama else preferred_dtype(self.device)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, local_files_only=local)
        model = model.to(self.device).eval().requires_grad_(False)
        context = min(int(getattr(model.config, "max_position_embeddings", 1024)), MAX_CONTEXT_TOKENS)
        if model.config.model_type == "llama":
            # The fastest decode path that keeps float32's quality here, chosen by measurement (see fastllama).
            check_ids = tokenizer.encode(SELF_CHECK_TEXT, add_special_tokens=False)
            fast = load_fast_llama(model, check_ids, choices_file=DECODE_PATHS_FILE)
            log.info("%s decodes with the %s path (%s)", name, fast.kernel, fast.report)
            return FastModel(fast, tokenizer, context)
        wrapped = HFModel(model, tokenizer)
        wrapped.context_length = context
        return wrapped

    def _build_adapter(self, name: str) -> LanguageModel:
        """A LoRA fine-tune of SmolLM2 (a Training-tab run): merged into a fresh copy of the base weights and served
        through the same checked decode path as SmolLM2."""
        from .lora import load_merged

        model, tokenizer = load_merged(self.registry.entry(name, "lora").folder, self.smollm_dir)
        model = model.to(self.device)
        check_ids = tokenizer.encode(SELF_CHECK_TEXT, add_special_tokens=False)
        fast = load_fast_llama(model, check_ids, choices_file=DECODE_PATHS_FILE)
        return FastModel(fast, tokenizer, MAX_CONTEXT_TOKENS)

    def chat_prompt(self, name: str, prompt: str) -> str:
        """The prompt wrapped in the instruct model's chat template, ready for the assistant's answer."""
        model = self.load(name)
        if not isinstance(model, HFModel) or not model.tokenizer.chat_template:
            raise ValueError(f"{name} has no chat template")
        messages = [{"role": "user", "content": prompt}]
        return model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
