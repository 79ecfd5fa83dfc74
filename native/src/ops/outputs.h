// Ops that create several tensors (an output plus saved statistics, or several gradients)
// allocate them one by one; Outputs frees the ones already made when a later step fails, and
// hands them to the caller only on success.
#pragma once
#include "check.h"

namespace mm {

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

inline const float* f32_data(const mm_tensor* t) { return t ? static_cast<const float*>(mm_tensor_data_const(t)) : nullptr; }

}  // namespace mm
