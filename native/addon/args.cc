#include "args.h"

#include <cmath>
#include <cstring>

#include "errors.h"

namespace mm_addon {

std::string shape_string(const int64_t* shape, size_t ndim) {
  std::string s = "[";
  for (size_t i = 0; i < ndim; i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string device_string(mm_device device) {
  return device.type == MM_CPU ? "cpu" : "cuda:" + std::to_string(device.index);
}

namespace {
std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsString()) return "string \"" + v.As<Napi::String>().Utf8Value().substr(0, 40) + "\"";
  if (v.IsNumber()) {
    char buf[64];
    snprintf(buf, sizeof buf, "number %.17g", v.As<Napi::Number>().DoubleValue());
    return buf;
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsBigInt()) return "bigint";
  if (v.IsArray()) return "array";
  if (v.IsTypedArray()) return "typed array";
  if (v.IsFunction()) return "function";
  return "object";
}
}  // namespace

std::string ArgContext::prefix(const char* arg) const {
  return std::string(function) + ": argument '" + arg + "'";
}

void ArgContext::expect_count(size_t min_count) const {
  if (info.Length() < min_count) {
    throw_type_error(env(), "ERR_ARG", std::string(function) + ": expected " + std::to_string(min_count) +
                                           " arguments, got " + std::to_string(info.Length()));
  }
}

std::vector<int64_t> ArgContext::shape(size_t index, const char* arg) const {
  Napi::Value v = at(index);
  if (!v.IsArray()) throw_type_error(env(), "ERR_SHAPE", prefix(arg) + " must be an array of integers, got " + describe(v));
  Napi::Array array = v.As<Napi::Array>();
  const uint32_t ndim = array.Length();
  if (ndim > MM_MAX_DIMS) {
    throw_range_error(env(), "ERR_SHAPE", prefix(arg) + " has " + std::to_string(ndim) + " dimensions; at most " +
                                              std::to_string(MM_MAX_DIMS) + " are supported");
  }
  std::vector<int64_t> dims(ndim);
  for (uint32_t i = 0; i < ndim; i++) {
    Napi::Value d = array.Get(i);
    const double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : NAN;
    if (!d.IsNumber() || !std::isfinite(x) || std::floor(x) != x) {
      throw_type_error(env(), "ERR_SHAPE", prefix(arg) + " must hold integers; dimension " + std::to_string(i) + " is " + describe(d));
    }
    if (x < 0 || x > 9007199254740991.0) {
      throw_range_error(env(), "ERR_SHAPE", prefix(arg) + " must hold non-negative sizes; dimension " + std::to_string(i) + " is " + describe(d));
    }
    dims[i] = static_cast<int64_t>(x);
  }
  return dims;
}

mm_dtype ArgContext::dtype(size_t index, const char* arg) const {
  Napi::Value v = at(index);
  if (!v.IsString()) throw_type_error(env(), "ERR_DTYPE", prefix(arg) + " must be 'f32', 'i32' or 'bf16', got " + describe(v));
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "f32") return MM_F32;
  if (s == "i32") return MM_I32;
  if (s == "bf16") return MM_BF16;
  throw_type_error(env(), "ERR_DTYPE", prefix(arg) + " must be 'f32', 'i32' or 'bf16', got \"" + s.substr(0, 40) + "\"");
}

mm_device ArgContext::device(size_t index, const char* arg) const {
  Napi::Value v = at(index);
  if (!v.IsString()) throw_type_error(env(), "ERR_DEVICE", prefix(arg) + " must be 'cpu', 'cuda' or 'cuda:N', got " + describe(v));
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "cpu") return {MM_CPU, 0};
  if (s == "cuda") return {MM_CUDA, 0};
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.size() <= 8 && s.find_first_not_of("0123456789", 5) == std::string::npos) {
    return {MM_CUDA, std::atoi(s.c_str() + 5)};
  }
  throw_range_error(env(), "ERR_DEVICE", prefix(arg) + " must be 'cpu', 'cuda' or 'cuda:N', got \"" + s.substr(0, 40) + "\"");
}

double ArgContext::number(size_t index, const char* arg) const {
  Napi::Value v = at(index);
  if (!v.IsNumber()) throw_type_error(env(), "ERR_ARG", prefix(arg) + " must be a number, got " + describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

double ArgContext::finite(size_t index, const char* arg, double lo, double hi) const {
  const double x = number(index, arg);
  if (!std::isfinite(x) || x < lo || x > hi) {
    char buf[160];
    snprintf(buf, sizeof buf, " must be a finite number in [%g, %g], got %.17g", lo, hi, x);
    throw_range_error(env(), "ERR_ARG", prefix(arg) + buf);
  }
  return x;
}

int64_t ArgContext::integer(size_t index, const char* arg, int64_t lo, int64_t hi) const {
  const double x = number(index, arg);
  if (std::floor(x) != x || x < static_cast<double>(lo) || x > static_cast<double>(hi)) {
    throw_range_error(env(), "ERR_ARG", prefix(arg) + " must be an integer in [" + std::to_string(lo) + ", " +
                                            std::to_string(hi) + "], got " + describe(at(index)));
  }
  return static_cast<int64_t>(x);
}

uint64_t ArgContext::u64(size_t index, const char* arg) const {
  Napi::Value v = at(index);
  if (v.IsBigInt()) {
    bool lossless = false;
    const uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw_range_error(env(), "ERR_ARG", prefix(arg) + " must fit in 64 unsigned bits");
    return x;
  }
  return static_cast<uint64_t>(integer(index, arg, 0, 9007199254740991LL));
}

}  // namespace mm_addon
