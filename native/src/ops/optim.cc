// Optimiser family: argument checks and dispatch (kernels: cpu/optim.cc).
#include "mmcot/ops/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "../cpu/optim.h"
#include "check.h"
#include "dispatch.h"
#include "tensor_util.h"
#if MM_WITH_CUDA
#include "../cuda/optim.h"
#endif

namespace {

// Every tensor of a list is a live f32 tensor on the device of `first` (the first tensor of
// the call, named `first_name`; the list's own first when null); `label` names the list in
// errors.
mm_status check_list(const char* op, const char* label, int count, const mm_tensor* const* tensors, const char* first_name = nullptr,
                     const mm_tensor* first = nullptr) {
  if (count < 0) return mm::fail(MM_ERR_ARG, "%s: negative tensor count %d", op, count);
  if (count > 0 && !tensors) return mm::fail(MM_ERR_ARG, "%s: '%s' is null", op, label);
  char first_label[64];
  for (int k = 0; k < count; k++) {
    char name[64];
    snprintf(name, sizeof name, "%s[%d]", label, k);
    MM_TRY(mm::check_dtype(op, name, tensors[k], MM_F32));
    if (!first) {
      first = tensors[k];
      snprintf(first_label, sizeof first_label, "%s", name);
      first_name = first_label;
    }
    MM_TRY(mm::check_same_device(op, first_name, first, name, tensors[k]));
  }
  return MM_OK;
}

// Fails when two non-empty tensors of `tensors` share storage: an in-place update would apply
// twice (a parameter listed twice, or a state buffer that is also a parameter).
mm_status check_distinct(const char* op, const std::vector<mm_tensor*>& tensors) {
  std::vector<const void*> data;
  for (mm_tensor* t : tensors) {
    if (mm_tensor_numel(t) > 0) data.push_back(mm_tensor_data(t));
  }
  std::sort(data.begin(), data.end());
  if (std::adjacent_find(data.begin(), data.end()) != data.end()) {
    return mm::fail(MM_ERR_ARG, "%s: two of the tensors updated in place share storage (a tensor listed twice, or a state buffer that is also a parameter)", op);
  }
  return MM_OK;
}

}  // namespace

extern "C" mm_status mm_adamw_step(int count, mm_tensor* const* params, const mm_tensor* const* grads, mm_tensor* const* exp_avgs,
                                   mm_tensor* const* exp_avg_sqs, const mm_adamw_config* config) {
  const char* op = "adamw";
  return mm::guarded(op, [&]() -> mm_status {
    if (!config) return mm::fail(MM_ERR_ARG, "%s: config is null", op);
    const mm_adamw_config& c = *config;
    if (!(c.lr >= 0) || !std::isfinite(c.lr)) return mm::fail(MM_ERR_ARG, "%s: lr must be a finite number >= 0, got %g", op, c.lr);
    if (!(c.beta1 >= 0 && c.beta1 < 1)) return mm::fail(MM_ERR_ARG, "%s: beta1 must be in [0, 1), got %g", op, c.beta1);
    if (!(c.beta2 >= 0 && c.beta2 < 1)) return mm::fail(MM_ERR_ARG, "%s: beta2 must be in [0, 1), got %g", op, c.beta2);
    if (!(c.eps >= 0) || !std::isfinite(c.eps)) return mm::fail(MM_ERR_ARG, "%s: eps must be a finite number >= 0, got %g", op, c.eps);
    if (!(c.weight_decay >= 0) || !std::isfinite(c.weight_decay)) return mm::fail(MM_ERR_ARG, "%s: weightDecay must be a finite number >= 0, got %g", op, c.weight_decay);
    if (c.step < 1) return mm::fail(MM_ERR_ARG, "%s: step must be >= 1 (the first update is step 1), got %lld", op, static_cast<long long>(c.step));
    MM_TRY(check_list(op, "params", count, params));
    const mm_tensor* first = count > 0 ? params[0] : nullptr;
    MM_TRY(check_list(op, "grads", count, grads, "params[0]", first));
    MM_TRY(check_list(op, "expAvgs", count, exp_avgs, "params[0]", first));
    MM_TRY(check_list(op, "expAvgSqs", count, exp_avg_sqs, "params[0]", first));
    std::vector<mm::cpu::AdamWSlot> slots(static_cast<size_t>(count));
    for (int k = 0; k < count; k++) {
      char a[64], b[64];
      snprintf(a, sizeof a, "params[%d]", k);
      snprintf(b, sizeof b, "grads[%d]", k);
      MM_TRY(mm::check_same_shape(op, a, params[k], b, grads[k]));
      snprintf(b, sizeof b, "expAvgs[%d]", k);
      MM_TRY(mm::check_same_shape(op, a, params[k], b, exp_avgs[k]));
      snprintf(b, sizeof b, "expAvgSqs[%d]", k);
      MM_TRY(mm::check_same_shape(op, a, params[k], b, exp_avg_sqs[k]));
      slots[k] = {mm::f32_mut(params[k]), mm::f32(grads[k]), mm::f32_mut(exp_avgs[k]), mm::f32_mut(exp_avg_sqs[k]), mm_tensor_numel(params[k])};
    }
    std::vector<mm_tensor*> updated(params, params + count);
    updated.insert(updated.end(), exp_avgs, exp_avgs + count);
    updated.insert(updated.end(), exp_avg_sqs, exp_avg_sqs + count);
    MM_TRY(check_distinct(op, updated));
    if (count == 0) return MM_OK;
    MM_DISPATCH(params[0], adamw(slots.data(), count, c));
    return MM_OK;
  });
}

extern "C" mm_status mm_sum_of_squares(int count, const mm_tensor* const* tensors, double* out) {
  const char* op = "sumOfSquares";
  return mm::guarded(op, [&]() -> mm_status {
    if (!out) return mm::fail(MM_ERR_ARG, "%s: out is null", op);
    MM_TRY(check_list(op, "tensors", count, tensors));
    std::vector<const float*> data(static_cast<size_t>(count));
    std::vector<int64_t> sizes(static_cast<size_t>(count));
    for (int k = 0; k < count; k++) {
      data[k] = mm::f32(tensors[k]);
      sizes[k] = mm_tensor_numel(tensors[k]);
    }
#if MM_WITH_CUDA
    if (count > 0 && mm::on_cuda(tensors[0])) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(tensors[0]).index));
      return mm::cuda::sum_of_squares(data.data(), sizes.data(), count, out);
    }
#endif
    *out = mm::cpu::sum_of_squares(data.data(), sizes.data(), count);
    return MM_OK;
  });
}

extern "C" mm_status mm_scale_inplace(int count, mm_tensor* const* tensors, double factor) {
  const char* op = "scaleInPlace";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(check_list(op, "tensors", count, tensors));
    std::vector<float*> data(static_cast<size_t>(count));
    std::vector<int64_t> sizes(static_cast<size_t>(count));
    for (int k = 0; k < count; k++) {
      data[k] = mm::f32_mut(tensors[k]);
      sizes[k] = mm_tensor_numel(tensors[k]);
    }
    MM_TRY(check_distinct(op, std::vector<mm_tensor*>(tensors, tensors + count)));
    if (count == 0) return MM_OK;
    MM_DISPATCH(tensors[0], scale(data.data(), sizes.data(), count, static_cast<float>(factor)));
    return MM_OK;
  });
}
