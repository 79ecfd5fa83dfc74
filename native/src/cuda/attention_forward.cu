// CUDA attention forward.
//
// "flash" (head dims up to 256): one block of 4 warps per (batch, kv head, tile of 4*RW rows of
// the group matrix, see attention.cuh). The query tile stays in shared memory (pre-scaled);
// tiles of 32 keys stream through shared memory, K transposed (padded: conflict-free) and V row
// major. A warp owns RW query rows and a lane owns one key of the tile for the scores, then 32*DC
// output columns' slice (lane, lane+32, ...) for O += P V. The online softmax keeps the running
// max and sum of each row in registers (one warp max per row and tile; the sums stay per lane
// until the end). Nothing of size Tq x Tk exists: P lives in a 32-wide strip per warp.
//
// "rowwise" (any head dim): one warp per query row, lanes across the head dim (coalesced rows of
// K and V), keys 32 at a time: one warp-sum per score, one max per 32 keys, the accumulator in
// shared memory (the head dim is unbounded).
//
// Few blocks (decoding: a handful of query rows against a long KV cache): the keys are split
// between blocks (flash-decoding); each writes its normalised partial output with its running
// max and sum, and a combine kernel merges them.
#include <atomic>
#include <cstring>
#include <type_traits>

#include "attention.cuh"

namespace mm::cuda {
namespace attn {

// ---- variants ----------------------------------------------------------------------------

std::atomic<int> g_variant{kAuto};
const char* const kVariantNames[] = {"auto", "flash", "rowwise", "wmma"};
constexpr int kVariants = 4;

Variant variant() { return static_cast<Variant>(g_variant.load()); }

// Output columns per lane of the tiled kernels for head dim D (0: too wide, use rowwise).
int flash_cols(int64_t D) { return D <= 32 ? 1 : D <= 64 ? 2 : D <= 128 ? 4 : D <= 256 ? 8 : 0; }

bool use_flash(int64_t D) { return g_variant.load() != kRowwise && flash_cols(D) > 0; }

mm_status check_sizes(const Params& p, const char* op) {
  constexpr int64_t kMaxPositions = int64_t{1} << 30;
  if (p.Tq >= kMaxPositions || p.Tk >= kMaxPositions || p.kv_rows >= kMaxPositions)
    return fail(MM_ERR_UNSUPPORTED, "%s: sequence lengths of 2^30 or more are not supported on CUDA", op);
  if (p.B > 65535 || p.Hkv > 65535) return fail(MM_ERR_UNSUPPORTED, "%s: batch and kv heads must be at most 65535 on CUDA", op);
  return MM_OK;
}

namespace {

// ---- flash -------------------------------------------------------------------------------

template <class T, int DC, int RW>
__global__ void flash_forward_kernel(Params p, const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                     T* __restrict__ out, float* __restrict__ lse, int splits, int64_t keys_per_split,
                                     Partials part) {
  constexpr int BR = RW * kWarps, DV = DC * kWarp;
  const int64_t D = p.D, Dp = round_up(D, 4);
  MM_DYNAMIC_SHARED(float, smem);
  float* Qs = smem;                // [BR][Dp]: q * scale * log2(e)
  float* Kt = Qs + BR * Dp;        // [Dp][kTStride]: K tile transposed (rows >= D zero)
  float* Vs = Kt + Dp * kTStride;  // [kKeyTile][DV]: V tile (columns >= D zero)
  float* Ps = Vs + kKeyTile * DV;  // [BR][kKeyTile]: probabilities of the current tile
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t b = blockIdx.z, hk = blockIdx.y, split = blockIdx.x % splits, row0 = (blockIdx.x / splits) * int64_t{BR};
  const int64_t rows = p.G * p.Tq, group_row0 = (b * p.H + hk * p.G) * p.Tq;
  const int64_t kv0 = (b * p.Hkv + hk) * p.kv_rows;
  const T* kh = k + kv0 * D;
  const T* vh = v + kv0 * D;

  load_rows(Qs, Dp, BR, q + (group_row0 + row0) * D, rows - row0, D, p.scale_log2);
  for (int64_t i = threadIdx.x; i < (Dp - D) * kTStride; i += blockDim.x) Kt[D * kTStride + i] = 0.f;

  // This warp's rows: position and last visible key (-1 for rows past the end).
  int pos[RW], last[RW], warp_last = -1;
#pragma unroll
  for (int i = 0; i < RW; i++) {
    const int64_t r = row0 + warp * RW + i;
    pos[i] = r < rows ? static_cast<int>(r % p.Tq) : 0;
    last[i] = r < rows ? last_key(p, pos[i]) : -1;
    warp_last = last[i] > warp_last ? last[i] : warp_last;
  }
  const int64_t block_end = last_key(p, max_position(p, row0, row0 + BR < rows ? row0 + BR : rows)) + 1;
  const int64_t k_begin = split * keys_per_split;
  const int64_t k_end = block_end < k_begin + keys_per_split ? block_end : k_begin + keys_per_split;

  float m[RW], l[RW], o[RW][DC];
#pragma unroll
  for (int i = 0; i < RW; i++) {
    m[i] = -INFINITY;
    l[i] = 0.f;
#pragma unroll
    for (int c = 0; c < DC; c++) o[i][c] = 0.f;
  }
  const float* Qw = Qs + warp * RW * Dp;
  float* Pw = Ps + warp * RW * kKeyTile;
  for (int64_t kt = k_begin; kt < k_end; kt += kKeyTile) {
    const int64_t nk = p.Tk - kt < kKeyTile ? p.Tk - kt : kKeyTile;
    __syncthreads();  // the previous tile is consumed
    load_transposed(Kt, kh + kt * D, nk, D);
    load_rows(Vs, DV, kKeyTile, vh + kt * D, nk, D, 1.f);
    __syncthreads();
    if (kt > warp_last) continue;  // warp-uniform: these keys are hidden from all its rows

    float s[RW];
    lane_scores<RW>(Qw, Dp, Kt, lane, s);
    const int64_t j = kt + lane;
    float alpha[RW];
#pragma unroll
    for (int i = 0; i < RW; i++) {
      if (j > last[i]) s[i] = -INFINITY;
      else if (p.mask) s[i] += mask_log2(p, b, pos[i], j);
      const float m_new = fmaxf(m[i], warp_max(s[i]));
      const float m_use = m_new == -INFINITY ? 0.f : m_new;  // nothing seen yet: exp2(-inf) = 0, not NaN
      const float e = exp2f(s[i] - m_use);
      alpha[i] = exp2f(m[i] - m_use);
      l[i] = fmaf(l[i], alpha[i], e);
      m[i] = m_new;
      Pw[i * kKeyTile + lane] = e;
    }
    __syncwarp();
#pragma unroll
    for (int i = 0; i < RW; i++)
#pragma unroll
      for (int c = 0; c < DC; c++) o[i][c] *= alpha[i];
    for (int jj = 0; jj < kKeyTile; jj += 4) {
      float4 pv[RW];
#pragma unroll
      for (int i = 0; i < RW; i++) pv[i] = *reinterpret_cast<const float4*>(Pw + i * kKeyTile + jj);
      const float* vrow = Vs + jj * DV + lane;
#pragma unroll
      for (int c = 0; c < DC; c++) {
        const float v0 = vrow[c * kWarp], v1 = vrow[DV + c * kWarp], v2 = vrow[2 * DV + c * kWarp], v3 = vrow[3 * DV + c * kWarp];
#pragma unroll
        for (int i = 0; i < RW; i++) {
          float acc = o[i][c];
          acc = fmaf(pv[i].x, v0, acc);
          acc = fmaf(pv[i].y, v1, acc);
          acc = fmaf(pv[i].z, v2, acc);
          o[i][c] = fmaf(pv[i].w, v3, acc);
        }
      }
    }
    __syncwarp();  // Pw is rewritten by the next tile
  }

#pragma unroll
  for (int i = 0; i < RW; i++) {
    const float L = warp_sum(l[i]);
    const int64_t r = row0 + warp * RW + i;
    if (r >= rows) continue;
    const int64_t row = group_row0 + r;
    const float inv = L > 0.f ? 1.f / L : 0.f;
    if (part.o) {
      float* dst = part.o + (split * part.total_rows + row) * D;
#pragma unroll
      for (int c = 0; c < DC; c++)
        if (c * kWarp + lane < D) dst[c * kWarp + lane] = o[i][c] * inv;
      if (lane == 0) {
        part.m[split * part.total_rows + row] = m[i];
        part.l[split * part.total_rows + row] = L;
      }
    } else {
      T* dst = out + row * D;
#pragma unroll
      for (int c = 0; c < DC; c++)
        if (c * kWarp + lane < D) dst[c * kWarp + lane] = from_f32<T>(o[i][c] * inv);
      if (lane == 0) lse[row] = L > 0.f ? m[i] * kLn2 + logf(L) : -INFINITY;
    }
  }
}

// ---- rowwise -----------------------------------------------------------------------------

template <class T>
__global__ void rowwise_forward_kernel(Params p, const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                       T* __restrict__ out, float* __restrict__ lse, int splits, int64_t keys_per_split,
                                       Partials part) {
  const int64_t D = p.D;
  MM_DYNAMIC_SHARED(float, smem);
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  float* qs = smem + warp * (2 * D + kWarp);  // the row's q * scale * log2(e)
  float* os = qs + D;                         // its output accumulator (lane-owned columns)
  float* ps = os + D;                         // probabilities of the current 32 keys
  const int64_t b = blockIdx.z, hk = blockIdx.y, split = blockIdx.x % splits, r = (blockIdx.x / splits) * int64_t{kWarps} + warp;
  const int64_t rows = p.G * p.Tq;
  if (r >= rows) return;  // no block-wide synchronisation below
  const int64_t row = (b * p.H + hk * p.G) * p.Tq + r, pos = r % p.Tq;
  const int64_t kv0 = (b * p.Hkv + hk) * p.kv_rows;
  const T* kh = k + kv0 * D;
  const T* vh = v + kv0 * D;
  const int64_t last = last_key(p, pos), k_begin = split * keys_per_split;
  const int64_t k_end = last + 1 < k_begin + keys_per_split ? last + 1 : k_begin + keys_per_split;
  for (int64_t d = lane; d < D; d += kWarp) {
    qs[d] = to_f32(q[row * D + d]) * p.scale_log2;
    os[d] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  for (int64_t j0 = k_begin; j0 < k_end; j0 += kWarp) {
    const int n = static_cast<int>(k_end - j0 < kWarp ? k_end - j0 : kWarp);
    float my_s = -INFINITY;  // lane jj keeps the score of key j0 + jj
    for (int jj = 0; jj < n; jj++) {
      const T* kr = kh + (j0 + jj) * D;
      float acc = 0.f;
      for (int64_t d = lane; d < D; d += kWarp) acc = fmaf(qs[d], to_f32(kr[d]), acc);
      acc = warp_sum(acc);
      if (lane == jj) my_s = acc;
    }
    if (p.mask && lane < n) my_s += mask_log2(p, b, pos, j0 + lane);
    const float m_new = fmaxf(m, warp_max(my_s));
    const float m_use = m_new == -INFINITY ? 0.f : m_new;
    const float e = exp2f(my_s - m_use);
    const float alpha = exp2f(m - m_use);
    l = fmaf(l, alpha, e);
    m = m_new;
    ps[lane] = e;
    __syncwarp();
    for (int64_t d = lane; d < D; d += kWarp) {
      float acc = os[d] * alpha;
      for (int jj = 0; jj < n; jj++) acc = fmaf(ps[jj], to_f32(vh[(j0 + jj) * D + d]), acc);
      os[d] = acc;
    }
    __syncwarp();
  }
  const float L = warp_sum(l);
  const float inv = L > 0.f ? 1.f / L : 0.f;
  if (part.o) {
    float* dst = part.o + (split * part.total_rows + row) * D;
    for (int64_t d = lane; d < D; d += kWarp) dst[d] = os[d] * inv;
    if (lane == 0) {
      part.m[split * part.total_rows + row] = m;
      part.l[split * part.total_rows + row] = L;
    }
  } else {
    for (int64_t d = lane; d < D; d += kWarp) out[row * D + d] = from_f32<T>(os[d] * inv);
    if (lane == 0) lse[row] = L > 0.f ? m * kLn2 + logf(L) : -INFINITY;
  }
}

// ---- split keys: combine -----------------------------------------------------------------

// One warp per query row: out = sum_s w_s o_s / sum_s w_s with w_s = l_s * 2^(m_s - max m).
template <class T>
__global__ void combine_kernel(Partials part, int splits, int64_t D, T* __restrict__ out, float* __restrict__ lse) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = grid_stride() / kWarp;
  for (int64_t row = global_thread() / kWarp; row < part.total_rows; row += warps) {
    float M = -INFINITY;
    for (int s = 0; s < splits; s++) M = fmaxf(M, part.m[s * part.total_rows + row]);
    const float M_use = M == -INFINITY ? 0.f : M;
    float L = 0.f;
    for (int s = 0; s < splits; s++) L += part.l[s * part.total_rows + row] * exp2f(part.m[s * part.total_rows + row] - M_use);
    const float inv = L > 0.f ? 1.f / L : 0.f;
    for (int64_t d = lane; d < D; d += kWarp) {
      float acc = 0.f;
      for (int s = 0; s < splits; s++) {
        const int64_t i = s * part.total_rows + row;
        const float w = part.l[i] * exp2f(part.m[i] - M_use);
        if (w > 0.f) acc = fmaf(w, part.o[i * D + d], acc);
      }
      out[row * D + d] = from_f32<T>(acc * inv);
    }
    if (lane == 0) lse[row] = L > 0.f ? M * kLn2 + logf(L) : -INFINITY;
  }
}

size_t flash_smem(int64_t D, int RW) {
  const int64_t BR = RW * kWarps, Dp = round_up(D, 4);
  return sizeof(float) * static_cast<size_t>(BR * Dp + Dp * kTStride + kKeyTile * flash_cols(D) * kWarp + BR * kKeyTile);
}

template <class T, int DC, int RW>
mm_status launch_flash(const Params& p, const T* q, const T* k, const T* v, T* out, float* lse, int splits, int64_t keys_per_split,
                       const Partials& part) {
  constexpr int BR = RW * kWarps;
  const size_t smem = flash_smem(p.D, RW);
  auto kernel = flash_forward_kernel<T, DC, RW>;
  MM_TRY(allow_shared(kernel, smem));
  const int64_t tiles = (p.G * p.Tq + BR - 1) / BR;
  const dim3 grid(static_cast<unsigned>(tiles * splits), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
  return launch("attention", kernel, grid, dim3(kThreads), smem, p, q, k, v, out, lse, splits, keys_per_split, part);
}

template <class T, int RW>
mm_status dispatch_flash(const Params& p, const T* q, const T* k, const T* v, T* out, float* lse, int splits, int64_t keys_per_split,
                         const Partials& part) {
  switch (flash_cols(p.D)) {
    case 1: return launch_flash<T, 1, RW>(p, q, k, v, out, lse, splits, keys_per_split, part);
    case 2: return launch_flash<T, 2, RW>(p, q, k, v, out, lse, splits, keys_per_split, part);
    case 4: return launch_flash<T, 4, RW>(p, q, k, v, out, lse, splits, keys_per_split, part);
    default: return launch_flash<T, 8, RW>(p, q, k, v, out, lse, splits, keys_per_split, part);
  }
}

template <class T>
mm_status forward(const Params& p, const T* q, const T* k, const T* v, T* out, float* lse) {
  const int64_t rows = p.G * p.Tq;
  if (p.B == 0 || p.Hkv == 0 || rows == 0) return MM_OK;
  // Few query rows per kv head (decoding): 2 rows per warp instead of 8.
  const bool small = rows <= 4 * kWarps;
  // bf16 on tensor cores: "wmma", or "auto" unless the tile of 64 rows would be mostly empty.
  const Variant chosen = variant();
  const bool tensor_cores = std::is_same<T, __nv_bfloat16>::value && wmma_takes(p.D) &&
                            (chosen == kWmma || (chosen == kAuto && !small));
  const bool flash = !tensor_cores && use_flash(p.D) && flash_smem(p.D, small ? 2 : 8) <= max_shared_memory();
  const int64_t rows_per_block = tensor_cores ? kWmmaRows : flash ? (small ? 2 : 8) * kWarps : kWarps;
  const int64_t key_tile = tensor_cores ? 64 : kKeyTile;
  const int64_t blocks = (rows + rows_per_block - 1) / rows_per_block * p.Hkv * p.B;
  // Too few blocks to fill the GPU and many keys: split the keys between blocks.
  int splits = 1;
  int64_t keys_per_split = round_up(p.Tk, key_tile);
  constexpr int64_t kBusyBlocks = 128, kMinKeysPerSplit = 256;
  if (blocks < kBusyBlocks && p.Tk >= 2 * kMinKeysPerSplit) {
    int64_t want = (2 * kBusyBlocks + blocks - 1) / blocks;
    if (want > p.Tk / kMinKeysPerSplit) want = p.Tk / kMinKeysPerSplit;
    if (want > 64) want = 64;
    keys_per_split = round_up((p.Tk + want - 1) / want, key_tile);
    splits = static_cast<int>((p.Tk + keys_per_split - 1) / keys_per_split);
  }
  Scratch scratch;
  Partials part{nullptr, nullptr, nullptr, p.B * p.H * p.Tq};
  if (splits > 1) {
    const int64_t n = splits * part.total_rows;
    MM_TRY(scratch.allocate(sizeof(float) * static_cast<size_t>(n * p.D + 2 * n)));
    part.o = scratch.as<float>();
    part.m = part.o + n * p.D;
    part.l = part.m + n;
  }
  if (tensor_cores) {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) MM_TRY(wmma_forward(p, q, k, v, out, lse, splits, keys_per_split, part));
  } else if (flash) {
    const mm_status s = small ? dispatch_flash<T, 2>(p, q, k, v, out, lse, splits, keys_per_split, part)
                              : dispatch_flash<T, 8>(p, q, k, v, out, lse, splits, keys_per_split, part);
    MM_TRY(s);
  } else {
    const size_t smem = sizeof(float) * static_cast<size_t>(kWarps * (2 * p.D + kWarp));
    auto kernel = rowwise_forward_kernel<T>;
    MM_TRY(allow_shared(kernel, smem));
    const dim3 grid(static_cast<unsigned>((rows + kWarps - 1) / kWarps * splits), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
    MM_TRY(launch("attention", kernel, grid, dim3(kThreads), smem, p, q, k, v, out, lse, splits, keys_per_split, part));
  }
  if (splits > 1) {
    MM_TRY(launch("attention", combine_kernel<T>, blocks_for(part.total_rows * kWarp, 256), dim3(256), 0, part, splits, p.D, out, lse));
  }
  return MM_OK;
}

}  // namespace
}  // namespace attn

mm_status attention_forward(const AttentionProblem& problem, mm_dtype dtype, const void* q, const void* k, const void* v, void* out,
                            float* lse) {
  const attn::Params p = attn::make_params(problem);
  MM_TRY(attn::check_sizes(p, "attention"));
  if (dtype == MM_BF16) {
    using T = __nv_bfloat16;
    return attn::forward<T>(p, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(out), lse);
  }
  return attn::forward<float>(p, static_cast<const float*>(q), static_cast<const float*>(k), static_cast<const float*>(v),
                              static_cast<float*>(out), lse);
}

const char* attention_kernel_name() { return attn::kVariantNames[attn::g_variant.load()]; }

bool set_attention_kernel(const char* name) {
  for (int i = 0; i < attn::kVariants; i++) {
    if (std::strcmp(attn::kVariantNames[i], name) == 0) {
      attn::g_variant.store(i);
      return true;
    }
  }
  return false;
}

}  // namespace mm::cuda
