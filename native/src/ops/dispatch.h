// Device dispatch for op entry points: MM_DISPATCH(t, kernel(args...)) runs
// mm::cpu::kernel(args...) for CPU tensors, or, when the CUDA backend is compiled in and t is on
// a GPU, selects t's device and runs mm::cuda::kernel(args...) (same arguments, returns a
// status). Entry points return MM_OK themselves after it.
#pragma once
#include "check.h"

#if defined(MMCOT_WITH_CUDA)
#include "../cuda/device.h"
#define MM_DISPATCH(t, ...)                                                   \
  do {                                                                        \
    if (::mm::on_cuda(t)) {                                                   \
      MM_TRY(::mm::cuda::select_device(mm_tensor_device(t).index));           \
      MM_TRY(::mm::cuda::__VA_ARGS__);                                        \
    } else {                                                                  \
      ::mm::cpu::__VA_ARGS__;                                                 \
    }                                                                         \
  } while (0)
// For code that only exists on one side (e.g. a CPU kernel returning a value): true when t is a
// CUDA tensor (after selecting its device).
#define MM_WITH_CUDA 1
#else
#define MM_DISPATCH(t, ...) ::mm::cpu::__VA_ARGS__
#define MM_WITH_CUDA 0
#endif
