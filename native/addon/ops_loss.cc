// Addon functions of the loss family.
#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

constexpr int64_t kMaxSafe = 9007199254740991LL;

mm_reduction reduction_arg(const ArgContext& args, size_t index) {
  return static_cast<mm_reduction>(args.integer(index, "reduction", MM_REDUCTION_NONE, MM_REDUCTION_SUM));
}

// [first, second] as a JS array of handles (both freed if the call failed).
template <class F>
Napi::Value wrap_two_tensors(const ArgContext& args, F&& create) {
  mm_tensor* first = nullptr;
  mm_tensor* second = nullptr;
  const mm_status status = create(&first, &second);
  if (status != MM_OK) {
    mm_tensor_free(first);
    mm_tensor_free(second);
    throw_status(args.env(), status);
  }
  Napi::Array out = Napi::Array::New(args.env(), 2);
  out.Set(0u, TensorHandle::Wrap(args.env(), first));
  out.Set(1u, TensorHandle::Wrap(args.env(), second));
  return out;
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  ArgContext args{info, "crossEntropy"};
  args.expect_count(5);
  const mm_tensor* logits = TensorHandle::From(args, 0, "logits");
  const mm_tensor* targets = TensorHandle::From(args, 1, "targets");
  const mm_tensor* weights = optional_tensor(args, 2, "weights");
  const int64_t ignore_index = args.integer(3, "ignoreIndex", -kMaxSafe, kMaxSafe);
  const mm_reduction reduction = reduction_arg(args, 4);
  return wrap_two_tensors(args, [&](mm_tensor** loss, mm_tensor** lse) {
    return mm_cross_entropy(logits, targets, weights, ignore_index, reduction, loss, lse);
  });
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "crossEntropyBackward"};
  args.expect_count(7);
  const mm_tensor* logits = TensorHandle::From(args, 0, "logits");
  const mm_tensor* targets = TensorHandle::From(args, 1, "targets");
  const mm_tensor* weights = optional_tensor(args, 2, "weights");
  const mm_tensor* lse = TensorHandle::From(args, 3, "lse");
  const mm_tensor* grad = TensorHandle::From(args, 4, "grad");
  const int64_t ignore_index = args.integer(5, "ignoreIndex", -kMaxSafe, kMaxSafe);
  const mm_reduction reduction = reduction_arg(args, 6);
  return wrap_new_tensor(args, [&](mm_tensor** out) {
    return mm_cross_entropy_backward(logits, targets, weights, lse, grad, ignore_index, reduction, out);
  });
}

Napi::Value TokenLogProbs(const Napi::CallbackInfo& info) {
  ArgContext args{info, "tokenLogProbs"};
  args.expect_count(2);
  const mm_tensor* logits = TensorHandle::From(args, 0, "logits");
  const mm_tensor* tokens = TensorHandle::From(args, 1, "tokens");
  return wrap_two_tensors(args, [&](mm_tensor** logp, mm_tensor** lse) { return mm_token_log_probs(logits, tokens, logp, lse); });
}

Napi::Value TokenLogProbsBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "tokenLogProbsBackward"};
  args.expect_count(4);
  const mm_tensor* logits = TensorHandle::From(args, 0, "logits");
  const mm_tensor* tokens = TensorHandle::From(args, 1, "tokens");
  const mm_tensor* lse = TensorHandle::From(args, 2, "lse");
  const mm_tensor* grad = TensorHandle::From(args, 3, "grad");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_token_log_probs_backward(logits, tokens, lse, grad, out); });
}

Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  ArgContext args{info, "mseLoss"};
  args.expect_count(3);
  const mm_tensor* a = TensorHandle::From(args, 0, "a");
  const mm_tensor* b = TensorHandle::From(args, 1, "b");
  const mm_reduction reduction = reduction_arg(args, 2);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_mse_loss(a, b, reduction, out); });
}

Napi::Value MseLossBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "mseLossBackward"};
  args.expect_count(4);
  const mm_tensor* a = TensorHandle::From(args, 0, "a");
  const mm_tensor* b = TensorHandle::From(args, 1, "b");
  const mm_tensor* grad = TensorHandle::From(args, 2, "grad");
  const mm_reduction reduction = reduction_arg(args, 3);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_mse_loss_backward(a, b, grad, reduction, out); });
}

Napi::Value CosineDistance(const Napi::CallbackInfo& info) {
  ArgContext args{info, "cosineDistance"};
  args.expect_count(4);
  const mm_tensor* a = TensorHandle::From(args, 0, "a");
  const mm_tensor* b = TensorHandle::From(args, 1, "b");
  const double eps = args.finite(2, "eps", 0, 1e30);
  const mm_reduction reduction = reduction_arg(args, 3);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_cosine_distance(a, b, eps, reduction, out); });
}

Napi::Value CosineDistanceBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "cosineDistanceBackward"};
  args.expect_count(5);
  const mm_tensor* a = TensorHandle::From(args, 0, "a");
  const mm_tensor* b = TensorHandle::From(args, 1, "b");
  const mm_tensor* grad = TensorHandle::From(args, 2, "grad");
  const double eps = args.finite(3, "eps", 0, 1e30);
  const mm_reduction reduction = reduction_arg(args, 4);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_cosine_distance_backward(a, b, grad, eps, reduction, out); });
}

}  // namespace

MM_ADDON_EXPORT("crossEntropy", CrossEntropy);
MM_ADDON_EXPORT("crossEntropyBackward", CrossEntropyBackward);
MM_ADDON_EXPORT("tokenLogProbs", TokenLogProbs);
MM_ADDON_EXPORT("tokenLogProbsBackward", TokenLogProbsBackward);
MM_ADDON_EXPORT("mseLoss", MseLoss);
MM_ADDON_EXPORT("mseLossBackward", MseLossBackward);
MM_ADDON_EXPORT("cosineDistance", CosineDistance);
MM_ADDON_EXPORT("cosineDistanceBackward", CosineDistanceBackward);

}  // namespace mm_addon
