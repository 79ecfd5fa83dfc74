// The backend interface: what a device must provide for storage, copies, fills and random
// numbers. Ops (issue 3 onwards) dispatch on the tensor's device to the matching backend.
#pragma once
#include <cstddef>
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual mm_device_type type() const = 0;
  virtual const char* name() const = 0;

  virtual mm_status allocate(int device, size_t bytes, void** out) = 0;
  virtual void release(int device, void* ptr, size_t bytes) = 0;

  virtual mm_status copy_from_host(int device, void* dst, const void* src, size_t bytes) = 0;
  virtual mm_status copy_to_host(int device, void* dst, const void* src, size_t bytes) = 0;
  virtual mm_status copy_on_device(int device, void* dst, const void* src, size_t bytes) = 0;
  // Between two devices of this backend (CUDA: peer copy); the CPU has only one device.
  virtual mm_status copy_between_devices(int dst_device, void* dst, int src_device, const void* src, size_t bytes) {
    return copy_on_device(dst_device, dst, src, bytes);
  }

  virtual mm_status fill(int device, void* dst, mm_dtype dtype, int64_t n, double value) = 0;
  virtual mm_status cast(int device, void* dst, mm_dtype dst_dtype, const void* src, mm_dtype src_dtype,
                         int64_t n) = 0;
  // Philox streams: element i uses block (offset + i / 4), lane i % 4 (philox.h).
  virtual mm_status fill_uniform(int device, void* dst, mm_dtype dtype, int64_t n, uint64_t seed,
                                 uint64_t offset, float low, float high) = 0;
  virtual mm_status fill_normal(int device, void* dst, mm_dtype dtype, int64_t n, uint64_t seed,
                                uint64_t offset, float mean, float std) = 0;

  virtual mm_status synchronize() = 0;
  virtual mm_status empty_cache() = 0;
  // Bytes the allocator holds from the system (>= live bytes).
  virtual int64_t reserved_bytes() const = 0;
};

Backend& cpu_backend();

// The CUDA backend when compiled in and a device is usable, else nullptr with `why` set.
Backend* cuda_backend(const char** why);
// For diagnostics: whether this binary contains CUDA code, and how many devices it sees.
bool cuda_compiled();
int cuda_device_count();

// Resolves a device to its backend, or fails with MM_ERR_DEVICE naming the reason.
mm_status backend_for(mm_device device, Backend** out);

}  // namespace mm
