// CUDA GEMM: the kernel choice (cuBLASLt when loaded, else our own) and our own kernels.
//
// "tiled" (fp32 SIMT, any dtype in/out with fp32 arithmetic): a block computes a BM x BN tile of
// C from BK-deep slices of op(A) and op(B) staged in shared memory (k-major, so a thread reads
// its rows and columns of a slice as float4), double-buffered: the next slice's global loads
// are issued before the current slice's arithmetic and written to the other buffer after it, so
// one __syncthreads per slice suffices. Each of the 256 threads owns a TM x TN micro-tile of C in
// registers, made of 4 x 4 groups spread BM / (TM / 4) rows (and BN / (TN / 4) columns) apart so
// the float4 shared reads of a warp hit distinct banks. Global loads are coalesced whatever the
// transposes: consecutive threads take consecutive addresses along whichever of (row, k) is
// contiguous in memory; the transposing stores into shared memory are padded against bank
// conflicts. Two shapes: 128 x 128 x 8 with 8 x 8 micro-tiles for large products, 64 x 64 x 16
// with 4 x 4 for small ones (more blocks to fill the device).
//
// "wmma" (bf16 tensor cores): nvcuda::wmma m16n16k16 bf16 fragments with fp32 accumulators. A
// block stages BM x 32 of op(A) and 32 x BN of op(B) in shared memory in the layout they have in
// global memory (a transposed operand becomes a col_major fragment, so no transposing copy),
// 16-byte vector loads where the rows allow it, zero padding at the edges, double-buffered as
// above; each warp owns a (BM / WM) x (BN / WN) piece of C as a grid of accumulator fragments.
// The epilogue goes through a per-warp 16 x 16 staging tile in shared memory (alpha, beta, the
// bounds and the bf16 rounding need each element's position).
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "../core/convert.h"
#include "common.cuh"
#include "gemm.h"

namespace mm::cuda {
namespace {

// ---- element access: f32, or bf16 as raw bits ----------------------------------------------
__device__ __forceinline__ float load_f(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load_f(const uint16_t* p, int64_t i) { return bf16_bits_to_f32(p[i]); }
__device__ __forceinline__ void store_f(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store_f(uint16_t* p, int64_t i, float v) { p[i] = f32_to_bf16_bits(v); }

template <class T>
struct Problem {
  const T* a;
  const T* b;
  T* c;
  int64_t m, n, k, batch;
  float alpha, beta;
  GemmBatchIndex index;

  // The matrices of A and B that batch item `item` reads (its C is at c + item * m * n).
  __device__ __forceinline__ void operands(int64_t item, const T** A, const T** B) const {
    int64_t oa, ob;
    index.offsets(item, &oa, &ob);
    *A = a + oa * m * k;
    *B = b + ob * k * n;
  }
};

// ---- tiled (SIMT) ------------------------------------------------------------------------------
constexpr int kTiledThreads = 256;
constexpr int kPad = 4;  // floats of padding per shared row: keeps float4 alignment, spreads banks

// A thread's share of the loads of one operand's BK-deep slices of R rows [r0, r0 + R): L
// elements at fixed (row, depth) places in the slice, read into registers (zero outside the
// matrix) and later written into the k-major shared slice s[kk][r] (row stride R + kPad).
// kContig: the operand is stored rows x K (element (r, k) at r * ld + k), else K x rows (at
// k * ld + r); either way consecutive threads read consecutive addresses. Element i of a thread
// lies at a fixed distance from its element 0, so a load is one base offset plus constants.
template <int R, int BK, bool kContig, class T>
struct TiledLoader {
  static constexpr int L = R * BK / kTiledThreads;
  static constexpr int kStep = kContig ? kTiledThreads / BK : kTiledThreads / R;  // rows (or depths) between elements
  static_assert(kContig ? kTiledThreads % BK == 0 : kTiledThreads % R == 0, "a thread keeps its depth (or row) across elements");
  static_assert(L <= 32, "one bit per element");
  const T* base;     // element 0 of the slice at depth 0
  int64_t stride;    // between elements: kStep rows (kContig) or kStep depths
  int64_t ld, K;
  int depth;         // of element 0, within the slice
  unsigned rows_ok;  // bit i: element i's row is inside the matrix

  __device__ __forceinline__ TiledLoader(const T* x, int64_t ld_, int64_t rows, int64_t K_, int64_t r0) : ld(ld_), K(K_) {
    const int t = static_cast<int>(threadIdx.x);
    const int64_t row = r0 + (kContig ? t / BK : t % R);
    depth = kContig ? t % BK : t / R;
    base = x + (kContig ? row * ld + depth : depth * ld + row);
    stride = kStep * ld;
    rows_ok = 0;
#pragma unroll
    for (int i = 0; i < L; i++) rows_ok |= static_cast<unsigned>((kContig ? row + i * kStep : row) < rows) << i;
  }

  __device__ __forceinline__ void load(int64_t k0, float (&reg)[L]) const {
    const T* at = base + (kContig ? k0 : k0 * ld);
#pragma unroll
    for (int i = 0; i < L; i++) {
      const bool ok = ((rows_ok >> i) & 1u) && k0 + depth + (kContig ? 0 : i * kStep) < K;
      reg[i] = ok ? load_f(at, i * stride) : 0.0f;
    }
  }

  __device__ __forceinline__ static void store(float* s, const float (&reg)[L]) {
    const int t = static_cast<int>(threadIdx.x);
    const int r = kContig ? t / BK : t % R, kk = kContig ? t % BK : t / R;
#pragma unroll
    for (int i = 0; i < L; i++) s[(kContig ? kk : kk + i * kStep) * (R + kPad) + (kContig ? r + i * kStep : r)] = reg[i];
  }
};

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB, class T>
__global__ void tiled_kernel(Problem<T> p) {
  static_assert((BM / TM) * (BN / TN) == kTiledThreads, "one micro-tile per thread");
  static_assert(BM * BK % kTiledThreads == 0 && BN * BK % kTiledThreads == 0, "whole loads per thread");
  constexpr int GM = TM / 4, GN = TN / 4;            // 4 x 4 groups per micro-tile
  constexpr int SM = BM / GM, SN = BN / GN;          // distance between a thread's groups
  using LoadA = TiledLoader<BM, BK, !TA, T>;
  using LoadB = TiledLoader<BN, BK, TB, T>;
  constexpr int RA = (BM + kPad) / 4, RB = (BN + kPad) / 4;  // shared row lengths in float4
  __shared__ float4 As4[2][BK][RA];
  __shared__ float4 Bs4[2][BK][RB];

  const int tx = static_cast<int>(threadIdx.x) % (BN / TN), ty = static_cast<int>(threadIdx.x) / (BN / TN);
  const int64_t M = p.m, N = p.n, K = p.k;
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * BM, n0 = static_cast<int64_t>(blockIdx.y) * BN;
  const int64_t lda = TA ? M : K, ldb = TB ? K : N;

  for (int64_t item = blockIdx.z; item < p.batch; item += gridDim.z) {
    const T *A, *B;
    p.operands(item, &A, &B);

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++) {
#pragma unroll
      for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;
    }
    const LoadA load_a(A, lda, M, K, m0);
    const LoadB load_b(B, ldb, N, K, n0);
    float ra[LoadA::L], rb[LoadB::L];
    load_a.load(0, ra);
    load_b.load(0, rb);
    LoadA::store(reinterpret_cast<float*>(As4[0]), ra);
    LoadB::store(reinterpret_cast<float*>(Bs4[0]), rb);
    __syncthreads();

    int buf = 0;
    for (int64_t k0 = 0; k0 < K; k0 += BK) {
      const bool more = k0 + BK < K;
      if (more) {  // next slice: global loads in flight during the arithmetic below
        load_a.load(k0 + BK, ra);
        load_b.load(k0 + BK, rb);
      }
#pragma unroll
      for (int kk = 0; kk < BK; kk++) {
        float a[TM], b[TN];
#pragma unroll
        for (int g = 0; g < GM; g++) {
          const float4 v = As4[buf][kk][(g * SM + ty * 4) / 4];
          a[g * 4 + 0] = v.x, a[g * 4 + 1] = v.y, a[g * 4 + 2] = v.z, a[g * 4 + 3] = v.w;
        }
#pragma unroll
        for (int g = 0; g < GN; g++) {
          const float4 v = Bs4[buf][kk][(g * SN + tx * 4) / 4];
          b[g * 4 + 0] = v.x, b[g * 4 + 1] = v.y, b[g * 4 + 2] = v.z, b[g * 4 + 3] = v.w;
        }
#pragma unroll
        for (int i = 0; i < TM; i++) {
#pragma unroll
          for (int j = 0; j < TN; j++) acc[i][j] += a[i] * b[j];
        }
      }
      if (more) {
        LoadA::store(reinterpret_cast<float*>(As4[buf ^ 1]), ra);
        LoadB::store(reinterpret_cast<float*>(Bs4[buf ^ 1]), rb);
      }
      __syncthreads();
      buf ^= 1;
    }

    T* C = p.c + item * M * N;
#pragma unroll
    for (int i = 0; i < TM; i++) {
      const int64_t row = m0 + (i / 4) * SM + ty * 4 + i % 4;
      if (row >= M) continue;
#pragma unroll
      for (int j = 0; j < TN; j++) {
        const int64_t col = n0 + (j / 4) * SN + tx * 4 + j % 4;
        if (col >= N) continue;
        const int64_t at = row * N + col;
        const float v = p.alpha * acc[i][j];
        store_f(C, at, p.beta == 0.0f ? v : v + p.beta * load_f(C, at));
      }
    }
  }
}

// ---- wmma (bf16 tensor cores) ------------------------------------------------------------------
constexpr int kWmmaK = 32;     // depth of a staged slice
constexpr int kWmmaSkew = 8;   // bf16 elements of padding per shared row (ldm stays a multiple of 8)

// A slice of one operand in shared memory, in its global layout: `outer` rows of `inner`
// contiguous elements (row stride inner + kWmmaSkew).
template <int OUTER, int INNER>
struct WmmaSlice {
  static constexpr int kLd = INNER + kWmmaSkew;
  static constexpr int kElems = OUTER * kLd;
  static constexpr int kChunks = OUTER * INNER / 8;  // 16-byte chunks of 8 elements
};

// Loads chunks of the slice [o0, o0 + OUTER) x [i0, i0 + INNER) (global element (o, i) at
// o * ld + i, zero outside outer_n x inner_n) into registers: 16-byte loads when `vec` (the rows
// are 16-byte aligned) and the chunk is whole, else element by element.
template <int OUTER, int INNER, int THREADS>
__device__ __forceinline__ void wmma_load(const uint16_t* x, int64_t ld, int64_t outer_n, int64_t inner_n, int64_t o0, int64_t i0, bool vec,
                                          int4 (&reg)[WmmaSlice<OUTER, INNER>::kChunks / THREADS]) {
  constexpr int kPerRow = INNER / 8;
#pragma unroll
  for (int t = 0; t < WmmaSlice<OUTER, INNER>::kChunks / THREADS; t++) {
    const int chunk = static_cast<int>(threadIdx.x) + t * THREADS;
    const int64_t o = o0 + chunk / kPerRow, i = i0 + (chunk % kPerRow) * 8;
    if (o < outer_n && vec && i + 8 <= inner_n) {
      reg[t] = *reinterpret_cast<const int4*>(x + o * ld + i);
      continue;
    }
    uint32_t w[4] = {0, 0, 0, 0};
    if (o < outer_n) {
      for (int e = 0; e < 8; e++) {
        if (i + e < inner_n) w[e / 2] |= static_cast<uint32_t>(x[o * ld + i + e]) << (16 * (e % 2));
      }
    }
    reg[t] = make_int4(static_cast<int>(w[0]), static_cast<int>(w[1]), static_cast<int>(w[2]), static_cast<int>(w[3]));
  }
}

template <int OUTER, int INNER, int THREADS>
__device__ __forceinline__ void wmma_store(uint16_t* s, const int4 (&reg)[WmmaSlice<OUTER, INNER>::kChunks / THREADS]) {
  constexpr int kPerRow = INNER / 8;
#pragma unroll
  for (int t = 0; t < WmmaSlice<OUTER, INNER>::kChunks / THREADS; t++) {
    const int chunk = static_cast<int>(threadIdx.x) + t * THREADS;
    *reinterpret_cast<int4*>(s + (chunk / kPerRow) * WmmaSlice<OUTER, INNER>::kLd + (chunk % kPerRow) * 8) = reg[t];
  }
}

template <int BM, int BN, int WM, int WN, bool TA, bool TB>
__global__ void wmma_kernel(Problem<uint16_t> p, bool vec_a, bool vec_b) {
  using namespace nvcuda;
  constexpr int THREADS = WM * WN * kWarp;
  constexpr int WTM = BM / WM, WTN = BN / WN;  // a warp's piece of C
  constexpr int FM = WTM / 16, FN = WTN / 16;  // its accumulator fragments
  // op(A) slice: BM x K (row_major fragments) when A is M x K, else K x BM (col_major).
  using SliceA = WmmaSlice<TA ? kWmmaK : BM, TA ? BM : kWmmaK>;
  // op(B) slice: K x BN (row_major) when B is K x N, else BN x K (col_major).
  using SliceB = WmmaSlice<TB ? BN : kWmmaK, TB ? kWmmaK : BN>;
  static_assert(SliceA::kChunks % THREADS == 0 && SliceB::kChunks % THREADS == 0, "whole loads per thread");
  constexpr int kStageBytes = 2 * (SliceA::kElems + SliceB::kElems) * 2;
  constexpr int kEpilogueBytes = WM * WN * 16 * 16 * 4;
  constexpr int kBytes = kStageBytes > kEpilogueBytes ? kStageBytes : kEpilogueBytes;
  // One raw buffer: two stages of both slices, reused by the epilogue's staging tiles.
  alignas(32) __shared__ int4 smem[kBytes / 16];  // wmma loads need 32-byte aligned tiles
  uint16_t* const stages = reinterpret_cast<uint16_t*>(smem);
  auto stage_a = [&](int buf) { return stages + buf * SliceA::kElems; };
  auto stage_b = [&](int buf) { return stages + 2 * SliceA::kElems + buf * SliceB::kElems; };

  using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, typename std::conditional<TA, wmma::col_major, wmma::row_major>::type>;
  using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, typename std::conditional<TB, wmma::col_major, wmma::row_major>::type>;
  using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

  const int warp = static_cast<int>(threadIdx.x) / kWarp, lane = static_cast<int>(threadIdx.x) % kWarp;
  const int wm = warp / WN, wn = warp % WN;
  const int64_t M = p.m, N = p.n, K = p.k;
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * BM, n0 = static_cast<int64_t>(blockIdx.y) * BN;
  const int64_t lda = TA ? M : K, ldb = TB ? K : N;

  for (int64_t item = blockIdx.z; item < p.batch; item += gridDim.z) {
    const uint16_t *A, *B;
    p.operands(item, &A, &B);
    // Loads the slice at depth k0 of each operand into registers.
    int4 ra[SliceA::kChunks / THREADS], rb[SliceB::kChunks / THREADS];
    auto load = [&](int64_t k0) {
      if (TA) {
        wmma_load<kWmmaK, BM, THREADS>(A, lda, K, M, k0, m0, vec_a, ra);
      } else {
        wmma_load<BM, kWmmaK, THREADS>(A, lda, M, K, m0, k0, vec_a, ra);
      }
      if (TB) {
        wmma_load<BN, kWmmaK, THREADS>(B, ldb, N, K, n0, k0, vec_b, rb);
      } else {
        wmma_load<kWmmaK, BN, THREADS>(B, ldb, K, N, k0, n0, vec_b, rb);
      }
    };
    auto store = [&](int buf) {
      wmma_store<TA ? kWmmaK : BM, TA ? BM : kWmmaK, THREADS>(stage_a(buf), ra);
      wmma_store<TB ? BN : kWmmaK, TB ? kWmmaK : BN, THREADS>(stage_b(buf), rb);
    };

    FragC acc[FM][FN];
#pragma unroll
    for (int i = 0; i < FM; i++) {
#pragma unroll
      for (int j = 0; j < FN; j++) wmma::fill_fragment(acc[i][j], 0.0f);
    }
    load(0);
    store(0);
    __syncthreads();
    int buf = 0;
    for (int64_t k0 = 0; k0 < K; k0 += kWmmaK) {
      const bool more = k0 + kWmmaK < K;
      if (more) load(k0 + kWmmaK);
#pragma unroll
      for (int kk = 0; kk < kWmmaK; kk += 16) {
        FragA fa[FM];
        FragB fb[FN];
#pragma unroll
        for (int i = 0; i < FM; i++) {
          const int row = wm * WTM + i * 16;  // in the block's tile
          const uint16_t* src = TA ? stage_a(buf) + kk * SliceA::kLd + row : stage_a(buf) + row * SliceA::kLd + kk;
          wmma::load_matrix_sync(fa[i], reinterpret_cast<const __nv_bfloat16*>(src), SliceA::kLd);
        }
#pragma unroll
        for (int j = 0; j < FN; j++) {
          const int col = wn * WTN + j * 16;
          const uint16_t* src = TB ? stage_b(buf) + col * SliceB::kLd + kk : stage_b(buf) + kk * SliceB::kLd + col;
          wmma::load_matrix_sync(fb[j], reinterpret_cast<const __nv_bfloat16*>(src), SliceB::kLd);
        }
#pragma unroll
        for (int i = 0; i < FM; i++) {
#pragma unroll
          for (int j = 0; j < FN; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
      }
      if (more) store(buf ^ 1);
      __syncthreads();
      buf ^= 1;
    }

    // Epilogue: each fragment through this warp's 16 x 16 staging tile (the stages are free:
    // the loop ended with a __syncthreads).
    float* tile = reinterpret_cast<float*>(smem) + warp * 256;
    uint16_t* C = p.c + item * M * N;
#pragma unroll
    for (int i = 0; i < FM; i++) {
#pragma unroll
      for (int j = 0; j < FN; j++) {
        wmma::store_matrix_sync(tile, acc[i][j], 16, wmma::mem_row_major);
        __syncwarp();
        for (int e = lane; e < 256; e += kWarp) {
          const int64_t row = m0 + wm * WTM + i * 16 + e / 16, col = n0 + wn * WTN + j * 16 + e % 16;
          if (row < M && col < N) {
            const int64_t at = row * N + col;
            const float v = p.alpha * tile[e];
            store_f(C, at, p.beta == 0.0f ? v : v + p.beta * load_f(C, at));
          }
        }
        __syncwarp();
      }
    }
    __syncthreads();  // the staging tiles alias the stages the next item loads into
  }
}

// ---- C = beta * C (nothing to multiply) ---------------------------------------------------------
template <class T>
__global__ void scale_kernel(T* c, int64_t n, float beta) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) store_f(c, i, beta == 0.0f ? 0.0f : beta * load_f(c, i));
}

// ---- launch ---------------------------------------------------------------------------------------
enum class Kernel { kAuto, kCublasLt, kTiled, kWmma };
enum class TileSize { kAuto, kSmall, kLarge };  // "tiled-small" etc.: for tests and benchmarks

struct Choice {
  Kernel kernel;
  TileSize size;
  const char* name;
};
constexpr Choice kChoices[] = {
    {Kernel::kAuto, TileSize::kAuto, "auto"},           {Kernel::kCublasLt, TileSize::kAuto, "cublaslt"},
    {Kernel::kTiled, TileSize::kAuto, "tiled"},         {Kernel::kTiled, TileSize::kSmall, "tiled-small"},
    {Kernel::kTiled, TileSize::kLarge, "tiled-large"},  {Kernel::kWmma, TileSize::kAuto, "wmma"},
    {Kernel::kWmma, TileSize::kSmall, "wmma-small"},    {Kernel::kWmma, TileSize::kLarge, "wmma-large"},
};
const Choice* g_choice = &kChoices[0];

// Large tiles once they still give about two waves of blocks on a large GPU.
constexpr int64_t kLargeTileMinBlocks = 256;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool use_large(TileSize size, const GemmArgs& g, int64_t bm, int64_t bn) {
  if (size != TileSize::kAuto) return size == TileSize::kLarge;
  return ceil_div(g.m, bm) * ceil_div(g.n, bn) * g.batch >= kLargeTileMinBlocks;
}

mm_status grid_for(const char* what, const GemmArgs& g, int64_t bm, int64_t bn, dim3* grid) {
  const int64_t gx = ceil_div(g.m, bm), gy = ceil_div(g.n, bn);
  if (gx > 0x7fffffff || gy > 65535) {
    return fail(MM_ERR_UNSUPPORTED, "%s: a %lld x %lld product is too large for one launch", what, static_cast<long long>(g.m),
                static_cast<long long>(g.n));
  }
  *grid = dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy), static_cast<unsigned>(g.batch < 65535 ? g.batch : 65535));
  return MM_OK;
}

template <class T>
Problem<T> problem_of(const GemmArgs& g) {
  return Problem<T>{static_cast<const T*>(g.a), static_cast<const T*>(g.b), static_cast<T*>(g.c), g.m, g.n, g.k, g.batch, g.alpha, g.beta, g.index};
}

template <int BM, int BN, int BK, int TM, int TN, class T>
mm_status launch_tiled(const GemmArgs& g) {
  dim3 grid;
  MM_TRY(grid_for("matmul (tiled)", g, BM, BN, &grid));
  const Problem<T> p = problem_of<T>(g);
  if (!g.trans_a && !g.trans_b) return launch("matmul (tiled)", tiled_kernel<BM, BN, BK, TM, TN, false, false, T>, grid, kTiledThreads, 0, p);
  if (!g.trans_a && g.trans_b) return launch("matmul (tiled)", tiled_kernel<BM, BN, BK, TM, TN, false, true, T>, grid, kTiledThreads, 0, p);
  if (g.trans_a && !g.trans_b) return launch("matmul (tiled)", tiled_kernel<BM, BN, BK, TM, TN, true, false, T>, grid, kTiledThreads, 0, p);
  return launch("matmul (tiled)", tiled_kernel<BM, BN, BK, TM, TN, true, true, T>, grid, kTiledThreads, 0, p);
}

template <class T>
mm_status run_tiled(const GemmArgs& g, TileSize size) {
  if (use_large(size, g, 128, 128)) return launch_tiled<128, 128, 8, 8, 8, T>(g);
  return launch_tiled<64, 64, 16, 4, 4, T>(g);
}

// Whether every row of an operand starts 16-byte aligned (for the wmma kernel's vector loads):
// the base, the row length and every batch item's offset.
bool rows_aligned(const void* base, int64_t ld, int64_t matrix, const GemmArgs& g) {
  if (reinterpret_cast<uintptr_t>(base) % 16 != 0 || ld % 8 != 0) return false;
  return g.batch == 1 || matrix % 8 == 0;  // item offsets are multiples of the matrix size
}

template <int BM, int BN, int WM, int WN>
mm_status launch_wmma(const GemmArgs& g) {
  dim3 grid;
  MM_TRY(grid_for("matmul (wmma)", g, BM, BN, &grid));
  const Problem<uint16_t> p = problem_of<uint16_t>(g);
  const bool vec_a = rows_aligned(g.a, g.trans_a ? g.m : g.k, g.m * g.k, g);
  const bool vec_b = rows_aligned(g.b, g.trans_b ? g.k : g.n, g.k * g.n, g);
  constexpr int threads = WM * WN * kWarp;
  if (!g.trans_a && !g.trans_b) return launch("matmul (wmma)", wmma_kernel<BM, BN, WM, WN, false, false>, grid, threads, 0, p, vec_a, vec_b);
  if (!g.trans_a && g.trans_b) return launch("matmul (wmma)", wmma_kernel<BM, BN, WM, WN, false, true>, grid, threads, 0, p, vec_a, vec_b);
  if (g.trans_a && !g.trans_b) return launch("matmul (wmma)", wmma_kernel<BM, BN, WM, WN, true, false>, grid, threads, 0, p, vec_a, vec_b);
  return launch("matmul (wmma)", wmma_kernel<BM, BN, WM, WN, true, true>, grid, threads, 0, p, vec_a, vec_b);
}

mm_status run_wmma(const GemmArgs& g, TileSize size) {
  if (use_large(size, g, 128, 128)) return launch_wmma<128, 128, 2, 4>(g);  // 8 warps of 64 x 32
  return launch_wmma<64, 64, 2, 2>(g);                                        // 4 warps of 32 x 32
}

mm_status scale_c(const GemmArgs& g) {
  const int64_t n = g.batch * g.m * g.n;
  if (g.dtype == MM_BF16) return launch("matmul", scale_kernel<uint16_t>, blocks_for(n), 256, 0, static_cast<uint16_t*>(g.c), n, g.beta);
  return launch("matmul", scale_kernel<float>, blocks_for(n), 256, 0, static_cast<float*>(g.c), n, g.beta);
}

}  // namespace

mm_status gemm(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return MM_OK;
  if (g.k <= 0 || g.alpha == 0.0f) return scale_c(g);
  const Choice& choice = *g_choice;
  if (choice.kernel == Kernel::kCublasLt || (choice.kernel == Kernel::kAuto && cublaslt_available())) {
    const mm_status status = cublaslt_gemm(g);
    // "auto" falls back to our kernels where cuBLASLt has no algorithm for the case.
    if (status != MM_ERR_UNSUPPORTED || choice.kernel == Kernel::kCublasLt) return status;
  }
  if (g.dtype == MM_BF16 && choice.kernel != Kernel::kTiled) return run_wmma(g, choice.size);
  if (g.dtype == MM_BF16) return run_tiled<uint16_t>(g, choice.size);
  return run_tiled<float>(g, choice.size);
}

bool is_gemm_kernel_name(const char* name) {
  for (const Choice& c : kChoices) {
    if (std::strcmp(c.name, name) == 0) return true;
  }
  return false;
}

mm_status set_gemm_kernel(const char* name) {
  for (const Choice& c : kChoices) {
    if (std::strcmp(c.name, name) != 0) continue;
    if (c.kernel == Kernel::kCublasLt && !cublaslt_available()) {
      return fail(MM_ERR_UNSUPPORTED, "gemmKernel: cuBLASLt is not available (%s)", cublaslt_reason());
    }
    g_choice = &c;
    return MM_OK;
  }
  return fail(MM_ERR_ARG, "gemmKernel: unknown CUDA kernel '%s'", name);
}

const char* gemm_kernel_name() { return g_choice->name; }

}  // namespace mm::cuda
