// Addon functions of the optimiser family: in-place updates over lists of tensors.
#include <string>
#include <vector>

#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

// An array of live tensor handles (each named arg[i] in errors).
std::vector<mm_tensor*> tensor_list(const ArgContext& args, size_t index, const char* arg) {
  const Napi::Value v = args.at(index);
  if (!v.IsArray()) throw_type_error(args.env(), "ERR_ARG", args.prefix(arg) + " must be an array of tensor handles");
  const Napi::Array array = v.As<Napi::Array>();
  const uint32_t n = array.Length();
  if (n > (1u << 30)) throw_range_error(args.env(), "ERR_ARG", args.prefix(arg) + " has too many tensors");
  std::vector<mm_tensor*> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) out.push_back(TensorHandle::FromValue(args.env(), array.Get(i), std::string(args.function) + ": argument '" + arg + "[" + std::to_string(i) + "]'"));
  return out;
}

Napi::Value AdamwStep(const Napi::CallbackInfo& info) {
  ArgContext args{info, "adamwStep"};
  args.expect_count(10);
  const std::vector<mm_tensor*> params = tensor_list(args, 0, "params");
  const std::vector<mm_tensor*> grads = tensor_list(args, 1, "grads");
  const std::vector<mm_tensor*> exp_avgs = tensor_list(args, 2, "expAvgs");
  const std::vector<mm_tensor*> exp_avg_sqs = tensor_list(args, 3, "expAvgSqs");
  if (grads.size() != params.size() || exp_avgs.size() != params.size() || exp_avg_sqs.size() != params.size()) {
    throw_range_error(args.env(), "ERR_ARG", "adamwStep: 'params', 'grads', 'expAvgs' and 'expAvgSqs' must have the same length, got " +
                                                 std::to_string(params.size()) + ", " + std::to_string(grads.size()) + ", " +
                                                 std::to_string(exp_avgs.size()) + ", " + std::to_string(exp_avg_sqs.size()));
  }
  mm_adamw_config config;
  config.step = args.integer(4, "step", 1, 9007199254740991LL);
  config.lr = args.finite(5, "lr", 0, 1e30);
  config.beta1 = args.finite(6, "beta1", 0, 1);
  config.beta2 = args.finite(7, "beta2", 0, 1);
  config.eps = args.finite(8, "eps", 0, 1e30);
  config.weight_decay = args.finite(9, "weightDecay", 0, 1e30);
  check(args.env(), mm_adamw_step(static_cast<int>(params.size()), params.data(), grads.data(), exp_avgs.data(), exp_avg_sqs.data(), &config));
  return args.env().Undefined();
}

Napi::Value SumOfSquares(const Napi::CallbackInfo& info) {
  ArgContext args{info, "sumOfSquares"};
  args.expect_count(1);
  const std::vector<mm_tensor*> tensors = tensor_list(args, 0, "tensors");
  double total = 0;
  check(args.env(), mm_sum_of_squares(static_cast<int>(tensors.size()), tensors.data(), &total));
  return Napi::Number::New(args.env(), total);
}

Napi::Value ScaleInPlace(const Napi::CallbackInfo& info) {
  ArgContext args{info, "scaleInPlace"};
  args.expect_count(2);
  const std::vector<mm_tensor*> tensors = tensor_list(args, 0, "tensors");
  const double factor = args.finite(1, "factor", -3.4e38, 3.4e38);
  check(args.env(), mm_scale_inplace(static_cast<int>(tensors.size()), tensors.data(), factor));
  return args.env().Undefined();
}

}  // namespace

MM_ADDON_EXPORT("adamwStep", AdamwStep);
MM_ADDON_EXPORT("sumOfSquares", SumOfSquares);
MM_ADDON_EXPORT("scaleInPlace", ScaleInPlace);

}  // namespace mm_addon
