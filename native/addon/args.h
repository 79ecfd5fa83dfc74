// Argument parsing for addon functions: each helper names the function and argument in its
// error so a user sees e.g. "tensorFromArray: argument 'shape' must be an array of integers".
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mmcot/mmcot.h"

namespace mm_addon {

struct ArgContext {
  const Napi::CallbackInfo& info;
  const char* function;  // name shown in errors

  Napi::Env env() const { return info.Env(); }
  Napi::Value at(size_t index) const { return info[index]; }
  std::string prefix(const char* arg) const;

  void expect_count(size_t min_count) const;
  std::vector<int64_t> shape(size_t index, const char* arg) const;
  mm_dtype dtype(size_t index, const char* arg) const;
  mm_device device(size_t index, const char* arg) const;
  double number(size_t index, const char* arg) const;
  // Finite double in [lo, hi].
  double finite(size_t index, const char* arg, double lo, double hi) const;
  int64_t integer(size_t index, const char* arg, int64_t lo, int64_t hi) const;
  uint64_t u64(size_t index, const char* arg) const;  // number (safe integer) or bigint
};

std::string shape_string(const int64_t* shape, size_t ndim);
std::string device_string(mm_device device);

}  // namespace mm_addon
