// Linked instead of the CUDA backend when the binary is built without nvcc.
#include "backend.h"

namespace mm {

Backend* cuda_backend(const char** why) {
  if (why) *why = "this binary was built without the CUDA backend (nvcc was not found at build time, or MMCOT_CUDA=OFF)";
  return nullptr;
}
bool cuda_compiled() { return false; }
int cuda_device_count() { return 0; }
int64_t cuda_copies_to_host() { return 0; }

}  // namespace mm
