// What every CUDA kernel file includes: the runtime (or the emulator), the backend's stream and
// scratch memory, a checked launch that also works in the emulator, and warp/block reductions.
//
// Kernel code must stay inside the subset the emulator implements (emu/emu.h lists it):
// launches only through mm::cuda::launch, __syncthreads, full-warp __shfl_*_sync/__syncwarp,
// static __shared__ arrays and MM_DYNAMIC_SHARED, atomicAdd/atomicCAS/atomicMax/atomicExch,
// nvcuda::wmma (bf16 m16n16k16, float accumulators), __nv_bfloat16 conversions and the usual
// float math. No inline PTX, no cooperative groups, no cp.async.
#pragma once
#include <cstdint>

#include "../core/status.h"
#include "device.h"
#include "runtime.cuh"

namespace mm::cuda {

constexpr int kWarp = 32;

// The current device's stream (select_device first; op entry points do it via MM_DISPATCH).
cudaStream_t stream();
int current_device();
// Shared memory per block this device allows with an opt-in (bytes).
size_t max_shared_memory();

// Turns a failed runtime call or launch into MM_ERR_CUDA naming `what`.
mm_status cuda_status(cudaError_t err, const char* what);
#define MM_CUDA_CHECK(call, what) MM_TRY(::mm::cuda::cuda_status((call), (what)))

// Grid size for a grid-stride loop over n items with `threads` per block.
inline unsigned blocks_for(int64_t n, int threads = 256) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > 65535 * 16 ? 65535 * 16 : blocks);
}

// Dynamic shared memory is 128-byte aligned (wmma tiles need 32; the emulator gives the same).
#if defined(MMCOT_CUDA_EMULATED)
#define MM_DYNAMIC_SHARED(type, name) MM_EMU_DYNAMIC(type, name)
#else
#define MM_DYNAMIC_SHARED(type, name)                              \
  extern __shared__ __align__(128) unsigned char mm_dynamic_smem_[]; \
  type* name = reinterpret_cast<type*>(mm_dynamic_smem_)
#endif

// Launches kernel<<<grid, block, smem, stream()>>>(args...) and checks the launch. Empty grids
// are a no-op. Kernels needing more than 48 KiB of dynamic shared memory call allow_shared first.
template <class... Params, class... Args>
mm_status launch(const char* what, void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return MM_OK;
#if defined(MMCOT_CUDA_EMULATED)
  ::mm::emu::set_launch_name(what);
  const cudaError_t err = ::mm::emu::launch(kernel, grid, block, smem, static_cast<Params>(args)...);
  ::mm::emu::set_launch_name(nullptr);
  return cuda_status(err, what);
#else
  kernel<<<grid, block, smem, stream()>>>(static_cast<Params>(args)...);
  return cuda_status(cudaGetLastError(), what);
#endif
}

template <class... Params>
mm_status allow_shared(void (*kernel)(Params...), size_t smem) {
  if (smem <= 48 * 1024) return MM_OK;
  if (smem > max_shared_memory())
    return fail(MM_ERR_UNSUPPORTED, "kernel needs %zu bytes of shared memory; this device allows %zu", smem, max_shared_memory());
  return cuda_status(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
                     "cudaFuncSetAttribute");
}

// ---- device helpers ----

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
// `scratch` is 32 floats of shared memory; the call synchronises the block.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.f;
  return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

// Records a data error for the host to raise at its next wait (device.h).
__device__ __forceinline__ void report_device_error(int* flag, int code) { atomicCAS(flag, 0, code); }

// Grid-stride loop index helpers.
__device__ __forceinline__ int64_t global_thread() { return blockIdx.x * int64_t{blockDim.x} + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t{gridDim.x} * blockDim.x; }

}  // namespace mm::cuda
