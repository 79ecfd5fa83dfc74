#include "errors.h"

namespace mm_addon {
namespace {
Napi::FunctionReference g_error_class;

[[noreturn]] void throw_with_code(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  throw error;
}
}  // namespace

void set_error_class(Napi::Function ctor) {
  g_error_class = Napi::Persistent(ctor);
  g_error_class.SuppressDestruct();
}

void throw_type_error(Napi::Env env, const char* code, const std::string& message) {
  throw_with_code(Napi::TypeError::New(env, message), code);
}

void throw_range_error(Napi::Env env, const char* code, const std::string& message) {
  throw_with_code(Napi::RangeError::New(env, message), code);
}

void throw_mmcot_error(Napi::Env env, const char* code, const std::string& message) {
  if (g_error_class.IsEmpty()) throw_with_code(Napi::Error::New(env, message), code);
  Napi::Object error = g_error_class.New({Napi::String::New(env, message), Napi::String::New(env, code)});
  throw Napi::Error(env, error);
}

void throw_status(Napi::Env env, mm_status status) {
  const char* message = mm_last_error();
  throw_mmcot_error(env, mm_status_code(status), message && *message ? message : mm_status_code(status));
}

}  // namespace mm_addon
