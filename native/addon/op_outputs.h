// Ops that create several tensors (an output and its saved statistics, or several gradients)
// return them to JS as an array with a handle, or null for a slot the caller did not ask for.
#pragma once
#include <napi.h>

#include <array>
#include <cstddef>

#include "op_args.h"

namespace mm_addon {

// Calls create(outs), where outs[i] is where slot i goes, or null when !wanted[i].
template <size_t N, class F>
Napi::Value wrap_new_tensors(const ArgContext& args, const std::array<bool, N>& wanted, F&& create) {
  mm_tensor* made[N] = {};
  mm_tensor** outs[N];
  for (size_t i = 0; i < N; i++) outs[i] = wanted[i] ? &made[i] : nullptr;
  const mm_status status = create(outs);
  if (status != MM_OK) {
    for (mm_tensor* t : made) mm_tensor_free(t);
    throw_status(args.env(), status);
  }
  size_t next = 0;
  try {
    Napi::Array result = Napi::Array::New(args.env(), N);
    for (; next < N; next++) {
      // Wrap owns the tensor from here on (it frees it if wrapping fails).
      mm_tensor* t = made[next];
      made[next] = nullptr;
      result.Set(static_cast<uint32_t>(next), t ? Napi::Value(TensorHandle::Wrap(args.env(), t)) : args.env().Null());
    }
    return result;
  } catch (...) {
    for (; next < N; next++) mm_tensor_free(made[next]);
    throw;
  }
}

}  // namespace mm_addon
