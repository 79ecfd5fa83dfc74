// The CUDA backend: a caching allocator over cudaMalloc, one non-blocking stream per device,
// async copies, and grid-stride kernels for fills, casts and Philox random fills. The host only
// waits where a value is read (copy_to_host) or on an explicit synchronize().
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "../core/backend.h"
#include "../core/convert.h"
#include "../core/philox.h"
#include "../core/status.h"
#include "common.cuh"

namespace mm {
namespace {

constexpr int kMaxDevices = 16;
// The device the calling thread's kernels go to (set by CudaBackend::use / cuda::select_device).
thread_local int t_current_device = 0;
// The device this thread last made current in the runtime: every op selects its device, and the
// cudaSetDevice call is skipped when it would change nothing.
thread_local int t_runtime_device = -1;

cudaError_t set_runtime_device(int device) {
  if (device == t_runtime_device) return cudaSuccess;
  const cudaError_t err = cudaSetDevice(device);
  t_runtime_device = err == cudaSuccess ? device : -1;
  return err;
}
constexpr int kThreads = 256;

mm_status cuda_fail(cudaError_t err, const char* what) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  return fail(MM_ERR_CUDA, "%s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}

#define MM_CUDA_TRY(call, what)                     \
  do {                                              \
    cudaError_t mm_cuda_err_ = (call);              \
    if (mm_cuda_err_ != cudaSuccess) return cuda_fail(mm_cuda_err_, what); \
  } while (0)

__device__ __forceinline__ void store_float(void* dst, mm_dtype dtype, int64_t i, float v) {
  if (dtype == MM_BF16) {
    static_cast<uint16_t*>(dst)[i] = f32_to_bf16_bits(v);
  } else {
    static_cast<float*>(dst)[i] = v;
  }
}

__global__ void fill_kernel(void* dst, mm_dtype dtype, int64_t n, float value, int32_t ivalue) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    if (dtype == MM_I32) {
      static_cast<int32_t*>(dst)[i] = ivalue;
    } else {
      store_float(dst, dtype, i, value);
    }
  }
}

__global__ void cast_kernel(void* dst, mm_dtype dst_dtype, const void* src, mm_dtype src_dtype, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    if (src_dtype == MM_I32 && dst_dtype == MM_I32) {
      static_cast<int32_t*>(dst)[i] = static_cast<const int32_t*>(src)[i];
      continue;
    }
    float v = src_dtype == MM_F32    ? static_cast<const float*>(src)[i]
              : src_dtype == MM_BF16 ? bf16_bits_to_f32(static_cast<const uint16_t*>(src)[i])
                                     : static_cast<float>(static_cast<const int32_t*>(src)[i]);
    if (dst_dtype == MM_I32) {
      static_cast<int32_t*>(dst)[i] = f32_to_i32_saturating(v);
    } else {
      store_float(dst, dst_dtype, i, v);
    }
  }
}

// One thread per Philox block (4 values), matching the CPU backend's element -> lane mapping.
__global__ void uniform_kernel(void* dst, mm_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, float low, float span) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; b < blocks; b += int64_t{gridDim.x} * blockDim.x) {
    const Philox4 r = philox_block(seed, offset + static_cast<uint64_t>(b));
    for (int lane = 0; lane < 4 && b * 4 + lane < n; lane++) store_float(dst, dtype, b * 4 + lane, low + span * u32_to_unit(r.v[lane]));
  }
}

__global__ void normal_kernel(void* dst, mm_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; b < blocks; b += int64_t{gridDim.x} * blockDim.x) {
    const Philox4 r = philox_block(seed, offset + static_cast<uint64_t>(b));
    for (int lane = 0; lane < 4 && b * 4 + lane < n; lane++) store_float(dst, dtype, b * 4 + lane, mean + std * philox_normal_lane(r, lane));
  }
}

// Sizes are rounded so freed blocks are reusable by similar requests: 512 B steps below 1 MiB,
// 2 MiB steps above.
#if defined(MMCOT_CUDA_EMULATED)
// MMCOT_EMU_TIGHT=1 (emulator only): every block is exactly the bytes asked for and is reused
// only for the same size, so the emulator's guard page sits right after each tensor's last
// byte and a kernel reading one element too far is caught.
bool tight_blocks() {
  static const bool tight = [] {
    const char* v = std::getenv("MMCOT_EMU_TIGHT");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return tight;
}
#else
constexpr bool tight_blocks() { return false; }
#endif

size_t round_block(size_t bytes) {
  if (tight_blocks()) return bytes ? bytes : 1;
  const size_t small = 512, large = size_t{2} << 20;
  if (bytes == 0) return small;
  return bytes < (size_t{1} << 20) ? (bytes + small - 1) / small * small : (bytes + large - 1) / large * large;
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int devices) : devices_(devices < kMaxDevices ? devices : kMaxDevices) {}

  mm_device_type type() const override { return MM_CUDA; }
  const char* name() const override { return "cuda"; }

  mm_status allocate(int device, size_t bytes, void** out) override {
    MM_TRY(use(device));
    const size_t size = round_block(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto& cache = free_[device];
    // Reuse a cached block of at least `size` but not wastefully larger.
    auto it = cache.lower_bound(size);
    if (it != cache.end() && it->first <= size * 2 && (!tight_blocks() || it->first == size)) {
      *out = it->second;
      cached_[device] -= it->first;
      in_use_[device] += it->first;
      cache.erase(it);
      return MM_OK;
    }
    void* ptr = nullptr;
    cudaError_t err = cudaMalloc(&ptr, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached_locked(device);
      err = cudaMalloc(&ptr, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return fail(MM_ERR_OOM, "CUDA out of memory on cuda:%d allocating %zu bytes (%lld bytes in use by mmcot)", device,
                  bytes, static_cast<long long>(in_use_[device]));
    }
    if (err != cudaSuccess) return cuda_fail(err, "cudaMalloc");
    in_use_[device] += size;
    *out = ptr;
    return MM_OK;
  }

  void release(int device, void* ptr, size_t bytes) override {
    const size_t size = round_block(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    // One stream per device: later work on this stream is ordered after earlier users of the
    // block, so it can be reused at once without a sync.
    free_[device].emplace(size, ptr);
    in_use_[device] -= size;
    cached_[device] += size;
  }

  mm_status copy_from_host(int device, void* dst, const void* src, size_t bytes) override {
    MM_TRY(use(device));
    if (!bytes) return MM_OK;
    // Pageable source: the call returns once the data is staged, so the caller may reuse it.
    MM_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, streams_[device]), "copy to device");
    return MM_OK;
  }

  mm_status copy_to_host(int device, void* dst, const void* src, size_t bytes) override {
    MM_TRY(use(device));
    if (!bytes) return MM_OK;
    copies_to_host_++;
    MM_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, streams_[device]), "copy to host");
    MM_CUDA_TRY(cudaStreamSynchronize(streams_[device]), "copy to host (synchronize)");
    return check_device_errors(device);
  }

  mm_status copy_on_device(int device, void* dst, const void* src, size_t bytes) override {
    MM_TRY(use(device));
    if (!bytes) return MM_OK;
    MM_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, streams_[device]), "device copy");
    return MM_OK;
  }

  mm_status copy_between_devices(int dst_device, void* dst, int src_device, const void* src, size_t bytes) override {
    if (!bytes) return MM_OK;
    // Rare (moving a model between GPUs): wait for the source's stream, then copy on the
    // destination's stream, which orders it before the destination's later kernels.
    MM_TRY(use(src_device));
    MM_CUDA_TRY(cudaStreamSynchronize(streams_[src_device]), "peer copy (synchronize source)");
    MM_TRY(use(dst_device));
    MM_CUDA_TRY(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, streams_[dst_device]), "peer copy");
    return MM_OK;
  }

  mm_status fill(int device, void* dst, mm_dtype dtype, int64_t n, double value) override {
    MM_TRY(use(device));
    if (dtype == MM_I32 && !(value >= INT32_MIN && value <= INT32_MAX)) return fail(MM_ERR_ARG, "fill: %g does not fit in i32", value);
    if (n == 0) return MM_OK;
    return cuda::launch("fill", fill_kernel, cuda::blocks_for(n), kThreads, 0, dst, dtype, n, static_cast<float>(value),
                                                                    dtype == MM_I32 ? static_cast<int32_t>(value) : 0);
  }

  mm_status cast(int device, void* dst, mm_dtype dst_dtype, const void* src, mm_dtype src_dtype, int64_t n) override {
    MM_TRY(use(device));
    if (n == 0) return MM_OK;
    return cuda::launch("cast", cast_kernel, cuda::blocks_for(n), kThreads, 0, dst, dst_dtype, src, src_dtype, n);
  }

  mm_status fill_uniform(int device, void* dst, mm_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, float low,
                         float high) override {
    MM_TRY(use(device));
    if (n == 0) return MM_OK;
    return cuda::launch("rand", uniform_kernel, cuda::blocks_for((n + 3) / 4), kThreads, 0, dst, dtype, n, seed, offset, low, high - low);
  }

  mm_status fill_normal(int device, void* dst, mm_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, float mean,
                        float std) override {
    MM_TRY(use(device));
    if (n == 0) return MM_OK;
    return cuda::launch("randn", normal_kernel, cuda::blocks_for((n + 3) / 4), kThreads, 0, dst, dtype, n, seed, offset, mean, std);
  }

  mm_status synchronize() override {
    for (int d = 0; d < devices_; d++) {
      if (!streams_[d]) continue;
      MM_CUDA_TRY(set_runtime_device(d), "cudaSetDevice");
      MM_CUDA_TRY(cudaStreamSynchronize(streams_[d]), "synchronize");
      MM_TRY(check_device_errors(d));
    }
    return MM_OK;
  }

  mm_status empty_cache() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int d = 0; d < devices_; d++) release_cached_locked(d);
    return MM_OK;
  }

  int64_t reserved_bytes() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t total = 0;
    for (int d = 0; d < devices_; d++) total += in_use_[d] + cached_[d];
    return total;
  }

 public:
  cudaStream_t stream(int device) const { return streams_[device]; }
  int64_t copies_to_host() const { return copies_to_host_.load(); }

  // The error flag (device.h) of the op last named by note_checking_op: each checking op has its
  // own slot in a small per-device array (allocated and zeroed on first use), so an error is
  // reported under the op whose kernel found it even when several were queued before the wait.
  mm_status error_flag(int device, int** out) {
    if (!error_flags_[device]) {
      void* p = nullptr;
      MM_CUDA_TRY(cudaMalloc(&p, kErrorSlots * sizeof(int)), "cudaMalloc (error flags)");
      MM_CUDA_TRY(cudaMemsetAsync(p, 0, kErrorSlots * sizeof(int), streams_[device]), "cudaMemset (error flags)");
      error_flags_[device] = static_cast<int*>(p);
    }
    *out = error_flags_[device] + checking_slot_[device];
    return MM_OK;
  }
  void note_checking_op(int device, const char* op) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& names = slot_names_[device];
    int slot = 0;
    while (slot < static_cast<int>(names.size()) && std::strcmp(names[slot], op) != 0) slot++;
    if (slot == static_cast<int>(names.size())) {
      if (slot == kErrorSlots) slot = kErrorSlots - 1;  // more checking ops than slots: the last is shared
      else names.push_back(op);
    }
    checking_slot_[device] = slot;
  }

  // Makes `device` current and creates its stream on first use.
 public:
  mm_status use(int device) {
    if (device < 0 || device >= devices_) return fail(MM_ERR_DEVICE, "device cuda:%d does not exist", device);
    MM_CUDA_TRY(set_runtime_device(device), "cudaSetDevice");
    t_current_device = device;
    if (!streams_[device]) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!streams_[device]) MM_CUDA_TRY(cudaStreamCreateWithFlags(&streams_[device], cudaStreamNonBlocking), "cudaStreamCreate");
    }
    return MM_OK;
  }

  // Called after the stream was synchronised: raises (and clears) the errors kernels recorded,
  // the first one by slot in the message (with how many other ops reported one).
  mm_status check_device_errors(int device) {
    if (!error_flags_[device]) return MM_OK;
    int codes[kErrorSlots] = {};
    MM_CUDA_TRY(cudaMemcpy(codes, error_flags_[device], sizeof codes, cudaMemcpyDeviceToHost), "read device error flags");
    int first = -1, others = 0;
    for (int i = 0; i < kErrorSlots; i++) {
      if (codes[i] == cuda::kDeviceOk) continue;
      if (first < 0) first = i;
      else others++;
    }
    if (first < 0) return MM_OK;
    MM_CUDA_TRY(cudaMemset(error_flags_[device], 0, sizeof codes), "clear device error flags");
    const int code = codes[first];
    char op_buf[160];
    const char* name = first < static_cast<int>(slot_names_[device].size()) ? slot_names_[device][first] : "a kernel";
    if (others) snprintf(op_buf, sizeof op_buf, "%s (and %d other op%s)", name, others, others == 1 ? "" : "s");
    else snprintf(op_buf, sizeof op_buf, "%s", name);
    const char* op = op_buf;
    if (code == cuda::kIndexOutOfRange)
      return fail(MM_ERR_ARG, "%s (on cuda:%d): an index was out of range; the kernel's output for it is zero (reported when the host next waited on the device)", op, device);
    if (code == cuda::kTargetOutOfRange)
      return fail(MM_ERR_ARG, "%s (on cuda:%d): a target class was out of range and not ignoreIndex (reported when the host next waited on the device)", op, device);
    if (code == cuda::kTimestepOutOfRange)
      return fail(MM_ERR_ARG, "%s (on cuda:%d): a timestep was outside the schedule [0, T) (or tPrev outside [-1, t - 1], or alpha_bar outside (0, 1)); its row of the output is zero (reported when the host next waited on the device)", op, device);
    if (code == cuda::kSampleNaN)
      return fail(MM_ERR_ARG, "%s (on cuda:%d): a logits row contains NaN; its token is 0 (reported when the host next waited on the device)", op, device);
    if (code == cuda::kSamplePositiveInfinity)
      return fail(MM_ERR_ARG, "%s (on cuda:%d): a logits row contains +inf (softmax is undefined); its token is 0 (reported when the host next waited on the device)", op, device);
    if (code == cuda::kSampleNoFiniteLogit)
      return fail(MM_ERR_ARG, "%s (on cuda:%d): a logits row has no finite logit (every token is masked with -inf); its token is 0 (reported when the host next waited on the device)", op, device);
    return fail(MM_ERR_INTERNAL, "%s (on cuda:%d): unknown device error code %d", op, device, code);
  }

 private:
  void release_cached_locked(int device) {
    if (set_runtime_device(device) != cudaSuccess) return;
    if (streams_[device]) cudaStreamSynchronize(streams_[device]);
    for (auto& [size, ptr] : free_[device]) cudaFree(ptr);
    free_[device].clear();
    cached_[device] = 0;
  }

  const int devices_;
  cudaStream_t streams_[kMaxDevices] = {};
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_[kMaxDevices];
  int64_t in_use_[kMaxDevices] = {};
  int64_t cached_[kMaxDevices] = {};
  std::atomic<int64_t> copies_to_host_{0};  // device -> host copies so far (each one a host wait)
  static constexpr int kErrorSlots = 64;
  int* error_flags_[kMaxDevices] = {};
  std::vector<const char*> slot_names_[kMaxDevices];
  int checking_slot_[kMaxDevices] = {};
};

struct CudaProbe {
  int devices = 0;
  char why[400] = "";
  CudaBackend* backend = nullptr;
};

const CudaProbe& probe() {
  static CudaProbe result = [] {
    CudaProbe p;
    if (const char* off = std::getenv("MMCOT_DISABLE_CUDA"); off && *off && std::strcmp(off, "0") != 0) {
      snprintf(p.why, sizeof p.why, "CUDA backend disabled by MMCOT_DISABLE_CUDA=%s", off);
      return p;
    }
    const cudaError_t err = cudaGetDeviceCount(&p.devices);
    if (err != cudaSuccess) {
      cudaGetLastError();
      p.devices = 0;
      snprintf(p.why, sizeof p.why, "no usable NVIDIA driver/GPU: cudaGetDeviceCount failed with %s (%s)", cudaGetErrorName(err), cudaGetErrorString(err));
      return p;
    }
    if (p.devices == 0) {
      snprintf(p.why, sizeof p.why, "cudaGetDeviceCount() found no CUDA device");
      return p;
    }
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    snprintf(p.why, sizeof p.why, "%d CUDA device%s; cuda:0 is %s (sm_%d%d)", p.devices, p.devices == 1 ? "" : "s", prop.name, prop.major, prop.minor);
    p.backend = new CudaBackend(p.devices);  // lives for the process: freed blocks may still be cached
    return p;
  }();
  return result;
}

CudaBackend& backend_or_throw() {
  CudaBackend* b = probe().backend;
  if (!b) throw std::runtime_error("CUDA kernel launched without a usable CUDA backend");
  return *b;
}

}  // namespace

namespace cuda {

mm_status select_device(int device) {
  CudaBackend* b = probe().backend;
  if (!b) return fail(MM_ERR_DEVICE, "CUDA is not available: %s", probe().why);
  return b->use(device);
}
int current_device() { return t_current_device; }
cudaStream_t stream() { return backend_or_throw().stream(t_current_device); }

size_t max_shared_memory() {
  static size_t bytes[kMaxDevices] = {};
  const int d = t_current_device;
  if (!bytes[d]) {
    int v = 0;
    if (cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, d) != cudaSuccess) {
      cudaGetLastError();
      v = 48 * 1024;
    }
    bytes[d] = static_cast<size_t>(v);
  }
  return bytes[d];
}

mm_status cuda_status(cudaError_t err, const char* what) { return err == cudaSuccess ? MM_OK : cuda_fail(err, what); }

Scratch::~Scratch() {
  if (CudaBackend* b = probe().backend; b && ptr_) b->release(device_, ptr_, bytes_);
}
mm_status Scratch::allocate(size_t bytes) {
  if (ptr_) backend_or_throw().release(device_, ptr_, bytes_);
  ptr_ = nullptr;
  device_ = t_current_device;
  bytes_ = bytes;
  return backend_or_throw().allocate(device_, bytes ? bytes : 1, &ptr_);
}

int* device_error_flag() {
  int* flag = nullptr;
  if (backend_or_throw().error_flag(t_current_device, &flag) != MM_OK) throw std::runtime_error("could not allocate the device error flag");
  return flag;
}
void note_checking_op(const char* op) { backend_or_throw().note_checking_op(t_current_device, op); }

}  // namespace cuda

Backend* cuda_backend(const char** why) {
  const CudaProbe& p = probe();
  if (why) *why = p.why;
  return p.backend;
}
bool cuda_compiled() { return true; }
int64_t cuda_copies_to_host() { return probe().backend ? probe().backend->copies_to_host() : 0; }
int cuda_device_count() { return probe().devices; }

}  // namespace mm
