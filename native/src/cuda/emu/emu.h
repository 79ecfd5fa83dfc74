// A CPU emulator of the CUDA execution model, so the CUDA kernels (native/src/cuda/*.cu) can be
// built as plain C++ and tested on machines without a GPU (cmake -DMMCOT_CUDA_EMULATE=ON,
// `npm run test:cuda:emu`). It stands in for the parts of cuda_runtime.h, cuda_bf16.h and mma.h
// that the kernels use (common.cuh lists that dialect), and nothing more.
//
// Execution: a launch runs its blocks one after another (in a shuffled order, since CUDA
// promises none); each block's threads are fibers on one OS thread. A thread runs until it
// reaches a barrier: __syncthreads waits for every live thread of the block, warp shuffles and
// __syncwarp wait for the live lanes of the warp. Between barriers the threads of a block run in
// a fresh random order, so a kernel that relies on an ordering CUDA does not promise (a missing
// __syncthreads) tends to fail here too. A barrier no thread can pass (divergent __syncthreads,
// a shuffle with exited lanes) fails the launch with cudaErrorLaunchFailure and a message.
//
// What it cannot show: timing, memory-model races between concurrently running threads, bank
// conflicts, register pressure, and host code that dereferences device pointers (device memory is
// host memory here). Passing here is evidence about indexing, reductions and barriers, not a run
// on a GPU.
#pragma once
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>

#include "../../core/convert.h"

// ---- qualifiers -------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
// Static shared memory: one instance per OS thread, shared by the fibers (threads) of the block
// running on it; blocks run one at a time per OS thread.
#define __shared__ static thread_local
#define __constant__

// ---- vector types -----------------------------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) int2 {
  int x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

// ---- runtime API subset -------------------------------------------------------------------------
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorLaunchFailure = 719,
};
using cudaError = cudaError_t;
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
};
struct CUstream_st;
using cudaStream_t = CUstream_st*;
constexpr unsigned cudaStreamNonBlocking = 1;
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  size_t sharedMemPerBlockOptin;
  int warpSize;
  int maxThreadsPerBlock;
  int multiProcessorCount;
  int major;
  int minor;
};

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <class T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t err);
const char* cudaGetErrorName(cudaError_t err);

namespace mm::emu {
// Names the kernel being launched (for the out-of-bounds report).
void set_launch_name(const char* what);
cudaError_t set_function_attribute(const void* fn, cudaFuncAttribute attr, int value);
}
template <class F>
cudaError_t cudaFuncSetAttribute(F* fn, cudaFuncAttribute attr, int value) {
  return ::mm::emu::set_function_attribute(reinterpret_cast<const void*>(fn), attr, value);
}

// ---- the execution engine (emu.cc) ----------------------------------------------------------
namespace mm::emu {

struct BlockState;

struct ThreadState {
  uint3 thread_idx;
  int linear;  // thread index within the block
  BlockState* block;
};

struct BlockState {
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
  unsigned char* dynamic_shared;
};

extern thread_local ThreadState* t_thread;

// Runs `body` for every thread of every block: returns cudaSuccess or the launch's error.
cudaError_t run_grid(const void* kernel_id, dim3 grid, dim3 block, size_t dynamic_smem, const std::function<void()>& body);

// A kernel thread broke a rule a GPU enforces (e.g. a misaligned wmma pointer): the launch fails
// with `what` once the block ends.
void device_fault(const char* what);

// Barriers (called from inside a running kernel thread).
void sync_block();
void sync_warp();
// Warp exchange: every live lane of the warp deposits `value` (up to 8 bytes); returns lane
// `src`'s deposit. Two warp barriers: one after writing, one after reading.
uint64_t warp_exchange(uint64_t value, int src_lane);

inline unsigned char* dynamic_shared() { return t_thread->block->dynamic_shared; }
// The emulator's spelling of `extern __shared__ T name[]` (common.cuh's MM_DYNAMIC_SHARED uses it).
#define MM_EMU_DYNAMIC(type, name) type* name = reinterpret_cast<type*>(::mm::emu::dynamic_shared())
inline int lane_id() { return t_thread->linear % 32; }

template <class... Params, class... Args>
cudaError_t launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, Args... args) {
  // Every thread gets its own copies of the arguments, like CUDA's by-value kernel parameters.
  return run_grid(reinterpret_cast<const void*>(kernel), grid, block, smem, [&]() { kernel(args...); });
}

template <class T>
uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "warp shuffles move values of up to 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof v);
  return bits;
}
template <class T>
T from_bits(uint64_t bits) {
  T v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace mm::emu

#define threadIdx (::mm::emu::t_thread->thread_idx)
#define blockIdx (::mm::emu::t_thread->block->block_idx)
#define blockDim (::mm::emu::t_thread->block->block_dim)
#define gridDim (::mm::emu::t_thread->block->grid_dim)
constexpr int warpSize = 32;

inline void __syncthreads() { ::mm::emu::sync_block(); }
inline void __syncwarp(unsigned = 0xffffffffu) { ::mm::emu::sync_warp(); }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T>
T __shfl_sync(unsigned, T v, int src, int width = 32) {
  const int lane = ::mm::emu::lane_id();
  const int base = lane / width * width;
  return ::mm::emu::from_bits<T>(::mm::emu::warp_exchange(::mm::emu::to_bits(v), base + ((src % width) + width) % width));
}
template <class T>
T __shfl_xor_sync(unsigned, T v, int mask, int width = 32) {
  const int lane = ::mm::emu::lane_id();
  int src = lane ^ mask;
  if (src / width != lane / width) src = lane;
  return ::mm::emu::from_bits<T>(::mm::emu::warp_exchange(::mm::emu::to_bits(v), src));
}
template <class T>
T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
  const int lane = ::mm::emu::lane_id();
  const int src = lane % width + static_cast<int>(delta) < width ? lane + static_cast<int>(delta) : lane;
  return ::mm::emu::from_bits<T>(::mm::emu::warp_exchange(::mm::emu::to_bits(v), src));
}
template <class T>
T __shfl_up_sync(unsigned, T v, unsigned delta, int width = 32) {
  const int lane = ::mm::emu::lane_id();
  const int src = lane % width >= static_cast<int>(delta) ? lane - static_cast<int>(delta) : lane;
  return ::mm::emu::from_bits<T>(::mm::emu::warp_exchange(::mm::emu::to_bits(v), src));
}
unsigned __ballot_sync(unsigned mask, int predicate);
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate);

// ---- atomics (blocks run one at a time, but keep them real atomics anyway) -------------------
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
template <class F>
F atomic_float_update(F* p, F v, F (*op)(F, F)) {
  using Bits = std::conditional_t<sizeof(F) == 4, uint32_t, uint64_t>;
  Bits* bp = reinterpret_cast<Bits*>(p);
  Bits old_bits = __atomic_load_n(bp, __ATOMIC_RELAXED), new_bits;
  F old;
  do {
    memcpy(&old, &old_bits, sizeof old);
    const F updated = op(old, v);
    memcpy(&new_bits, &updated, sizeof new_bits);
  } while (!__atomic_compare_exchange_n(bp, &old_bits, new_bits, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
inline float atomicAdd(float* p, float v) {
  return atomic_float_update<float>(p, v, [](float a, float b) { return a + b; });
}
inline double atomicAdd(double* p, double v) {
  return atomic_float_update<double>(p, v, [](double a, double b) { return a + b; });
}
inline int atomicCAS(int* p, int expected, int desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
}
inline unsigned atomicCAS(unsigned* p, unsigned expected, unsigned desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long expected, unsigned long long desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
}
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicExch(unsigned* p, unsigned v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
inline float atomicExch(float* p, float v) {
  return atomic_float_update<float>(p, v, [](float, float b) { return b; });
}
template <class T>
T atomic_int_update(T* p, T v, bool take_max) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while ((take_max ? v > old : v < old) && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
inline int atomicMax(int* p, int v) { return atomic_int_update(p, v, true); }
inline unsigned atomicMax(unsigned* p, unsigned v) { return atomic_int_update(p, v, true); }
inline int atomicMin(int* p, int v) { return atomic_int_update(p, v, false); }
inline unsigned atomicMin(unsigned* p, unsigned v) { return atomic_int_update(p, v, false); }

// ---- math and bit intrinsics --------------------------------------------------------------------
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x != x ? 0.0f : x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __int2float_rn(int v) { return static_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return ::mm::emu::from_bits<unsigned>(::mm::emu::to_bits(v)); }
inline int __float_as_int(float v) { return ::mm::emu::from_bits<int>(::mm::emu::to_bits(v)); }
inline float __uint_as_float(unsigned v) { return ::mm::emu::from_bits<float>(::mm::emu::to_bits(v)); }
inline float __int_as_float(int v) { return ::mm::emu::from_bits<float>(::mm::emu::to_bits(v)); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }
inline int __ffs(int v) { return __builtin_ffs(v); }
template <class T>
T __ldg(const T* p) {
  return *p;
}
// CUDA's global min/max overloads (same-type only; mixed types do not compile here either).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
using std::isinf;
using std::isnan;
using std::isfinite;

inline int __all_sync(unsigned mask, int predicate) {
  // A lane whose predicate is false shows up as a missing bit.
  const unsigned votes = __ballot_sync(mask, predicate);
  const unsigned none = __ballot_sync(mask, 1);
  return votes == none;
}

// ---- bfloat16 -------------------------------------------------------------------------------------
struct __nv_bfloat16 {
  uint16_t __x;
  __nv_bfloat16() = default;
  __nv_bfloat16(float f) : __x(::mm::f32_to_bf16_bits(f)) {}
  operator float() const { return ::mm::bf16_bits_to_f32(__x); }
};
using nv_bfloat16 = __nv_bfloat16;
struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 h) { return static_cast<float>(h); }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short bits) {
  __nv_bfloat16 h;
  h.__x = bits;
  return h;
}
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return {__nv_bfloat16(a), __nv_bfloat16(b)}; }
inline float2 __bfloat1622float2(__nv_bfloat162 h) { return {static_cast<float>(h.x), static_cast<float>(h.y)}; }

// ---- tensor cores: nvcuda::wmma -----------------------------------------------------------------
// Every lane holds the whole tile (element order row-major, whatever the layout). On a GPU a lane
// holds an unspecified part of it; code may only touch fragment elements uniformly (x[i] for all
// i < num_elements), which gives the same result under both representations.
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
namespace precision {
struct tf32 {};
}

template <class Use, int M, int N, int K>
struct FragmentDims {
  static constexpr int rows = std::is_same<Use, matrix_b>::value ? K : M;
  static constexpr int cols = std::is_same<Use, matrix_a>::value ? K : N;
};

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  using element_type = T;
  static constexpr int rows = FragmentDims<Use, M, N, K>::rows;
  static constexpr int cols = FragmentDims<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols;
  T x[num_elements];
};

template <class Use, int M, int N, int K, class T, class Layout, class V>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& v) {
  for (int i = 0; i < f.num_elements; i++) f.x[i] = static_cast<T>(v);
}

// The GPU's rules for wmma memory operands: a 256-bit aligned pointer, and a leading dimension
// that is a multiple of 16 bytes.
// A broken rule fails the launch and skips the access.
template <class S>
bool check_wmma_operand(const S* p, unsigned ldm, const char* op) {
  if (reinterpret_cast<uintptr_t>(p) % 32 == 0 && (ldm * sizeof(S)) % 16 == 0) return true;
  ::mm::emu::device_fault(op);
  return false;
}

template <class Use, int M, int N, int K, class T, class Layout, class S>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const S* p, unsigned ldm) {
  if (!check_wmma_operand(p, ldm, "wmma::load_matrix_sync: the pointer must be 32-byte aligned and ldm a multiple of 16 bytes")) return;
  static_assert(!std::is_same<Layout, void>::value, "matrix_a/matrix_b fragments need a layout; accumulators take a layout_t");
  constexpr bool col = std::is_same<Layout, col_major>::value;
  for (int r = 0; r < f.rows; r++)
    for (int c = 0; c < f.cols; c++) f.x[r * f.cols + c] = static_cast<T>(col ? p[c * ldm + r] : p[r * ldm + c]);
}
template <int M, int N, int K, class T, class S>
void load_matrix_sync(fragment<accumulator, M, N, K, T, void>& f, const S* p, unsigned ldm, layout_t layout) {
  if (!check_wmma_operand(p, ldm, "wmma::load_matrix_sync: the pointer must be 32-byte aligned and ldm a multiple of 16 bytes")) return;
  for (int r = 0; r < M; r++)
    for (int c = 0; c < N; c++) f.x[r * N + c] = static_cast<T>(layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]);
}
template <int M, int N, int K, class T, class S>
void store_matrix_sync(S* p, const fragment<accumulator, M, N, K, T, void>& f, unsigned ldm, layout_t layout) {
  if (!check_wmma_operand(p, ldm, "wmma::store_matrix_sync: the pointer must be 32-byte aligned and ldm a multiple of 16 bytes")) return;
  for (int r = 0; r < M; r++)
    for (int c = 0; c < N; c++) (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = static_cast<S>(f.x[r * N + c]);
}
template <int M, int N, int K, class TA, class LA, class TB, class LB, class TC>
void mma_sync(fragment<accumulator, M, N, K, TC, void>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
              const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, TC, void>& c) {
  TC out[M * N];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float acc = static_cast<float>(c.x[i * N + j]);
      for (int k = 0; k < K; k++) acc += static_cast<float>(a.x[i * K + k]) * static_cast<float>(b.x[k * N + j]);
      out[i * N + j] = static_cast<TC>(acc);
    }
  for (int i = 0; i < M * N; i++) d.x[i] = out[i];
}

}  // namespace wmma
}  // namespace nvcuda
