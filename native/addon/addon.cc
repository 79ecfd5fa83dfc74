// The N-API surface of mmcot. Only argument checks and conversions live here; all work is done
// by the core (native/include/mmcot/mmcot.h). lib/native-types.ts types every export.
#include <napi.h>

#include <vector>

#include "args.h"
#include "errors.h"
#include "op_args.h"
#include "registry.h"
#include "tensor_handle.h"

namespace mm_addon {
namespace {

const char* kDtypeNames[] = {"f32", "i32", "bf16"};

// Creates an uninitialised tensor from (shape, dtype, device) arguments at 0, 1, 2.
mm_tensor* empty_from_args(const ArgContext& args) {
  const std::vector<int64_t> shape = args.shape(0, "shape");
  const mm_dtype dtype = args.dtype(1, "dtype");
  const mm_device device = args.device(2, "device");
  mm_tensor* t = nullptr;
  check(args.env(), mm_tensor_empty(device, dtype, static_cast<int>(shape.size()), shape.data(), &t));
  return t;
}

// Runs `fill` on a new tensor, freeing it if the fill fails.
template <class F>
Napi::Value filled(const ArgContext& args, F&& fill) {
  mm_tensor* t = empty_from_args(args);
  const mm_status status = fill(t);
  if (status != MM_OK) {
    mm_tensor_free(t);
    throw_status(args.env(), status);
  }
  return TensorHandle::Wrap(args.env(), t);
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  ArgContext args{info, "init"};
  args.expect_count(1);
  if (!info[0].IsFunction()) throw_type_error(info.Env(), "ERR_ARG", args.prefix("errorClass") + " must be a class");
  set_error_class(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value BackendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mm_backend_info bi{};
  check(env, mm_backend_info_get(&bi));
  Napi::Object out = Napi::Object::New(env);
  out.Set("cudaCompiled", Napi::Boolean::New(env, bi.cuda_compiled != 0));
  out.Set("cudaDeviceCount", Napi::Number::New(env, bi.cuda_device_count));
  out.Set("cudaReason", Napi::String::New(env, bi.cuda_reason));
  out.Set("numThreads", Napi::Number::New(env, mm_get_num_threads()));
  out.Set("cudaCopiesToHost", Napi::Number::New(env, static_cast<double>(bi.cuda_copies_to_host)));
  return out;
}

Napi::Value TensorFromArray(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.from"};
  args.expect_count(4);
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw_type_error(env, "ERR_ARG", args.prefix("data") + " must be a Float32Array or Int32Array");
  Napi::TypedArray data = info[0].As<Napi::TypedArray>();
  const std::vector<int64_t> shape = args.shape(1, "shape");
  const mm_dtype dtype = args.dtype(2, "dtype");
  const mm_device device = args.device(3, "device");
  const napi_typedarray_type kind = data.TypedArrayType();
  const bool float_data = kind == napi_float32_array, int_data = kind == napi_int32_array;
  if ((dtype == MM_I32 && !int_data) || (dtype != MM_I32 && !float_data)) {
    throw_type_error(env, "ERR_DTYPE", args.prefix("data") + std::string(" must be ") + (dtype == MM_I32 ? "an Int32Array" : "a Float32Array") +
                                           " for dtype " + kDtypeNames[dtype]);
  }
  int64_t numel = 1;
  for (int64_t d : shape) numel = d && numel > INT64_MAX / d ? INT64_MAX : numel * d;
  if (static_cast<int64_t>(data.ElementLength()) != numel) {
    throw_range_error(env, "ERR_SHAPE", args.prefix("data") + " has " + std::to_string(data.ElementLength()) +
                                            " elements but shape " + shape_string(shape.data(), shape.size()) + " needs " + std::to_string(numel));
  }
  const int ndim = static_cast<int>(shape.size());
  const uint8_t* bytes = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
  mm_tensor* t = nullptr;
  if (dtype == MM_BF16) {
    check(env, mm_tensor_from_f32(device, dtype, ndim, shape.data(), reinterpret_cast<const float*>(bytes), data.ElementLength(), &t));
  } else {
    check(env, mm_tensor_from_host(device, dtype, ndim, shape.data(), bytes, data.ByteLength(), &t));
  }
  return TensorHandle::Wrap(env, t);
}

Napi::Value TensorEmpty(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.empty"};
  args.expect_count(3);
  return TensorHandle::Wrap(info.Env(), empty_from_args(args));
}

Napi::Value TensorFull(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.full"};
  args.expect_count(4);
  const double value = args.number(3, "value");
  return filled(args, [&](mm_tensor* t) { return mm_tensor_fill(t, value); });
}

Napi::Value TensorRand(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.rand"};
  args.expect_count(5);
  const double low = args.finite(3, "low", -3.4e38, 3.4e38), high = args.finite(4, "high", -3.4e38, 3.4e38);
  return filled(args, [&](mm_tensor* t) { return mm_tensor_fill_uniform(t, static_cast<float>(low), static_cast<float>(high)); });
}

Napi::Value TensorRandn(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.randn"};
  args.expect_count(5);
  const double mean = args.finite(3, "mean", -3.4e38, 3.4e38), std = args.finite(4, "std", 0, 3.4e38);
  return filled(args, [&](mm_tensor* t) { return mm_tensor_fill_normal(t, static_cast<float>(mean), static_cast<float>(std)); });
}

Napi::Value TensorToArray(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.toArray"};
  args.expect_count(1);
  Napi::Env env = info.Env();
  const mm_tensor* t = TensorHandle::From(args, 0, "tensor");
  const size_t n = static_cast<size_t>(mm_tensor_numel(t));
  if (mm_tensor_dtype(t) == MM_I32) {
    Napi::Int32Array out = Napi::Int32Array::New(env, n);
    check(env, mm_tensor_to_host(t, out.Data(), n * sizeof(int32_t)));
    return out;
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, n);
  check(env, mm_tensor_to_host_f32(t, out.Data(), n));
  return out;
}

Napi::Value TensorMeta(const Napi::CallbackInfo& info) {
  ArgContext args{info, "tensorMeta"};
  args.expect_count(1);
  Napi::Env env = info.Env();
  const mm_tensor* t = TensorHandle::From(args, 0, "tensor");
  Napi::Array shape = Napi::Array::New(env, mm_tensor_ndim(t));
  for (int i = 0; i < mm_tensor_ndim(t); i++) shape.Set(i, Napi::Number::New(env, static_cast<double>(mm_tensor_shape(t)[i])));
  Napi::Object out = Napi::Object::New(env);
  out.Set("shape", shape);
  out.Set("dtype", Napi::String::New(env, mm_dtype_name(mm_tensor_dtype(t))));
  out.Set("device", Napi::String::New(env, device_string(mm_tensor_device(t))));
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(mm_tensor_nbytes(t))));
  return out;
}

Napi::Value TensorTo(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.to"};
  args.expect_count(2);
  const mm_tensor* t = TensorHandle::From(args, 0, "tensor");
  const mm_device device = args.device(1, "device");
  mm_tensor* out = nullptr;
  check(info.Env(), mm_tensor_to_device(t, device, &out));
  return TensorHandle::Wrap(info.Env(), out);
}

Napi::Value TensorCast(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.cast"};
  args.expect_count(2);
  const mm_tensor* t = TensorHandle::From(args, 0, "tensor");
  const mm_dtype dtype = args.dtype(1, "dtype");
  mm_tensor* out = nullptr;
  check(info.Env(), mm_tensor_cast(t, dtype, &out));
  return TensorHandle::Wrap(info.Env(), out);
}

Napi::Value TensorDispose(const Napi::CallbackInfo& info) {
  ArgContext args{info, "Tensor.dispose"};
  args.expect_count(1);
  TensorHandle::DisposeValue(args, 0, "tensor");
  return info.Env().Undefined();
}

Napi::Value TensorReshape(const Napi::CallbackInfo& info) {
  ArgContext args{info, "reshape"};
  args.expect_count(2);
  const mm_tensor* t = TensorHandle::From(args, 0, "tensor");
  const std::vector<int64_t> shape = args.shape(1, "shape");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_tensor_alias(t, static_cast<int>(shape.size()), shape.data(), out); });
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  ArgContext args{info, "manualSeed"};
  args.expect_count(1);
  mm_manual_seed(args.u64(0, "seed"));
  return info.Env().Undefined();
}

Napi::Value RngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t seed = 0, offset = 0;
  mm_rng_state(&seed, &offset);
  Napi::Object out = Napi::Object::New(env);
  out.Set("seed", Napi::BigInt::New(env, seed));
  out.Set("offset", Napi::BigInt::New(env, offset));
  return out;
}

Napi::Value Philox(const Napi::CallbackInfo& info) {
  ArgContext args{info, "philox"};
  args.expect_count(2);
  Napi::Env env = info.Env();
  auto u32_array = [&](size_t index, const char* arg, size_t length) {
    if (!info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        info[index].As<Napi::TypedArray>().ElementLength() != length) {
      throw_type_error(env, "ERR_ARG", args.prefix(arg) + " must be a Uint32Array of length " + std::to_string(length));
    }
    return info[index].As<Napi::Uint32Array>();
  };
  Napi::Uint32Array counter = u32_array(0, "counter", 4), key = u32_array(1, "key", 2);
  Napi::Uint32Array out = Napi::Uint32Array::New(env, 4);
  mm_philox4x32_10(counter.Data(), key.Data(), out.Data());
  return out;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  ArgContext args{info, "setNumThreads"};
  args.expect_count(1);
  check(info.Env(), mm_set_num_threads(static_cast<int>(args.integer(0, "n", 1, 1024))));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), mm_get_num_threads()); }

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const std::pair<const char*, mm_device_type> devices[] = {{"cpu", MM_CPU}, {"cuda", MM_CUDA}};
  for (const auto& [name, type] : devices) {
    mm_memory_stats stats{};
    check(env, mm_memory_stats_get(type, &stats));
    Napi::Object s = Napi::Object::New(env);
    s.Set("tensors", Napi::Number::New(env, static_cast<double>(stats.live_tensors)));
    s.Set("bytes", Napi::Number::New(env, static_cast<double>(stats.live_bytes)));
    s.Set("peakBytes", Napi::Number::New(env, static_cast<double>(stats.peak_bytes)));
    s.Set("reservedBytes", Napi::Number::New(env, static_cast<double>(stats.reserved_bytes)));
    out.Set(name, s);
  }
  return out;
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  check(info.Env(), mm_synchronize());
  return info.Env().Undefined();
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  check(info.Env(), mm_empty_cache());
  return info.Env().Undefined();
}

}  // namespace

ExportList& registered_exports() {
  static ExportList list;
  return list;
}

namespace {

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("TensorHandle", TensorHandle::Define(env));
  const std::pair<const char*, Napi::Function::Callback> functions[] = {
      {"init", Init},
      {"backendInfo", BackendInfo},
      {"tensorFromArray", TensorFromArray},
      {"tensorEmpty", TensorEmpty},
      {"tensorFull", TensorFull},
      {"tensorRand", TensorRand},
      {"tensorRandn", TensorRandn},
      {"tensorToArray", TensorToArray},
      {"tensorMeta", TensorMeta},
      {"tensorTo", TensorTo},
      {"tensorCast", TensorCast},
      {"tensorDispose", TensorDispose},
      {"tensorReshape", TensorReshape},
      {"manualSeed", ManualSeed},
      {"rngState", RngState},
      {"philox", Philox},
      {"setNumThreads", SetNumThreads},
      {"getNumThreads", GetNumThreads},
      {"memory", Memory},
      {"synchronize", Synchronize},
      {"emptyCache", EmptyCache},
  };
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
  for (const auto& [name, fn] : registered_exports()) exports.Set(name, Napi::Function::New(env, fn, name));
  exports.Set("version", Napi::String::New(env, MMCOT_VERSION));
  return exports;
}

}  // namespace
}  // namespace mm_addon

static Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) { return mm_addon::InitModule(env, exports); }
NODE_API_MODULE(mmcot, RegisterModule)
