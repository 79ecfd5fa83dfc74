// Loss family: argument checks and dispatch (kernels: cpu/loss.cc).
#include "mmcot/ops/loss.h"

#include <cmath>
#include <memory>
#include <vector>

#include "../cpu/loss.h"
#include "check.h"
#include "dispatch.h"
#include "tensor_util.h"
#if MM_WITH_CUDA
#include "../cuda/loss.h"
#endif

namespace {

using mm::f32;
using mm::i32;
using mm::OwnedTensor;

const char* reduction_name(mm_reduction r) { return r == MM_REDUCTION_NONE ? "none" : r == MM_REDUCTION_MEAN ? "mean" : "sum"; }

mm_status check_reduction(const char* op, mm_reduction reduction) {
  if (reduction < MM_REDUCTION_NONE || reduction > MM_REDUCTION_SUM) {
    return mm::fail(MM_ERR_ARG, "%s: unknown reduction %d (0 none, 1 mean, 2 sum)", op, static_cast<int>(reduction));
  }
  return MM_OK;
}

// logits [..., V] f32 with V >= 1; rows = the product of the leading dims.
mm_status check_logits(const char* op, const mm_tensor* logits, int64_t* rows, int64_t* classes) {
  MM_TRY(mm::check_dtype(op, "logits", logits, MM_F32));
  MM_TRY(mm::check_ndim(op, "logits", logits, 2, MM_MAX_DIMS));
  const int n = mm_tensor_ndim(logits);
  *classes = mm_tensor_shape(logits)[n - 1];
  if (*classes < 1) {
    char buf[256];
    return mm::fail(MM_ERR_SHAPE, "%s: 'logits' must have at least one class in its last dimension, got shape %s", op,
                    mm::format_shape(buf, sizeof buf, n, mm_tensor_shape(logits)));
  }
  if (*classes > INT32_MAX) return mm::fail(MM_ERR_SHAPE, "%s: 'logits' has more classes than i32 ids can name", op);
  *rows = mm_tensor_numel(logits) / *classes;
  return MM_OK;
}

// ids (i32) name one class per row: shape = the leading dims of logits, or [rows].
mm_status check_ids(const char* op, const char* arg, const mm_tensor* logits, const mm_tensor* ids, int64_t rows) {
  MM_TRY(mm::check_dtype(op, arg, ids, MM_I32));
  MM_TRY(mm::check_same_device(op, "logits", logits, arg, ids));
  const int n = mm_tensor_ndim(logits);
  bool leading = mm_tensor_ndim(ids) == n - 1;
  for (int i = 0; leading && i < n - 1; i++) leading = mm_tensor_shape(ids)[i] == mm_tensor_shape(logits)[i];
  const bool flat = mm_tensor_ndim(ids) == 1 && mm_tensor_shape(ids)[0] == rows;
  if (!leading && !flat) {
    char a[256], b[256];
    return mm::fail(MM_ERR_SHAPE, "%s: '%s' has shape %s but 'logits' has shape %s (expected its leading dimensions, or [%lld])", op, arg,
                    mm::format_shape(a, sizeof a, mm_tensor_ndim(ids), mm_tensor_shape(ids)),
                    mm::format_shape(b, sizeof b, n, mm_tensor_shape(logits)), static_cast<long long>(rows));
  }
  return MM_OK;
}

// A gradient that must have `like`'s shape (NONE) or one element (MEAN, SUM).
mm_status check_grad(const char* op, const mm_tensor* grad, const char* like_name, const mm_tensor* like, mm_reduction reduction) {
  MM_TRY(mm::check_dtype(op, "grad", grad, MM_F32));
  MM_TRY(mm::check_same_device(op, like_name, like, "grad", grad));
  if (reduction == MM_REDUCTION_NONE) return mm::check_same_shape(op, like_name, like, "grad", grad);
  if (mm_tensor_numel(grad) != 1) {
    char buf[256];
    return mm::fail(MM_ERR_SHAPE, "%s: 'grad' of a '%s' reduction must have one element, got shape %s", op, reduction_name(reduction),
                    mm::format_shape(buf, sizeof buf, mm_tensor_ndim(grad), mm_tensor_shape(grad)));
  }
  return MM_OK;
}

mm_status check_lse(const char* op, const mm_tensor* logits, const mm_tensor* lse, int64_t rows) {
  MM_TRY(mm::check_dtype(op, "lse", lse, MM_F32));
  MM_TRY(mm::check_same_device(op, "logits", logits, "lse", lse));
  if (mm_tensor_numel(lse) != rows) {
    return mm::fail(MM_ERR_SHAPE, "%s: 'lse' has %lld elements, 'logits' has %lld rows", op, static_cast<long long>(mm_tensor_numel(lse)),
                    static_cast<long long>(rows));
  }
  return MM_OK;
}

// Marks ignored rows in `skip` and checks that every other id is a class index.
mm_status check_id_range(const char* op, const char* arg, const int32_t* ids, int64_t rows, int64_t classes, bool has_ignore,
                         int64_t ignore_index, bool* skip) {
  for (int64_t i = 0; i < rows; i++) {
    skip[i] = has_ignore && ids[i] == ignore_index;
    if (!skip[i] && (ids[i] < 0 || ids[i] >= classes)) {
      if (has_ignore) {
        return mm::fail(MM_ERR_ARG, "%s: %s[%lld] = %d is out of range for %lld classes (expected 0..%lld, or ignoreIndex %lld)", op, arg,
                        static_cast<long long>(i), ids[i], static_cast<long long>(classes), static_cast<long long>(classes - 1),
                        static_cast<long long>(ignore_index));
      }
      return mm::fail(MM_ERR_ARG, "%s: %s[%lld] = %d is out of range for %lld classes (expected 0..%lld)", op, arg, static_cast<long long>(i),
                      ids[i], static_cast<long long>(classes), static_cast<long long>(classes - 1));
    }
  }
  return MM_OK;
}

// Sum over kept rows of the weights (their count without weights): the MEAN normaliser.
double kept_weight(const bool* skip, const float* weights, int64_t rows) {
  double total = 0;
  for (int64_t i = 0; i < rows; i++) {
    if (!skip[i]) total += weights ? weights[i] : 1.0;
  }
  return total;
}

// Logits [..., V], targets with one id per row, optional per-row weights shaped like targets.
mm_status check_cross_entropy_inputs(const char* op, const mm_tensor* logits, const mm_tensor* targets, const mm_tensor* weights,
                                     int64_t* rows, int64_t* classes) {
  MM_TRY(check_logits(op, logits, rows, classes));
  MM_TRY(check_ids(op, "targets", logits, targets, *rows));
  if (weights) {
    MM_TRY(mm::check_dtype(op, "weights", weights, MM_F32));
    MM_TRY(mm::check_same_device(op, "targets", targets, "weights", weights));
    MM_TRY(mm::check_same_shape(op, "targets", targets, "weights", weights));
  }
  return MM_OK;
}

}  // namespace

extern "C" mm_status mm_cross_entropy(const mm_tensor* logits, const mm_tensor* targets, const mm_tensor* weights, int64_t ignore_index,
                                      mm_reduction reduction, mm_tensor** loss, mm_tensor** lse) {
  const char* op = "crossEntropy";
  return mm::guarded(op, [&]() -> mm_status {
    int64_t rows = 0, classes = 0;
    MM_TRY(check_cross_entropy_inputs(op, logits, targets, weights, &rows, &classes));
    MM_TRY(check_reduction(op, reduction));
    OwnedTensor lse_out, loss_out;
    MM_TRY(mm::new_on_device_of(logits, MM_F32, 1, &rows, &lse_out.t));
    if (reduction == MM_REDUCTION_NONE) {
      MM_TRY(mm::new_on_device_of(logits, MM_F32, mm_tensor_ndim(targets), mm_tensor_shape(targets), &loss_out.t));
    } else {
      MM_TRY(mm::new_on_device_of(logits, MM_F32, 0, nullptr, &loss_out.t));
    }
#if MM_WITH_CUDA
    if (mm::on_cuda(logits)) {
      // Targets are checked on the device (an out-of-range one raises at the next host wait).
      MM_TRY(mm::cuda::select_device(mm_tensor_device(logits).index));
      MM_TRY(mm::cuda::cross_entropy(f32(logits), rows, classes, i32(targets), weights ? f32(weights) : nullptr, true, ignore_index, reduction, false,
                                     mm::f32_mut(lse_out.t), mm::f32_mut(loss_out.t)));
      *loss = loss_out.release();
      *lse = lse_out.release();
      return MM_OK;
    }
#endif
    const int32_t* ids = i32(targets);
    const float* w = weights ? f32(weights) : nullptr;
    std::unique_ptr<bool[]> skip(new bool[static_cast<size_t>(rows)]);
    MM_TRY(check_id_range(op, "targets", ids, rows, classes, true, ignore_index, skip.get()));
    std::vector<double> logp(static_cast<size_t>(rows));
    mm::cpu::log_softmax_gather(f32(logits), rows, classes, ids, skip.get(), mm::f32_mut(lse_out.t), logp.data());
    float* out = mm::f32_mut(loss_out.t);
    if (reduction == MM_REDUCTION_NONE) {
      for (int64_t i = 0; i < rows; i++) out[i] = skip[i] ? 0.0f : static_cast<float>(-logp[i] * (w ? w[i] : 1.0));
    } else {
      double total = 0;
      for (int64_t i = 0; i < rows; i++) {
        if (!skip[i]) total += -logp[i] * (w ? w[i] : 1.0);
      }
      if (reduction == MM_REDUCTION_MEAN) {
        const double norm = kept_weight(skip.get(), w, rows);
        total = norm == 0 ? 0.0 : total / norm;
      }
      out[0] = static_cast<float>(total);
    }
    *loss = loss_out.release();
    *lse = lse_out.release();
    return MM_OK;
  });
}

extern "C" mm_status mm_cross_entropy_backward(const mm_tensor* logits, const mm_tensor* targets, const mm_tensor* weights,
                                               const mm_tensor* lse, const mm_tensor* grad, int64_t ignore_index, mm_reduction reduction,
                                               mm_tensor** grad_logits) {
  const char* op = "crossEntropy backward";
  return mm::guarded(op, [&]() -> mm_status {
    int64_t rows = 0, classes = 0;
    MM_TRY(check_cross_entropy_inputs(op, logits, targets, weights, &rows, &classes));
    MM_TRY(check_lse(op, logits, lse, rows));
    MM_TRY(check_reduction(op, reduction));
    MM_TRY(check_grad(op, grad, "targets", targets, reduction));
#if MM_WITH_CUDA
    if (mm::on_cuda(logits)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(logits).index));
      OwnedTensor out;
      MM_TRY(mm::new_on_device_of(logits, MM_F32, mm_tensor_ndim(logits), mm_tensor_shape(logits), &out.t));
      MM_TRY(mm::cuda::cross_entropy_backward(f32(logits), rows, classes, i32(targets), weights ? f32(weights) : nullptr, true, ignore_index, reduction,
                                              false, f32(lse), f32(grad), mm::f32_mut(out.t)));
      *grad_logits = out.release();
      return MM_OK;
    }
#endif
    const int32_t* ids = i32(targets);
    const float* w = weights ? f32(weights) : nullptr;
    const float* g = f32(grad);
    std::unique_ptr<bool[]> skip(new bool[static_cast<size_t>(rows)]);
    MM_TRY(check_id_range(op, "targets", ids, rows, classes, true, ignore_index, skip.get()));
    double uniform = g[0];
    if (reduction == MM_REDUCTION_MEAN) {
      const double norm = kept_weight(skip.get(), w, rows);
      uniform = norm == 0 ? 0.0 : uniform / norm;
    }
    std::vector<double> row_scale(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; i++) {
      const double per_row = reduction == MM_REDUCTION_NONE ? g[i] : uniform;
      row_scale[i] = skip[i] ? 0.0 : per_row * (w ? w[i] : 1.0);
    }
    MM_TRY(mm::new_on_device_of(logits, MM_F32, mm_tensor_ndim(logits), mm_tensor_shape(logits), grad_logits));
    mm::cpu::softmax_minus_onehot(f32(logits), rows, classes, ids, f32(lse), row_scale.data(), mm::f32_mut(*grad_logits));
    return MM_OK;
  });
}

extern "C" mm_status mm_token_log_probs(const mm_tensor* logits, const mm_tensor* tokens, mm_tensor** logp, mm_tensor** lse) {
  const char* op = "tokenLogProbs";
  return mm::guarded(op, [&]() -> mm_status {
    int64_t rows = 0, classes = 0;
    MM_TRY(check_logits(op, logits, &rows, &classes));
    MM_TRY(check_ids(op, "tokens", logits, tokens, rows));
    OwnedTensor lse_out, logp_out;
    MM_TRY(mm::new_on_device_of(logits, MM_F32, 1, &rows, &lse_out.t));
    MM_TRY(mm::new_on_device_of(logits, MM_F32, mm_tensor_ndim(tokens), mm_tensor_shape(tokens), &logp_out.t));
#if MM_WITH_CUDA
    if (mm::on_cuda(logits)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(logits).index));
      MM_TRY(mm::cuda::cross_entropy(f32(logits), rows, classes, i32(tokens), nullptr, false, 0, MM_REDUCTION_NONE, true, mm::f32_mut(lse_out.t),
                                     mm::f32_mut(logp_out.t)));
      *logp = logp_out.release();
      *lse = lse_out.release();
      return MM_OK;
    }
#endif
    std::unique_ptr<bool[]> skip(new bool[static_cast<size_t>(rows)]);
    MM_TRY(check_id_range(op, "tokens", i32(tokens), rows, classes, false, 0, skip.get()));
    std::vector<double> values(static_cast<size_t>(rows));
    mm::cpu::log_softmax_gather(f32(logits), rows, classes, i32(tokens), nullptr, mm::f32_mut(lse_out.t), values.data());
    float* out = mm::f32_mut(logp_out.t);
    for (int64_t i = 0; i < rows; i++) out[i] = static_cast<float>(values[i]);
    *logp = logp_out.release();
    *lse = lse_out.release();
    return MM_OK;
  });
}

extern "C" mm_status mm_token_log_probs_backward(const mm_tensor* logits, const mm_tensor* tokens, const mm_tensor* lse, const mm_tensor* grad,
                                                 mm_tensor** grad_logits) {
  const char* op = "tokenLogProbs backward";
  return mm::guarded(op, [&]() -> mm_status {
    int64_t rows = 0, classes = 0;
    MM_TRY(check_logits(op, logits, &rows, &classes));
    MM_TRY(check_ids(op, "tokens", logits, tokens, rows));
    MM_TRY(check_lse(op, logits, lse, rows));
    MM_TRY(check_grad(op, grad, "tokens", tokens, MM_REDUCTION_NONE));
#if MM_WITH_CUDA
    if (mm::on_cuda(logits)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(logits).index));
      OwnedTensor out;
      MM_TRY(mm::new_on_device_of(logits, MM_F32, mm_tensor_ndim(logits), mm_tensor_shape(logits), &out.t));
      MM_TRY(mm::cuda::cross_entropy_backward(f32(logits), rows, classes, i32(tokens), nullptr, false, 0, MM_REDUCTION_NONE, true, f32(lse), f32(grad),
                                              mm::f32_mut(out.t)));
      *grad_logits = out.release();
      return MM_OK;
    }
#endif
    std::unique_ptr<bool[]> skip(new bool[static_cast<size_t>(rows)]);
    MM_TRY(check_id_range(op, "tokens", i32(tokens), rows, classes, false, 0, skip.get()));
    // d logp / d logits = onehot - softmax: the cross-entropy kernel with the sign flipped.
    const float* g = f32(grad);
    std::vector<double> row_scale(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; i++) row_scale[i] = -static_cast<double>(g[i]);
    MM_TRY(mm::new_on_device_of(logits, MM_F32, mm_tensor_ndim(logits), mm_tensor_shape(logits), grad_logits));
    mm::cpu::softmax_minus_onehot(f32(logits), rows, classes, i32(tokens), f32(lse), row_scale.data(), mm::f32_mut(*grad_logits));
    return MM_OK;
  });
}

namespace {

mm_status check_pair(const char* op, const mm_tensor* a, const mm_tensor* b) {
  MM_TRY(mm::check_dtype(op, "a", a, MM_F32));
  MM_TRY(mm::check_dtype(op, "b", b, MM_F32));
  MM_TRY(mm::check_same_device(op, "a", a, "b", b));
  return mm::check_same_shape(op, "a", a, "b", b);
}

// Rows over the last dimension (cosine distance): a has at least one dimension.
mm_status rows_of(const char* op, const mm_tensor* a, int64_t* rows, int64_t* D) {
  MM_TRY(mm::check_ndim(op, "a", a, 1, MM_MAX_DIMS));
  *D = mm_tensor_shape(a)[mm_tensor_ndim(a) - 1];
  *rows = 1;
  for (int i = 0; i < mm_tensor_ndim(a) - 1; i++) *rows *= mm_tensor_shape(a)[i];
  return MM_OK;
}

// a and b [..., D] of one shape, a valid reduction and eps > 0; rows = numel / D.
mm_status check_cosine_inputs(const char* op, const mm_tensor* a, const mm_tensor* b, double eps, mm_reduction reduction, int64_t* rows,
                              int64_t* D) {
  MM_TRY(check_pair(op, a, b));
  MM_TRY(check_reduction(op, reduction));
  if (!(eps > 0) || !std::isfinite(eps)) return mm::fail(MM_ERR_ARG, "%s: eps must be a finite number > 0, got %g", op, eps);
  return rows_of(op, a, rows, D);
}

}  // namespace

extern "C" mm_status mm_mse_loss(const mm_tensor* a, const mm_tensor* b, mm_reduction reduction, mm_tensor** out) {
  const char* op = "mseLoss";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(check_pair(op, a, b));
    MM_TRY(check_reduction(op, reduction));
    const int64_t n = mm_tensor_numel(a);
#if MM_WITH_CUDA
    if (mm::on_cuda(a)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(a).index));
      OwnedTensor o;
      if (reduction == MM_REDUCTION_NONE) {
        MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a), mm_tensor_shape(a), &o.t));
      } else {
        MM_TRY(mm::new_on_device_of(a, MM_F32, 0, nullptr, &o.t));
      }
      MM_TRY(mm::cuda::mse_loss(f32(a), f32(b), n, reduction, mm::f32_mut(o.t)));
      *out = o.release();
      return MM_OK;
    }
#endif
    if (reduction == MM_REDUCTION_NONE) {
      MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a), mm_tensor_shape(a), out));
      mm::cpu::squared_error(f32(a), f32(b), n, mm::f32_mut(*out));
      return MM_OK;
    }
    MM_TRY(mm::new_on_device_of(a, MM_F32, 0, nullptr, out));
    const double total = mm::cpu::squared_error(f32(a), f32(b), n, nullptr);
    mm::f32_mut(*out)[0] = static_cast<float>(reduction == MM_REDUCTION_SUM ? total : n == 0 ? 0.0 : total / static_cast<double>(n));
    return MM_OK;
  });
}

extern "C" mm_status mm_mse_loss_backward(const mm_tensor* a, const mm_tensor* b, const mm_tensor* grad, mm_reduction reduction,
                                          mm_tensor** grad_a) {
  const char* op = "mseLoss backward";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(check_pair(op, a, b));
    MM_TRY(check_reduction(op, reduction));
    MM_TRY(check_grad(op, grad, "a", a, reduction));
    const int64_t n = mm_tensor_numel(a);
#if MM_WITH_CUDA
    if (mm::on_cuda(a)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(a).index));
      OwnedTensor o;
      MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a), mm_tensor_shape(a), &o.t));
      MM_TRY(mm::cuda::mse_loss_backward(f32(a), f32(b), n, reduction, f32(grad), mm::f32_mut(o.t)));
      *grad_a = o.release();
      return MM_OK;
    }
#endif
    MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a), mm_tensor_shape(a), grad_a));
    // d/da of (a - b)^2 is 2 (a - b), times the upstream gradient (and 1/n for the mean).
    if (reduction == MM_REDUCTION_NONE) {
      mm::cpu::scaled_difference(f32(a), f32(b), n, 2.0, f32(grad), mm::f32_mut(*grad_a));
    } else {
      const double g = f32(grad)[0];
      const double scale = reduction == MM_REDUCTION_SUM ? 2.0 * g : 2.0 * g / static_cast<double>(n == 0 ? 1 : n);
      mm::cpu::scaled_difference(f32(a), f32(b), n, scale, nullptr, mm::f32_mut(*grad_a));
    }
    return MM_OK;
  });
}

extern "C" mm_status mm_cosine_distance(const mm_tensor* a, const mm_tensor* b, double eps, mm_reduction reduction, mm_tensor** out) {
  const char* op = "cosineDistance";
  return mm::guarded(op, [&]() -> mm_status {
    int64_t rows = 0, D = 0;
    MM_TRY(check_cosine_inputs(op, a, b, eps, reduction, &rows, &D));
#if MM_WITH_CUDA
    if (mm::on_cuda(a)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(a).index));
      OwnedTensor o;
      if (reduction == MM_REDUCTION_NONE) {
        MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a) - 1, mm_tensor_shape(a), &o.t));
      } else {
        MM_TRY(mm::new_on_device_of(a, MM_F32, 0, nullptr, &o.t));
      }
      MM_TRY(mm::cuda::cosine_distance(f32(a), f32(b), rows, D, eps, reduction, mm::f32_mut(o.t)));
      *out = o.release();
      return MM_OK;
    }
#endif
    std::vector<double> distance(static_cast<size_t>(rows));
    mm::cpu::cosine_distance_rows(f32(a), f32(b), rows, D, eps, distance.data());
    if (reduction == MM_REDUCTION_NONE) {
      MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a) - 1, mm_tensor_shape(a), out));
      float* o = mm::f32_mut(*out);
      for (int64_t i = 0; i < rows; i++) o[i] = static_cast<float>(distance[i]);
      return MM_OK;
    }
    double total = 0;
    for (double d : distance) total += d;
    if (reduction == MM_REDUCTION_MEAN) total = rows == 0 ? 0.0 : total / static_cast<double>(rows);
    MM_TRY(mm::new_on_device_of(a, MM_F32, 0, nullptr, out));
    mm::f32_mut(*out)[0] = static_cast<float>(total);
    return MM_OK;
  });
}

extern "C" mm_status mm_cosine_distance_backward(const mm_tensor* a, const mm_tensor* b, const mm_tensor* grad, double eps, mm_reduction reduction,
                                                 mm_tensor** grad_a) {
  const char* op = "cosineDistance backward";
  return mm::guarded(op, [&]() -> mm_status {
    int64_t rows = 0, D = 0;
    MM_TRY(check_cosine_inputs(op, a, b, eps, reduction, &rows, &D));
    MM_TRY(mm::check_dtype(op, "grad", grad, MM_F32));
    MM_TRY(mm::check_same_device(op, "a", a, "grad", grad));
    const int64_t expected = reduction == MM_REDUCTION_NONE ? rows : 1;
    if (mm_tensor_numel(grad) != expected) {
      return mm::fail(MM_ERR_SHAPE, "%s: 'grad' has %lld elements, expected %lld (reduction '%s')", op, static_cast<long long>(mm_tensor_numel(grad)),
                      static_cast<long long>(expected), reduction_name(reduction));
    }
#if MM_WITH_CUDA
    if (mm::on_cuda(a)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(a).index));
      OwnedTensor o;
      MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a), mm_tensor_shape(a), &o.t));
      MM_TRY(mm::cuda::cosine_distance_backward(f32(a), f32(b), rows, D, eps, reduction, f32(grad), mm::f32_mut(o.t)));
      *grad_a = o.release();
      return MM_OK;
    }
#endif
    MM_TRY(mm::new_on_device_of(a, MM_F32, mm_tensor_ndim(a), mm_tensor_shape(a), grad_a));
    const float* g = f32(grad);
    const double scale = reduction == MM_REDUCTION_NONE ? 1.0 : reduction == MM_REDUCTION_SUM ? g[0] : rows == 0 ? 0.0 : g[0] / static_cast<double>(rows);
    mm::cpu::cosine_distance_grad(f32(a), f32(b), rows, D, eps, scale, reduction == MM_REDUCTION_NONE ? g : nullptr, mm::f32_mut(*grad_a));
    return MM_OK;
  });
}
