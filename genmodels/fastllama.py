"""A lean decode path for Llama-architecture models such as SmolLM2.

The same maths as transformers' LlamaForCausalLM, arranged for one token at a time on a small CPU, where a
decode step is a few dozen small operations per layer and each operation's fixed cost counts as much as its
arithmetic:
- fused q/k/v and gate/up projections (fewer, larger matrix products), each through a packed kernel from
  `lm_kernels` (float32, bfloat16, int8 or 4-bit weights), chosen by measurement and an accuracy check;
- rotary embeddings as one complex multiplication: the q and k rows are permuted once at load so that each
  rotated pair sits side by side (the attention scores are unchanged, since q and k get the same permutation);
- the attention scale folded into the q rows, a key/value cache that grows in place, fused RMSNorm;
- the residual stream, norms, attention and cache in float32 (on a GPU: the kernel's half precision).
"""

import hashlib
import json
import math
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from . import decode_extension
from .lm_kernels import FUSED_Q8, GROUP_SIZE, KERNELS, LINEAR, PackedLinear, candidates, requested_kernel

SCORE_CHUNK_TOKENS = 64  # positions whose vocabulary-wide logits exist at once while scoring
PREFILL_CHUNK_TOKENS = 128  # prompt positions whose activations exist at once (256: +255 MB for a full window)
# The accuracy self-check: teacher-forced through the decode path, against float32 on the same tokens.
SELF_CHECK_MAX_PERPLEXITY_CHANGE = 0.005
SELF_CHECK_MAX_MEAN_KL_NATS = 0.001
# Paths whose matrix products time slower than this multiple of the fastest are not worth building and checking.
SHORTLIST_SLOWDOWN = 2.0


@dataclass
class KVCache:
    keys: list[torch.Tensor] = field(default_factory=list)  # per layer (kv_heads, capacity, head_dim)
    values: list[torch.Tensor] = field(default_factory=list)
    length: int = 0


@dataclass(frozen=True)
class KernelReport:
    """Why a kernel decodes this model: what was measured and checked at load time."""

    kernel: str
    forced: bool
    seconds_per_step: dict[str, float]  # kernel -> one decode step's matrix products, measured on one layer
    checks: dict[str, tuple[float, float]]  # kernel -> (perplexity change, mean KL in nats) on the check text
    tokens_per_second: dict[str, float]  # kernel -> its decode speed in the race between the paths that passed
    rejected: dict[str, str]  # kernel -> why it was not used
    load_seconds: float = 0.0
    # True: the screening and race were this machine's earlier measurement (tokens_per_second and rejected are
    # theirs), and only the chosen path's accuracy check ran at this load
    remembered: bool = False


def _interleave_rotary_rows(weight: torch.Tensor, heads: int, head_dim: int) -> torch.Tensor:
    """Reorder each head's rows from (first halves, second halves) to pairs (i, i + head_dim / 2) side by side."""
    out_features, in_features = weight.shape
    per_head = weight.reshape(heads, 2, head_dim // 2, in_features)  # (heads, half, pair index, in)
    return per_head.transpose(1, 2).reshape(out_features, in_features)


class FastLlama:
    """Packed read-only weights shared by every request; each request owns its KVCache."""

    def __init__(self, model, kernel: str = "float32", fused: bool | None = None):
        config = model.config
        self.device = next(model.parameters()).device
        self.kernel = kernel
        path = KERNELS[kernel]
        state = {name: tensor.detach() for name, tensor in model.state_dict().items()}
        self.layers = config.num_hidden_layers
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.hidden = config.hidden_size
        self.intermediate = config.intermediate_size
        self.eps = config.rms_norm_eps
        self.vocab = config.vocab_size
        theta = (getattr(config, "rope_parameters", None) or {}).get(
            "rope_theta", getattr(config, "rope_theta", 10000.0)
        )
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float64) / self.head_dim))
        # (rotations, cos, sin) for positions 0.., replaced whole when a longer context needs more rows, so a
        # request reading it while another extends it sees one consistent table.
        self._tables = self._rotation_tables(min(int(getattr(config, "max_position_embeddings", 2048)), 8192))
        # On a GPU the stream runs in the kernel's half precision; on a CPU always in float32.
        half = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(kernel)
        self.dtype = half if half is not None and self.device.type != "cpu" else torch.float32
        embed = state["model.embed_tokens.weight"]
        self.head: PackedLinear = LINEAR[path.head](state.get("lm_head.weight", embed).to(self.dtype))
        # Tied embeddings under GGUF's Q8_0 head: the head's codes are the embedding (Q8_0 values round-trip
        # exactly), so rows are looked up from them and no float copy is kept (113 MB for SmolLM2).
        tied = "lm_head.weight" not in state or torch.equal(state["lm_head.weight"], embed)
        if tied and self.head.fused_kind == FUSED_Q8 and self._q8_round_trips(embed):
            self.embed = None
        else:
            self.embed = embed.to(self.dtype).contiguous()  # (V, H): rows are looked up, never multiplied
        self.norm = state["model.norm.weight"].to(self.dtype)
        self.q_size, self.kv_size = self.heads * self.head_dim, self.kv_heads * self.head_dim
        pack = LINEAR[path.body]
        scale = 1.0 / math.sqrt(self.head_dim)
        self.blocks = []
        for i in range(self.layers):
            w = {k[len(f"model.layers.{i}.") :]: v for k, v in state.items() if k.startswith(f"model.layers.{i}.")}
            q = _interleave_rotary_rows(w["self_attn.q_proj.weight"].float(), self.heads, self.head_dim) * scale
            k = _interleave_rotary_rows(w["self_attn.k_proj.weight"].float(), self.kv_heads, self.head_dim)
            self.blocks.append(
                {
                    "qkv": pack(torch.cat([q, k, w["self_attn.v_proj.weight"].float()]).to(self.dtype)),
                    "o": pack(w["self_attn.o_proj.weight"].to(self.dtype)),
                    "gate_up": pack(torch.cat([w["mlp.gate_proj.weight"], w["mlp.up_proj.weight"]]).to(self.dtype)),
                    "down": pack(w["mlp.down_proj.weight"].to(self.dtype)),
                    "ln1": w["input_layernorm.weight"].to(self.dtype),
                    "ln2": w["post_attention_layernorm.weight"].to(self.dtype),
                }
            )
        self.report: KernelReport | None = None
        # One C++ call per decode step when the extension is built and the kernel is one it knows.
        names = ("qkv", "o", "gate_up", "down")
        fusable = self.device.type == "cpu" and all(b[n].fused_kind is not None for b in self.blocks for n in names)
        kinds = {self.blocks[0][n].fused_kind for n in names} if fusable else set()
        self.fused = bool(fused is not False and fusable and len(kinds) == 1 and decode_extension.load())
        self._fused_kind = kinds.pop() if self.fused else None
        self._fused_weights = (
            [
                tensor
                for block in self.blocks
                for tensor in (
                    *(t for n in names for t in (block[n].weight, block[n].scales, block[n].minima)),
                    block["ln1"].contiguous(),
                    block["ln2"].contiguous(),
                )
            ]
            if self.fused
            else []
        )

    @property
    def weight_bytes(self) -> int:
        packed = [block[name] for block in self.blocks for name in ("qkv", "o", "gate_up", "down")]
        embed = 0 if self.embed is None else self.embed.numel() * self.embed.element_size()
        return sum(linear.nbytes for linear in [*packed, self.head]) + embed

    def _q8_rows(self, ids: torch.Tensor) -> torch.Tensor:
        """Embedding rows dequantised from the Q8_0 head: code * its group's scale, (T, H) float32."""
        codes, scales = self.head.weight[ids].float(), self.head.scales[ids].float()
        return (codes.view(len(ids), -1, GROUP_SIZE) * scales[..., None]).view(len(ids), -1)

    def _q8_round_trips(self, embed: torch.Tensor) -> bool:
        rows = torch.arange(len(embed), device=self.device)
        return all(torch.equal(self._q8_rows(chunk), embed[chunk].float()) for chunk in rows.split(4096))

    def _embed_rows(self, ids: list[int]) -> torch.Tensor:
        index = torch.tensor(ids, device=self.device)
        return self._q8_rows(index) if self.embed is None else self.embed[index]

    def _rotation_tables(self, capacity: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """e^(i * position * inv_freq) for positions 0..capacity-1: (capacity, head_dim / 2) complex, cos, sin."""
        angles = torch.arange(capacity, dtype=torch.float64)[:, None] * self.inv_freq[None, :]
        rotations = torch.polar(torch.ones_like(angles), angles).to(torch.complex64).to(self.device)
        return rotations, rotations.real.contiguous(), rotations.imag.contiguous()

    def _tables_for(self, end: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tables = self._tables
        if end > tables[0].shape[0]:
            tables = self._tables = self._rotation_tables(max(end, 2 * tables[0].shape[0]))
        return tables

    def reserve(self, cache: KVCache, positions: int) -> None:
        """Make room for `positions` in the cache now, so decoding up to there never reallocates it."""
        self._grow(cache, positions, exact=True)

    def _grow(self, cache: KVCache, needed: int, exact: bool = False) -> None:
        capacity = cache.keys[0].shape[1] if cache.keys else 0
        if needed <= capacity:
            return
        new_capacity = needed if exact else max(needed, 2 * capacity, 256)
        shape = (self.kv_heads, new_capacity, self.head_dim)
        for index in range(self.layers):
            keys = torch.zeros(shape, dtype=self.dtype, device=self.device)
            values = torch.zeros(shape, dtype=self.dtype, device=self.device)
            if capacity:
                keys[:, : cache.length] = cache.keys[index][:, : cache.length]
                values[:, : cache.length] = cache.values[index][:, : cache.length]
            if index < len(cache.keys):
                cache.keys[index], cache.values[index] = keys, values
            else:
                cache.keys.append(keys)
                cache.values.append(values)

    def _linear(self, packed: PackedLinear, x: torch.Tensor) -> torch.Tensor:
        return packed(x).to(self.dtype)

    @torch.inference_mode()
    def hidden_states(self, ids: list[int], cache: KVCache) -> torch.Tensor:
        """Append ids to the cache; the final normed hidden state of each new position (T, H).

        Long prompts go through in chunks of PREFILL_CHUNK_TOKENS, each attending to the cache so far: the same
        result, with a tenth of the activations alive at once.
        """
        if len(ids) > PREFILL_CHUNK_TOKENS:
            self._grow(cache, cache.length + len(ids))
            chunks = [ids[i : i + PREFILL_CHUNK_TOKENS] for i in range(0, len(ids), PREFILL_CHUNK_TOKENS)]
            return torch.cat([self._hidden_states(chunk, cache) for chunk in chunks])
        return self._hidden_states(ids, cache)

    def _hidden_states(self, ids: list[int], cache: KVCache) -> torch.Tensor:
        count, start = len(ids), cache.length
        end = start + count
        self._grow(cache, end)
        rotations, cos, sin = self._tables_for(end)
        rotation = rotations[start:end, None, :]  # (T, 1, head_dim / 2)
        x = self._embed_rows(ids)  # (T, H) the residual stream
        if count == 1 and self.fused:
            x = torch.ops.genlab.decode_step(
                x,
                self._fused_weights,
                cache.keys,
                cache.values,
                cos,
                sin,
                start,
                self._fused_kind,
                self.heads,
                self.kv_heads,
                self.eps,
            )
            cache.length = end
            return F.rms_norm(x, (self.hidden,), self.norm, self.eps)
        group = self.heads // self.kv_heads
        rotated_width = self.q_size + self.kv_size
        for index, block in enumerate(self.blocks):
            qkv = self._linear(block["qkv"], F.rms_norm(x, (self.hidden,), block["ln1"], self.eps))  # (T, q+k+v)
            pairs = qkv[:, :rotated_width].float().reshape(count, self.heads + self.kv_heads, self.head_dim // 2, 2)
            qk = torch.view_as_real(torch.view_as_complex(pairs) * rotation).reshape(count, -1, self.head_dim)
            keys, values = cache.keys[index], cache.values[index]
            keys[:, start:end] = qk[:, self.heads :].transpose(0, 1)
            values[:, start:end] = qkv[:, rotated_width:].reshape(count, self.kv_heads, self.head_dim).transpose(0, 1)
            q = qk[:, : self.heads].to(self.dtype)  # (T, heads, head_dim), already scaled by 1 / sqrt(head_dim)
            if count == 1:  # one query: a product and a softmax per key/value head, no mask
                q = q.reshape(self.kv_heads, group, self.head_dim)  # heads 0..g-1 share key/value head 0, ...
                weights = torch.softmax(q @ keys[:, :end].transpose(1, 2), dim=-1)  # (kv_heads, group, end)
                attention = (weights @ values[:, :end]).reshape(1, self.q_size)
            else:  # query i sees keys up to start + i
                # From an empty cache that is plain causal attention, which SDPA computes in blocks (flash) without
                # a T x T matrix per head: a 2,048-token prompt would otherwise hold 150 MB of scores at once.
                causal = start == 0
                mask = None
                if not causal:
                    mask = (
                        torch.arange(end, device=self.device)[None, :]
                        <= torch.arange(start, end, device=self.device)[:, None]
                    )
                query = q.transpose(0, 1)[None]  # (1, heads, T, head_dim)
                key_rows, value_rows = keys[None, :, :end], values[None, :, :end]
                if causal:  # the flash path wants as many key/value heads as query heads
                    key_rows = key_rows.repeat_interleave(group, dim=1)
                    value_rows = value_rows.repeat_interleave(group, dim=1)
                attention = F.scaled_dot_product_attention(
                    query, key_rows, value_rows, attn_mask=mask, is_causal=causal, scale=1.0, enable_gqa=not causal
                )[0]  # (heads, T, head_dim)
                attention = attention.transpose(0, 1).reshape(count, self.q_size)
            x = x + self._linear(block["o"], attention)
            gate_up = self._linear(block["gate_up"], F.rms_norm(x, (self.hidden,), block["ln2"], self.eps))
            x = x + self._linear(
                block["down"], F.silu(gate_up[:, : self.intermediate]) * gate_up[:, self.intermediate :]
            )
        cache.length = end
        return F.rms_norm(x, (self.hidden,), self.norm, self.eps)

    @torch.inference_mode()
    def forward(self, ids: list[int], cache: KVCache) -> torch.Tensor:
        """Append ids to the cache; float32 logits (V,) on the CPU for the token after them."""
        return self.head(self.hidden_states(ids, cache)[-1:].float())[0].float().cpu()

    @torch.inference_mode()
    def score(self, ids: list[int]) -> list[float]:
        """log p(ids[i] | ids[:i]) for i >= 1 in nats, never holding more than a chunk of vocabulary-wide logits."""
        states = self.hidden_states(ids[:-1], KVCache())  # (T - 1, H)
        targets = torch.tensor(ids[1:], device=self.device)
        scores = []
        for begin in range(0, states.shape[0], SCORE_CHUNK_TOKENS):
            logits = self.head(states[begin : begin + SCORE_CHUNK_TOKENS].float()).double()
            chosen = targets[begin : begin + SCORE_CHUNK_TOKENS]
            scores += (logits.gather(1, chosen[:, None])[:, 0] - torch.logsumexp(logits, dim=-1)).tolist()
        return scores


def decode_path_log_probs(fast: FastLlama, ids: list[int]) -> torch.Tensor:
    """Teacher-forced one token at a time through the cache, exactly as generation runs: (T - 1, V) log-probs."""
    cache = KVCache()
    logits = [fast.forward(ids[:1], cache)]
    for token in ids[1:-1]:
        logits.append(fast.forward([token], cache))
    return torch.log_softmax(torch.stack(logits).double(), dim=-1)


def decode_path_perplexity(fast: FastLlama, token_lists: list[list[int]]) -> float:
    """Perplexity with teacher forcing through the decode path, over several texts together."""
    total, count = 0.0, 0
    for ids in token_lists:
        log_probs = decode_path_log_probs(fast, ids)
        total -= float(log_probs.gather(1, torch.tensor(ids[1:])[:, None]).sum())
        count += len(ids) - 1
    return math.exp(total / count)


def compare_to_reference(fast: FastLlama, reference_log_probs: torch.Tensor, ids: list[int]) -> tuple[float, float]:
    """(relative perplexity change, mean KL(reference || fast) in nats) over the positions of ids."""
    log_probs = decode_path_log_probs(fast, ids)
    targets = torch.tensor(ids[1:])[:, None]
    change = math.exp(float(reference_log_probs.gather(1, targets).mean() - log_probs.gather(1, targets).mean())) - 1
    kl = float((reference_log_probs.exp() * (reference_log_probs - log_probs)).sum(dim=-1).mean())
    return change, kl


def _step_matrices(model, kernel: str) -> tuple[list[PackedLinear], PackedLinear]:
    """One layer's projections and the output head in `kernel`'s layout, for timing a decode step's products."""
    state = model.state_dict()
    weight = {
        name[len("model.layers.0.") :]: t.float() for name, t in state.items() if name.startswith("model.layers.0.")
    }
    matrices = [
        torch.cat(
            [weight["self_attn.q_proj.weight"], weight["self_attn.k_proj.weight"], weight["self_attn.v_proj.weight"]]
        ),
        weight["self_attn.o_proj.weight"],
        torch.cat([weight["mlp.gate_proj.weight"], weight["mlp.up_proj.weight"]]),
        weight["mlp.down_proj.weight"],
    ]
    pack, pack_head = LINEAR[KERNELS[kernel].body], LINEAR[KERNELS[kernel].head]
    head = state.get("lm_head.weight", state["model.embed_tokens.weight"]).float()
    return [pack(matrix) for matrix in matrices], pack_head(head)


def reference_log_probs(model, ids: list[int]) -> torch.Tensor:
    """float32 log-probabilities (T - 1, V) of the model's own forward pass: what every kernel is checked against."""
    with torch.inference_mode():
        logits = model(torch.tensor([ids], device=next(model.parameters()).device)).logits[0, :-1]
    return torch.log_softmax(logits.double().cpu(), dim=-1)


def reference_perplexity(model, token_lists: list[list[int]]) -> float:
    """Perplexity of the model's own float32 forward pass over several texts together."""
    total, count = 0.0, 0
    for ids in token_lists:
        total -= float(reference_log_probs(model, ids).gather(1, torch.tensor(ids[1:])[:, None]).sum())
        count += len(ids) - 1
    return math.exp(total / count)


def _screen(model, names: list[str], rounds: int = 6) -> dict[str, float]:
    """Seconds for one decode step's matrix products (one layer times the layers, plus the head), per kernel.

    Kernels are timed in interleaved rounds and keep their fastest round, so a burst of other work on the machine
    slows every kernel alike or none; one clearly out of the running is dropped after two rounds.
    """
    hidden, intermediate = model.config.hidden_size, model.config.intermediate_size
    inputs = [torch.randn(1, features) for features in (hidden, hidden, hidden, intermediate)]
    packed = {name: _step_matrices(model, name) for name in names}
    best = dict.fromkeys(names, math.inf)
    with torch.inference_mode():
        for round_index in range(rounds):
            for name, (layer, head) in packed.items():
                if round_index >= 2 and best[name] > 2 * SHORTLIST_SLOWDOWN * min(best.values()):
                    continue
                start = time.perf_counter()
                for linear, x in zip(layer, inputs, strict=True):
                    linear(x)
                middle = time.perf_counter()
                head(inputs[0])
                end = time.perf_counter()
                seconds = (middle - start) * model.config.num_hidden_layers + (end - middle)
                best[name] = min(best[name], seconds)
    return best


def _race(paths: list[FastLlama], ids: list[int], rounds: int = 4, steps: int = 6) -> dict[str, float]:
    """Decode tokens/s of each path, timed in interleaved rounds (fastest round each), on the same tokens."""
    caches = {fast.kernel: KVCache() for fast in paths}
    for fast in paths:
        fast.forward(ids[:4], caches[fast.kernel])
    best = dict.fromkeys(caches, math.inf)
    for round_index in range(rounds):
        for fast in paths:
            tokens = ids[4 + round_index * steps : 4 + (round_index + 1) * steps] or ids[:steps]
            start = time.perf_counter()
            for token in tokens:
                fast.forward([token], caches[fast.kernel])
            best[fast.kernel] = min(best[fast.kernel], (time.perf_counter() - start) / len(tokens))
    return {name: 1.0 / seconds for name, seconds in best.items()}


def machine_identity() -> str:
    """What decides which decode path is fastest here: the CPU's model and instruction sets, torch's version and
    threads, and whether GenLab's C++ kernels are built. Another CPU, another thread count or another torch is
    another machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            fields = dict(line.split(":", 1) for line in info.read().split("\n\n")[0].splitlines() if ":" in line)
        cpu = " | ".join(fields.get(name, "").strip() for name in ("model name", "flags"))
    except OSError:
        pass
    built = decode_extension.load()
    return f"{cpu} | torch {torch.__version__} | {torch.get_num_threads()} threads | extension {built}"


def _choice_key(model, check_ids: list[int], names: list[str]) -> str:
    """The machine, the candidate paths and the model's weights (a LoRA merge is another model), hashed."""
    weights = sum(float(parameter.double().sum()) for parameter in model.parameters())
    text = json.dumps([machine_identity(), names, model.config.to_dict(), round(weights, 6), check_ids])
    return hashlib.sha256(text.encode()).hexdigest()


def _remembered(choices_file: Path | None, key: str) -> dict | None:
    """This machine's earlier measurement for `key`: {"kernel", "tokens_per_second", "rejected", "when"}, or None."""
    try:
        entry = json.loads(Path(choices_file).read_text(encoding="utf-8"))[key]
        speeds = {str(name): float(value) for name, value in dict(entry.get("tokens_per_second", {})).items()}
        rejected = {str(name): str(why) for name, why in dict(entry.get("rejected", {})).items()}
        return {"kernel": str(entry["kernel"]), "tokens_per_second": speeds, "rejected": rejected}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remember(choices_file: Path, key: str, report: KernelReport) -> None:
    """Add this machine's measured choice to the file (replaced whole, so a reader never sees half of it)."""
    try:
        choices = json.loads(choices_file.read_text(encoding="utf-8")) if choices_file.is_file() else {}
        if not isinstance(choices, dict):
            choices = {}
    except (OSError, ValueError):
        choices = {}
    choices[key] = {
        "kernel": report.kernel,
        "tokens_per_second": report.tokens_per_second,
        "rejected": report.rejected,
        "when": time.time(),
    }
    try:
        choices_file.parent.mkdir(parents=True, exist_ok=True)
        partial = choices_file.with_name(f"{choices_file.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(choices, indent=1), encoding="utf-8")
        partial.replace(choices_file)
    except OSError:
        pass  # a read-only cache only costs the next start its measurement


def load_fast_llama(
    model, check_ids: list[int], kernel: str | None = None, choices_file: Path | None = None
) -> FastLlama:
    """The fastest decode path for this machine that keeps float32's quality on check_ids (or the one forced).

    `kernel` or $GENLAB_LM_KERNEL forces one (its check is reported, not enforced). Otherwise every kernel that
    runs here is screened on one layer's matrices plus the head; those within SHORTLIST_SLOWDOWN of the fastest
    are built whole and checked against float32 on check_ids (SELF_CHECK_*), and the passing ones race on real
    decode steps. float32, the reference itself, is the fallback.

    `choices_file` (a JSON file) remembers the choice per machine, candidate set and weights (`_choice_key`): a
    later load on the same machine builds that path and checks its accuracy as above, skipping the timings and
    the other paths; if the check fails, or anything differs, every path is measured again.
    """
    started = time.perf_counter()
    device = next(model.parameters()).device
    forced = kernel or requested_kernel()
    if forced is not None and device.type not in KERNELS[forced].devices:
        raise ValueError(f"the {forced!r} decode path does not run on {device.type}")
    names = [forced] if forced else candidates(device)
    key = None
    if choices_file is not None and not forced and len(names) > 1:
        # This machine measured the paths before: build the path it chose and check its accuracy again (the speed
        # ranking is a property of the machine, accuracy is checked every time); any doubt measures afresh.
        key = _choice_key(model, check_ids, names)
        remembered = _remembered(choices_file, key)
        if remembered is not None and remembered["kernel"] in names:
            path = remembered["kernel"]
            reference = reference_log_probs(model, check_ids)
            fast = FastLlama(model, path)
            change, kl = compare_to_reference(fast, reference, check_ids)
            if abs(change) <= SELF_CHECK_MAX_PERPLEXITY_CHANGE and kl <= SELF_CHECK_MAX_MEAN_KL_NATS:
                fast.report = KernelReport(
                    path,
                    False,
                    {},
                    {path: (change, kl)},
                    remembered["tokens_per_second"],  # the race as measured then
                    remembered["rejected"],
                    time.perf_counter() - started,
                    True,
                )
                return fast
    timings: dict[str, float] = {}
    if len(names) > 1 and device.type == "cpu":
        timings = _screen(model, names)
        fastest = min(timings.values())
        names = sorted((n for n in names if timings[n] <= SHORTLIST_SLOWDOWN * fastest), key=timings.__getitem__)
    elif len(names) > 1:  # on a GPU every path is fast; half precision reads half the bytes
        preference = ("bfloat16", "float16", "float32")
        names = sorted((name for name in names if name in preference), key=preference.index)[:1]
    reference = reference_log_probs(model, check_ids)
    checks, rejected = {}, {}
    passed: list[FastLlama] = []
    for name in names:  # each shortlisted path, built whole and checked
        fast = FastLlama(model, name)
        checks[name] = compare_to_reference(fast, reference, check_ids)
        change, kl = checks[name]
        if forced or (abs(change) <= SELF_CHECK_MAX_PERPLEXITY_CHANGE and kl <= SELF_CHECK_MAX_MEAN_KL_NATS):
            passed.append(fast)
        else:
            rejected[name] = f"perplexity {100 * change:+.2f}%, mean KL {kl:.4f} nats against float32"
    if not passed:
        passed = [FastLlama(model, "float32")]
    speeds = _race(passed, check_ids)
    chosen = max(passed, key=lambda fast: speeds[fast.kernel])
    chosen.report = KernelReport(
        chosen.kernel, forced is not None, timings, checks, speeds, rejected, time.perf_counter() - started
    )
    if key is not None:
        _remember(choices_file, key, chosen.report)
    return chosen
