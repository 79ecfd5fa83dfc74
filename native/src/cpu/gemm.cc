// CPU GEMM: a BLIS-style blocked, packed algorithm with register-blocked micro-kernels for
// AVX-512 and AVX2+FMA (picked at run time, so the binary still runs without them) and a
// portable C++ one; small or skinny problems take a direct path that skips packing.
//
// Packed path, for one batch item and one rectangle of C:
//   for each nc-wide column panel of C:
//     for each kc-deep slice of K:     pack op(B)[slice, panel] into NR-wide strips
//       for each mc-tall row block:    pack op(A)[block, slice] into MR-tall strips
//         for each NR strip, MR strip: micro-kernel: an MR x NR tile of C += strip(A) @ strip(B)
// The micro-kernel keeps the tile in registers across the kc steps, loading NR values of B and
// broadcasting MR values of A per step; packing makes both reads contiguous and zero-pads the
// edges so the kernel never branches inside its loop.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "../core/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#define MM_GEMM_X86 1
#include <immintrin.h>
#endif

namespace mm::cpu {
namespace {

// A micro-kernel: kc steps of tile[r][j] += a[r] * b[j] (a: MR values per step, b: NR values
// per step, 64-byte aligned); then c[r * ldc + j] = alpha * tile + beta * c for the valid part
// r < mr, j < nr (beta == 0: c is only written). Every element goes through the same
// instructions whatever its place in the tile, so how C is split into tiles (and between
// threads) never changes a result.
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr, float alpha,
                             float beta);
// A direct kernel: C rows [i0, i0 + rows) x columns [j0, j0 + cols) of one batch item, from A
// and B in place (for problems where packing would cost more than it saves: a few rows of A,
// as in decoding, or a few columns of B; see use_direct).
using DirectKernel = void (*)(const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0, int64_t rows, int64_t j0,
                              int64_t cols);
// Packs `rows` source rows (each contiguous along p, `ld` apart) as one strip of width W:
// dst[p * W + r] for p < kc, zero for r in [rows, W).
using PackRows = void (*)(float* dst, int W, const float* src, int64_t ld, int rows, int64_t kc);

constexpr int kScalarMr = 4, kScalarNr = 8;
constexpr int kDirectRows = 4;  // the direct kernels work on up to 4 rows of C at a time

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// ---- portable kernels ------------------------------------------------------------------------
// Plain loops the compiler vectorises for the baseline ISA.
void micro_scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr, float alpha, float beta) {
  constexpr int MR = kScalarMr, NR = kScalarNr;
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; p++, a += MR, b += NR) {
    for (int r = 0; r < MR; r++) {
      for (int j = 0; j < NR; j++) acc[r][j] += a[r] * b[j];
    }
  }
  for (int r = 0; r < mr; r++) {
    float* row = c + r * ldc;
    for (int j = 0; j < nr; j++) row[j] = beta == 0.0f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * row[j];
  }
}

// Direct: up to kDirectRows rows of C at a time, in column chunks held on the stack.
constexpr int64_t kDirectCols = 256, kDirectDepth = 256;

// sum_q x[q] * y[q] with 16 partial sums (vectorisable without reassociating a single sum).
inline float dot(const float* x, const float* y, int64_t n) {
  float s[16] = {};
  int64_t q = 0;
  for (; q + 16 <= n; q += 16) {
    for (int l = 0; l < 16; l++) s[l] += x[q + l] * y[q + l];
  }
  for (int l = 0; q < n; q++, l++) s[l] += x[q] * y[q];
  for (int w = 8; w >= 1; w /= 2) {
    for (int l = 0; l < w; l++) s[l] += s[l + w];
  }
  return s[0];
}

// C rows [i0, i0 + rows) x columns [j0, j0 + cols) of one batch item.
void direct_scalar(const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
  const int64_t M = p.m, N = p.n, K = p.k;
  for (int64_t i = i0; i < i0 + rows; i += kDirectRows) {
    const int nrow = static_cast<int>(std::min<int64_t>(kDirectRows, i0 + rows - i));
    for (int64_t j = j0; j < j0 + cols; j += kDirectCols) {
      const int64_t ncol = std::min(kDirectCols, j0 + cols - j);
      alignas(64) float acc[kDirectRows][kDirectCols];
      for (int r = 0; r < nrow; r++) std::fill(acc[r], acc[r] + ncol, 0.0f);
      for (int64_t k = 0; k < K; k += kDirectDepth) {
        const int64_t nk = std::min(kDirectDepth, K - k);
        alignas(64) float arow[kDirectRows][kDirectDepth];  // op(A)[i + r][k .. k + nk)
        for (int r = 0; r < nrow; r++) {
          if (!p.trans_a) {
            std::memcpy(arow[r], A + (i + r) * K + k, static_cast<size_t>(nk) * sizeof(float));
          } else {
            for (int64_t q = 0; q < nk; q++) arow[r][q] = A[(k + q) * M + i + r];
          }
        }
        if (!p.trans_b) {
          for (int64_t q = 0; q < nk; q++) {
            const float* brow = B + (k + q) * N + j;
            for (int r = 0; r < nrow; r++) {
              const float s = arow[r][q];
              float* out = acc[r];
              for (int64_t jj = 0; jj < ncol; jj++) out[jj] += s * brow[jj];
            }
          }
        } else {
          for (int64_t jj = 0; jj < ncol; jj++) {
            const float* bcol = B + (j + jj) * K + k;
            for (int r = 0; r < nrow; r++) acc[r][jj] += dot(arow[r], bcol, nk);
          }
        }
      }
      for (int r = 0; r < nrow; r++) {
        float* out = C + (i + r) * N + j;
        if (p.beta == 0.0f) {
          for (int64_t jj = 0; jj < ncol; jj++) out[jj] = p.alpha * acc[r][jj];
        } else {
          for (int64_t jj = 0; jj < ncol; jj++) out[jj] = p.alpha * acc[r][jj] + p.beta * out[jj];
        }
      }
    }
  }
}

// ---- packing -------------------------------------------------------------------------------
// A packed strip is kc steps of W values: dst[p * W + r] for r < W (rows past `rows` zero).
// Two source layouts occur: "steps" (step p of the strip is contiguous: src + p * ld) and
// "rows" (value r of the strip is contiguous along p: src + r * ld, so packing transposes).

// Steps layout, for all the strips of a block of `width` values at once: each source step is
// read once, contiguously, and scattered into the strips (a fixed W makes the copies moves).
// Steps are `ld` apart, often a page or more, which hardware prefetchers do not follow for
// short runs (a transposed A gives 64 values per step): fetch the step 8 ahead explicitly.
template <int kW>
void pack_steps_block(float* dst, int runtime_w, const float* src, int64_t ld, int64_t width, int64_t kc) {
  constexpr int64_t kAhead = 8;
  const int W = kW ? kW : runtime_w;
  const int64_t full = width / W * W;
  for (int64_t p = 0; p < kc; p++) {
    const float* s = src + p * ld;
    if (p + kAhead < kc) {
      for (int64_t j = 0; j < width; j += 16) __builtin_prefetch(s + kAhead * ld + j);
    }
    float* d = dst + p * W;
    for (int64_t j = 0; j < full; j += W, d += W * kc) {
      for (int r = 0; r < W; r++) d[r] = s[j + r];
    }
    if (full < width) {
      const int valid = static_cast<int>(width - full);
      for (int r = 0; r < W; r++) d[r] = r < valid ? s[full + r] : 0.0f;
    }
  }
}

void pack_steps(float* dst, int W, const float* src, int64_t ld, int64_t width, int64_t kc) {
  switch (W) {  // the strip widths of the kernel sets
    case 4: return pack_steps_block<4>(dst, W, src, ld, width, kc);
    case 6: return pack_steps_block<6>(dst, W, src, ld, width, kc);
    case 8: return pack_steps_block<8>(dst, W, src, ld, width, kc);
    case 16: return pack_steps_block<16>(dst, W, src, ld, width, kc);
    case 32: return pack_steps_block<32>(dst, W, src, ld, width, kc);
    default: return pack_steps_block<0>(dst, W, src, ld, width, kc);
  }
}

__attribute__((always_inline)) inline void pack_rows_scalar(float* dst, int W, const float* src, int64_t ld, int r0, int r1, int64_t p0,
                                                            int64_t kc) {
  for (int r = r0; r < r1; r++) {
    for (int64_t p = p0; p < kc; p++) dst[p * W + r] = src[r * ld + p];
  }
}

void pack_rows_portable(float* dst, int W, const float* src, int64_t ld, int rows, int64_t kc) {
  pack_rows_scalar(dst, W, src, ld, 0, rows, 0, kc);
  for (int64_t p = 0; p < kc; p++) std::fill(dst + p * W + rows, dst + (p + 1) * W, 0.0f);
}

// Element (i, k) of op(A) is A[i * rs + k * cs]: (rs, cs) = (K, 1), or (1, M) when transposed.
// Packs rows [i0, i0 + mc) x columns [k0, k0 + kc) as MR-tall strips.
void pack_a(PackRows pack_rows, float* dst, const float* A, int64_t rs, int64_t cs, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int MR) {
  if (cs != 1) return pack_steps(dst, MR, A + k0 * cs + i0, cs, mc, kc);
  for (int64_t s = 0; s < mc; s += MR, dst += MR * kc) {
    pack_rows(dst, MR, A + (i0 + s) * rs + k0, rs, static_cast<int>(std::min<int64_t>(MR, mc - s)), kc);
  }
}

// Element (k, j) of op(B) is B[k * rs + j * cs]: (rs, cs) = (N, 1), or (1, K) when transposed.
// Packs rows [k0, k0 + kc) x columns [j0, j0 + nc) as NR-wide strips.
void pack_b(PackRows pack_rows, float* dst, const float* B, int64_t rs, int64_t cs, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int NR) {
  if (cs == 1) return pack_steps(dst, NR, B + k0 * rs + j0, rs, nc, kc);
  for (int64_t s = 0; s < nc; s += NR, dst += NR * kc) {
    pack_rows(dst, NR, B + (j0 + s) * cs + k0, cs, static_cast<int>(std::min<int64_t>(NR, nc - s)), kc);
  }
}

#ifdef MM_GEMM_X86
// ---- SIMD kernels: gemm_simd.inc compiled once per ISA ----------------------------------------
// Each namespace is compiled for its ISA only (the pragmas), so nothing in it may run before
// cpu_has() says the CPU supports it.
#if defined(__clang__)
#define MM_GEMM_TARGET_BEGIN(isa) _Pragma(MM_GEMM_STR(clang attribute push(__attribute__((target(isa))), apply_to = function)))
#define MM_GEMM_TARGET_END _Pragma("clang attribute pop")
#else
#define MM_GEMM_TARGET_BEGIN(isa) _Pragma("GCC push_options") _Pragma(MM_GEMM_STR(GCC target(isa)))
#define MM_GEMM_TARGET_END _Pragma("GCC pop_options")
#endif
#define MM_GEMM_STR(x) #x

MM_GEMM_TARGET_BEGIN("avx512f,avx2,fma")
namespace isa_avx512 {
struct Isa {
  using V = __m512;
  static constexpr int W = 16;
  static __mmask16 mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load_aligned(const float* p) { return _mm512_load_ps(p); }
  // The first n values (zeros past them; nothing past them is read).
  static V load(const float* p, int n) { return n >= W ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, V v, int n) {
    if (n >= W) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, mask(n), v);
  }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // Across lanes in a fixed tree. (The zero-masked forms avoid the intrinsics that start from
  // an undefined register, which GCC 12 wrongly warns about.)
  static float sum(V v) {
    const __mmask16 all = 0xFFFF;
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, 0x4E));  // 256-bit halves
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, 0xB1));  // 128-bit lanes
    v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, 0x4E));        // pairs
    v = _mm512_add_ps(v, _mm512_maskz_permute_ps(all, v, 0xB1));        // neighbours
    return _mm512_cvtss_f32(v);
  }
};
constexpr int kMr = 8;  // 16 accumulators + 2 vectors of B + 1 broadcast, of 32 zmm registers
#include "gemm_simd.inc"
}  // namespace isa_avx512
MM_GEMM_TARGET_END

MM_GEMM_TARGET_BEGIN("avx2,fma")
namespace isa_avx2 {
struct Isa {
  using V = __m256;
  static constexpr int W = 8;
  static __m256i mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load_aligned(const float* p) { return _mm256_load_ps(p); }
  // Masked moves are slow on some CPUs: only for partial vectors.
  static V load(const float* p, int n) { return n >= W ? _mm256_loadu_ps(p) : n <= 0 ? _mm256_setzero_ps() : _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, V v, int n) {
    if (n >= W) _mm256_storeu_ps(p, v);
    else if (n > 0) _mm256_maskstore_ps(p, mask(n), v);
  }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static float sum(V v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
};
constexpr int kMr = 6;  // 12 accumulators + 2 vectors of B + 1 broadcast, of 16 ymm registers
#include "gemm_simd.inc"

// pack_rows_portable with 8x8 and 4x8 register transposes (used by both SIMD kernel sets).
void pack_rows(float* dst, int W, const float* src, int64_t ld, int rows, int64_t kc) {
  const int64_t kc8 = kc / 8 * 8;
  int r = 0;
  for (; r + 8 <= rows; r += 8) {
    const float* s = src + r * ld;
    for (int64_t p = 0; p < kc8; p += 8) {
      __m256 x[8], t[8], u[8];
      for (int i = 0; i < 8; i++) x[i] = _mm256_loadu_ps(s + i * ld + p);
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(x[i], x[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(x[i], x[i + 1]);
      }
      for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
      }
      float* d = dst + p * W + r;
      for (int q = 0; q < 4; q++) {
        _mm256_storeu_ps(d + q * W, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
        _mm256_storeu_ps(d + (q + 4) * W, _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
      }
    }
  }
  for (; r + 4 <= rows; r += 4) {
    const float* s = src + r * ld;
    for (int64_t p = 0; p < kc8; p += 8) {
      const __m256 x0 = _mm256_loadu_ps(s + p), x1 = _mm256_loadu_ps(s + ld + p);
      const __m256 x2 = _mm256_loadu_ps(s + 2 * ld + p), x3 = _mm256_loadu_ps(s + 3 * ld + p);
      const __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);
      const __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);
      const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE), _mm256_shuffle_ps(t1, t3, 0x44),
                           _mm256_shuffle_ps(t1, t3, 0xEE)};
      float* d = dst + p * W + r;
      for (int q = 0; q < 4; q++) {
        _mm_storeu_ps(d + q * W, _mm256_castps256_ps128(u[q]));
        _mm_storeu_ps(d + (q + 4) * W, _mm256_extractf128_ps(u[q], 1));
      }
    }
  }
  pack_rows_scalar(dst, W, src, ld, r, rows, 0, kc8);  // rows left over by the 8- and 4-row groups
  pack_rows_scalar(dst, W, src, ld, 0, rows, kc8, kc);  // steps past the last multiple of 8
  for (int64_t p = 0; p < kc; p++) std::fill(dst + p * W + rows, dst + (p + 1) * W, 0.0f);
}

}  // namespace isa_avx2
MM_GEMM_TARGET_END
#endif  // MM_GEMM_X86

// ---- kernel sets ---------------------------------------------------------------------------
struct KernelSet {
  const char* name;
  int mr, nr;          // register tile
  int64_t kc, mc, nc;  // cache blocks: a kc x nc panel of B, an mc x kc block of A
  MicroKernel micro;
  DirectKernel direct;
  PackRows pack_rows;
};

const KernelSet kScalar{"scalar", kScalarMr, kScalarNr, 256, 128, 1024, micro_scalar, direct_scalar, pack_rows_portable};
#ifdef MM_GEMM_X86
// Blocks tuned on Zen 4 (L1d 32 KiB, L2 1 MiB per core): both strips of a micro-kernel call
// (MR x kc of A, kc x NR of B: up to 128 KiB) stream from L2, which keeps up with the FMAs;
// the deep kc means C is read and written once per 1024 steps of K. The mc x kc block of A
// stays in L2 while the kc x nc panel of B (4 MiB, in L3) is swept once per block.
const KernelSet kAvx512{"avx512", isa_avx512::kMr, isa_avx512::kNr, 1024, 64, 1024, isa_avx512::micro, isa_avx512::direct, isa_avx2::pack_rows};
const KernelSet kAvx2{"avx2", isa_avx2::kMr, isa_avx2::kNr, 1024, 96, 1024, isa_avx2::micro, isa_avx2::direct, isa_avx2::pack_rows};
#endif

bool cpu_has(const char* name) {
  if (std::strcmp(name, "scalar") == 0) return true;
#ifdef MM_GEMM_X86
  __builtin_cpu_init();  // __builtin_cpu_supports also checks that the OS saves the registers
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (std::strcmp(name, "avx512") == 0) return avx2 && __builtin_cpu_supports("avx512f");
  if (std::strcmp(name, "avx2") == 0) return avx2;
#endif
  return false;
}

const KernelSet* kernel_set(const char* name) {
#ifdef MM_GEMM_X86
  if (std::strcmp(name, "avx512") == 0) return &kAvx512;
  if (std::strcmp(name, "avx2") == 0) return &kAvx2;
#endif
  return std::strcmp(name, "scalar") == 0 ? &kScalar : nullptr;
}

const KernelSet* best_kernels() {
  for (const char* name : {"avx512", "avx2"}) {
    if (cpu_has(name)) return kernel_set(name);
  }
  return &kScalar;
}

std::atomic<const KernelSet*> g_kernels{nullptr};

const KernelSet& kernels() {
  const KernelSet* k = g_kernels.load(std::memory_order_acquire);
  if (!k) {
    k = best_kernels();
    g_kernels.store(k, std::memory_order_release);
  }
  return *k;
}

// Per-thread packing buffers, kept between calls (their size is bounded by the block sizes).
struct PackBuffer {
  float* data = nullptr;
  size_t capacity = 0;  // floats
  ~PackBuffer() { std::free(data); }
  float* get(size_t floats) {
    if (floats > capacity) {
      std::free(data);
      data = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(round_up(static_cast<int64_t>(floats) * 4, 64))));
      capacity = data ? floats : 0;
    }
    return data;
  }
};
thread_local PackBuffer t_pack_a, t_pack_b;

// K is cut into equal slices of at most ks.kc (a multiple of 8 where possible), fixed by K alone
// so that every split of C sums in the same order.
int64_t k_slice(const KernelSet& ks, int64_t K) {
  const int64_t slices = (K + ks.kc - 1) / ks.kc;
  return std::min(ks.kc, round_up((K + slices - 1) / slices, 8));
}

// The packed algorithm on C rows [i0, i0 + m) x columns [j0, j0 + n) of one batch item. Returns
// false (having written nothing) when the packing buffers cannot be allocated.
bool packed(const KernelSet& ks, const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0, int64_t m, int64_t j0,
            int64_t n) {
  const int MR = ks.mr, NR = ks.nr;
  const int64_t K = p.k, N = p.n;
  const int64_t kc_max = k_slice(ks, K);
  // Blocks are whole strips, so packing (which pads the last strip) stays inside the buffers.
  const int64_t nc_max = round_up(std::min(ks.nc, n), NR);
  const int64_t mc_max = round_up(std::min(ks.mc, m), MR);
  float* bp = t_pack_b.get(static_cast<size_t>(kc_max * nc_max));
  float* ap = t_pack_a.get(static_cast<size_t>(kc_max * mc_max));
  if (!bp || !ap) return false;
  const int64_t a_rs = p.trans_a ? 1 : K, a_cs = p.trans_a ? p.m : 1;
  const int64_t b_rs = p.trans_b ? 1 : N, b_cs = p.trans_b ? K : 1;
  for (int64_t jc = 0; jc < n; jc += nc_max) {
    const int64_t nc = std::min(nc_max, n - jc);
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      pack_b(ks.pack_rows, bp, B, b_rs, b_cs, pc, kc, j0 + jc, nc, NR);
      const float beta = pc == 0 ? p.beta : 1.0f;  // later slices accumulate
      for (int64_t ic = 0; ic < m; ic += mc_max) {
        const int64_t mc = std::min(mc_max, m - ic);
        pack_a(ks.pack_rows, ap, A, a_rs, a_cs, i0 + ic, mc, pc, kc, MR);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            ks.micro(kc, ap + ir * kc, bp + jr * kc, C + (i0 + ic + ir) * N + j0 + jc + jr, N, mr, nr, p.alpha, beta);
          }
        }
      }
    }
  }
  return true;
}

// Packing pays off once op(A) has enough rows to reuse the packed panels of B (measured on
// Zen 4: the direct kernels win up to about 16 rows, and for very narrow C).
bool use_direct(const GemmArgs& p) { return p.m <= 16 || p.n <= 8; }

// C = beta * C (K == 0 or alpha == 0: nothing to multiply).
void scale_c(const GemmArgs& p) {
  const int64_t total = p.batch * p.m * p.n;
  parallel_for(total, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) p.c[i] = p.beta == 0.0f ? 0.0f : p.beta * p.c[i];
  });
}

}  // namespace

void gemm(const GemmArgs& p) {
  if (p.m <= 0 || p.n <= 0 || p.batch <= 0) return;
  if (p.k <= 0 || p.alpha == 0.0f) return scale_c(p);
  const KernelSet& ks = kernels();
  const bool direct = use_direct(p);

  // Work items: batch items, each cut into `parts` ranges of rows (or of columns, whichever is
  // longer) when there are too few batch items to share evenly between the threads.
  const int threads = num_threads();
  const double flops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
  int64_t parts = 1;
  if (threads > 1 && flops >= 2e6 && p.batch % threads != 0 && p.batch < 4 * threads) parts = threads;
  const bool split_rows = p.m >= p.n;
  const int64_t unit = direct ? (split_rows ? kDirectRows : 16) : (split_rows ? ks.mr : ks.nr);
  const int64_t units = ((split_rows ? p.m : p.n) + unit - 1) / unit;
  parts = std::max<int64_t>(1, std::min(parts, units));
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(1e6 / (flops / static_cast<double>(parts))));

  parallel_for(p.batch * parts, grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; item++) {
      const int64_t b = item / parts, part = item % parts;
      const float* A = p.a + (p.a_offsets ? p.a_offsets[b] : 0);
      const float* B = p.b + (p.b_offsets ? p.b_offsets[b] : 0);
      float* C = p.c + b * p.m * p.n;
      const int64_t lo = std::min(units * part / parts * unit, split_rows ? p.m : p.n);
      const int64_t hi = std::min(units * (part + 1) / parts * unit, split_rows ? p.m : p.n);
      const int64_t i0 = split_rows ? lo : 0, rows = split_rows ? hi - lo : p.m;
      const int64_t j0 = split_rows ? 0 : lo, cols = split_rows ? p.n : hi - lo;
      if (rows <= 0 || cols <= 0) continue;
      if (direct || !packed(ks, p, A, B, C, i0, rows, j0, cols)) ks.direct(p, A, B, C, i0, rows, j0, cols);
    }
  });
}

bool select_gemm_kernel(const char* name) {
  if (!name) return false;
  const KernelSet* k = std::strcmp(name, "auto") == 0 ? best_kernels() : cpu_has(name) ? kernel_set(name) : nullptr;
  if (!k) return false;
  g_kernels.store(k, std::memory_order_release);
  return true;
}

const char* gemm_kernel_name() { return kernels().name; }

}  // namespace mm::cpu
