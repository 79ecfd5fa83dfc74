#include "status.h"

#include <cstdio>
#include <string>

namespace {
thread_local std::string g_last_error;
}

namespace mm {

mm_status fail(mm_status status, const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  try {
    g_last_error = buf;
  } catch (...) {
    // Out of memory while recording the message: the status still says what happened.
  }
  return status;
}

void clear_error() { g_last_error.clear(); }

const char* format_shape(char* buf, size_t size, int ndim, const int64_t* shape) {
  size_t used = 0;
  used += snprintf(buf + used, size - used, "[");
  for (int i = 0; i < ndim && used < size; i++) {
    used += snprintf(buf + used, size - used, i ? ", %lld" : "%lld", static_cast<long long>(shape[i]));
  }
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

}  // namespace mm

extern "C" const char* mm_last_error(void) { return g_last_error.c_str(); }

extern "C" const char* mm_status_code(mm_status status) {
  switch (status) {
    case MM_OK: return "OK";
    case MM_ERR_ARG: return "ERR_ARG";
    case MM_ERR_SHAPE: return "ERR_SHAPE";
    case MM_ERR_DTYPE: return "ERR_DTYPE";
    case MM_ERR_DEVICE: return "ERR_DEVICE";
    case MM_ERR_DISPOSED: return "ERR_DISPOSED";
    case MM_ERR_OOM: return "ERR_OOM";
    case MM_ERR_CUDA: return "ERR_CUDA";
    case MM_ERR_UNSUPPORTED: return "ERR_UNSUPPORTED";
    case MM_ERR_INTERNAL: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}
