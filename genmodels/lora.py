"""LoRA fine-tuning of SmolLM2 on a student's own text (the peft library), and loading the result back.

Only small low-rank matrices beside the attention projections train (rank 8: about 0.9 M numbers against the
base model's 135 M); the base weights stay frozen. A saved adapter is a folder in the Hugging Face layout:
adapter_config.json and adapter_model.safetensors (peft's own format), GenLab's config.json and a README.md card.
Loading merges the adapter into a fresh copy of the base weights, so the Text tab decodes it like SmolLM2 itself.
"""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from .checkpoints import atomic_replace_dir
from .data import split_text
from .imports import names
from .smollm import CACHE_DIR
from .trainers import Trainer, _seeded_init, _warmup_cosine

BASE_MODEL = "smollm2-135m-instruct"
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MAX_SEQUENCE_TOKENS = 256
MAX_BATCH = 16
MAX_STEPS = 1000
ADAPTER_WEIGHTS = "adapter_model.safetensors"


@dataclass
class LoRATrainConfig:
    steps: int = 100
    batch_size: int = 4  # sequences per step
    sequence_length: int = 128  # tokens per sequence
    lr: float = 1e-3
    warmup_steps: int = 10
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    seed: int = 0
    preview_every: int = 0  # previews are text, produced by the caller


def load_base(folder: Path = CACHE_DIR):
    """(SmolLM2 in float32 on the CPU, its tokenizer) from the converted cache (genmodels.smollm.prepare)."""
    AutoModelForCausalLM = names("transformers", "AutoModelForCausalLM")

    tokenizer = load_tokenizer(folder)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, local_files_only=True)
    return model, tokenizer


def load_tokenizer(folder: Path = CACHE_DIR):
    """SmolLM2's tokenizer alone (what checking a text needs), from the converted cache."""
    PreTrainedTokenizerFast = names("transformers", "PreTrainedTokenizerFast")

    folder = Path(folder)
    if not (folder / "model.safetensors").is_file():
        raise ValueError("SmolLM2 is not prepared on this server yet (make setup converts it once)")
    return PreTrainedTokenizerFast.from_pretrained(str(folder), local_files_only=True)


def tokenize_split(tokenizer, text: str, sequence_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(training ids, held-out ids): the text's last tenth (by characters, as for the char-GPT) is held out."""
    train_text, held_out_text = split_text(text)
    train = torch.tensor(tokenizer.encode(train_text, add_special_tokens=False), dtype=torch.long)
    held_out = torch.tensor(tokenizer.encode(held_out_text, add_special_tokens=False), dtype=torch.long)
    if len(train) <= sequence_length + 1 or len(held_out) < 16:
        raise ValueError(
            f"the text is too short: its first 90% must be over {sequence_length + 1} tokens and its last 10% at "
            "least 16 tokens (paste a few hundred words or more)"
        )
    return train, held_out


class AdapterView(nn.Module):
    """The adapter's weights only, as a module the Trainer can save and restore (never the frozen base)."""

    def __init__(self, peft_model):
        super().__init__()
        object.__setattr__(self, "peft_model", peft_model)  # not a submodule: its state dict would hold the base

    def state_dict(self, *args, **kwargs):
        get_peft_model_state_dict = names("peft", "get_peft_model_state_dict")

        return {k: v.detach() for k, v in get_peft_model_state_dict(self.peft_model).items()}

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        set_peft_model_state_dict = names("peft", "set_peft_model_state_dict")

        result = set_peft_model_state_dict(self.peft_model, dict(state_dict))
        unexpected = getattr(result, "unexpected_keys", [])
        if strict and unexpected:
            raise ValueError(f"these weights are not part of the adapter: {unexpected[:3]}")
        return result

    def train(self, mode: bool = True):
        self.peft_model.train(mode)
        return self


class LoRATrainer(Trainer):
    """Fine-tunes SmolLM2 with LoRA on random windows of token ids: AdamW, warm-up then cosine decay."""

    def __init__(self, train_config: LoRATrainConfig, train_ids: torch.Tensor, base=None):
        LoraConfig, get_peft_model = names("peft", "LoraConfig", "get_peft_model")

        if len(train_ids) <= train_config.sequence_length + 1:
            raise ValueError(f"the training text must be longer than {train_config.sequence_length + 1} tokens")
        self.config = train_config
        base = base if base is not None else load_base()[0]
        lora = LoraConfig(
            r=train_config.rank,
            lora_alpha=train_config.alpha,
            lora_dropout=train_config.dropout,
            target_modules=list(TARGET_MODULES),
            bias="none",
            task_type="CAUSAL_LM",
        )
        self.model = _seeded_init(train_config.seed, lambda: get_peft_model(base, lora))
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, train_config.lr, betas=(0.9, 0.99), weight_decay=0.0)
        self.ids = train_ids
        self.batch_rng = torch.Generator("cpu").manual_seed(train_config.seed + 1)
        self.dropout_rng_seed = train_config.seed + 2
        self.modules = {"lora": AdapterView(self.model)}
        self.optimizers = {"optimizer": self.optimizer}
        self.rngs = {"batch": self.batch_rng}
        self.step = 0

    @property
    def trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    def learning_rate(self) -> float:
        return _warmup_cosine(self.config.lr, self.step, self.config.steps, self.config.warmup_steps)

    def train_step(self) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        length = self.config.sequence_length
        starts = torch.randint(len(self.ids) - length, (self.config.batch_size,), generator=self.batch_rng)
        batch = torch.stack([self.ids[s : s + length] for s in starts.tolist()])
        with torch.random.fork_rng(devices=[]):  # LoRA dropout: the same masks after a resume
            torch.manual_seed(self.dropout_rng_seed + self.step)
            loss = self.model(input_ids=batch, labels=batch).loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
        self.optimizer.step()
        return {"train": loss.item()}

    def export(self):
        """The fine-tuned model (base plus adapter, not merged), in eval mode."""
        return self.model.eval()

    def save_adapter(self, folder: Path, card_text: str, extra_config: dict | None = None) -> None:
        """The adapter as a Hugging Face folder: peft's adapter_config.json and safetensors, config.json, card."""
        was_training = self.model.training

        def build(tmp: Path) -> None:
            self.model.save_pretrained(str(tmp), safe_serialization=True)
            config = {
                "genlab_family": "lora",
                "base_model": BASE_MODEL,
                "train_config": asdict(self.config),
                "target_modules": list(TARGET_MODULES),
                **(extra_config or {}),
            }
            (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
            (tmp / "README.md").write_text(card_text, encoding="utf-8")

        atomic_replace_dir(build, Path(folder))
        self.model.train(was_training)


@torch.no_grad()
def held_out_loss(model, ids: torch.Tensor, sequence_length: int, max_windows: int = 16) -> float:
    """Mean cross-entropy in nats per token over up to max_windows evenly spaced, non-overlapping windows of ids
    (one window of all of them when they are fewer than sequence_length)."""
    was_training = model.training
    model.eval()
    length = min(sequence_length, len(ids))
    count = max(1, min(max_windows, len(ids) // length))
    starts = torch.linspace(0, len(ids) - length, count).long().tolist()
    total = tokens = 0.0
    for start in starts:
        window = ids[start : start + length][None]
        loss = model(input_ids=window, labels=window).loss
        total += loss.item() * (length - 1)
        tokens += length - 1
    model.train(was_training)
    return total / tokens


def perplexity_of(loss: float) -> float:
    return math.exp(loss)


def load_merged(folder: Path, base_dir: Path = CACHE_DIR):
    """A saved adapter merged into a fresh copy of SmolLM2: a plain float32 model (and the tokenizer).

    The weights are read only from adapter_model.safetensors (never a pickle), and must be exactly the adapter's.
    """
    LoraConfig, get_peft_model, set_peft_model_state_dict = names(
        "peft", "LoraConfig", "get_peft_model", "set_peft_model_state_dict"
    )

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    weights = folder / ADAPTER_WEIGHTS
    if config.get("genlab_family") != "lora" or not weights.is_file():
        raise ValueError(f"{folder.name} is not a GenLab LoRA adapter")
    train = config.get("train_config", {})
    base, tokenizer = load_base(base_dir)
    lora = LoraConfig(
        r=int(train.get("rank", 8)),
        lora_alpha=int(train.get("alpha", 16)),
        target_modules=list(config.get("target_modules", TARGET_MODULES)),
        bias="none",
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, lora)
    state = load_file(str(weights))
    expected = set(AdapterView(model).state_dict())
    if set(state) != expected:
        raise ValueError(f"{folder.name}: the adapter's weights do not fit SmolLM2")
    set_peft_model_state_dict(model, state)
    return model.merge_and_unload().eval().requires_grad_(False), tokenizer
