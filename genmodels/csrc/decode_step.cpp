// One decode step of a Llama-architecture model, all layers in one call: GenLab's fused CPU decode path.
//
// Decoding one token runs a few dozen small operations per layer. From Python each costs a few microseconds
// of fixed overhead, which at 30 layers is as much time as the matrix products themselves on a small CPU.
// Here the products still go through ATen's packed kernels (float32, bfloat16, int8 or 4-bit weights, the same
// ones the Python path calls), and everything between them (RMSNorm, rotary embeddings, the key/value cache,
// attention for one query, SiLU gating, the residual stream) is plain loops over float32 in one C++ call.
// The maths is exactly `FastLlama.hidden_states` for one token; the tests compare the two.
// The per-operator headers, not <ATen/ATen.h> (every operator's): the build takes about three quarters of the time
// (12 s against 16 s on a 2-core CPU).
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/_weight_int4pack_mm_for_cpu.h>
#include <ATen/ops/_weight_int8pack_mm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <torch/library.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <vector>

namespace {

enum Kind : int64_t { kFloat32 = 0, kBFloat16 = 1, kInt8 = 2, kInt4 = 3, kQ4 = 4, kQ8 = 5 };
constexpr int64_t kGroupSize = 32;
// From this many tokens on (long prompts) the weight is unpacked to float32 once and multiplied with at::mm:
// below it, each unpacked row is reused across the tokens while their activations stay in the cache.
constexpr int64_t kDenseFromRows = 48;

// GGUF-style groups of 32 weights along the input, float32 activations.
// q4: each group is 16 bytes, byte i holding the codes of inputs i (low nibble) and i + 16 (high nibble);
//     w = code * scale + minimum (GGUF's Q4_1). q8: one int8 per weight, w = code * scale (GGUF's Q8_0).
// Results are exact products with the stored weights, accumulated in float32.
// kLanes floats or bytes as one value: GCC and Clang compile arithmetic on these to the CPU's own vectors,
// with the running sums kept in registers. The width follows the instruction set this file is built for.
#if defined(__AVX512F__)
constexpr int64_t kLanes = 16;
#elif defined(__AVX2__) || defined(__aarch64__)
constexpr int64_t kLanes = 8;
#else
constexpr int64_t kLanes = 4;
#endif
typedef float Floats __attribute__((vector_size(kLanes * 4)));
typedef int32_t Ints __attribute__((vector_size(kLanes * 4)));
typedef uint8_t Bytes __attribute__((vector_size(kLanes)));

template <typename Vector>
inline Vector load(const void* p) {
  Vector v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bytes widen to 32-bit integers before becoming floats: converting bytes straight to floats is done one
// element at a time by GCC.
inline Floats to_floats(Bytes b) { return __builtin_convertvector(__builtin_convertvector(b, Ints), Floats); }

template <bool kFour>
void group_rows(const float* x, int64_t rows_in_x, int64_t in, const uint8_t* codes, const at::Half* scales,
                const at::Half* minima, float* out, int64_t out_features, int64_t first, int64_t last) {
  const int64_t groups = in / kGroupSize;
  const int64_t row_bytes = kFour ? in / 2 : in;
  for (int64_t n = first; n < last; ++n) {
    const uint8_t* row = codes + n * row_bytes;
    for (int64_t r = 0; r < rows_in_x; ++r) {
      const float* xr = x + r * in;
      Floats first_sum = {}, second_sum = {};  // two independent sums hide the multiply-add latency
      for (int64_t g = 0; g < groups; ++g) {
        const float scale = float(scales[n * groups + g]);
        const float* xg = xr + g * kGroupSize;
        if constexpr (kFour) {
          // Byte i of the group: input i in the low nibble, input i + 16 in the high one. The high nibble is
          // read as (byte & 0xF0) = 16 * code, so its scale is divided by 16 (exact: a power of two).
          const float minimum = float(minima[n * groups + g]);
          const float high_scale = scale * 0.0625f;
          for (int64_t c = 0; c < kGroupSize / 2; c += kLanes) {
            const Bytes b = load<Bytes>(row + g * (kGroupSize / 2) + c);
            first_sum += (to_floats(b & 15) * scale + minimum) * load<Floats>(xg + c);
            second_sum += (to_floats(b & 240) * high_scale + minimum) * load<Floats>(xg + kGroupSize / 2 + c);
          }
        } else {
          // Signed bytes as (byte ^ 0x80) - 128: the unsigned widening is the one compilers vectorise well.
          const float offset = -128.f * scale;
          for (int64_t c = 0; c < kGroupSize; c += 2 * kLanes) {
            const uint8_t* b = row + g * kGroupSize + c;
            first_sum += (to_floats(load<Bytes>(b) ^ 128) * scale + offset) * load<Floats>(xg + c);
            second_sum += (to_floats(load<Bytes>(b + kLanes) ^ 128) * scale + offset) * load<Floats>(xg + c + kLanes);
          }
        }
      }
      const Floats sum = first_sum + second_sum;
      float total = 0.f;
      for (int64_t i = 0; i < kLanes; ++i) total += sum[i];
      out[r * out_features + n] = total;
    }
  }
}

// Row n of the stored weight as floats (the same values group_rows multiplies by).
template <bool kFour>
void dequantize_row(const uint8_t* codes, const at::Half* scales, const at::Half* minima, int64_t in, int64_t n,
                    float* target) {
  const int64_t groups = in / kGroupSize;
  for (int64_t g = 0; g < groups; ++g) {
    const float scale = float(scales[n * groups + g]);
    float* w = target + g * kGroupSize;
    if constexpr (kFour) {
      const uint8_t* b = codes + n * (in / 2) + g * (kGroupSize / 2);
      const float minimum = float(minima[n * groups + g]);
      for (int64_t i = 0; i < kGroupSize / 2; ++i) {
        w[i] = float(b[i] & 15) * scale + minimum;
        w[i + kGroupSize / 2] = float(b[i] & 240) * (scale * 0.0625f) + minimum;
      }
    } else {
      const uint8_t* b = codes + n * in + g * kGroupSize;
      for (int64_t i = 0; i < kGroupSize; ++i) w[i] = float(b[i] ^ 128) * scale + (-128.f * scale);
    }
  }
}

// A few tokens (a short prompt): each weight row is unpacked once into a small buffer that stays in the L1
// cache, then multiplied by every token's activations.
template <bool kFour>
void unpacked_rows(const float* x, int64_t rows_in_x, int64_t in, const uint8_t* codes, const at::Half* scales,
                   const at::Half* minima, float* out, int64_t out_features, int64_t first, int64_t last) {
  std::vector<float> weight(in);
  for (int64_t n = first; n < last; ++n) {
    dequantize_row<kFour>(codes, scales, minima, in, n, weight.data());
    for (int64_t r = 0; r < rows_in_x; ++r) {
      const float* xr = x + r * in;
      Floats first_sum = {}, second_sum = {};
      for (int64_t i = 0; i < in; i += 2 * kLanes) {
        first_sum += load<Floats>(weight.data() + i) * load<Floats>(xr + i);
        second_sum += load<Floats>(weight.data() + i + kLanes) * load<Floats>(xr + i + kLanes);
      }
      const Floats sum = first_sum + second_sum;
      float total = 0.f;
      for (int64_t i = 0; i < kLanes; ++i) total += sum[i];
      out[r * out_features + n] = total;
    }
  }
}

template <bool kFour>
at::Tensor group_linear(const at::Tensor& x_in, const at::Tensor& codes, const at::Tensor& scales,
                        const at::Tensor& minima) {
  TORCH_CHECK(x_in.dim() == 2 && x_in.scalar_type() == at::kFloat, "x must be (T, in) float32");
  TORCH_CHECK(codes.is_contiguous() && scales.is_contiguous() && scales.scalar_type() == at::kHalf,
              "codes and float16 scales must be contiguous");
  const at::Tensor x = x_in.contiguous();
  const int64_t rows = x.size(0), in = x.size(1), out_features = codes.size(0);
  TORCH_CHECK(in % kGroupSize == 0 && codes.size(1) == (kFour ? in / 2 : in), "weight does not fit x");
  const auto* c = static_cast<const uint8_t*>(codes.data_ptr());
  const at::Half* s = scales.data_ptr<at::Half>();
  const at::Half* m = kFour ? minima.data_ptr<at::Half>() : nullptr;
  if (rows >= kDenseFromRows) {
    // A block of output rows at a time, so the unpacked weight never takes more than a few MB (the 49,152-row
    // head would be 113 MB whole).
    constexpr int64_t kBlockRows = 1024;
    at::Tensor out = at::empty({rows, out_features}, x.options());
    at::Tensor weight = at::empty({std::min(kBlockRows, out_features), in}, x.options());
    for (int64_t block = 0; block < out_features; block += kBlockRows) {
      const int64_t count = std::min(kBlockRows, out_features - block);
      at::parallel_for(0, count, 16, [&](int64_t first, int64_t last) {
        for (int64_t n = first; n < last; ++n)
          dequantize_row<kFour>(c, s, m, in, block + n, weight.data_ptr<float>() + n * in);
      });
      out.narrow(1, block, count).copy_(at::mm(x, weight.narrow(0, 0, count).t()));
    }
    return out;
  }
  at::Tensor out = at::empty({rows, out_features}, x.options());
  at::parallel_for(0, out_features, 32, [&](int64_t first, int64_t last) {
    if (rows == 1)
      group_rows<kFour>(x.data_ptr<float>(), rows, in, c, s, m, out.data_ptr<float>(), out_features, first, last);
    else
      unpacked_rows<kFour>(x.data_ptr<float>(), rows, in, c, s, m, out.data_ptr<float>(), out_features, first, last);
  });
  return out;
}

at::Tensor q4_linear(const at::Tensor& x, const at::Tensor& codes, const at::Tensor& scales,
                     const at::Tensor& minima) {
  TORCH_CHECK(minima.is_contiguous() && minima.scalar_type() == at::kHalf, "float16 minima");
  return group_linear<true>(x, codes, scales, minima);
}

at::Tensor q8_linear(const at::Tensor& x, const at::Tensor& codes, const at::Tensor& scales) {
  return group_linear<false>(x, codes, scales, scales);
}
constexpr int64_t kWeightsPerLayer = 14;  // (weight, scales, minima) for qkv, o, gate_up, down; then ln1, ln2

// x: (1, in) float32 or bfloat16 as the kind expects -> (1, out), float32 or bfloat16.
at::Tensor linear(int64_t kind, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& scales,
                  const at::Tensor& minima) {
  switch (kind) {
    case kQ4:
      return q4_linear(x, weight, scales, minima);
    case kQ8:
      return q8_linear(x, weight, scales);
    case kFloat32:
    case kBFloat16:
      return at::mm(x, weight);
    case kInt8:
      return at::_weight_int8pack_mm(x, weight, scales);
    default:
      return at::_weight_int4pack_mm_for_cpu(x, weight, kGroupSize, scales);
  }
}

// out = rmsnorm(x) * weight, written as float32 or bfloat16 (the activation type of the kernel).
void rms_norm(const float* x, const float* weight, int64_t n, double eps, at::Tensor& out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
  const float scale = float(1.0 / std::sqrt(sum / n + eps));
  if (out.scalar_type() == at::kBFloat16) {
    auto* o = out.data_ptr<at::BFloat16>();
    for (int64_t i = 0; i < n; ++i) o[i] = at::BFloat16(x[i] * scale * weight[i]);
  } else {
    auto* o = out.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) o[i] = x[i] * scale * weight[i];
  }
}

// Element i of a (1, n) result as float, whatever the kernel returned.
struct Row {
  const at::Tensor tensor;
  const float* f = nullptr;
  const at::BFloat16* b = nullptr;
  explicit Row(at::Tensor t) : tensor(std::move(t)) {
    if (tensor.scalar_type() == at::kBFloat16) b = tensor.data_ptr<at::BFloat16>();
    else f = tensor.data_ptr<float>();
  }
  float operator[](int64_t i) const { return f ? f[i] : float(b[i]); }
};

at::Tensor decode_step(const at::Tensor& x_in, at::TensorList weights, at::TensorList keys, at::TensorList values,
                       const at::Tensor& cos, const at::Tensor& sin, int64_t pos, int64_t kind, int64_t heads,
                       int64_t kv_heads, double eps) {
  TORCH_CHECK(x_in.scalar_type() == at::kFloat && x_in.is_contiguous() && x_in.dim() == 2 && x_in.size(0) == 1,
              "x must be a contiguous (1, hidden) float32 tensor");
  const int64_t layers = int64_t(keys.size());
  TORCH_CHECK(int64_t(weights.size()) == layers * kWeightsPerLayer && int64_t(values.size()) == layers,
              "one set of weights and one cache per layer");
  const int64_t hidden = x_in.size(1);
  const int64_t head_dim = keys[0].size(2);
  const int64_t capacity = keys[0].size(1);
  const int64_t half = head_dim / 2;
  const int64_t group = heads / kv_heads;
  const int64_t q_size = heads * head_dim;
  const int64_t kv_size = kv_heads * head_dim;
  TORCH_CHECK(pos >= 0 && pos < capacity && pos < cos.size(0), "position beyond the cache");
  const auto activation = (kind == kBFloat16 || kind == kInt8 || kind == kInt4) ? at::kBFloat16 : at::kFloat;
  const auto options = x_in.options();

  at::Tensor x = x_in.clone();
  float* xs = x.data_ptr<float>();
  at::Tensor normed = at::empty({1, hidden}, options.dtype(activation));
  at::Tensor attention = at::empty({1, q_size}, options.dtype(activation));
  std::vector<float> q(q_size);
  const float* cos_row = cos.data_ptr<float>() + pos * half;
  const float* sin_row = sin.data_ptr<float>() + pos * half;
  const int64_t length = pos + 1;

  for (int64_t layer = 0; layer < layers; ++layer) {
    const at::Tensor* w = weights.data() + layer * kWeightsPerLayer;
    float* key_cache = keys[layer].data_ptr<float>();
    float* value_cache = values[layer].data_ptr<float>();

    rms_norm(xs, w[12].data_ptr<float>(), hidden, eps, normed);
    const Row qkv(linear(kind, normed, w[0], w[1], w[2]));
    // Rotary embedding on each (even, odd) pair of q and k (rows were interleaved at load); v copied as is.
    for (int64_t h = 0; h < heads + kv_heads; ++h) {
      float* target = h < heads ? q.data() + h * head_dim
                                : key_cache + ((h - heads) * capacity + pos) * head_dim;
      for (int64_t j = 0; j < half; ++j) {
        const float re = qkv[h * head_dim + 2 * j], im = qkv[h * head_dim + 2 * j + 1];
        target[2 * j] = re * cos_row[j] - im * sin_row[j];
        target[2 * j + 1] = re * sin_row[j] + im * cos_row[j];
      }
    }
    for (int64_t h = 0; h < kv_heads; ++h)
      for (int64_t d = 0; d < head_dim; ++d)
        value_cache[(h * capacity + pos) * head_dim + d] = qkv[q_size + kv_size + h * head_dim + d];

    // One query per head over every cached position; q is already scaled by 1 / sqrt(head_dim).
    std::vector<float> mixed(q_size);
    at::parallel_for(0, heads, length >= 256 ? 1 : heads, [&](int64_t first, int64_t last) {
      std::vector<float> scores(length);
      for (int64_t h = first; h < last; ++h) {
        const float* query = q.data() + h * head_dim;
        const float* key_rows = key_cache + (h / group) * capacity * head_dim;
        const float* value_rows = value_cache + (h / group) * capacity * head_dim;
        float highest = -INFINITY;
        for (int64_t t = 0; t < length; ++t) {
          const float* key = key_rows + t * head_dim;
          float dot = 0.f;
#pragma omp simd reduction(+ : dot)
          for (int64_t d = 0; d < head_dim; ++d) dot += query[d] * key[d];
          scores[t] = dot;
          highest = std::max(highest, dot);
        }
        float total = 0.f;
        for (int64_t t = 0; t < length; ++t) {
          scores[t] = std::exp(scores[t] - highest);
          total += scores[t];
        }
        float* out = mixed.data() + h * head_dim;
        std::fill(out, out + head_dim, 0.f);
        for (int64_t t = 0; t < length; ++t) {
          const float weight = scores[t] / total;
          const float* value = value_rows + t * head_dim;
#pragma omp simd
          for (int64_t d = 0; d < head_dim; ++d) out[d] += weight * value[d];
        }
      }
    });
    if (activation == at::kBFloat16) {
      auto* a = attention.data_ptr<at::BFloat16>();
      for (int64_t i = 0; i < q_size; ++i) a[i] = at::BFloat16(mixed[i]);
    } else {
      std::copy(mixed.begin(), mixed.end(), attention.data_ptr<float>());
    }
    const Row projected(linear(kind, attention, w[3], w[4], w[5]));
    for (int64_t i = 0; i < hidden; ++i) xs[i] += projected[i];

    rms_norm(xs, w[13].data_ptr<float>(), hidden, eps, normed);
    const Row gate_up(linear(kind, normed, w[6], w[7], w[8]));
    const int64_t intermediate = gate_up.tensor.size(1) / 2;
    at::Tensor gated = at::empty({1, intermediate}, options.dtype(activation));
    if (activation == at::kBFloat16) {
      auto* g = gated.data_ptr<at::BFloat16>();
      for (int64_t i = 0; i < intermediate; ++i) {
        const float a = gate_up[i];
        g[i] = at::BFloat16(a / (1.f + std::exp(-a)) * gate_up[intermediate + i]);
      }
    } else {
      auto* g = gated.data_ptr<float>();
      for (int64_t i = 0; i < intermediate; ++i) {
        const float a = gate_up[i];
        g[i] = a / (1.f + std::exp(-a)) * gate_up[intermediate + i];
      }
    }
    const Row down(linear(kind, gated, w[9], w[10], w[11]));
    for (int64_t i = 0; i < hidden; ++i) xs[i] += down[i];
  }
  return x;
}

}  // namespace

TORCH_LIBRARY(genlab, m) {
  m.def(
      "decode_step(Tensor x, Tensor[] weights, Tensor[] keys, Tensor[] values, Tensor cos, Tensor sin, int pos, "
      "int kind, int heads, int kv_heads, float eps) -> Tensor");
  m.def("q4_linear(Tensor x, Tensor codes, Tensor scales, Tensor minima) -> Tensor");
  m.def("q8_linear(Tensor x, Tensor codes, Tensor scales) -> Tensor");
}

TORCH_LIBRARY_IMPL(genlab, CPU, m) {
  m.impl("decode_step", decode_step);
  m.impl("q4_linear", q4_linear);
  m.impl("q8_linear", q8_linear);
}
