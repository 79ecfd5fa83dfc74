#include "shape.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../core/permute_plan.h"
#include "../core/thread_pool.h"
#include "mmcot/mmcot.h"

namespace mm::cpu {
namespace {

// Elements per parallel_for chunk for plain copies: big enough that a chunk outweighs the
// scheduling cost, small enough to spread a few MB over the threads.
constexpr int64_t kCopyGrain = 1 << 15;

using CollapsedPermute = PermutePlan;  // core/permute_plan.h

inline int64_t row_offset(const CollapsedPermute& c, int64_t row) {
  int64_t offset = 0;
  for (int d = c.ndim - 2; d >= 0; d--) {
    offset += (row % c.shape[d]) * c.in_stride[d];
    row /= c.shape[d];
  }
  return offset;
}

template <class T>
void permute_typed(const T* src, const CollapsedPermute& c, T* dst) {
  int64_t numel = 1;
  for (int d = 0; d < c.ndim; d++) numel *= c.shape[d];
  if (c.ndim == 0) {
    if (numel == 1) dst[0] = src[0];
    return;
  }
  const int last = c.ndim - 1;
  const int64_t n_last = c.shape[last];
  if (c.in_stride[last] == 1) {
    // The innermost output axis is contiguous in the input too: copy whole runs.
    const int64_t rows = numel / n_last;
    parallel_for(rows, kCopyGrain / n_last + 1, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; row++) std::memcpy(dst + row * n_last, src + row_offset(c, row), n_last * sizeof(T));
    });
    return;
  }
  // The input's contiguous axis p lands somewhere before the output's last axis: a batch of 2-D
  // transposes between axis p and the last axis, done in square tiles so that both the reads
  // (contiguous along p) and the writes (contiguous along last) stay in cache.
  int p = 0;
  while (c.in_stride[p] != 1) p++;
  int64_t out_stride[MM_MAX_DIMS];
  int64_t s = 1;
  for (int d = last; d >= 0; d--) {
    out_stride[d] = s;
    s *= c.shape[d];
  }
  constexpr int64_t kTile = 32;
  const int64_t n_p = c.shape[p], q_stride = c.in_stride[last], p_out_stride = out_stride[p];
  const int64_t p_tiles = (n_p + kTile - 1) / kTile;
  const int64_t batches = numel / (n_p * n_last);
  parallel_for(batches * p_tiles, std::max<int64_t>(1, kCopyGrain / (kTile * n_last)), [&](int64_t begin, int64_t end) {
    for (int64_t unit = begin; unit < end; unit++) {
      // Offsets of this batch: decompose over every axis except p and the last.
      int64_t batch = unit / p_tiles, in_off = 0, out_off = 0;
      for (int d = last - 1; d >= 0; d--) {
        if (d == p) continue;
        const int64_t coord = batch % c.shape[d];
        batch /= c.shape[d];
        in_off += coord * c.in_stride[d];
        out_off += coord * out_stride[d];
      }
      const int64_t i0 = (unit % p_tiles) * kTile, i1 = std::min(n_p, i0 + kTile);
      for (int64_t j0 = 0; j0 < n_last; j0 += kTile) {
        const int64_t j1 = std::min(n_last, j0 + kTile);
        for (int64_t i = i0; i < i1; i++) {
          const T* in = src + in_off + i;
          T* out = dst + out_off + i * p_out_stride;
          for (int64_t j = j0; j < j1; j++) out[j] = in[j * q_stride];
        }
      }
    }
  });
}

template <class T>
void gather_typed(const T* src, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t k, T* dst) {
  parallel_for(outer * k, kCopyGrain / (inner + 1) + 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const int64_t o = row / k, j = row % k;
      std::memcpy(dst + row * inner, src + (o * size + idx[j]) * inner, inner * sizeof(T));
    }
  });
}

}  // namespace

void permute(const void* src, int ndim, const int64_t* src_shape, const int* dims, void* dst, size_t elem) {
  const CollapsedPermute c = plan_permute(ndim, src_shape, dims);
  if (elem == 2) {
    permute_typed(static_cast<const uint16_t*>(src), c, static_cast<uint16_t*>(dst));
  } else {
    permute_typed(static_cast<const uint32_t*>(src), c, static_cast<uint32_t*>(dst));
  }
}

void copy_axis_window(const void* src, int64_t src_size, int64_t src_start, void* dst, int64_t dst_size, int64_t dst_start,
                      int64_t outer, int64_t count, int64_t inner, size_t elem) {
  const int64_t run = count * inner * static_cast<int64_t>(elem);
  if (run == 0) return;
  const char* s = static_cast<const char*>(src) + src_start * inner * elem;
  char* d = static_cast<char*>(dst) + dst_start * inner * elem;
  const int64_t src_row = src_size * inner * elem, dst_row = dst_size * inner * elem;
  parallel_for(outer, kCopyGrain * 4 / run + 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; o++) std::memcpy(d + o * dst_row, s + o * src_row, run);
  });
}

void gather_axis(const void* src, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t k, void* dst, size_t elem) {
  if (elem == 2) {
    gather_typed(static_cast<const uint16_t*>(src), outer, size, inner, idx, k, static_cast<uint16_t*>(dst));
  } else {
    gather_typed(static_cast<const uint32_t*>(src), outer, size, inner, idx, k, static_cast<uint32_t*>(dst));
  }
}

void scatter_add_axis(const float* grad, int64_t outer, int64_t k, int64_t inner, const int32_t* idx, int64_t size, float* dst) {
  // Bucket the positions j by destination row (a counting sort, stable so each row sums its
  // sources in ascending j: results do not depend on the thread count).
  std::vector<int64_t> start(static_cast<size_t>(size) + 1, 0);
  for (int64_t j = 0; j < k; j++) start[static_cast<size_t>(idx[j]) + 1]++;
  for (int64_t r = 0; r < size; r++) start[r + 1] += start[r];
  std::vector<int64_t> order(static_cast<size_t>(k));
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t j = 0; j < k; j++) order[fill[idx[j]]++] = j;
  }
  constexpr int64_t kBlock = 256;  // columns summed at once in a stack buffer of doubles
  parallel_for(outer * size, kCopyGrain / (inner + 1) + 1, [&](int64_t begin, int64_t end) {
    double acc[kBlock];
    for (int64_t row = begin; row < end; row++) {
      const int64_t o = row / size, r = row % size;
      const int64_t* sources = order.data() + start[r];
      const int64_t hits = start[r + 1] - start[r];
      float* out = dst + row * inner;
      const float* g = grad + o * k * inner;
      if (hits == 0) {
        std::fill(out, out + inner, 0.0f);
      } else if (hits == 1) {
        std::memcpy(out, g + sources[0] * inner, inner * sizeof(float));
      } else {
        for (int64_t c0 = 0; c0 < inner; c0 += kBlock) {
          const int64_t n = std::min(kBlock, inner - c0);
          std::fill(acc, acc + n, 0.0);
          for (int64_t h = 0; h < hits; h++) {
            const float* in = g + sources[h] * inner + c0;
            for (int64_t c = 0; c < n; c++) acc[c] += in[c];
          }
          for (int64_t c = 0; c < n; c++) out[c0 + c] = static_cast<float>(acc[c]);
        }
      }
    }
  });
}

}  // namespace mm::cpu
