// JS errors from the addon: TypeError/RangeError for malformed arguments, MmcotError for
// failures the core reports. Every error carries a `code` (ERR_SHAPE, ERR_DTYPE, ...).
#pragma once
#include <napi.h>

#include <string>

#include "mmcot/mmcot.h"

namespace mm_addon {

// Registers the JS MmcotError class (called once from lib/native.ts).
void set_error_class(Napi::Function ctor);

[[noreturn]] void throw_type_error(Napi::Env env, const char* code, const std::string& message);
[[noreturn]] void throw_range_error(Napi::Env env, const char* code, const std::string& message);
// Throws an MmcotError for a failed core call, with the core's last-error message.
[[noreturn]] void throw_status(Napi::Env env, mm_status status);
[[noreturn]] void throw_mmcot_error(Napi::Env env, const char* code, const std::string& message);

inline void check(Napi::Env env, mm_status status) {
  if (status != MM_OK) throw_status(env, status);
}

}  // namespace mm_addon
