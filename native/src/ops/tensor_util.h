// Small helpers for op entry points: typed data pointers (null-safe), and owners that free
// half-built outputs when a later step fails (OwnedTensor for one, Outputs<N> for several that
// the caller may or may not have asked for).
#pragma once
#include <cstdint>

#include "check.h"
#include "mmcot/mmcot.h"

namespace mm {

inline const float* f32(const mm_tensor* t) { return t ? static_cast<const float*>(mm_tensor_data_const(t)) : nullptr; }
inline float* f32_mut(mm_tensor* t) { return static_cast<float*>(mm_tensor_data(t)); }
inline const int32_t* i32(const mm_tensor* t) { return static_cast<const int32_t*>(mm_tensor_data_const(t)); }

// Owns a tensor until release(): outputs made before a failing step are freed.
struct OwnedTensor {
  mm_tensor* t = nullptr;
  OwnedTensor() = default;
  OwnedTensor(const OwnedTensor&) = delete;
  OwnedTensor& operator=(const OwnedTensor&) = delete;
  ~OwnedTensor() { mm_tensor_free(t); }
  mm_tensor* release() {
    mm_tensor* out = t;
    t = nullptr;
    return out;
  }
};

template <int N>
class Outputs {
 public:
  Outputs() = default;
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;
  ~Outputs() {
    for (mm_tensor* t : tensors_) mm_tensor_free(t);
  }

  // Allocates slot i like `like` (its device) when `wanted` (the caller's out pointer) is non-null.
  mm_status make(int i, const mm_tensor* like, int ndim, const int64_t* shape, mm_tensor** wanted) {
    if (!wanted) return MM_OK;
    return new_on_device_of(like, MM_F32, ndim, shape, &tensors_[i]);
  }
  // The data of slot i, or null when it was not requested.
  float* data(int i) { return tensors_[i] ? static_cast<float*>(mm_tensor_data(tensors_[i])) : nullptr; }
  // Moves slot i to *wanted (when requested).
  void give(int i, mm_tensor** wanted) {
    if (wanted) *wanted = tensors_[i];
    tensors_[i] = nullptr;
  }

 private:
  mm_tensor* tensors_[N] = {};
};

}  // namespace mm
