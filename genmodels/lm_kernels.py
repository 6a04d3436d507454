"""Matrix-vector kernels for decoding a language model one token at a time, and the choice between them.

Decoding at batch 1 reads every weight once per token, so fewer bytes per weight means more tokens per
second, as long as the kernel that multiplies them is good on this CPU. Which one is good depends on the
machine (instruction sets, torch's build, the memory system), so the choice is made by measurement at load
time, and every candidate must also pass an accuracy check against float32 (see `fastllama.load_fast_llama`).

Each kernel packs a float32 weight (out_features, in_features) once and multiplies (T, in) float32
activations by it, returning (T, out) float32. No kernel uses torch's deprecated quantized-tensor API.

- float32: the reference; exact.
- bfloat16: half the bytes; activations and weights rounded to bfloat16, float32 accumulation.
- int8: weight-only int8, one scale per output channel (`aten._weight_int8pack_mm`).
- int4: weight-only 4-bit, affine groups of 32 along the input (`aten._weight_int4pack_mm_for_cpu`). SmolLM2's
  GGUF stores its projections as Q4_1, which is exactly this format, so the weights are kept exactly; the kernel's
  bfloat16 activations (and scales) are what differ from float32.
- int4-dynamic: 4-bit symmetric groups with int8 dynamic activations (`aten._dyn_quant_matmul_4bit`): KleidiAI's
  kernels on Arm CPUs, a plain reference implementation elsewhere.
- q4 / q8: GenLab's own C++ kernels (`csrc/decode_step.cpp`) on GGUF's Q4_1 and Q8_0 layouts with float32
  activations: the GGUF's values exactly, so only float32 rounding differs from the reference.

A decode path (`KERNELS`) pairs a kernel for the layers' projections with one for the output head.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

GROUP_SIZE = 32
KERNEL_ENVIRONMENT = "GENLAB_LM_KERNEL"


class PackedLinear:
    """One weight in a kernel's own layout; `packed(x)` computes x @ weight.T.

    `fused_kind`, `weight` and `scales` describe it to the fused C++ decode step (None: that step cannot use it).
    """

    def __init__(
        self,
        function: Callable[[torch.Tensor], torch.Tensor],
        nbytes: int,
        fused_kind: int | None = None,
        weight: torch.Tensor | None = None,
        scales: torch.Tensor | None = None,
        minima: torch.Tensor | None = None,
    ):
        self.function = function
        self.nbytes = nbytes
        self.fused_kind = fused_kind
        self.weight = weight
        self.scales = scales if scales is not None else torch.empty(0)
        self.minima = minima if minima is not None else torch.empty(0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # (T, in) float32 -> (T, out) float32
        return self.function(x)


# The codes csrc/decode_step.cpp knows the kernels by.
FUSED_FLOAT32, FUSED_BFLOAT16, FUSED_INT8, FUSED_INT4, FUSED_Q4, FUSED_Q8 = 0, 1, 2, 3, 4, 5


def _float32(weight: torch.Tensor) -> PackedLinear:
    transposed = weight.float().t().contiguous()  # (in, out): a row-major x @ W^T reads it in one sweep
    return PackedLinear(lambda x: x @ transposed, transposed.numel() * 4, FUSED_FLOAT32, transposed)


def _float16_family(dtype: torch.dtype) -> Callable[[torch.Tensor], PackedLinear]:
    def pack(weight: torch.Tensor) -> PackedLinear:
        transposed = weight.to(dtype).t().contiguous()
        fused = FUSED_BFLOAT16 if dtype == torch.bfloat16 and weight.device.type == "cpu" else None
        return PackedLinear(lambda x: (x.to(dtype) @ transposed).float(), transposed.numel() * 2, fused, transposed)

    return pack


def _int8(weight: torch.Tensor) -> PackedLinear:
    weight = weight.float()
    scales = weight.abs().amax(dim=1).clamp_min(1e-12) / 127.0  # (out,)
    quantized = torch.round(weight / scales[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
    # The vectorised CPU kernel is written for 16-bit activations; float32 takes a slow generic loop.
    activation = torch.bfloat16
    scales = scales.to(activation)
    op = torch.ops.aten._weight_int8pack_mm
    return PackedLinear(
        lambda x: op(x.to(activation), quantized, scales).float(),
        quantized.numel() + scales.numel() * 2,
        FUSED_INT8,
        quantized,
        scales,
    )


def _affine_groups(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(out, in) float -> 4-bit codes (out, in) int32 in 0..15, scales and minima (out, in / GROUP_SIZE)."""
    out_features, in_features = weight.shape
    groups = weight.float().reshape(out_features, in_features // GROUP_SIZE, GROUP_SIZE)
    low, high = groups.amin(dim=-1), groups.amax(dim=-1)
    scales = ((high - low) / 15.0).clamp_min(1e-12)
    codes = torch.round((groups - low[..., None]) / scales[..., None]).clamp(0, 15).to(torch.int32)
    return codes.reshape(out_features, in_features), scales, low


def _int4(weight: torch.Tensor) -> PackedLinear:
    codes, scales, low = _affine_groups(weight)
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes, 1)
    # The kernel computes (code - 8) * scale + zero, so zero = minimum + 8 * scale: (in / G, out, 2).
    activation = torch.bfloat16  # as for int8: the vectorised kernel takes 16-bit activations
    scales_and_zeros = torch.stack([scales.t(), (low + 8 * scales).t()], dim=-1).to(activation).contiguous()
    op = torch.ops.aten._weight_int4pack_mm_for_cpu
    nbytes = packed.numel() * packed.element_size() + scales_and_zeros.numel() * 2
    return PackedLinear(
        lambda x: op(x.to(activation), packed, GROUP_SIZE, scales_and_zeros).float(),
        nbytes,
        FUSED_INT4,
        packed,
        scales_and_zeros,
    )


def _extension_ops():
    from . import decode_extension

    if not decode_extension.load():
        raise RuntimeError(f"GenLab's C++ kernels are not built ({decode_extension.unavailable_reason()})")
    return torch.ops.genlab


def _q4(weight: torch.Tensor) -> PackedLinear:
    ops = _extension_ops()
    codes, scales, low = _affine_groups(weight)
    out_features, in_features = weight.shape
    halves = codes.reshape(out_features, in_features // GROUP_SIZE, 2, GROUP_SIZE // 2)  # inputs i and i + 16
    nibbles = (halves[:, :, 0] | halves[:, :, 1] << 4).to(torch.uint8).reshape(out_features, in_features // 2)
    scales, low = scales.half().contiguous(), low.half().contiguous()
    return PackedLinear(
        lambda x: ops.q4_linear(x.float(), nibbles, scales, low),
        nibbles.numel() + 4 * scales.numel(),
        FUSED_Q4,
        nibbles,
        scales,
        low,
    )


def _q8(weight: torch.Tensor) -> PackedLinear:
    ops = _extension_ops()
    out_features, in_features = weight.shape
    groups = weight.float().reshape(out_features, in_features // GROUP_SIZE, GROUP_SIZE)
    scales = (groups.abs().amax(dim=-1) / 127.0).half().clamp_min(1e-7)  # rounded first: GGUF stores float16
    codes = torch.round(groups / scales.float()[..., None]).clamp(-127, 127).to(torch.int8)
    codes = codes.reshape(out_features, in_features).contiguous()
    return PackedLinear(
        lambda x: ops.q8_linear(x.float(), codes, scales), codes.numel() + 2 * scales.numel(), FUSED_Q8, codes, scales
    )


def _int4_dynamic(weight: torch.Tensor) -> PackedLinear:
    out_features, in_features = weight.shape
    groups = weight.float().reshape(out_features, in_features // GROUP_SIZE, GROUP_SIZE)
    scales = (groups.abs().amax(dim=-1) / 7.0).clamp_min(1e-12)  # (out, in / G), symmetric
    codes = (torch.round(groups / scales[..., None]).clamp(-8, 7) + 8).to(torch.uint8)
    codes = codes.reshape(out_features, in_features)
    # Two codes per byte, the second in the high nibble, as torchao packs them for this op.
    nibbles = (codes[:, 1::2] << 4 | codes[:, ::2]).contiguous()
    bias = torch.zeros(out_features)
    packed = torch.ops.aten._dyn_quant_pack_4bit_weight(
        nibbles, scales.to(torch.bfloat16), bias, GROUP_SIZE, in_features, out_features
    )
    op = torch.ops.aten._dyn_quant_matmul_4bit
    return PackedLinear(lambda x: op(x, packed, GROUP_SIZE, in_features, out_features), packed.numel())


LINEAR: dict[str, Callable[[torch.Tensor], PackedLinear]] = {
    "float32": _float32,
    "bfloat16": _float16_family(torch.bfloat16),
    "float16": _float16_family(torch.float16),
    "int8": _int8,
    "int4": _int4,
    "int4-dynamic": _int4_dynamic,
    "q4": _q4,
    "q8": _q8,
}


@dataclass(frozen=True)
class Kernel:
    """A decode path: how the layers' projections and the output head are stored and multiplied."""

    name: str
    body: str  # a LINEAR name for the layers' projections
    head: str  # and for the output head (the embedding matrix, 49,152 x 576 for SmolLM2)
    devices: tuple[str, ...]
    description: str


KERNELS: dict[str, Kernel] = {
    kernel.name: kernel
    for kernel in (
        Kernel("float32", "float32", "float32", ("cpu", "cuda", "mps"), "float32 weights (the reference)"),
        Kernel("bfloat16", "bfloat16", "bfloat16", ("cpu", "cuda"), "bfloat16 weights and activations"),
        Kernel("float16", "float16", "float16", ("cuda", "mps"), "float16 weights and activations"),
        Kernel("int8", "int8", "int8", ("cpu",), "int8 weights (one scale per output channel), bfloat16 activations"),
        Kernel(
            "int4", "int4", "int8", ("cpu",), "torch's 4-bit kernel (groups of 32), int8 head, bfloat16 activations"
        ),
        Kernel("int4-dynamic", "int4-dynamic", "int8", ("cpu",), "4-bit symmetric, int8 activations (Arm: KleidiAI)"),
        Kernel(
            "gguf", "q4", "q8", ("cpu",), "GenLab's C++ kernels on GGUF's own Q4_1/Q8_0 values, float32 activations"
        ),
        Kernel(
            "int4-q8", "int4", "q8", ("cpu",), "torch's 4-bit kernel (bfloat16 activations), GGUF's exact Q8_0 head"
        ),
    )
}


def requested_kernel(environ: dict | None = None) -> str | None:
    """The kernel $GENLAB_LM_KERNEL forces, or None for 'choose by measurement'; unknown names are an error."""
    value = ((os.environ if environ is None else environ).get(KERNEL_ENVIRONMENT) or "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in KERNELS:
        raise ValueError(f"{KERNEL_ENVIRONMENT}={value!r} is not a kernel; choose from auto, {', '.join(KERNELS)}")
    return value


def candidates(device: torch.device) -> list[str]:
    """Kernels meant for this device whose ops exist in this torch build and run on a small input."""
    names = []
    probe = torch.randn(64, 64, device=device) * 0.02
    for kernel in KERNELS.values():
        if device.type not in kernel.devices:
            continue
        try:
            for linear in {kernel.body, kernel.head}:
                result = LINEAR[linear](probe)(torch.randn(1, 64, device=device))
                if result.shape != (1, 64) or not bool(torch.isfinite(result).all()):
                    raise RuntimeError("wrong result")
            names.append(kernel.name)
        except (RuntimeError, NotImplementedError, AttributeError):
            continue
    return names
