// TensorHandle: the JS object that owns one mm_tensor. Disposal is explicit (dispose), with the
// garbage collector as a safety net (the finalizer frees what was never disposed).
#pragma once
#include <napi.h>

#include <string>

#include "args.h"
#include "mmcot/mmcot.h"

namespace mm_addon {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps a freshly created core tensor (takes ownership; frees it if wrapping fails).
  static Napi::Object Wrap(Napi::Env env, mm_tensor* tensor);
  // The live tensor behind argument `index`, or a TypeError (not a handle) / MmcotError
  // ERR_DISPOSED (already freed).
  static mm_tensor* From(const ArgContext& args, size_t index, const char* arg);
  // The same for any JS value (e.g. an element of an array argument), named `what` in errors.
  static mm_tensor* FromValue(Napi::Env env, const Napi::Value& value, const std::string& what);

  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;
  void Finalize(Napi::Env env) override;
  // Frees the tensor now; a second call does nothing.
  static void DisposeValue(const ArgContext& args, size_t index, const char* arg);

  void Dispose(Napi::Env env);
  bool disposed() const { return tensor_ == nullptr; }

 private:
  static TensorHandle* Checked(const ArgContext& args, size_t index, const char* arg);
  static TensorHandle* CheckedValue(Napi::Env env, const Napi::Value& value, const std::string& what);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  mm_tensor* tensor_ = nullptr;
  int64_t external_bytes_ = 0;  // host bytes reported to V8 so GC pressure reflects them
};

}  // namespace mm_addon
