// Small helpers for op entry points: typed data pointers and an owner that frees a half-built
// output when a later step fails.
#pragma once
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm {

inline const float* f32(const mm_tensor* t) { return static_cast<const float*>(mm_tensor_data_const(t)); }
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

}  // namespace mm
