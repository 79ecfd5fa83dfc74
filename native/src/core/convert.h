// Element conversions shared by the CPU and CUDA backends (host and device): bfloat16 <-> float
// (round to nearest even, NaN kept quiet) and float -> int32 (truncate, saturate, NaN -> 0).
#pragma once
#include <stdint.h>
#include <string.h>
#include "philox.h"  // MM_HOST_DEVICE

namespace mm {

MM_HOST_DEVICE uint16_t f32_to_bf16_bits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // NaN
  const uint32_t rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding_bias) >> 16);
}

MM_HOST_DEVICE float bf16_bits_to_f32(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

// Truncates toward zero, saturating at the int32 range; NaN becomes 0 (never undefined behaviour).
MM_HOST_DEVICE int32_t f32_to_i32_saturating(float v) {
  if (v != v) return 0;
  if (v >= 2147483648.0f) return 2147483647;
  if (v <= -2147483648.0f) return static_cast<int32_t>(-2147483647 - 1);
  return static_cast<int32_t>(v);
}

}  // namespace mm
