// CUDA optimiser family: fused AdamW over many tensors in one launch, and the two halves of
// global gradient-norm clipping (a fixed-order sum of squares, an in-place scale).
//
// The tensors of a call are one index space cut into tiles of kTile elements, tensor by tensor
// (a tile never spans two tensors). The host writes one descriptor per tensor (its pointers, its
// size and its first tile) into device memory; block b takes tile b (grid-stride), finds its
// tensor by a binary search over the first-tile column, and its threads walk the tile with
// consecutive threads on consecutive elements (coalesced).
#include <cmath>
#include <vector>

#include "../core/backend.h"
#include "det_reduce.cuh"
#include "optim.h"

namespace mm::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kTile = int64_t{kThreads} * 8;

struct TensorSlot {
  float* param;  // the tensor itself for sum_of_squares / scale
  const float* grad;
  float* exp_avg;
  float* exp_avg_sq;
  int64_t n;
  int64_t first_tile;
};

// The descriptors in device memory, and the number of tiles they cover.
struct SlotTable {
  Scratch memory;
  int64_t tiles = 0;
  const TensorSlot* slots() const { return memory.as<const TensorSlot>(); }
};

mm_status upload(const std::vector<TensorSlot>& host, SlotTable* table) {
  int64_t tiles = 0;
  std::vector<TensorSlot> slots = host;
  for (TensorSlot& s : slots) {
    s.first_tile = tiles;
    tiles += (s.n + kTile - 1) / kTile;
  }
  table->tiles = tiles;
  if (tiles == 0) return MM_OK;
  const size_t bytes = slots.size() * sizeof(TensorSlot);
  MM_TRY(table->memory.allocate(bytes));
  const char* why = nullptr;
  Backend* backend = cuda_backend(&why);
  if (!backend) return fail(MM_ERR_DEVICE, "CUDA is not available: %s", why);
  // Host -> device, queued on the stream (the staging copy is done when the call returns).
  return backend->copy_from_host(current_device(), table->memory.as<void>(), slots.data(), bytes);
}

// The slot holding `tile`: the last one whose first_tile <= tile (slots with no elements have
// the same first_tile as the next one and are skipped by taking the last).
__device__ __forceinline__ int slot_of(const TensorSlot* slots, int count, int64_t tile) {
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (slots[mid].first_tile <= tile) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

struct AdamWScalars {
  float decay, beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, sqrt_bias_correction2, eps;
};

__global__ void adamw_kernel(const TensorSlot* slots, int count, int64_t tiles, AdamWScalars c) {
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const TensorSlot s = slots[slot_of(slots, count, tile)];
    const int64_t begin = (tile - s.first_tile) * kTile;
    const int64_t end = begin + kTile < s.n ? begin + kTile : s.n;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const float g = s.grad[i];
      const float m = c.beta1 * s.exp_avg[i] + c.one_minus_beta1 * g;
      const float v = c.beta2 * s.exp_avg_sq[i] + c.one_minus_beta2 * g * g;
      s.exp_avg[i] = m;
      s.exp_avg_sq[i] = v;
      s.param[i] = s.param[i] * c.decay - c.step_size * m / (sqrtf(v) / c.sqrt_bias_correction2 + c.eps);
    }
  }
}

// partial[tile] = sum of x^2 over the tile, in double.
__global__ void sum_of_squares_partial_kernel(const TensorSlot* slots, int count, int64_t tiles, double* partial) {
  __shared__ double smem[kThreads];
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const TensorSlot s = slots[slot_of(slots, count, tile)];
    const int64_t begin = (tile - s.first_tile) * kTile;
    const int64_t end = begin + kTile < s.n ? begin + kTile : s.n;
    double acc = 0.0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const double x = s.param[i];
      acc += x * x;
    }
    acc = block_sum_double(acc, smem);
    if (threadIdx.x == 0) partial[tile] = acc;
  }
}

__global__ void sum_partials_kernel(const double* partial, int64_t count, double* out) {
  __shared__ double smem[kReduceThreads];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum_double(acc, smem);
  if (threadIdx.x == 0) out[0] = acc;
}

__global__ void scale_kernel(const TensorSlot* slots, int count, int64_t tiles, float factor) {
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const TensorSlot s = slots[slot_of(slots, count, tile)];
    const int64_t begin = (tile - s.first_tile) * kTile;
    const int64_t end = begin + kTile < s.n ? begin + kTile : s.n;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) s.param[i] *= factor;
  }
}

unsigned tile_blocks(int64_t tiles) { return static_cast<unsigned>(tiles < 65535 * 16 ? tiles : 65535 * 16); }

}  // namespace

mm_status adamw(const cpu::AdamWSlot* slots, int count, const mm_adamw_config& c) {
  std::vector<TensorSlot> host(static_cast<size_t>(count));
  for (int k = 0; k < count; k++) host[k] = {slots[k].param, slots[k].grad, slots[k].exp_avg, slots[k].exp_avg_sq, slots[k].n, 0};
  SlotTable table;
  MM_TRY(upload(host, &table));
  if (table.tiles == 0) return MM_OK;
  // Scalars in double (as torch computes them in Python floats), elementwise math in f32: the
  // same values as the CPU kernel.
  AdamWScalars s;
  s.decay = static_cast<float>(1.0 - c.lr * c.weight_decay);
  s.beta1 = static_cast<float>(c.beta1);
  s.beta2 = static_cast<float>(c.beta2);
  s.one_minus_beta1 = static_cast<float>(1.0 - c.beta1);
  s.one_minus_beta2 = static_cast<float>(1.0 - c.beta2);
  const double bias_correction1 = 1.0 - std::pow(c.beta1, static_cast<double>(c.step));
  const double bias_correction2 = 1.0 - std::pow(c.beta2, static_cast<double>(c.step));
  s.step_size = static_cast<float>(c.lr / bias_correction1);
  s.sqrt_bias_correction2 = static_cast<float>(std::sqrt(bias_correction2));
  s.eps = static_cast<float>(c.eps);
  return launch("adamw", adamw_kernel, tile_blocks(table.tiles), kThreads, 0, table.slots(), count, table.tiles, s);
}

mm_status sum_of_squares(const float* const* data, const int64_t* sizes, int count, double* out) {
  std::vector<TensorSlot> host(static_cast<size_t>(count));
  for (int k = 0; k < count; k++) host[k] = {const_cast<float*>(data[k]), nullptr, nullptr, nullptr, sizes[k], 0};
  SlotTable table;
  MM_TRY(upload(host, &table));
  if (table.tiles == 0) {
    *out = 0.0;
    return MM_OK;
  }
  Scratch partial, total;
  MM_TRY(partial.allocate(static_cast<size_t>(table.tiles) * sizeof(double)));
  MM_TRY(total.allocate(sizeof(double)));
  MM_TRY(launch("sumOfSquares", sum_of_squares_partial_kernel, tile_blocks(table.tiles), kThreads, 0, table.slots(), count, table.tiles,
                partial.as<double>()));
  MM_TRY(launch("sumOfSquares (total)", sum_partials_kernel, 1, kReduceThreads, 0, partial.as<const double>(), table.tiles, total.as<double>()));
  const char* why = nullptr;
  Backend* backend = cuda_backend(&why);
  if (!backend) return fail(MM_ERR_DEVICE, "CUDA is not available: %s", why);
  return backend->copy_to_host(current_device(), out, total.as<const void>(), sizeof(double));
}

mm_status scale(float* const* data, const int64_t* sizes, int count, float factor) {
  std::vector<TensorSlot> host(static_cast<size_t>(count));
  for (int k = 0; k < count; k++) host[k] = {data[k], nullptr, nullptr, nullptr, sizes[k], 0};
  SlotTable table;
  MM_TRY(upload(host, &table));
  if (table.tiles == 0) return MM_OK;
  return launch("scaleInPlace", scale_kernel, tile_blocks(table.tiles), kThreads, 0, table.slots(), count, table.tiles, factor);
}

}  // namespace mm::cuda
