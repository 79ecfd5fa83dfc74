// Token sampling: argument checks, the random stream, dispatch (kernel: cpu/sampling.cc).
#include "mmcot/ops/sampling.h"

#include <cmath>

#include "../cpu/sampling.h"
#include "check.h"
#include "dispatch.h"
#include "tensor_util.h"
#if MM_WITH_CUDA
#include "../cuda/sampling.h"
#endif

extern "C" mm_status mm_sample_tokens(const mm_tensor* logits, double temperature, int64_t top_k, double top_p, const uint64_t* seed, mm_tensor** out) {
  const char* op = "sample";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(op, "logits", logits, MM_F32));
    MM_TRY(mm::check_ndim(op, "logits", logits, 1, MM_MAX_DIMS));
    const int n = mm_tensor_ndim(logits);
    const int64_t V = mm_tensor_shape(logits)[n - 1];
    if (V < 1 || V > INT32_MAX) {
      char buf[256];
      return mm::fail(MM_ERR_SHAPE, "%s: 'logits' must have 1 to 2^31 - 1 classes in its last dimension, got shape %s", op,
                      mm::format_shape(buf, sizeof buf, n, mm_tensor_shape(logits)));
    }
    if (!(temperature >= 0) || !std::isfinite(temperature)) return mm::fail(MM_ERR_ARG, "%s: temperature must be a finite number >= 0, got %g", op, temperature);
    if (top_k < 0) return mm::fail(MM_ERR_ARG, "%s: topK must be >= 0 (0 keeps every token), got %lld", op, static_cast<long long>(top_k));
    if (!(top_p > 0 && top_p <= 1)) return mm::fail(MM_ERR_ARG, "%s: topP must be in (0, 1] (1 keeps every token), got %g", op, top_p);
    const int64_t rows = mm_tensor_numel(logits) / V;
    mm::OwnedTensor ids;
    MM_TRY(mm::new_on_device_of(logits, MM_I32, n - 1, mm_tensor_shape(logits), &ids.t));
    mm::cpu::SamplingConfig config{temperature, top_k, top_p, 0, 0};
    const bool random = temperature > 0 && top_k != 1;
    if (seed) config.seed = *seed;
    else if (random) MM_TRY(mm_rng_reserve(rows, &config.seed, &config.offset));
#if MM_WITH_CUDA
    if (mm::on_cuda(logits)) {
      // Bad rows (NaN, +inf, no finite logit) are found on the device and raised at the next
      // host wait (reading the ids).
      MM_TRY(mm::cuda::select_device(mm_tensor_device(logits).index));
      MM_TRY(mm::cuda::sample_tokens(mm::f32(logits), rows, V, config, static_cast<int32_t*>(mm_tensor_data(ids.t))));
      *out = ids.release();
      return MM_OK;
    }
#endif
    int64_t bad_row = 0;
    const mm::cpu::RowProblem problem =
        mm::cpu::sample_tokens(mm::f32(logits), rows, V, config, static_cast<int32_t*>(mm_tensor_data(ids.t)), &bad_row);
    switch (problem) {
      case mm::cpu::RowProblem::kNone: break;
      case mm::cpu::RowProblem::kNaN: return mm::fail(MM_ERR_ARG, "%s: logits row %lld contains NaN", op, static_cast<long long>(bad_row));
      case mm::cpu::RowProblem::kPositiveInfinity:
        return mm::fail(MM_ERR_ARG, "%s: logits row %lld contains +inf (softmax is undefined)", op, static_cast<long long>(bad_row));
      case mm::cpu::RowProblem::kNoFiniteLogit:
        return mm::fail(MM_ERR_ARG, "%s: logits row %lld has no finite logit (every token is masked with -inf)", op, static_cast<long long>(bad_row));
      case mm::cpu::RowProblem::kOutOfMemory: return mm::fail(MM_ERR_OOM, "%s: out of host memory for the sampling buffers", op);
    }
    *out = ids.release();
    return MM_OK;
  });
}
