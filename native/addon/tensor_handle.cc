#include "tensor_handle.h"

#include "errors.h"

namespace mm_addon {
namespace {
Napi::FunctionReference g_constructor;
// Only Wrap() may construct handles; `new TensorHandle()` from JS gets a TypeError.
mm_tensor* g_pending = nullptr;
}  // namespace

Napi::Function TensorHandle::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "TensorHandle", {InstanceAccessor<&TensorHandle::IsDisposed>("disposed")});
  g_constructor = Napi::Persistent(ctor);
  g_constructor.SuppressDestruct();
  return ctor;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  if (!g_pending) throw_type_error(info.Env(), "ERR_ARG", "TensorHandle cannot be constructed from JavaScript; use mm.Tensor");
  tensor_ = g_pending;
  g_pending = nullptr;
  if (mm_tensor_device(tensor_).type == MM_CPU) {
    external_bytes_ = static_cast<int64_t>(mm_tensor_nbytes(tensor_));
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), external_bytes_);
  }
}

// Garbage-collected without dispose(): free it here, on the JS thread, with env at hand.
void TensorHandle::Finalize(Napi::Env env) { Dispose(env); }

TensorHandle::~TensorHandle() { mm_tensor_free(tensor_); }

void TensorHandle::Dispose(Napi::Env env) {
  if (!tensor_) return;
  mm_tensor_free(tensor_);
  tensor_ = nullptr;
  if (external_bytes_) Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
  external_bytes_ = 0;
}

Napi::Value TensorHandle::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed()); }

Napi::Object TensorHandle::Wrap(Napi::Env env, mm_tensor* tensor) {
  g_pending = tensor;
  try {
    Napi::Object obj = g_constructor.New({});
    return obj;
  } catch (...) {
    if (g_pending) mm_tensor_free(g_pending);
    g_pending = nullptr;
    throw;
  }
}

// The wrapped handle behind a JS value, or a TypeError: InstanceOf alone is not enough, since
// Object.create(TensorHandle.prototype) passes it without wrapping anything.
TensorHandle* TensorHandle::Checked(const ArgContext& args, size_t index, const char* arg) {
  return CheckedValue(args.env(), args.at(index), args.prefix(arg));
}

TensorHandle* TensorHandle::CheckedValue(Napi::Env env, const Napi::Value& v, const std::string& what) {
  void* wrapped = nullptr;
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(g_constructor.Value()) ||
      napi_unwrap(env, v, &wrapped) != napi_ok || !wrapped) {
    // napi_unwrap may leave a pending exception behind; ours replaces it.
    if (env.IsExceptionPending()) env.GetAndClearPendingException();
    throw_type_error(env, "ERR_ARG", what + " must be a tensor handle");
  }
  return static_cast<TensorHandle*>(wrapped);
}

mm_tensor* TensorHandle::From(const ArgContext& args, size_t index, const char* arg) {
  return FromValue(args.env(), args.at(index), args.prefix(arg));
}

mm_tensor* TensorHandle::FromValue(Napi::Env env, const Napi::Value& value, const std::string& what) {
  TensorHandle* handle = CheckedValue(env, value, what);
  if (handle->disposed()) throw_mmcot_error(env, "ERR_DISPOSED", what + " is a disposed tensor");
  return handle->tensor_;
}

void TensorHandle::DisposeValue(const ArgContext& args, size_t index, const char* arg) {
  Checked(args, index, arg)->Dispose(args.env());
}

}  // namespace mm_addon
