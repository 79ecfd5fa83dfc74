// The host-side surface of the CUDA backend that op entry points (native/src/ops) use. Plain
// C++: no CUDA headers, so the entry files compile in every build. Only used when
// MMCOT_WITH_CUDA is defined (see ops/dispatch.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm::cuda {

// Makes `device` current for the kernels that follow (and creates its stream on first use).
mm_status select_device(int device);

// Device memory for a kernel's temporaries, from the backend's caching allocator on the
// current device; returned to the cache when the Scratch goes out of scope. Reuse is safe
// without a sync because all work runs in order on the device's one stream.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch();
  mm_status allocate(size_t bytes);
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  int device_ = -1;
};

// Kernels cannot fail the call that launched them without a sync, so data errors found on the
// device (e.g. a token id out of range) are recorded in a per-device flag and the kernel writes
// a harmless value instead. The flag is checked, and raised as an error naming the op, where the
// host waits anyway: copies to the host and synchronize().
enum DeviceError : int {
  kDeviceOk = 0,
  kIndexOutOfRange = 1,  // an index/id tensor held a value outside [0, size)
  kTargetOutOfRange = 2, // a class target outside [0, classes) that is not ignoreIndex
  kTimestepOutOfRange = 3,  // diffusion: t outside the schedule, tPrev outside [-1, t - 1], or alpha_bar outside (0, 1)
  kSampleNaN = 4,           // sampling: a logits row contains NaN
  kSamplePositiveInfinity = 5,  // sampling: a logits row contains +inf
  kSampleNoFiniteLogit = 6,     // sampling: every logit of a row is -inf
};
// Device pointer to the current device's flag (an int; kernels write it with atomicCAS(0 -> code)).
int* device_error_flag();
// Names the op that reported a device error (kept for the message); call before launching a
// kernel that may set the flag.
void note_checking_op(const char* op);

}  // namespace mm::cuda
