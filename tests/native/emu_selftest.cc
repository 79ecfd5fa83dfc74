// Self-test of the CUDA emulator (native/src/cuda/emu): the execution semantics the CUDA kernel
// tests rely on. Built with the emulator (cmake -DMMCOT_CUDA_EMULATE=ON) as emu_selftest and run
// by tests/cuda/emulator.test.ts. Prints one line per check and exits non-zero on any failure.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/src/cuda/emu/emu.h"

namespace {

int failures = 0, checks = 0;
void check(bool ok, const char* what) {
  checks++;
  if (!ok) failures++;
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

template <class T>
T* device_array(size_t n) {
  T* p = nullptr;
  if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) {
    printf("cudaMalloc failed\n");
    exit(2);
  }
  return p;
}

// Block-wide sum through shared memory and warp shuffles (the pattern of common.cuh).
__global__ void block_sum_kernel(const float* x, float* out) {
  __shared__ float partial[32];
  float v = x[blockIdx.x * blockDim.x + threadIdx.x];
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.f;
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0) out[blockIdx.x] = v;
  }
}

// Reverses a block's values through shared memory; `sync` false leaves out the barrier (a race).
__global__ void reverse_kernel(const int* x, int* out, bool sync) {
  __shared__ int tile[256];
  tile[threadIdx.x] = x[threadIdx.x];
  if (sync) __syncthreads();
  out[threadIdx.x] = tile[blockDim.x - 1 - threadIdx.x];
}

__global__ void divergent_barrier_kernel(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void shuffle_kernel(int* out) {
  const int lane = threadIdx.x % 32;
  const int base = threadIdx.x * 5;
  out[base + 0] = __shfl_xor_sync(0xffffffffu, lane, 5);
  out[base + 1] = __shfl_down_sync(0xffffffffu, lane, 3);
  out[base + 2] = __shfl_up_sync(0xffffffffu, lane, 3);
  out[base + 3] = __shfl_sync(0xffffffffu, lane * 10, 7);
  out[base + 4] = static_cast<int>(__ballot_sync(0xffffffffu, lane % 3 == 0));
}

__global__ void dynamic_smem_kernel(float* out, int n) {
  MM_EMU_DYNAMIC(float, buf);
  for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = static_cast<float>(i % 8);
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0;
    for (int i = 0; i < n; i++) s += buf[i];
    out[0] = s;
  }
}

__global__ void wmma_kernel(const __nv_bfloat16* a, const __nv_bfloat16* b, float* c) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
  wmma::fill_fragment(fc, 1.0f);
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::mma_sync(fc, fa, fb, fc);
  wmma::store_matrix_sync(c, fc, 16, wmma::mem_row_major);
}

__global__ void atomic_kernel(float* f, int* i) {
  atomicAdd(f, 1.0f);
  atomicMax(i, static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x));
}

__global__ void smem_overrun_kernel(int n) {
  MM_EMU_DYNAMIC(float, buf);
  for (int i = threadIdx.x; i <= n; i += blockDim.x) buf[i] = 0.f;  // i == n is one past the end
}

__global__ void misaligned_vector_kernel(const float* x, float* out) {
  const float4 v = reinterpret_cast<const float4*>(x + 1)[0];  // 4-byte aligned, not 16
  out[threadIdx.x] = v.x;
}

__global__ void write_one_past_kernel(float* x, int n) {
  if (threadIdx.x == 0) x[n] = 1.f;  // out of bounds
}

}  // namespace

int main(int argc, char** argv) {
  using mm::emu::launch;
  if (argc > 1 && strcmp(argv[1], "misaligned") == 0) {
    // Must die in UBSan's alignment check (the emulator build compiles kernels with it).
    float* x = device_array<float>(64);
    float* out = device_array<float>(32);
    launch(misaligned_vector_kernel, dim3(1), dim3(32), 0, static_cast<const float*>(x), out);
    printf("misaligned vector load was not caught\n");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "oob") == 0) {
    // Must die with the emulator's out-of-bounds report (tests/cuda/emulator.test.ts).
    const int n = argc > 2 ? atoi(argv[2]) : 256;  // with MMCOT_EMU_TIGHT=1 any n is caught
    float* x = device_array<float>(static_cast<size_t>(n));
    mm::emu::set_launch_name("write_one_past_kernel");
    launch(write_one_past_kernel, dim3(1), dim3(32), 0, x, n);
    printf("out-of-bounds write was not caught\n");
    return 0;
  }
  {  // block sums over several blocks
    const int blocks = 5, threads = 256;
    std::vector<float> h(blocks * threads);
    for (size_t i = 0; i < h.size(); i++) h[i] = static_cast<float>(i % 97) - 40.f;
    float* x = device_array<float>(h.size());
    float* out = device_array<float>(blocks);
    cudaMemcpy(x, h.data(), h.size() * 4, cudaMemcpyHostToDevice);
    const cudaError_t err = launch(block_sum_kernel, dim3(blocks), dim3(threads), 0, static_cast<const float*>(x), out);
    bool ok = err == cudaSuccess;
    for (int b = 0; b < blocks && ok; b++) {
      double want = 0;
      for (int t = 0; t < threads; t++) want += h[b * threads + t];
      ok = out[b] == static_cast<float>(want);
    }
    check(ok, "block sum with shared memory, __syncthreads and warp shuffles");
  }
  {  // barriers order shared-memory traffic; without one, the shuffled schedule exposes the race
    int* x = device_array<int>(256);
    int* out = device_array<int>(256);
    bool synced_ok = true, race_seen = false;
    for (int rep = 0; rep < 20; rep++) {
      for (int i = 0; i < 256; i++) x[i] = i + 1000 * rep;
      launch(reverse_kernel, dim3(1), dim3(256), 0, static_cast<const int*>(x), out, true);
      for (int i = 0; i < 256; i++) synced_ok &= out[i] == x[255 - i];
      for (int i = 0; i < 256; i++) x[i] = -i - 1000 * rep;
      launch(reverse_kernel, dim3(1), dim3(256), 0, static_cast<const int*>(x), out, false);
      for (int i = 0; i < 256; i++) race_seen |= out[i] != x[255 - i];
    }
    check(synced_ok, "__syncthreads orders writes before reads across the block");
    check(race_seen, "a missing __syncthreads gives wrong results under the shuffled schedule");
  }
  {  // a barrier that only part of the block reaches fails the launch with an explanation
    int* out = device_array<int>(64);
    const cudaError_t err = launch(divergent_barrier_kernel, dim3(1), dim3(64), 0, out);
    check(err == cudaErrorLaunchFailure && strstr(cudaGetErrorString(err), "divergent barrier"), "divergent __syncthreads is reported");
    cudaGetLastError();
    check(launch(divergent_barrier_kernel, dim3(1), dim3(2048), 0, out) == cudaErrorInvalidConfiguration, "more than 1024 threads is refused");
    cudaGetLastError();
  }
  {  // shuffle semantics lane by lane
    int* out = device_array<int>(64 * 5);
    launch(shuffle_kernel, dim3(1), dim3(64), 0, out);
    bool ok = true;
    for (int t = 0; t < 64; t++) {
      const int lane = t % 32;
      ok &= out[t * 5 + 0] == (lane ^ 5);
      ok &= out[t * 5 + 1] == (lane + 3 < 32 ? lane + 3 : lane);
      ok &= out[t * 5 + 2] == (lane >= 3 ? lane - 3 : lane);
      ok &= out[t * 5 + 3] == 70;
      ok &= static_cast<unsigned>(out[t * 5 + 4]) == 0x49249249u;
    }
    check(ok, "__shfl_xor/down/up/sync and __ballot_sync match CUDA's lane semantics");
  }
  {  // dynamic shared memory: 48 KiB by default, more after cudaFuncSetAttribute
    float* out = device_array<float>(1);
    const int n = 16384;  // 64 KiB
    check(launch(dynamic_smem_kernel, dim3(1), dim3(128), n * 4, out, n) == cudaErrorInvalidValue, "over 48 KiB of dynamic shared memory needs the opt-in");
    cudaGetLastError();
    cudaFuncSetAttribute(dynamic_smem_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, n * 4);
    const cudaError_t err = launch(dynamic_smem_kernel, dim3(1), dim3(128), n * 4, out, n);
    check(err == cudaSuccess && out[0] == static_cast<float>(n / 8 * 28), "dynamic shared memory after the opt-in");
  }
  {  // a write past the dynamic shared memory fails the launch
    const cudaError_t err = launch(smem_overrun_kernel, dim3(2), dim3(64), 100 * 4, 100);
    check(err == cudaErrorLaunchFailure && strstr(cudaGetErrorString(err), "past the end of its 400 bytes of dynamic shared memory"),
          "a write past the end of dynamic shared memory is reported");
    cudaGetLastError();
  }
  {  // wmma: C = A B + 1 with bf16 inputs and float accumulation
    std::vector<__nv_bfloat16> ha(256), hb(256);
    for (int i = 0; i < 256; i++) {
      ha[i] = __float2bfloat16(static_cast<float>(i % 7) - 3.f);
      hb[i] = __float2bfloat16(static_cast<float>(i % 5) * 0.5f);
    }
    __nv_bfloat16* a = device_array<__nv_bfloat16>(256);
    __nv_bfloat16* b = device_array<__nv_bfloat16>(256);
    float* c = device_array<float>(256);
    cudaMemcpy(a, ha.data(), 512, cudaMemcpyHostToDevice);
    cudaMemcpy(b, hb.data(), 512, cudaMemcpyHostToDevice);
    launch(wmma_kernel, dim3(1), dim3(32), 0, static_cast<const __nv_bfloat16*>(a), static_cast<const __nv_bfloat16*>(b), c);
    bool ok = true;
    for (int i = 0; i < 16; i++)
      for (int j = 0; j < 16; j++) {
        float want = 1;
        for (int k = 0; k < 16; k++) want += static_cast<float>(ha[i * 16 + k]) * static_cast<float>(hb[j * 16 + k]);  // B col-major
        ok &= c[i * 16 + j] == want;
      }
    check(ok, "wmma bf16 m16n16k16 (row-major A, col-major B) with a float accumulator");
    // A GPU requires 32-byte aligned wmma pointers: one element off fails the launch.
    const cudaError_t err = launch(wmma_kernel, dim3(1), dim3(32), 0, static_cast<const __nv_bfloat16*>(a + 1), static_cast<const __nv_bfloat16*>(b), c);
    check(err == cudaErrorLaunchFailure && strstr(cudaGetErrorString(err), "32-byte aligned"), "a misaligned wmma pointer fails the launch");
    cudaGetLastError();
  }
  {  // atomics across blocks
    float* f = device_array<float>(1);
    int* i = device_array<int>(1);
    *f = 0;
    *i = -1;
    launch(atomic_kernel, dim3(7), dim3(96), 0, f, i);
    check(*f == 7 * 96 && *i == 7 * 96 - 1, "atomicAdd(float) and atomicMax(int) across blocks");
  }
  {  // device memory limit
    void* p = nullptr;
    check(cudaMalloc(&p, size_t{1} << 50) == cudaErrorMemoryAllocation && cudaGetLastError() == cudaErrorMemoryAllocation,
          "allocations past the emulated memory size fail with cudaErrorMemoryAllocation");
  }
  printf("%d of %d emulator checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
