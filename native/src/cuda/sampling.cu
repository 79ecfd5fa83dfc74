// CUDA token sampling: greedy, temperature, top-k and top-p, one block per row, the same picks
// as the CPU kernel (cpu/sampling.cc) for the same Philox stream.
//
// Every row first finds its maximum and argmax (ties: lowest index) and checks for NaN / +inf.
// Probabilities are p_j = exp((x_j - max) / temperature) through the CPU's exp_f32
// (core/fast_math.h, whose multiplies and adds are rounded one by one on the GPU: no FMA
// contraction), so they are the CPU's floats bit for bit. Then:
// - unfiltered sampling walks the row in index order (as the CPU does): tiles of
//   blockDim * kItems elements (a contiguous run per thread), a block-wide prefix sum in double
//   per tile with a running carry, and the first element whose running sum passes u * total wins;
// - top-k / top-p need the candidates in decreasing order of (logit, -index). The row's order is
//   walked in chunks of kChunk ranks: a radix select (8-bit digits of a 64-bit key, shared-memory
//   histograms, early exit once the rank is pinned) finds the key at the chunk's last rank, the
//   chunk's keys are compacted into shared memory and bitonic-sorted, and a prefix sum in sorted
//   order (a contiguous run per thread plus a block scan) finds the nucleus cut and the sample.
//   With the usual small top-k (or a nucleus inside the first kChunk tokens) that is one select,
//   one compaction and one sort per row; larger nuclei walk further chunks, and the sampling
//   walk then starts at the chunk its target falls in (the nucleus walk logged the boundaries).
// The row sums are double, as on the CPU; only their association differs (~1e-16 relative), so
// a pick can differ only when u lands within that distance of a cumulative boundary.
#include <climits>
#include <cmath>

#include "../core/fast_math.h"  // exp_f32: rounded op by op on the GPU, so the CPU's floats
#include "../core/philox.h"
#include "common.cuh"
#include "sampling.h"

namespace mm::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kChunk = 2048;  // ranks sorted at once in shared memory (16 KiB of keys)
constexpr int kItems = 16;    // elements per thread and tile in the index-order walk
constexpr int kMaxLog = 64;   // chunk boundaries the nucleus walk remembers for the sampling walk

struct SampleParams {
  bool greedy;
  int64_t top_k;   // 0: no top-k filter (also when >= V)
  double top_p;    // 1: no nucleus filter
  float inv_temperature;
  uint64_t seed, offset;
};

// p = exp((x - max) / temperature) as the CPU computes it.
__device__ __forceinline__ float prob(float x, float max, float inv_temperature) {
  return exp_f32(fm_mul(fm_sub(x, max), inv_temperature));
}

// ---- the candidate order as one 64-bit key -------------------------------------------------

// Larger key = earlier candidate: the logit's order-preserving bits above, ~index below (so
// equal logits put the lower index first). -0 counts as +0 (the CPU compares floats).
__device__ __forceinline__ unsigned long long make_key(float x, int64_t j) {
  const unsigned u = __float_as_uint(x == 0.0f ? 0.0f : x);
  const unsigned ordered = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (static_cast<unsigned long long>(ordered) << 32) | (0xFFFFFFFFu - static_cast<unsigned>(j));
}
__device__ __forceinline__ float key_logit(unsigned long long key) {
  const unsigned ordered = static_cast<unsigned>(key >> 32);
  return __uint_as_float((ordered & 0x80000000u) ? (ordered & 0x7FFFFFFFu) : ~ordered);
}
__device__ __forceinline__ int key_index(unsigned long long key) { return static_cast<int>(0xFFFFFFFFu - static_cast<unsigned>(key)); }

// ---- per-block shared state ---------------------------------------------------------------------

struct RowShared {
  unsigned long long keys[kChunk];
  int hist[256];
  double warp_sums[kThreads / kWarp];
  float warp_max[kThreads / kWarp];
  int warp_best[kThreads / kWarp];
  int warp_nan[kThreads / kWarp];
  int count, digit, above;
  int found, last_positive;
  double found_acc;
  // The nucleus walk's chunks: chunk q holds the keys in [lower[q], lower[q - 1]) and the mass
  // before it is carry[q]; the sampling walk starts at the chunk its target falls in.
  unsigned long long log_lower[kMaxLog];
  double log_carry[kMaxLog];
  int log_count;
};

// Exclusive prefix sum of one double per thread over the block; *total gets the block's sum.
__device__ double block_exclusive_scan(double v, RowShared& sh, double* total) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  double incl = v;
  for (int o = 1; o < kWarp; o *= 2) {
    const double up = __shfl_up_sync(0xffffffffu, incl, o);
    if (lane >= o) incl += up;
  }
  __syncthreads();  // warp_sums may still be read by a previous scan
  if (lane == kWarp - 1) sh.warp_sums[warp] = incl;
  __syncthreads();
  double before = 0.0, all = 0.0;
  for (int w = 0; w < warps; w++) {  // fixed order, the same in every thread
    if (w < warp) before += sh.warp_sums[w];
    all += sh.warp_sums[w];
  }
  *total = all;
  return before + incl - v;
}

// Sum of one double per thread over the block (every thread gets it), fixed order.
__device__ double block_total(double v, RowShared& sh) {
  double total;
  block_exclusive_scan(v, sh, &total);
  return total;
}

// The key K with exactly r keys of the row >= K (1 <= r <= V): radix select from the top digit,
// counting only keys that match the digits chosen so far; stops as soon as every key with the
// chosen prefix is needed.
__device__ unsigned long long select_rank(const float* x, int64_t V, int64_t r, RowShared& sh) {
  if (r >= V) return 0;
  unsigned long long prefix = 0, mask = 0;
  int remaining = static_cast<int>(r);
  for (int shift = 56; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) sh.hist[i] = 0;
    __syncthreads();
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
      const unsigned long long key = make_key(x[j], j);
      if ((key & mask) == prefix) atomicAdd(&sh.hist[(key >> shift) & 255], 1);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int above = 0, d = 255;
      for (; d > 0; d--) {
        if (above + sh.hist[d] >= remaining) break;
        above += sh.hist[d];
      }
      sh.digit = d;
      sh.above = above;
    }
    __syncthreads();
    const int d = sh.digit;
    remaining -= sh.above;
    prefix |= static_cast<unsigned long long>(d) << shift;
    mask |= 255ull << shift;
    const bool pinned = sh.hist[d] == remaining;
    __syncthreads();  // everyone has read hist and digit before the next pass
    if (pinned) break;
  }
  return prefix;
}

// Gathers the keys in [lo, hi) (hi unbounded when !has_hi) into sh.keys, sorted decreasing;
// returns how many there are (<= kChunk by construction of lo and hi).
__device__ int build_chunk(const float* x, int64_t V, unsigned long long lo, unsigned long long hi, bool has_hi, RowShared& sh) {
  if (threadIdx.x == 0) sh.count = 0;
  __syncthreads();
  for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
    const unsigned long long key = make_key(x[j], j);
    if (key >= lo && (!has_hi || key < hi)) {
      const int pos = atomicAdd(&sh.count, 1);
      if (pos < kChunk) sh.keys[pos] = key;
    }
  }
  __syncthreads();
  const int count = sh.count < kChunk ? sh.count : kChunk;
  int n2 = 2;
  while (n2 < count) n2 *= 2;
  for (int i = count + threadIdx.x; i < n2; i += blockDim.x) sh.keys[i] = 0;  // padding sorts last
  __syncthreads();
  // Bitonic sort, decreasing.
  for (int size = 2; size <= n2; size *= 2) {
    for (int stride = size / 2; stride > 0; stride /= 2) {
      for (int i = threadIdx.x; i < n2 / 2; i += blockDim.x) {
        const int a = 2 * stride * (i / stride) + i % stride, b = a + stride;
        const bool decreasing = (a & size) == 0;
        const unsigned long long ka = sh.keys[a], kb = sh.keys[b];
        if (decreasing ? ka < kb : ka > kb) {
          sh.keys[a] = kb;
          sh.keys[b] = ka;
        }
      }
      __syncthreads();
    }
  }
  return count;
}

enum class Walk { kTotal, kNucleus, kSample };

// Scans sorted chunk entries [0, count) with the running mass `carry` before them: for kNucleus
// the first entry where the running sum reaches target, for kSample the first with p > 0 where
// it passes target (and the last with p > 0). Results in sh.found (INT_MAX: none; sh.found_acc
// the running sum there) and sh.last_positive (-1: none); returns the chunk's mass.
__device__ double scan_chunk(int count, double carry, Walk mode, double target, float max, float inv_t, RowShared& sh) {
  const int per = (count + blockDim.x - 1) / blockDim.x;
  const int lo = threadIdx.x * per, hi = lo + per < count ? lo + per : count;
  double run = 0.0;
  for (int c = lo; c < hi; c++) run += prob(key_logit(sh.keys[c]), max, inv_t);
  double total;
  double acc = carry + block_exclusive_scan(run, sh, &total);
  if (mode == Walk::kTotal) return total;
  if (threadIdx.x == 0) {
    sh.found = INT_MAX;
    sh.last_positive = -1;
  }
  __syncthreads();
  int found = -1, last_positive = -1;
  for (int c = lo; c < hi; c++) {
    const float p = prob(key_logit(sh.keys[c]), max, inv_t);
    acc += p;
    if (p > 0) last_positive = c;
    if (mode == Walk::kNucleus ? acc >= target : (p > 0 && acc > target)) {
      found = c;
      break;
    }
  }
  if (found >= 0) atomicMin(&sh.found, found);
  if (last_positive >= 0) atomicMax(&sh.last_positive, last_positive);
  __syncthreads();
  if (found >= 0 && found == sh.found) sh.found_acc = acc;
  __syncthreads();
  return total;
}

struct WalkResult {
  int64_t rank;  // -1: not found
  int id;        // the token at rank
  double acc;    // running sum at rank (or over the whole walk when not found)
  int last_positive_id;  // the token of the last rank with p > 0 (-1: none)
  bool chunk0_kept;  // the walk ended in its first chunk (its keys are still in shared memory)
};

// Walks ranks [0, limit) in chunks. `reuse_first` skips building chunk 0 (its keys are already
// in shared memory, sorted, and cover at least min(kChunk, limit) ranks). `record` logs each
// chunk's lower key and the mass before it (the nucleus walk); `jump` starts at the last logged
// chunk whose preceding mass is <= target, reusing the logged keys instead of selecting them
// again (the sampling walk, whose ranks are a prefix of the nucleus walk's).
__device__ WalkResult walk(const float* x, int64_t V, int64_t limit, Walk mode, double target, float max, float inv_t, bool reuse_first,
                           bool record, bool jump, RowShared& sh) {
  WalkResult res{-1, -1, 0.0, -1, false};
  double carry = 0.0;
  unsigned long long upper = 0;
  int64_t first = 0;
  const int logged = jump ? sh.log_count : 0;
  if (logged > 0) {
    int q = 0;
    while (q + 1 < logged && sh.log_carry[q + 1] <= target) q++;
    first = q;
    carry = sh.log_carry[q];
    upper = q > 0 ? sh.log_lower[q - 1] : 0;
  }
  if (record && threadIdx.x == 0) sh.log_count = 0;
  for (int64_t chunk = first; chunk * kChunk < limit; chunk++) {
    const int64_t start = chunk * kChunk, end = start + kChunk < limit ? start + kChunk : limit;
    if (!(start == 0 && reuse_first)) {
      // A logged chunk may hold more ranks than this walk needs; only `end - start` are scanned.
      const unsigned long long lower = chunk < logged ? sh.log_lower[chunk] : select_rank(x, V, end, sh);
      build_chunk(x, V, lower, upper, start > 0, sh);
      upper = lower;
    } else if (end < V) {
      upper = sh.keys[end - 1];  // the chunk's smallest key: the next chunk's keys are below it
    }
    if (record && threadIdx.x == 0 && chunk < kMaxLog) {
      sh.log_lower[chunk] = upper;
      sh.log_carry[chunk] = carry;
      sh.log_count = static_cast<int>(chunk) + 1;
    }
    const int count = static_cast<int>(end - start);
    const double mass = scan_chunk(count, carry, mode, target, max, inv_t, sh);
    if (sh.last_positive >= 0) res.last_positive_id = key_index(sh.keys[sh.last_positive]);
    if (sh.found != INT_MAX) {
      res.rank = start + sh.found;
      res.id = key_index(sh.keys[sh.found]);
      res.acc = sh.found_acc;
      res.chunk0_kept = start == 0;
      return res;
    }
    carry += mass;
  }
  res.acc = carry;
  res.chunk0_kept = limit <= kChunk && first == 0;
  return res;
}

__global__ void sample_kernel(const float* logits, int64_t rows, int64_t V, SampleParams prm, int32_t* ids, int* flag) {
  __shared__ RowShared sh;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* x = logits + row * V;

    // Maximum, argmax (lowest index among ties) and NaN over the row.
    float mx = -INFINITY;
    int best = INT_MAX;
    int nan = 0;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
      const float v = x[j];
      if (v != v) nan = 1;
      else if (v > mx) mx = v, best = static_cast<int>(j);
    }
    for (int o = kWarp / 2; o > 0; o /= 2) {
      const float m2 = __shfl_xor_sync(0xffffffffu, mx, o);
      const int b2 = __shfl_xor_sync(0xffffffffu, best, o);
      nan |= __shfl_xor_sync(0xffffffffu, nan, o);
      if (m2 > mx || (m2 == mx && b2 < best)) mx = m2, best = b2;
    }
    __syncthreads();  // the previous row is done with the shared state
    if (lane == 0) {
      sh.warp_max[warp] = mx;
      sh.warp_best[warp] = best;
      sh.warp_nan[warp] = nan;
    }
    __syncthreads();
    mx = -INFINITY;
    best = INT_MAX;
    nan = 0;
    for (int w = 0; w < warps; w++) {
      nan |= sh.warp_nan[w];
      if (sh.warp_max[w] > mx || (sh.warp_max[w] == mx && sh.warp_best[w] < best)) mx = sh.warp_max[w], best = sh.warp_best[w];
    }
    if (nan || mx == INFINITY || best == INT_MAX) {
      if (threadIdx.x == 0) {
        report_device_error(flag, nan ? kSampleNaN : mx == INFINITY ? kSamplePositiveInfinity : kSampleNoFiniteLogit);
        ids[row] = 0;
      }
      continue;
    }
    if (prm.greedy) {
      if (threadIdx.x == 0) ids[row] = best;
      continue;
    }

    const Philox4 block = philox_block(prm.seed, prm.offset + static_cast<uint64_t>(row / 4));
    const double u = u32_to_unit(block.v[row % 4]);
    const float inv_t = prm.inv_temperature;
    const bool top_k = prm.top_k > 0 && prm.top_k < V;

    if (!top_k && prm.top_p >= 1) {
      // Inverse CDF in index order.
      double part = 0.0;
      for (int64_t j = threadIdx.x; j < V; j += blockDim.x) part += prob(x[j], mx, inv_t);
      const double target = u * block_total(part, sh);
      if (threadIdx.x == 0) {
        sh.found = INT_MAX;
        sh.last_positive = -1;
      }
      // Tiles of blockDim * kItems elements, each thread a contiguous run of kItems (a warp
      // covers 2 KiB of the row), so a tile costs one block scan.
      double carry = 0.0;
      const int64_t tile_elems = int64_t{blockDim.x} * kItems;
      for (int64_t base = 0; base < V; base += tile_elems) {
        const int64_t lo = base + int64_t{threadIdx.x} * kItems;
        float p[kItems];
        double run = 0.0;
#pragma unroll
        for (int k = 0; k < kItems; k++) {
          p[k] = lo + k < V ? prob(x[lo + k], mx, inv_t) : 0.0f;
          run += p[k];
        }
        double tile;
        double acc = carry + block_exclusive_scan(run, sh, &tile);
        int found = -1, last_positive = -1;
        for (int k = 0; k < kItems; k++) {
          acc += p[k];
          if (p[k] > 0) {
            last_positive = static_cast<int>(lo + k);
            if (acc > target) {
              found = last_positive;
              break;
            }
          }
        }
        if (last_positive >= 0) atomicMax(&sh.last_positive, last_positive);
        if (found >= 0) atomicMin(&sh.found, found);
        __syncthreads();
        if (sh.found != INT_MAX) break;
        carry += tile;
      }
      if (threadIdx.x == 0) ids[row] = sh.found != INT_MAX ? sh.found : sh.last_positive;
      continue;
    }

    // Filtered: candidates are the first `limit` keys in decreasing order.
    const int64_t limit = top_k ? prm.top_k : V;
    bool have_chunk0 = false;
    double mass;
    if (limit <= kChunk) {
      build_chunk(x, V, select_rank(x, V, limit, sh), 0, false, sh);
      have_chunk0 = true;
      mass = scan_chunk(static_cast<int>(limit), 0.0, Walk::kTotal, 0.0, mx, inv_t, sh);
    } else {
      const unsigned long long lower = select_rank(x, V, limit, sh);
      double part = 0.0;
      for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
        if (make_key(x[j], j) >= lower) part += prob(x[j], mx, inv_t);
      }
      mass = block_total(part, sh);
    }
    int64_t keep = limit;
    if (prm.top_p < 1) {
      // Nucleus: the shortest prefix whose share of the (top-k) mass reaches top_p.
      const WalkResult cut = walk(x, V, limit, Walk::kNucleus, prm.top_p * mass, mx, inv_t, have_chunk0, true, false, sh);
      if (cut.rank >= 0) keep = cut.rank + 1;
      mass = cut.acc;
      have_chunk0 = cut.chunk0_kept;
    }
    const WalkResult pick = walk(x, V, keep, Walk::kSample, u * mass, mx, inv_t, have_chunk0, false, prm.top_p < 1, sh);
    if (threadIdx.x == 0) ids[row] = pick.rank >= 0 ? pick.id : pick.last_positive_id;
  }
}

}  // namespace

mm_status sample_tokens(const float* logits, int64_t rows, int64_t V, const cpu::SamplingConfig& cfg, int32_t* ids) {
  note_checking_op("sample");
  if (rows == 0) return MM_OK;
  SampleParams prm;
  prm.greedy = cfg.temperature == 0 || cfg.top_k == 1;
  prm.top_k = cfg.top_k;
  prm.top_p = cfg.top_p;
  prm.inv_temperature = prm.greedy ? 0.0f : static_cast<float>(std::fmin(1.0 / cfg.temperature, 3e38));
  prm.seed = cfg.seed;
  prm.offset = cfg.offset;
  const unsigned blocks = static_cast<unsigned>(rows < 65535 * 16 ? rows : 65535 * 16);
  return launch("sample", sample_kernel, blocks, kThreads, 0, logits, rows, V, prm, ids, device_error_flag());
}

}  // namespace mm::cuda
