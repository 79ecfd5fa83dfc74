// Addon functions of the GEMM family.
#include <cfloat>
#include <string>

#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

// matmul(a, b, transA, transB, alpha) -> new tensor alpha * op(a) @ op(b)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  ArgContext args{info, "matmul"};
  args.expect_count(2);
  const mm_tensor* a = TensorHandle::From(args, 0, "a");
  const mm_tensor* b = TensorHandle::From(args, 1, "b");
  const bool trans_a = optional_bool(args, 2, "transA", false);
  const bool trans_b = optional_bool(args, 3, "transB", false);
  const float alpha = args.at(4).IsUndefined() ? 1.0f : static_cast<float>(args.finite(4, "alpha", -FLT_MAX, FLT_MAX));
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_matmul(a, b, trans_a, trans_b, alpha, out); });
}

// gemm(a, b, c, transA, transB, alpha, beta): c = alpha * op(a) @ op(b) + beta * c in place
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  ArgContext args{info, "gemm"};
  args.expect_count(7);
  const mm_tensor* a = TensorHandle::From(args, 0, "a");
  const mm_tensor* b = TensorHandle::From(args, 1, "b");
  mm_tensor* c = TensorHandle::From(args, 2, "c");
  const bool trans_a = optional_bool(args, 3, "transA", false);
  const bool trans_b = optional_bool(args, 4, "transB", false);
  const float alpha = static_cast<float>(args.finite(5, "alpha", -FLT_MAX, FLT_MAX));
  const float beta = static_cast<float>(args.finite(6, "beta", -FLT_MAX, FLT_MAX));
  check(args.env(), mm_gemm(a, b, trans_a, trans_b, alpha, beta, c));
  return args.env().Undefined();
}

// gemmKernel(name?) -> the kernel set in use (after selecting `name` when given)
Napi::Value GemmKernel(const Napi::CallbackInfo& info) {
  ArgContext args{info, "gemmKernel"};
  const Napi::Value v = args.at(0);
  if (!v.IsUndefined()) {
    if (!v.IsString()) throw_type_error(args.env(), "ERR_ARG", args.prefix("name") + " must be a string");
    const std::string name = v.As<Napi::String>().Utf8Value();
    check(args.env(), mm_gemm_set_kernel(name.c_str()));
  }
  return Napi::String::New(args.env(), mm_gemm_kernel());
}

// cudaGemmKernel(name?) -> the CUDA kernel choice (after selecting `name` when given: "auto",
// "cublaslt", "tiled", "wmma", or a tile shape "tiled-small" ...; "auto" resets the CPU set too)
Napi::Value CudaGemmKernel(const Napi::CallbackInfo& info) {
  ArgContext args{info, "cudaGemmKernel"};
  const Napi::Value v = args.at(0);
  if (!v.IsUndefined()) {
    if (!v.IsString()) throw_type_error(args.env(), "ERR_ARG", args.prefix("name") + " must be a string");
    const std::string name = v.As<Napi::String>().Utf8Value();
    if (name == "avx512" || name == "avx2" || name == "scalar") {
      throw_type_error(args.env(), "ERR_ARG", args.prefix("name") + " '" + name + "' is a CPU kernel set (use gemmKernel)");
    }
    check(args.env(), mm_gemm_set_kernel(name.c_str()));
  }
  return Napi::String::New(args.env(), mm_gemm_cuda_kernel());
}

}  // namespace

MM_ADDON_EXPORT("matmul", Matmul);
MM_ADDON_EXPORT("gemm", Gemm);
MM_ADDON_EXPORT("gemmKernel", GemmKernel);
MM_ADDON_EXPORT("cudaGemmKernel", CudaGemmKernel);

}  // namespace mm_addon
