// Device-side pieces shared by the attention kernels (attention_forward.cu, attention_backward.cu).
//
// Layout: q/out/dout [B, H, Tq, D], k/v [B, Hkv, kv_rows, D] (the first Tk rows of each kv head
// are used), lse/delta [B, H, Tq], mask f32 [Tq, Tk] per batch (stride 0 or Tq * Tk). Query head
// h reads kv head h / G (G = H / Hkv). The G query heads of kv head hk are adjacent in q, so
// their rows form one "group matrix" of G * Tq contiguous rows (row r: head hk * G + r / Tq,
// position r % Tq): kernels that walk query rows take tiles of that matrix, which shares every
// K/V tile between the heads of a group (GQA/MQA, and decoding where Tq is 1).
//
// Scores are kept in base 2: s2 = q.k * scale * log2(e) + mask * log2(e), so p = exp2(s2 - m2),
// and lse = (m2 + log2(l)) * ln(2) in natural units as the CPU stores it.
#pragma once
#include "attention.h"
#include "common.cuh"

namespace mm::cuda::attn {

constexpr int kThreads = 128;  // 4 warps per block in every attention kernel
constexpr int kWarps = kThreads / kWarp;
constexpr int kKeyTile = 32;   // keys per tile where a lane owns a key
constexpr int kTStride = kKeyTile + 1;  // row stride of transposed [d][key] tiles: conflict-free both ways
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// What the kernels need of the problem, by value (int64 strides; positions fit in int: checked
// on the host).
struct Params {
  int64_t B, H, Hkv, Tq, Tk, D, kv_rows, G;
  int causal;
  const float* mask;  // or null
  int64_t mask_batch_stride;
  float scale;       // multiplies q.k
  float scale_log2;  // scale * log2(e)
};

// Where a forward block's rows go when the keys are split between blocks: the normalised
// partial output [splits][rows][D], then the running max (base 2) and sum [splits][rows], rows =
// B * H * Tq; o is null when the keys are not split (the block writes out and lse).
struct Partials {
  float* o;
  float* m;
  float* l;
  int64_t total_rows;
};

// The tensor-core forward for bf16 (attention_wmma.cu): 64 query rows per block. wmma_takes()
// says whether it handles head dim D on this device.
bool wmma_takes(int64_t D);
constexpr int kWmmaRows = 64;
mm_status wmma_forward(const Params& p, const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* out,
                       float* lse, int splits, int64_t keys_per_split, const Partials& part);

// The kernel variant chosen with mm_attention_set_kernel (attention_forward.cu).
enum Variant : int { kAuto = 0, kFlash = 1, kRowwise = 2, kWmma = 3 };
Variant variant();
// True when the tiled SIMT kernels take head dim D under the chosen variant.
bool use_flash(int64_t D);
// Output columns per lane of the tiled kernels for head dim D: 1, 2, 4, 8 (D <= 256), else 0.
int flash_cols(int64_t D);
// Refuses sizes the kernels' index types or grid limits cannot take.
mm_status check_sizes(const Params& p, const char* op);

inline Params make_params(const AttentionProblem& p) {
  Params r{};
  r.B = p.B;
  r.H = p.H;
  r.Hkv = p.Hkv;
  r.Tq = p.Tq;
  r.Tk = p.Tk;
  r.D = p.D;
  r.kv_rows = p.kv_rows;
  r.G = p.H / p.Hkv;
  r.causal = p.causal ? 1 : 0;
  r.mask = p.mask;
  r.mask_batch_stride = p.mask_batch_stride;
  r.scale = p.scale;
  r.scale_log2 = p.scale * kLog2e;
  return r;
}

// Element loads/stores of f32 or bf16 tensors (compute is always f32).
__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class T>
__device__ __forceinline__ T from_f32(float x);
template <>
__device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

__host__ __device__ __forceinline__ int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// The last key a query at position `pos` sees (causal: pos + Tk - Tq; else Tk - 1). -1 hides all.
__device__ __forceinline__ int last_key(const Params& p, int64_t pos) {
  const int64_t last = p.causal ? pos + p.Tk - p.Tq : p.Tk - 1;
  return static_cast<int>(last < p.Tk - 1 ? last : p.Tk - 1);
}

// The largest query position among group rows [r0, r1) (they may span heads).
__device__ __forceinline__ int64_t max_position(const Params& p, int64_t r0, int64_t r1) {
  if (r1 <= r0) return -1;
  return r0 / p.Tq == (r1 - 1) / p.Tq ? (r1 - 1) % p.Tq : p.Tq - 1;
}

// Additive mask of query position `pos`, key j, batch b, in base-2 units.
__device__ __forceinline__ float mask_log2(const Params& p, int64_t b, int64_t pos, int64_t j) {
  return p.mask[b * p.mask_batch_stride + pos * p.Tk + j] * kLog2e;
}

// dst[r * stride + d] = src row (row0 + r)[d] * factor for r < rows, d < D; zeros for the rest of
// the n_rows x stride tile (rows past `rows`, columns past D). Consecutive threads read
// consecutive elements of a row (coalesced).
template <class T>
__device__ __forceinline__ void load_rows(float* dst, int64_t stride, int n_rows, const T* src, int64_t rows, int64_t D,
                                          float factor) {
  const int64_t n = n_rows * stride;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t r = i / stride, d = i - r * stride;
    dst[i] = r < rows && d < D ? to_f32(src[r * D + d]) * factor : 0.f;
  }
}

// dst[d * kTStride + j] = src row j [d] for j < rows, d < D; zeros for j in [rows, kKeyTile).
// Rows d >= D of dst are not touched (callers zero them once).
template <class T>
__device__ __forceinline__ void load_transposed(float* dst, const T* src, int64_t rows, int64_t D) {
  const int64_t n = kKeyTile * D;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t j = i / D, d = i - j * D;
    dst[d * kTStride + j] = j < rows ? to_f32(src[j * D + d]) : 0.f;
  }
}

// s[i] = sum_d Q[i][d] * Kt[d][lane] for RW rows of Q (row stride Dp, a multiple of 4; read as
// float4 broadcasts) against the key of this lane (Kt: transposed tile with Dp rows).
template <int RW>
__device__ __forceinline__ void lane_scores(const float* Q, int64_t Dp, const float* Kt, int lane, float (&s)[RW]) {
#pragma unroll
  for (int i = 0; i < RW; i++) s[i] = 0.f;
  for (int64_t d = 0; d < Dp; d += 4) {
    const float k0 = Kt[d * kTStride + lane], k1 = Kt[(d + 1) * kTStride + lane];
    const float k2 = Kt[(d + 2) * kTStride + lane], k3 = Kt[(d + 3) * kTStride + lane];
#pragma unroll
    for (int i = 0; i < RW; i++) {
      const float4 qv = *reinterpret_cast<const float4*>(Q + i * Dp + d);
      s[i] = fmaf(qv.x, k0, s[i]);
      s[i] = fmaf(qv.y, k1, s[i]);
      s[i] = fmaf(qv.z, k2, s[i]);
      s[i] = fmaf(qv.w, k3, s[i]);
    }
  }
}

}  // namespace mm::cuda::attn
