// CUDA attention backward, flash-style: P is recomputed tile by tile from q, k and the saved lse,
// never stored whole.
//
//   delta = rowsum(dO * O)                    one warp per query row
//   dK, dV: one block per 32 keys of a (batch, kv head); it walks every query row of the
//           kv head's G query heads (GQA: their contributions are summed right there) in tiles
//           of 32 rows (a lane per row for S = Q K^T and dP = dO V^T), and accumulates
//           dV += P^T dO, dK += dS^T Q in registers: each dK/dV row has one owner, no atomics.
//   dQ:     one block per 32 rows of the group matrix (as the forward), streaming key tiles:
//           dQ += dS K in registers.
// dQ takes its own pass rather than atomicAdd from the key blocks: it recomputes S and dP (two
// of the seven tile products) but needs no zeroed f32 buffer, no conversion pass for bf16, and
// gives the same bits on every run (float atomics would add in a different order each time).
//
// "rowwise" variants of both (one warp per query row for dQ, one warp per key row for dK/dV,
// accumulators in shared memory) take any head dim.
#include "attention.cuh"

namespace mm::cuda {
namespace attn {
namespace {

constexpr int kKeysPerWarp = 8;                     // dK/dV: keys owned by one warp
constexpr int kBlockKeys = kKeysPerWarp * kWarps;  // dK/dV: keys per block
constexpr int kRowTile = 32;                        // dK/dV: query rows per tile (one per lane)
constexpr int kDqRowsPerWarp = 8;                   // dQ: query rows per warp

// lse in base 2, with a fully masked row (lse = -inf) mapped to +inf so that its P is 0.
__device__ __forceinline__ float lse_log2(float lse) { return lse == -INFINITY ? INFINITY : lse * kLog2e; }

template <class T>
__global__ void delta_kernel(const T* __restrict__ dout, const T* __restrict__ out, int64_t rows, int64_t D, float* __restrict__ delta) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = grid_stride() / kWarp;
  for (int64_t row = global_thread() / kWarp; row < rows; row += warps) {
    float acc = 0.f;
    for (int64_t d = lane; d < D; d += kWarp) acc = fmaf(to_f32(dout[row * D + d]), to_f32(out[row * D + d]), acc);
    acc = warp_sum(acc);
    if (lane == 0) delta[row] = acc;
  }
}

// ---- flash dK/dV ---------------------------------------------------------------------------

template <class T, int DC>
__global__ void flash_dkdv_kernel(Params p, const T* __restrict__ dout, const T* __restrict__ q, const T* __restrict__ k,
                                  const T* __restrict__ v, const float* __restrict__ lse, const float* __restrict__ delta,
                                  T* __restrict__ dk, T* __restrict__ dv) {
  const int64_t D = p.D, Dp = round_up(D, 4), Dq = Dp + 1;  // Dq: odd row stride, a lane per row is conflict-free
  MM_DYNAMIC_SHARED(float, smem);
  float* Ks = smem;                           // [kBlockKeys][Dp]
  float* Vs = Ks + kBlockKeys * Dp;           // [kBlockKeys][Dp]
  float* Qs = Vs + kBlockKeys * Dp;           // [kRowTile][Dq]
  float* dOs = Qs + kRowTile * Dq;            // [kRowTile][Dq]
  float* Ps = dOs + kRowTile * Dq;            // [kBlockKeys][kRowTile]: P^T of the tile
  float* dSs = Ps + kBlockKeys * kRowTile;    // [kBlockKeys][kRowTile]: dS^T
  float* Ms = dSs + kBlockKeys * kRowTile;    // [kRowTile][kTStride]: mask tile (base 2), with a mask
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t b = blockIdx.z, hk = blockIdx.y, j0 = blockIdx.x * int64_t{kBlockKeys};
  const int64_t kv0 = (b * p.Hkv + hk) * p.kv_rows;
  const int64_t nk = p.Tk - j0 < 0 ? 0 : p.Tk - j0 < kBlockKeys ? p.Tk - j0 : kBlockKeys;
  const int64_t jw = j0 + warp * kKeysPerWarp;  // this warp's first key
  const int kw = warp * kKeysPerWarp;           // its first key within the block

  float dk_acc[kKeysPerWarp][DC], dv_acc[kKeysPerWarp][DC];
#pragma unroll
  for (int kk = 0; kk < kKeysPerWarp; kk++)
#pragma unroll
    for (int c = 0; c < DC; c++) dk_acc[kk][c] = dv_acc[kk][c] = 0.f;

  if (nk > 0) {  // block-uniform: blocks past Tk only write zeros
    load_rows(Ks, Dp, kBlockKeys, k + (kv0 + j0) * D, nk, D, 1.f);
    load_rows(Vs, Dp, kBlockKeys, v + (kv0 + j0) * D, nk, D, 1.f);
    const int64_t offset = p.Tk - p.Tq;
    // Queries before this position see none of these keys (causal).
    const int64_t first_pos = p.causal ? (j0 - offset > 0 ? j0 - offset : 0) : 0;
    for (int64_t g = 0; g < p.G; g++) {
      const int64_t head_row0 = (b * p.H + hk * p.G + g) * p.Tq;
      for (int64_t i0 = first_pos; i0 < p.Tq; i0 += kRowTile) {
        const int64_t nr = p.Tq - i0 < kRowTile ? p.Tq - i0 : kRowTile;
        __syncthreads();  // the previous tile is consumed (and Ks/Vs are loaded, the first time)
        load_rows(Qs, Dq, kRowTile, q + (head_row0 + i0) * D, nr, D, 1.f);
        load_rows(dOs, Dq, kRowTile, dout + (head_row0 + i0) * D, nr, D, 1.f);
        if (p.mask) {
          const float* mrow = p.mask + b * p.mask_batch_stride + i0 * p.Tk + j0;
          for (int idx = threadIdx.x; idx < kRowTile * kBlockKeys; idx += blockDim.x) {
            const int r = idx / kBlockKeys, jj = idx % kBlockKeys;
            Ms[r * kTStride + jj] = r < nr && jj < nk ? mrow[r * p.Tk + jj] * kLog2e : 0.f;
          }
        }
        __syncthreads();
        // Warp-uniform: the tile's last row sees the most keys.
        if (jw > last_key(p, i0 + nr - 1)) continue;

        const int64_t i = i0 + lane;  // this lane's query row
        const bool row_ok = lane < nr;
        const int lastk = row_ok ? last_key(p, i) : -1;
        const float l2 = row_ok ? lse_log2(lse[head_row0 + i]) : INFINITY;
        const float dl = row_ok ? delta[head_row0 + i] : 0.f;
        float s[kKeysPerWarp], dp[kKeysPerWarp];
#pragma unroll
        for (int kk = 0; kk < kKeysPerWarp; kk++) s[kk] = dp[kk] = 0.f;
        const float* qrow = Qs + lane * Dq;
        const float* orow = dOs + lane * Dq;
        for (int64_t d = 0; d < Dp; d += 4) {
          const float q0 = qrow[d], q1 = qrow[d + 1], q2 = qrow[d + 2], q3 = qrow[d + 3];
          const float o0 = orow[d], o1 = orow[d + 1], o2 = orow[d + 2], o3 = orow[d + 3];
#pragma unroll
          for (int kk = 0; kk < kKeysPerWarp; kk++) {
            const float4 kv = *reinterpret_cast<const float4*>(Ks + (kw + kk) * Dp + d);
            const float4 vv = *reinterpret_cast<const float4*>(Vs + (kw + kk) * Dp + d);
            s[kk] = fmaf(q0, kv.x, fmaf(q1, kv.y, fmaf(q2, kv.z, fmaf(q3, kv.w, s[kk]))));
            dp[kk] = fmaf(o0, vv.x, fmaf(o1, vv.y, fmaf(o2, vv.z, fmaf(o3, vv.w, dp[kk]))));
          }
        }
#pragma unroll
        for (int kk = 0; kk < kKeysPerWarp; kk++) {
          float pr = 0.f, ds = 0.f;
          if (jw + kk <= lastk) {
            const float x = s[kk] * p.scale_log2 + (p.mask ? Ms[lane * kTStride + kw + kk] : 0.f);
            pr = exp2f(x - l2);
            ds = pr * (dp[kk] - dl) * p.scale;
          }
          Ps[(kw + kk) * kRowTile + lane] = pr;
          dSs[(kw + kk) * kRowTile + lane] = ds;
        }
        __syncwarp();
        // dV += P^T dO and dK += dS^T Q over the tile's rows; a lane owns columns lane + 32c.
        for (int rr = 0; rr < nr; rr++) {
          float qv[DC], ov[DC];
#pragma unroll
          for (int c = 0; c < DC; c++) {
            const int64_t col = c * kWarp + lane;
            qv[c] = col < D ? Qs[rr * Dq + col] : 0.f;
            ov[c] = col < D ? dOs[rr * Dq + col] : 0.f;
          }
#pragma unroll
          for (int kk = 0; kk < kKeysPerWarp; kk++) {
            const float pr = Ps[(kw + kk) * kRowTile + rr], ds = dSs[(kw + kk) * kRowTile + rr];
#pragma unroll
            for (int c = 0; c < DC; c++) {
              dv_acc[kk][c] = fmaf(pr, ov[c], dv_acc[kk][c]);
              dk_acc[kk][c] = fmaf(ds, qv[c], dk_acc[kk][c]);
            }
          }
        }
        __syncwarp();
      }
    }
  }
  // Every row of the block up to kv_rows: the gradient for keys < Tk, zeros for unused cache rows.
#pragma unroll
  for (int kk = 0; kk < kKeysPerWarp; kk++) {
    const int64_t j = jw + kk;
    if (j >= p.kv_rows) break;
    const bool used = j < p.Tk;
#pragma unroll
    for (int c = 0; c < DC; c++) {
      const int64_t col = c * kWarp + lane;
      if (col < D) {
        dk[(kv0 + j) * D + col] = from_f32<T>(used ? dk_acc[kk][c] : 0.f);
        dv[(kv0 + j) * D + col] = from_f32<T>(used ? dv_acc[kk][c] : 0.f);
      }
    }
  }
}

// ---- flash dQ ------------------------------------------------------------------------------

template <class T, int DC>
__global__ void flash_dq_kernel(Params p, const T* __restrict__ dout, const T* __restrict__ q, const T* __restrict__ k,
                                const T* __restrict__ v, const float* __restrict__ lse, const float* __restrict__ delta,
                                T* __restrict__ dq) {
  constexpr int RW = kDqRowsPerWarp, BR = RW * kWarps, DV = DC * kWarp;
  const int64_t D = p.D, Dp = round_up(D, 4);
  MM_DYNAMIC_SHARED(float, smem);
  float* Qs = smem;                   // [BR][Dp]
  float* dOs = Qs + BR * Dp;          // [BR][Dp]
  float* Kt = dOs + BR * Dp;          // [DV][kTStride]: K tile transposed (rows >= D zero)
  float* Vt = Kt + DV * kTStride;     // [DV][kTStride]
  float* dSs = Vt + DV * kTStride;    // [BR][kKeyTile]
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t b = blockIdx.z, hk = blockIdx.y, row0 = blockIdx.x * int64_t{BR};
  const int64_t rows = p.G * p.Tq, group_row0 = (b * p.H + hk * p.G) * p.Tq;
  const int64_t kv0 = (b * p.Hkv + hk) * p.kv_rows;
  const T* kh = k + kv0 * D;
  const T* vh = v + kv0 * D;

  load_rows(Qs, Dp, BR, q + (group_row0 + row0) * D, rows - row0, D, 1.f);
  load_rows(dOs, Dp, BR, dout + (group_row0 + row0) * D, rows - row0, D, 1.f);
  for (int64_t i = threadIdx.x; i < (DV - D) * kTStride; i += blockDim.x) Kt[D * kTStride + i] = Vt[D * kTStride + i] = 0.f;

  int pos[RW], last[RW], warp_last = -1;
  float l2[RW], dl[RW], acc[RW][DC];
#pragma unroll
  for (int i = 0; i < RW; i++) {
    const int64_t r = row0 + warp * RW + i;
    const bool ok = r < rows;
    pos[i] = ok ? static_cast<int>(r % p.Tq) : 0;
    last[i] = ok ? last_key(p, pos[i]) : -1;
    warp_last = last[i] > warp_last ? last[i] : warp_last;
    l2[i] = ok ? lse_log2(lse[group_row0 + r]) : INFINITY;
    dl[i] = ok ? delta[group_row0 + r] : 0.f;
#pragma unroll
    for (int c = 0; c < DC; c++) acc[i][c] = 0.f;
  }
  const int64_t key_end = last_key(p, max_position(p, row0, row0 + BR < rows ? row0 + BR : rows)) + 1;
  const float* Qw = Qs + warp * RW * Dp;
  const float* dOw = dOs + warp * RW * Dp;
  float* dSw = dSs + warp * RW * kKeyTile;
  for (int64_t kt = 0; kt < key_end; kt += kKeyTile) {
    const int64_t nk = p.Tk - kt < kKeyTile ? p.Tk - kt : kKeyTile;
    __syncthreads();
    load_transposed(Kt, kh + kt * D, nk, D);
    load_transposed(Vt, vh + kt * D, nk, D);
    __syncthreads();
    if (kt > warp_last) continue;

    float s[RW], dp[RW];
    lane_scores<RW>(Qw, Dp, Kt, lane, s);
    lane_scores<RW>(dOw, Dp, Vt, lane, dp);
    const int64_t j = kt + lane;
#pragma unroll
    for (int i = 0; i < RW; i++) {
      float ds = 0.f;
      if (j <= last[i]) {
        const float x = s[i] * p.scale_log2 + (p.mask ? mask_log2(p, b, pos[i], j) : 0.f);
        const float pr = exp2f(x - l2[i]);
        ds = pr * (dp[i] - dl[i]) * p.scale;
      }
      dSw[i * kKeyTile + lane] = ds;
    }
    __syncwarp();
    // dQ += dS K: K[j][col] is Kt[col][j] (lanes on columns: conflict-free with the padding).
    for (int jj = 0; jj < kKeyTile; jj += 4) {
      float4 dsv[RW];
#pragma unroll
      for (int i = 0; i < RW; i++) dsv[i] = *reinterpret_cast<const float4*>(dSw + i * kKeyTile + jj);
#pragma unroll
      for (int c = 0; c < DC; c++) {
        const float* kc = Kt + (c * kWarp + lane) * kTStride + jj;
        const float k0 = kc[0], k1 = kc[1], k2 = kc[2], k3 = kc[3];
#pragma unroll
        for (int i = 0; i < RW; i++) acc[i][c] = fmaf(dsv[i].x, k0, fmaf(dsv[i].y, k1, fmaf(dsv[i].z, k2, fmaf(dsv[i].w, k3, acc[i][c]))));
      }
    }
    __syncwarp();
  }
#pragma unroll
  for (int i = 0; i < RW; i++) {
    const int64_t r = row0 + warp * RW + i;
    if (r >= rows) break;
    T* dst = dq + (group_row0 + r) * D;
#pragma unroll
    for (int c = 0; c < DC; c++)
      if (c * kWarp + lane < D) dst[c * kWarp + lane] = from_f32<T>(acc[i][c]);
  }
}

// ---- rowwise (any head dim) ----------------------------------------------------------------

// Lane j (< n) of the warp gets x . a_j and y . b_j for rows j of a and b (row stride D); the
// rowwise kernels score a tile of up to 32 rows against the warp's own row this way.
template <class T>
__device__ __forceinline__ void warp_row_dots(const float* x, const float* y, const T* a, const T* b, int64_t D, int n, int lane,
                                              float& xa, float& yb) {
  xa = 0.f;
  yb = 0.f;
  for (int j = 0; j < n; j++) {
    float s = 0.f, t = 0.f;
    for (int64_t d = lane; d < D; d += kWarp) {
      s = fmaf(x[d], to_f32(a[j * D + d]), s);
      t = fmaf(y[d], to_f32(b[j * D + d]), t);
    }
    s = warp_sum(s);
    t = warp_sum(t);
    if (lane == j) {
      xa = s;
      yb = t;
    }
  }
}

// One warp per row of the group matrix; q, dout and the dq accumulator in shared memory.
template <class T>
__global__ void rowwise_dq_kernel(Params p, const T* __restrict__ dout, const T* __restrict__ q, const T* __restrict__ k,
                                  const T* __restrict__ v, const float* __restrict__ lse, const float* __restrict__ delta,
                                  T* __restrict__ dq) {
  const int64_t D = p.D;
  MM_DYNAMIC_SHARED(float, smem);
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  float* qs = smem + warp * (3 * D + kWarp);
  float* os = qs + D;
  float* acc = os + D;
  float* dss = acc + D;
  const int64_t b = blockIdx.z, hk = blockIdx.y, r = blockIdx.x * int64_t{kWarps} + warp;
  if (r >= p.G * p.Tq) return;  // no block-wide synchronisation below
  const int64_t row = (b * p.H + hk * p.G) * p.Tq + r, pos = r % p.Tq;
  const int64_t kv0 = (b * p.Hkv + hk) * p.kv_rows;
  const T* kh = k + kv0 * D;
  const T* vh = v + kv0 * D;
  for (int64_t d = lane; d < D; d += kWarp) {
    qs[d] = to_f32(q[row * D + d]);
    os[d] = to_f32(dout[row * D + d]);
    acc[d] = 0.f;
  }
  const int64_t key_end = last_key(p, pos) + 1;
  const float l2 = lse_log2(lse[row]), dl = delta[row];
  for (int64_t j0 = 0; j0 < key_end; j0 += kWarp) {
    const int n = static_cast<int>(key_end - j0 < kWarp ? key_end - j0 : kWarp);
    float my_s, my_dp;
    warp_row_dots(qs, os, kh + j0 * D, vh + j0 * D, D, n, lane, my_s, my_dp);
    float ds = 0.f;
    if (lane < n) {
      const float x = my_s * p.scale_log2 + (p.mask ? mask_log2(p, b, pos, j0 + lane) : 0.f);
      ds = exp2f(x - l2) * (my_dp - dl) * p.scale;
    }
    dss[lane] = ds;
    __syncwarp();
    for (int64_t d = lane; d < D; d += kWarp) {
      float a = acc[d];
      for (int jj = 0; jj < n; jj++) a = fmaf(dss[jj], to_f32(kh[(j0 + jj) * D + d]), a);
      acc[d] = a;
    }
    __syncwarp();
  }
  for (int64_t d = lane; d < D; d += kWarp) dq[row * D + d] = from_f32<T>(acc[d]);
}

// One warp per key row of a kv head: walks the query rows of its G heads that see it.
template <class T>
__global__ void rowwise_dkdv_kernel(Params p, const T* __restrict__ dout, const T* __restrict__ q, const T* __restrict__ k,
                                    const T* __restrict__ v, const float* __restrict__ lse, const float* __restrict__ delta,
                                    T* __restrict__ dk, T* __restrict__ dv) {
  const int64_t D = p.D;
  MM_DYNAMIC_SHARED(float, smem);
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  float* ks = smem + warp * (4 * D + 2 * kWarp);
  float* vs = ks + D;
  float* dks = vs + D;
  float* dvs = dks + D;
  float* ps = dvs + D;
  float* dss = ps + kWarp;
  const int64_t b = blockIdx.z, hk = blockIdx.y, j = blockIdx.x * int64_t{kWarps} + warp;
  if (j >= p.kv_rows) return;  // no block-wide synchronisation below
  const int64_t kv_row = (b * p.Hkv + hk) * p.kv_rows + j;
  for (int64_t d = lane; d < D; d += kWarp) {
    ks[d] = to_f32(k[kv_row * D + d]);
    vs[d] = to_f32(v[kv_row * D + d]);
    dks[d] = dvs[d] = 0.f;
  }
  if (j < p.Tk) {
    const int64_t offset = p.Tk - p.Tq;
    const int64_t first_pos = p.causal ? (j - offset > 0 ? j - offset : 0) : 0;
    for (int64_t g = 0; g < p.G; g++) {
      const int64_t head_row0 = (b * p.H + hk * p.G + g) * p.Tq;
      for (int64_t i0 = first_pos; i0 < p.Tq; i0 += kWarp) {
        const int n = static_cast<int>(p.Tq - i0 < kWarp ? p.Tq - i0 : kWarp);
        float my_s, my_dp;
        warp_row_dots(ks, vs, q + (head_row0 + i0) * D, dout + (head_row0 + i0) * D, D, n, lane, my_s, my_dp);
        float pr = 0.f, ds = 0.f;
        if (lane < n) {  // rows from first_pos on all see key j (causal)
          const int64_t i = i0 + lane;
          const float x = my_s * p.scale_log2 + (p.mask ? mask_log2(p, b, i, j) : 0.f);
          pr = exp2f(x - lse_log2(lse[head_row0 + i]));
          ds = pr * (my_dp - delta[head_row0 + i]) * p.scale;
        }
        ps[lane] = pr;
        dss[lane] = ds;
        __syncwarp();
        for (int64_t d = lane; d < D; d += kWarp) {
          float a = dvs[d], c = dks[d];
          for (int ii = 0; ii < n; ii++) {
            a = fmaf(ps[ii], to_f32(dout[(head_row0 + i0 + ii) * D + d]), a);
            c = fmaf(dss[ii], to_f32(q[(head_row0 + i0 + ii) * D + d]), c);
          }
          dvs[d] = a;
          dks[d] = c;
        }
        __syncwarp();
      }
    }
  }
  for (int64_t d = lane; d < D; d += kWarp) {
    dk[kv_row * D + d] = from_f32<T>(dks[d]);
    dv[kv_row * D + d] = from_f32<T>(dvs[d]);
  }
}

size_t flash_dkdv_smem(int64_t D) {
  const int64_t Dp = round_up(D, 4), Dq = Dp + 1;
  return sizeof(float) * static_cast<size_t>(2 * kBlockKeys * Dp + 2 * kRowTile * Dq + 2 * kBlockKeys * kRowTile + kRowTile * kTStride);
}

size_t flash_dq_smem(int64_t D) {
  const int64_t Dp = round_up(D, 4), DV = flash_cols(D) * kWarp, BR = kDqRowsPerWarp * kWarps;
  return sizeof(float) * static_cast<size_t>(2 * BR * Dp + 2 * DV * kTStride + BR * kKeyTile);
}

template <class T, int DC>
mm_status launch_flash(const Params& p, const T* dout, const T* q, const T* k, const T* v, const float* lse, const float* delta, T* dq,
                       T* dk, T* dv) {
  auto dkdv = flash_dkdv_kernel<T, DC>;
  const size_t dkdv_smem = flash_dkdv_smem(p.D);
  MM_TRY(allow_shared(dkdv, dkdv_smem));
  const dim3 key_grid(static_cast<unsigned>((p.kv_rows + kBlockKeys - 1) / kBlockKeys), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
  MM_TRY(launch("attentionBackward", dkdv, key_grid, dim3(kThreads), dkdv_smem, p, dout, q, k, v, lse, delta, dk, dv));
  auto dqk = flash_dq_kernel<T, DC>;
  const size_t dq_smem = flash_dq_smem(p.D);
  MM_TRY(allow_shared(dqk, dq_smem));
  constexpr int64_t BR = kDqRowsPerWarp * kWarps;
  const dim3 row_grid(static_cast<unsigned>((p.G * p.Tq + BR - 1) / BR), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
  return launch("attentionBackward", dqk, row_grid, dim3(kThreads), dq_smem, p, dout, q, k, v, lse, delta, dq);
}

template <class T>
mm_status backward(const Params& p, const T* dout, const T* q, const T* k, const T* v, const T* out, const float* lse, T* dq, T* dk,
                   T* dv) {
  if (p.B == 0 || p.Hkv == 0) return MM_OK;  // no elements
  const int64_t total_rows = p.B * p.H * p.Tq;
  Scratch delta_buffer;
  float* delta = nullptr;
  if (total_rows > 0) {
    MM_TRY(delta_buffer.allocate(sizeof(float) * static_cast<size_t>(total_rows)));
    delta = delta_buffer.as<float>();
    MM_TRY(launch("attentionBackward", delta_kernel<T>, blocks_for(total_rows * kWarp, 256), dim3(256), 0, dout, out, total_rows, p.D, delta));
  }
  // The tiled kernels when the head dim fits them and their shared memory fits the device.
  if (use_flash(p.D) && flash_dkdv_smem(p.D) <= max_shared_memory() && flash_dq_smem(p.D) <= max_shared_memory()) {
    switch (flash_cols(p.D)) {
      case 1: return launch_flash<T, 1>(p, dout, q, k, v, lse, delta, dq, dk, dv);
      case 2: return launch_flash<T, 2>(p, dout, q, k, v, lse, delta, dq, dk, dv);
      case 4: return launch_flash<T, 4>(p, dout, q, k, v, lse, delta, dq, dk, dv);
      default: return launch_flash<T, 8>(p, dout, q, k, v, lse, delta, dq, dk, dv);
    }
  }
  auto dkdv = rowwise_dkdv_kernel<T>;
  const size_t dkdv_smem = sizeof(float) * static_cast<size_t>(kWarps * (4 * p.D + 2 * kWarp));
  MM_TRY(allow_shared(dkdv, dkdv_smem));
  const dim3 key_grid(static_cast<unsigned>((p.kv_rows + kWarps - 1) / kWarps), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
  MM_TRY(launch("attentionBackward", dkdv, key_grid, dim3(kThreads), dkdv_smem, p, dout, q, k, v, lse, delta, dk, dv));
  auto dqk = rowwise_dq_kernel<T>;
  const size_t dq_smem = sizeof(float) * static_cast<size_t>(kWarps * (3 * p.D + kWarp));
  MM_TRY(allow_shared(dqk, dq_smem));
  const dim3 row_grid(static_cast<unsigned>((p.G * p.Tq + kWarps - 1) / kWarps), static_cast<unsigned>(p.Hkv), static_cast<unsigned>(p.B));
  return launch("attentionBackward", dqk, row_grid, dim3(kThreads), dq_smem, p, dout, q, k, v, lse, delta, dq);
}

}  // namespace
}  // namespace attn

mm_status attention_backward(const AttentionProblem& problem, mm_dtype dtype, const void* dout, const void* q, const void* k,
                             const void* v, const void* out, const float* lse, void* dq, void* dk, void* dv) {
  const attn::Params p = attn::make_params(problem);
  MM_TRY(attn::check_sizes(p, "attentionBackward"));
  if (dtype == MM_BF16) {
    using T = __nv_bfloat16;
    return attn::backward<T>(p, static_cast<const T*>(dout), static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
                             static_cast<const T*>(out), lse, static_cast<T*>(dq), static_cast<T*>(dk), static_cast<T*>(dv));
  }
  return attn::backward<float>(p, static_cast<const float*>(dout), static_cast<const float*>(q), static_cast<const float*>(k),
                               static_cast<const float*>(v), static_cast<const float*>(out), lse, static_cast<float*>(dq),
                               static_cast<float*>(dk), static_cast<float*>(dv));
}

}  // namespace mm::cuda
