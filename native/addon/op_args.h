// Helpers for op functions in the addon: read tensor handles, wrap results.
#pragma once
#include <napi.h>

#include "args.h"
#include "errors.h"
#include "tensor_handle.h"

namespace mm_addon {

// The tensor at argument `index`, or null when the argument is undefined/null and optional.
inline mm_tensor* optional_tensor(const ArgContext& args, size_t index, const char* arg) {
  const Napi::Value v = args.at(index);
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return TensorHandle::From(args, index, arg);
}

// Turns a core call that creates one tensor into a handle (or a thrown MmcotError).
template <class F>
Napi::Value wrap_new_tensor(const ArgContext& args, F&& create) {
  mm_tensor* out = nullptr;
  const mm_status status = create(&out);
  if (status != MM_OK) {
    mm_tensor_free(out);
    throw_status(args.env(), status);
  }
  return TensorHandle::Wrap(args.env(), out);
}

// Reads an optional boolean (default when undefined).
inline bool optional_bool(const ArgContext& args, size_t index, const char* arg, bool fallback) {
  const Napi::Value v = args.at(index);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw_type_error(args.env(), "ERR_ARG", args.prefix(arg) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace mm_addon
