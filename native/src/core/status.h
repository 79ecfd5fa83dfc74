// Status plumbing for the C API: a thread-local last-error message, and a guard that turns any
// C++ exception escaping a core function into a status (the core never throws across C).
#pragma once
#include <cstdarg>
#include <exception>
#include <new>
#include "mmcot/mmcot.h"

namespace mm {

// Records `status` with a printf-style message for mm_last_error() and returns `status`.
mm_status fail(mm_status status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void clear_error();

// Formats a shape as "[2, 3, 4]" into buf (for error messages).
const char* format_shape(char* buf, size_t size, int ndim, const int64_t* shape);

template <class F>
mm_status guarded(const char* where, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(MM_ERR_OOM, "%s: out of host memory", where);
  } catch (const std::exception& e) {
    return fail(MM_ERR_INTERNAL, "%s: unexpected exception: %s", where, e.what());
  } catch (...) {
    return fail(MM_ERR_INTERNAL, "%s: unexpected exception", where);
  }
}

}  // namespace mm

#define MM_TRY(expr)                       \
  do {                                     \
    mm_status mm_try_status_ = (expr);     \
    if (mm_try_status_ != MM_OK) return mm_try_status_; \
  } while (0)
