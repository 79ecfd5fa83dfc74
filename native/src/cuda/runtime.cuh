// The CUDA toolkit headers every kernel file needs, or the CPU emulator's stand-ins for them
// (emu/emu.h) when the kernels are built as plain C++ for testing without a GPU
// (MMCOT_CUDA_EMULATED; cmake -DMMCOT_CUDA_EMULATE=ON, `npm run test:cuda:emu`).
#pragma once
#if defined(MMCOT_CUDA_EMULATED)
#include "emu/emu.h"
#else
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>
#endif
