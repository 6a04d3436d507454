"""A lean decode path for Llama-architecture models such as SmolLM2.

The same maths as transformers' LlamaForCausalLM, with what matters for one token at a time on a CPU:
fused q/k/v and gate/up projections (fewer, larger matmuls), a key/value cache that grows in place, no
per-call framework overhead, and (optionally) int8 weights for decoding. Decoding one token is bound by
reading the weights, so int8 weights (per output channel) with int8 dynamic activations (one scale per token)
read a quarter of the float32 bytes. The prompt is prefilled with the float32 weights, where one activation
scale would have to span many tokens. The residual stream and the norms stay in float32.
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


@dataclass
class KVCache:
    keys: list[torch.Tensor] = field(default_factory=list)  # per layer (kv_heads, capacity, head_dim)
    values: list[torch.Tensor] = field(default_factory=list)
    length: int = 0


def _pack_int8(weight_t: torch.Tensor):
    """(in, out) float weights -> fbgemm's packed int8 weights with one scale per output channel."""
    weight = weight_t.t().float().contiguous()
    scales = (weight.abs().amax(dim=1).clamp_min(1e-8) / 127.0).double()
    zero_points = torch.zeros_like(scales, dtype=torch.long)
    quantized = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
    return torch.ops.quantized.linear_prepack(quantized, None)


def int8_available() -> bool:
    return "fbgemm" in torch.backends.quantized.supported_engines


class FastLlama:
    """Read-only weights shared by every request; each request owns its KVCache."""

    def __init__(self, model, dtype: torch.dtype = torch.float32, int8_decode: bool = False):
        config = model.config
        state = {name: tensor.detach() for name, tensor in model.state_dict().items()}
        self.dtype = dtype
        self.device = next(model.parameters()).device
        self.layers = config.num_hidden_layers
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.eps = config.rms_norm_eps
        theta = (getattr(config, "rope_parameters", None) or {}).get(
            "rope_theta", getattr(config, "rope_theta", 10000.0)
        )
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        self.embed = state["model.embed_tokens.weight"].to(dtype).contiguous()  # (V, H)
        head = state.get("lm_head.weight", state["model.embed_tokens.weight"])
        self.head = self.embed if head is state["model.embed_tokens.weight"] else head.to(dtype).contiguous()
        self.norm = state["model.norm.weight"].float()
        self.blocks = []
        for i in range(self.layers):
            prefix = f"model.layers.{i}."
            w = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            self.blocks.append(
                {
                    "qkv": torch.cat(
                        [w["self_attn.q_proj.weight"], w["self_attn.k_proj.weight"], w["self_attn.v_proj.weight"]]
                    )
                    .to(dtype)
                    .t()
                    .contiguous(),  # (H, q + k + v)
                    "o": w["self_attn.o_proj.weight"].to(dtype).t().contiguous(),
                    "gate_up": torch.cat([w["mlp.gate_proj.weight"], w["mlp.up_proj.weight"]])
                    .to(dtype)
                    .t()
                    .contiguous(),
                    "down": w["mlp.down_proj.weight"].to(dtype).t().contiguous(),
                    "ln1": w["input_layernorm.weight"].float(),
                    "ln2": w["post_attention_layernorm.weight"].float(),
                }
            )
        self.q_size = self.heads * self.head_dim
        self.kv_size = self.kv_heads * self.head_dim
        self.intermediate = config.intermediate_size
        self.int8_decode = bool(int8_decode) and self.device.type == "cpu" and int8_available()
        self.packed: list[dict] = []
        if self.int8_decode:
            torch.backends.quantized.engine = "fbgemm"
            names = ("qkv", "o", "gate_up", "down")
            self.packed = [{name: _pack_int8(block[name]) for name in names} for block in self.blocks]
            self.packed_head = _pack_int8(self.head.t())

    def _linear(self, x: torch.Tensor, index: int, name: str, decode: bool) -> torch.Tensor:
        if decode:
            return torch.ops.quantized.linear_dynamic(x.float().contiguous(), self.packed[index][name], False)
        return x.to(self.dtype) @ self.blocks[index][name]

    def _rms(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight).to(self.dtype)

    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return (x.float() * cos + rotated.float() * sin).to(self.dtype)

    def _grow(self, cache: KVCache, needed: int) -> None:
        capacity = cache.keys[0].shape[1] if cache.keys else 0
        if needed <= capacity:
            return
        new_capacity = max(needed, 2 * capacity, 256)
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

    @torch.inference_mode()
    def forward(self, ids: list[int], cache: KVCache, all_positions: bool = False) -> torch.Tensor:
        """Append ids to the cache; float32 logits (V,) for the next token, or (T, V) for every position."""
        count, start = len(ids), cache.length
        self._grow(cache, start + count)
        positions = torch.arange(start, start + count, dtype=torch.float32)
        angles = positions[:, None] * self.inv_freq[None, :]  # (T, head_dim / 2)
        cos = torch.cat([angles, angles], dim=-1).cos()[None]  # (1, T, head_dim)
        sin = torch.cat([angles, angles], dim=-1).sin()[None]
        x = self.embed[torch.tensor(ids, device=self.device)].float()  # (T, H) residual stream in float32
        mask = None
        if count > 1:  # query i sees keys up to start + i
            keys_at = torch.arange(start + count)[None, :]
            mask = keys_at <= (torch.arange(count)[:, None] + start)
        end = start + count
        decode = self.int8_decode and count == 1
        for index, block in enumerate(self.blocks):
            qkv = self._linear(self._rms(x, block["ln1"]), index, "qkv", decode).to(self.dtype)  # (T, q + k + v)
            q = qkv[:, : self.q_size].view(count, self.heads, self.head_dim).transpose(0, 1)  # (heads, T, hd)
            k = (
                qkv[:, self.q_size : self.q_size + self.kv_size]
                .view(count, self.kv_heads, self.head_dim)
                .transpose(0, 1)
            )
            v = qkv[:, self.q_size + self.kv_size :].view(count, self.kv_heads, self.head_dim).transpose(0, 1)
            cache.keys[index][:, start:end] = self._rope(k, cos, sin)
            cache.values[index][:, start:end] = v
            attention = F.scaled_dot_product_attention(
                self._rope(q, cos, sin)[None],
                cache.keys[index][None, :, :end],
                cache.values[index][None, :, :end],
                attn_mask=mask,
                enable_gqa=True,
            )[0]  # (heads, T, hd)
            x = x + self._linear(attention.transpose(0, 1).reshape(count, self.q_size), index, "o", decode).float()
            gate, up = self._linear(self._rms(x, block["ln2"]), index, "gate_up", decode).split(
                self.intermediate, dim=-1
            )
            x = x + self._linear(F.silu(gate) * up, index, "down", decode).float()
        cache.length = end
        last = self._rms(x if all_positions else x[-1:], self.norm)  # (T or 1, H)
        if all_positions:
            return (last @ self.head.t()).float().cpu()
        if decode:
            return torch.ops.quantized.linear_dynamic(last.float(), self.packed_head, False)[0].cpu()
        return (last @ self.head.t()).float()[0].cpu()


def decode_path_perplexity(fast: FastLlama, token_lists: list[list[int]]) -> float:
    """Perplexity with teacher forcing one token at a time through the cache: exactly the path generation takes."""
    total, count = 0.0, 0
    for ids in token_lists:
        cache = KVCache()
        logits = fast.forward(ids[:1], cache)
        for token in ids[1:]:
            total -= float(torch.log_softmax(logits.double(), dim=-1)[token])
            count += 1
            logits = fast.forward([token], cache)
    return math.exp(total / count)
