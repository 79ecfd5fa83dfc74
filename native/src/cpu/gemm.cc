// CPU GEMM: a BLIS-style blocked, packed algorithm with register-blocked micro-kernels for
// AVX-512 and AVX2+FMA (picked at run time, so the binary still runs without them) and a
// portable C++ one; small or skinny problems take a direct loop that skips packing.
//
// Packed path, for one batch item and one rectangle of C:
//   for each nc-wide column panel of C:
//     for each kc-deep slice of K:     pack op(B)[slice, panel] into NR-wide strips (L2/L3)
//       for each mc-tall row block:    pack op(A)[block, slice] into MR-tall strips (L2)
//         for each NR strip, MR strip: micro-kernel: an MR x NR tile of C += strip(A) @ strip(B)
// The micro-kernel keeps the tile in registers across the kc steps, loading NR values of B and
// broadcasting MR values of A per step; packing makes both reads contiguous and zero-pads the
// edges so the kernel never branches inside its loop.
#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "../core/thread_pool.h"

namespace mm::cpu {
namespace {

// ---- micro-kernels -------------------------------------------------------------------------
// kc steps of: tile[r][j] += a[r] * b[j] (a: MR values per step, b: NR values per step); then
// c[r * ldc + j] = alpha * tile + beta * c for the valid part r < mr, j < nr (beta == 0: c is
// only written). Every element goes through the same instructions whatever its place in the
// tile, so how C is split into tiles (and between threads) never changes a result.
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr, float alpha,
                             float beta);

constexpr int kAvx512Mr = 8, kAvx512Nr = 32;  // 16 accumulators + 2 B vectors + 1 broadcast (of 32 zmm)
constexpr int kAvx2Mr = 6, kAvx2Nr = 16;      // 12 accumulators + 2 B vectors + 1 broadcast (of 16 ymm)
constexpr int kScalarMr = 4, kScalarNr = 8;

__attribute__((target("avx512f"))) inline __mmask16 tail_mask16(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << n) - 1);
}

__attribute__((target("avx512f"))) void micro_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr,
                                                     int nr, float alpha, float beta) {
  constexpr int MR = kAvx512Mr;
  // The C tile's rows are far apart (no hardware prefetch): fetch them while the loop runs.
  for (int r = 0; r < mr; r++) {
    __builtin_prefetch(c + r * ldc, 1, 3);
    __builtin_prefetch(c + r * ldc + nr - 1, 1, 3);
  }
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const __m512 av = _mm512_set1_ps(a[r]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
    }
    a += MR;
    b += 2 * 16;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 k0 = tail_mask16(nr), k1 = tail_mask16(nr - 16);
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    if (r >= mr) break;
    float* row = c + r * ldc;
    __m512 c0 = _mm512_mul_ps(va, acc0[r]), c1 = _mm512_mul_ps(va, acc1[r]);
    if (beta != 0.0f) {
      c0 = _mm512_fmadd_ps(va, acc0[r], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(k0, row)));
      c1 = _mm512_fmadd_ps(va, acc1[r], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(k1, row + 16)));
    }
    _mm512_mask_storeu_ps(row, k0, c0);
    _mm512_mask_storeu_ps(row + 16, k1, c1);
  }
}

__attribute__((target("avx2,fma"))) inline __m256i tail_mask8(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr,
                                                   float alpha, float beta) {
  constexpr int MR = kAvx2Mr;
  for (int r = 0; r < mr; r++) {
    __builtin_prefetch(c + r * ldc, 1, 3);
    __builtin_prefetch(c + r * ldc + nr - 1, 1, 3);
  }
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
    a += MR;
    b += 2 * 8;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const bool full = nr >= 16;  // masked moves are slow on some CPUs: only for edge tiles
  const __m256i k0 = tail_mask8(nr), k1 = tail_mask8(nr - 8);
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    if (r >= mr) break;
    float* row = c + r * ldc;
    __m256 c0 = _mm256_mul_ps(va, acc0[r]), c1 = _mm256_mul_ps(va, acc1[r]);
    if (beta != 0.0f) {
      const __m256 old0 = full ? _mm256_loadu_ps(row) : _mm256_maskload_ps(row, k0);
      const __m256 old1 = full ? _mm256_loadu_ps(row + 8) : _mm256_maskload_ps(row + 8, k1);
      c0 = _mm256_fmadd_ps(va, acc0[r], _mm256_mul_ps(vb, old0));
      c1 = _mm256_fmadd_ps(va, acc1[r], _mm256_mul_ps(vb, old1));
    }
    if (full) {
      _mm256_storeu_ps(row, c0);
      _mm256_storeu_ps(row + 8, c1);
    } else {
      _mm256_maskstore_ps(row, k0, c0);
      _mm256_maskstore_ps(row + 8, k1, c1);
    }
  }
}

// Portable: plain loops the compiler vectorises for the baseline ISA.
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

// ---- direct path ---------------------------------------------------------------------------
// For problems where packing would cost as much as the arithmetic (a row or two of A, as in
// decoding; a handful of columns; tiny matrices): up to kDirectRows rows of C at a time, in
// column chunks held on the stack, reading A and B in place. One body, compiled per ISA.
constexpr int kDirectRows = 4;
constexpr int64_t kDirectCols = 256, kDirectDepth = 256;

// sum_q x[q] * y[q] with 16 partial sums (vectorisable without reassociating a single sum).
__attribute__((always_inline)) inline float dot(const float* x, const float* y, int64_t n) {
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
__attribute__((always_inline)) inline void direct_body(const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0,
                                                       int64_t rows, int64_t j0, int64_t cols) {
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

using DirectKernel = void (*)(const GemmArgs&, const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t);

__attribute__((target("avx512f,avx2,fma"))) void direct_avx512(const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0,
                                                              int64_t rows, int64_t j0, int64_t cols) {
  direct_body(p, A, B, C, i0, rows, j0, cols);
}
__attribute__((target("avx2,fma"))) void direct_avx2(const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0, int64_t rows,
                                                    int64_t j0, int64_t cols) {
  direct_body(p, A, B, C, i0, rows, j0, cols);
}
void direct_scalar(const GemmArgs& p, const float* A, const float* B, float* C, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
  direct_body(p, A, B, C, i0, rows, j0, cols);
}

// ---- packing -------------------------------------------------------------------------------
int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// A packed strip is kc steps of W values: dst[p * W + r] for r < W (rows past `rows` zero).
// Two source layouts occur: "steps" (step p of the strip is contiguous: src + p * ld) and
// "rows" (value r of the strip is contiguous along p: src + r * ld, so packing transposes).

// Steps layout, for all the strips of a block of `width` values at once: each source step is
// read once, contiguously, and scattered into the strips (W fixed, so the copies are moves).
template <int W>
void pack_steps_block(float* dst, const float* src, int64_t ld, int64_t width, int64_t kc) {
  const int64_t full = width / W * W;
  for (int64_t p = 0; p < kc; p++) {
    const float* s = src + p * ld;
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
  switch (W) {
    case kAvx512Mr: return pack_steps_block<kAvx512Mr>(dst, src, ld, width, kc);
    case kAvx512Nr: return pack_steps_block<kAvx512Nr>(dst, src, ld, width, kc);
    case kAvx2Mr: return pack_steps_block<kAvx2Mr>(dst, src, ld, width, kc);
    case kAvx2Nr: return pack_steps_block<kAvx2Nr>(dst, src, ld, width, kc);
    case kScalarMr: return pack_steps_block<kScalarMr>(dst, src, ld, width, kc);
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

// The same with 8x8 and 4x8 register transposes (AVX, used by both SIMD kernel sets).
__attribute__((target("avx2,fma"))) void pack_rows_avx(float* dst, int W, const float* src, int64_t ld, int rows, int64_t kc) {
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

using PackRows = void (*)(float* dst, int W, const float* src, int64_t ld, int rows, int64_t kc);

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

// ---- kernel sets ---------------------------------------------------------------------------
struct KernelSet {
  const char* name;
  int mr, nr;          // register tile
  int64_t kc, mc, nc;  // cache blocks: a kc x nc panel of B, an mc x kc block of A
  MicroKernel micro;
  DirectKernel direct;
  PackRows pack_rows;
};

// Blocks tuned on Zen 4 (L1d 32 KiB, L2 1 MiB per core): both strips of a micro-kernel call
// (MR x kc of A, 32..128 KiB of B) stream from L2, which keeps up with the FMAs; a deep kc
// means C is read and written once per 1024 steps; the mc x kc block of A stays in L2 while
// the kc x nc panel of B (4 MiB, in L3) is swept once per block.
const KernelSet kAvx512{"avx512", kAvx512Mr, kAvx512Nr, 1024, 64, 1024, micro_avx512, direct_avx512, pack_rows_avx};
const KernelSet kAvx2{"avx2", kAvx2Mr, kAvx2Nr, 1024, 96, 1024, micro_avx2, direct_avx2, pack_rows_avx};
const KernelSet kScalar{"scalar", kScalarMr, kScalarNr, 256, 128, 1024, micro_scalar, direct_scalar, pack_rows_portable};

bool cpu_has(const char* name) {
  __builtin_cpu_init();
  if (std::strcmp(name, "avx512") == 0) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (std::strcmp(name, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return std::strcmp(name, "scalar") == 0;
}

const KernelSet* best_kernels() {
  if (cpu_has("avx512")) return &kAvx512;
  if (cpu_has("avx2")) return &kAvx2;
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

// Packing pays off once there are enough rows and columns to reuse the packed panels.
bool use_direct(const GemmArgs& p) { return p.m <= kDirectRows || p.n <= 4 || p.m * p.n * p.k <= 32 * 32 * 32; }

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
  if (std::strcmp(name, "auto") == 0) {
    g_kernels.store(best_kernels(), std::memory_order_release);
    return true;
  }
  if (!cpu_has(name)) return false;
  const KernelSet* k = std::strcmp(name, "avx512") == 0 ? &kAvx512 : std::strcmp(name, "avx2") == 0 ? &kAvx2 : &kScalar;
  g_kernels.store(k, std::memory_order_release);
  return true;
}

const char* gemm_kernel_name() { return kernels().name; }

}  // namespace mm::cpu
