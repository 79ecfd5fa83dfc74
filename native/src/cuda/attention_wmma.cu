// CUDA attention forward for bf16 on tensor cores (wmma m16n16k16, f32 accumulators): the
// "wmma" variant, and what "auto" runs for bf16 when the head dim is a multiple of 16.
//
// One block of 4 warps per 64 rows of the group matrix (see attention.cuh); a warp owns 16 rows.
// Tiles of 64 keys stream through shared memory (bf16, rows padded by 8 elements so that the
// fragment loads spread over the banks). Per tile, each warp:
//   S = Q K^T           wmma into f32 (16 x 64 per warp), stored to shared memory;
//   online softmax      a row at a time across the warp (2 keys per lane, warp max), P rounded
//                       to bf16 (the sum l adds the rounded values, so the weights used are the
//                       weights normalised), the running max/sum of its 16 rows in registers;
//   O = O * alpha + P V the f32 accumulator lives in shared memory (a fragment's element-to-row
//                       mapping is opaque, so the per-row rescale is done there by the lanes) and
//                       is loaded into accumulator fragments for the wmma.
// Keys past the end, causally hidden keys and the additive mask are applied to S in f32.
#include "attention.cuh"

namespace mm::cuda {
namespace attn {
namespace {

using bf16 = __nv_bfloat16;
namespace wmma = nvcuda::wmma;

constexpr int kRows = kWmmaRows;  // query rows per block
constexpr int kWarpRows = 16;     // per warp
constexpr int kKeys = 64;         // keys per tile
constexpr int kPad = 8;           // bf16 row padding
constexpr int kLdS = kKeys + 4;   // f32 score rows
constexpr int kLdP = kKeys + kPad;

struct Layout {
  int64_t ld;     // bf16 rows of Q, K, V: D + kPad
  int64_t ld_o;   // f32 rows of O: D + 4
  size_t q, k, v, s, p, o, bytes;  // byte offsets (32-byte aligned: wmma's pointer alignment)
};

__host__ __device__ inline Layout layout(int64_t D) {
  Layout L{};
  L.ld = D + kPad;
  L.ld_o = D + 4;
  const size_t tile = static_cast<size_t>(kRows * L.ld) * 2;  // kRows == kKeys
  L.q = 0;
  L.k = L.q + tile;
  L.v = L.k + tile;
  L.s = L.v + tile;
  L.p = L.s + static_cast<size_t>(kRows * kLdS) * 4;
  L.o = L.p + static_cast<size_t>(kRows * kLdP) * 2;
  L.bytes = L.o + static_cast<size_t>(kRows * L.ld_o) * 4;
  return L;
}

// rows x D bf16 from global (row stride D) into shared memory (row stride ld), 16 bytes at a time;
// rows past `valid` are zeros. D is a multiple of 16, so rows are whole int4s.
__device__ __forceinline__ void copy_rows(bf16* dst, int64_t ld, const bf16* src, int64_t valid, int rows, int64_t D) {
  const int64_t chunks = D / 8, n = rows * chunks;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t r = i / chunks, c = i - r * chunks;
    int4 x = make_int4(0, 0, 0, 0);
    if (r < valid) x = reinterpret_cast<const int4*>(src + r * D)[c];
    reinterpret_cast<int4*>(dst + r * ld)[c] = x;
  }
}

__global__ void wmma_forward_kernel(Params p, const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                                    bf16* __restrict__ out, float* __restrict__ lse, int splits, int64_t keys_per_split, Partials part) {
  const int64_t D = p.D;
  const Layout L = layout(D);
  MM_DYNAMIC_SHARED(unsigned char, smem);
  bf16* Qs = reinterpret_cast<bf16*>(smem + L.q);
  bf16* Ks = reinterpret_cast<bf16*>(smem + L.k);
  bf16* Vs = reinterpret_cast<bf16*>(smem + L.v);
  float* Ss = reinterpret_cast<float*>(smem + L.s);
  bf16* Ps = reinterpret_cast<bf16*>(smem + L.p);
  float* Os = reinterpret_cast<float*>(smem + L.o);
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t b = blockIdx.z, hk = blockIdx.y, split = blockIdx.x % splits, row0 = (blockIdx.x / splits) * int64_t{kRows};
  const int64_t rows = p.G * p.Tq, group_row0 = (b * p.H + hk * p.G) * p.Tq;
  const int64_t kv0 = (b * p.Hkv + hk) * p.kv_rows;

  copy_rows(Qs, L.ld, q + (group_row0 + row0) * D, rows - row0, kRows, D);
  for (int64_t i = threadIdx.x; i < kRows * L.ld_o; i += blockDim.x) Os[i] = 0.f;

  const int wr0 = warp * kWarpRows;  // this warp's first row in the block
  int pos[kWarpRows], last[kWarpRows], warp_last = -1;
  float m[kWarpRows], l[kWarpRows];
#pragma unroll
  for (int r = 0; r < kWarpRows; r++) {
    const int64_t row = row0 + wr0 + r;
    pos[r] = row < rows ? static_cast<int>(row % p.Tq) : 0;
    last[r] = row < rows ? last_key(p, pos[r]) : -1;
    warp_last = last[r] > warp_last ? last[r] : warp_last;
    m[r] = -INFINITY;
    l[r] = 0.f;
  }
  const int64_t block_end = last_key(p, max_position(p, row0, row0 + kRows < rows ? row0 + kRows : rows)) + 1;
  const int64_t k_begin = split * keys_per_split;
  const int64_t k_end = block_end < k_begin + keys_per_split ? block_end : k_begin + keys_per_split;
  float* Sw = Ss + wr0 * kLdS;
  bf16* Pw = Ps + wr0 * kLdP;
  float* Ow = Os + wr0 * L.ld_o;
  const bf16* Qw = Qs + wr0 * L.ld;

  for (int64_t kt = k_begin; kt < k_end; kt += kKeys) {
    __syncthreads();  // the previous tile is consumed
    copy_rows(Ks, L.ld, k + (kv0 + kt) * D, p.Tk - kt, kKeys, D);
    copy_rows(Vs, L.ld, v + (kv0 + kt) * D, p.Tk - kt, kKeys, D);
    __syncthreads();
    if (kt > warp_last) continue;  // warp-uniform: no row of this warp sees these keys

    // S = Q K^T: K rows (row-major [key][d]) are K^T in column-major order.
    for (int n0 = 0; n0 < kKeys; n0 += 16) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int64_t k0 = 0; k0 < D; k0 += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> bt;
        wmma::load_matrix_sync(a, Qw + k0, static_cast<unsigned>(L.ld));
        wmma::load_matrix_sync(bt, Ks + n0 * L.ld + k0, static_cast<unsigned>(L.ld));
        wmma::mma_sync(acc, a, bt, acc);
      }
      wmma::store_matrix_sync(Sw + n0, acc, kLdS, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax, one row at a time: lane owns keys kt + lane and kt + lane + 32.
    float alpha[kWarpRows];
#pragma unroll
    for (int r = 0; r < kWarpRows; r++) {
      const int64_t j0 = kt + lane, j1 = j0 + 32;
      float x0 = Sw[r * kLdS + lane] * p.scale_log2, x1 = Sw[r * kLdS + lane + 32] * p.scale_log2;
      if (j0 > last[r]) x0 = -INFINITY;
      else if (p.mask) x0 += mask_log2(p, b, pos[r], j0);
      if (j1 > last[r]) x1 = -INFINITY;
      else if (p.mask) x1 += mask_log2(p, b, pos[r], j1);
      const float m_new = fmaxf(m[r], warp_max(fmaxf(x0, x1)));
      const float m_use = m_new == -INFINITY ? 0.f : m_new;
      const bf16 e0 = __float2bfloat16_rn(exp2f(x0 - m_use)), e1 = __float2bfloat16_rn(exp2f(x1 - m_use));
      alpha[r] = exp2f(m[r] - m_use);
      l[r] = l[r] * alpha[r] + (__bfloat162float(e0) + __bfloat162float(e1));
      m[r] = m_new;
      Pw[r * kLdP + lane] = e0;
      Pw[r * kLdP + lane + 32] = e1;
    }
    // O *= alpha, row by row (lanes across D).
#pragma unroll
    for (int r = 0; r < kWarpRows; r++)
      for (int64_t c = lane; c < D; c += kWarp) Ow[r * L.ld_o + c] *= alpha[r];
    __syncwarp();

    // O += P V.
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, Ow + d0, static_cast<unsigned>(L.ld_o), wmma::mem_row_major);
      __syncwarp();  // every lane has read this block of O before any lane stores it back
      for (int k0 = 0; k0 < kKeys; k0 += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> vb;
        wmma::load_matrix_sync(a, Pw + k0, kLdP);
        wmma::load_matrix_sync(vb, Vs + k0 * L.ld + d0, static_cast<unsigned>(L.ld));
        wmma::mma_sync(acc, a, vb, acc);
      }
      wmma::store_matrix_sync(Ow + d0, acc, static_cast<unsigned>(L.ld_o), wmma::mem_row_major);
    }
    __syncwarp();
  }
  __syncwarp();

#pragma unroll
  for (int r = 0; r < kWarpRows; r++) {
    const float total = warp_sum(l[r]);
    const int64_t row_in = row0 + wr0 + r;
    if (row_in >= rows) continue;
    const int64_t row = group_row0 + row_in;
    const float inv = total > 0.f ? 1.f / total : 0.f;
    if (part.o) {
      float* dst = part.o + (split * part.total_rows + row) * D;
      for (int64_t c = lane; c < D; c += kWarp) dst[c] = Ow[r * L.ld_o + c] * inv;
      if (lane == 0) {
        part.m[split * part.total_rows + row] = m[r];
        part.l[split * part.total_rows + row] = total;
      }
    } else {
      for (int64_t c = lane; c < D; c += kWarp) out[row * D + c] = __float2bfloat16_rn(Ow[r * L.ld_o + c] * inv);
      if (lane == 0) lse[row] = total > 0.f ? m[r] * kLn2 + logf(total) : -INFINITY;
    }
  }
}

}  // namespace

bool wmma_takes(int64_t D) { return D % 16 == 0 && D <= 256 && layout(D).bytes <= max_shared_memory(); }

mm_status wmma_forward(const Params& p, const bf16* q, const bf16* k, const bf16* v, bf16* out, float* lse, int splits,
                       int64_t keys_per_split, const Partials& part) {
  const size_t smem = layout(p.D).bytes;
  MM_TRY(allow_shared(wmma_forward_kernel, smem));
  const int64_t tiles = (p.G * p.Tq + kRows - 1) / kRows;
  const dim3 grid(static_cast<unsigned>(tiles * splits), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
  return launch("attention", wmma_forward_kernel, grid, dim3(kThreads), smem, p, q, k, v, out, lse, splits, keys_per_split, part);
}

}  // namespace attn
}  // namespace mm::cuda
