// GEMM family: shape checks, batch broadcasting and dispatch (kernels: cpu/gemm.cc).
#include "mmcot/ops/gemm.h"

#include <cstring>
#include <vector>

#include "../cpu/broadcast.h"
#include "../cpu/gemm.h"
#include "check.h"

namespace {

// A product's shapes resolved: the kernel arguments plus the output shape.
struct MatmulPlan {
  mm::cpu::GemmArgs args;
  int out_ndim = 0;
  int64_t out_shape[MM_MAX_DIMS] = {};
  std::vector<int64_t> a_offsets, b_offsets;  // per batch item (empty: one item at offset 0)
};

mm_status plan_matmul(const char* op, const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, MatmulPlan* plan) {
  MM_TRY(mm::check_dtype(op, "a", a, MM_F32));
  MM_TRY(mm::check_dtype(op, "b", b, MM_F32));
  MM_TRY(mm::check_ndim(op, "a", a, 2, MM_MAX_DIMS));
  MM_TRY(mm::check_ndim(op, "b", b, 2, MM_MAX_DIMS));
  MM_TRY(mm::check_same_device(op, "a", a, "b", b));
  const int na = mm_tensor_ndim(a), nb = mm_tensor_ndim(b);
  const int64_t *sa = mm_tensor_shape(a), *sb = mm_tensor_shape(b);
  const int64_t m = trans_a ? sa[na - 1] : sa[na - 2], ka = trans_a ? sa[na - 2] : sa[na - 1];
  const int64_t kb = trans_b ? sb[nb - 1] : sb[nb - 2], n = trans_b ? sb[nb - 2] : sb[nb - 1];
  char fa[256], fb[256];
  if (ka != kb) {
    return mm::fail(MM_ERR_SHAPE, "%s: inner dimensions differ: op(a) is %lld x %lld (a %s%s) but op(b) is %lld x %lld (b %s%s)", op,
                    static_cast<long long>(m), static_cast<long long>(ka), mm::format_shape(fa, sizeof fa, na, sa), trans_a ? ", transposed" : "",
                    static_cast<long long>(kb), static_cast<long long>(n), mm::format_shape(fb, sizeof fb, nb, sb), trans_b ? ", transposed" : "");
  }
  // Batch dimensions: NumPy broadcasting of everything but the last two.
  const int batch_ndim = (na > nb ? na : nb) - 2;
  int64_t batch_shape[MM_MAX_DIMS];
  int64_t batch = 1;
  for (int i = 0; i < batch_ndim; i++) {
    const int ia = i - (batch_ndim - (na - 2)), ib = i - (batch_ndim - (nb - 2));
    const int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      return mm::fail(MM_ERR_SHAPE, "%s: batch dimensions of a %s and b %s do not broadcast (%lld vs %lld)", op, mm::format_shape(fa, sizeof fa, na, sa),
                      mm::format_shape(fb, sizeof fb, nb, sb), static_cast<long long>(da), static_cast<long long>(db));
    }
    batch_shape[i] = da == 1 ? db : da;
    batch *= batch_shape[i];
  }
  plan->out_ndim = batch_ndim + 2;
  std::memcpy(plan->out_shape, batch_shape, sizeof(int64_t) * batch_ndim);
  plan->out_shape[batch_ndim] = m;
  plan->out_shape[batch_ndim + 1] = n;

  mm::cpu::GemmArgs& g = plan->args;
  g.trans_a = trans_a != 0;
  g.trans_b = trans_b != 0;
  g.m = m;
  g.n = n;
  g.k = ka;
  int64_t a_batch = 1, b_batch = 1;
  for (int i = 0; i < na - 2; i++) a_batch *= sa[i];
  for (int i = 0; i < nb - 2; i++) b_batch *= sb[i];
  if (b_batch == 1 && !trans_a) {
    // One shared B (weights): the batch of A rows is one tall product [batch * M, K] @ B.
    g.m = batch * m;
    g.batch = 1;
    return MM_OK;
  }
  g.batch = batch;
  if (batch == 1) return MM_OK;
  // Element offsets of each operand's matrix for every batch item (0 stride where broadcast).
  const mm::cpu::BroadcastOperand ba = mm::cpu::broadcast_strides(na - 2, sa, batch_ndim, batch_shape);
  const mm::cpu::BroadcastOperand bb = mm::cpu::broadcast_strides(nb - 2, sb, batch_ndim, batch_shape);
  plan->a_offsets.resize(static_cast<size_t>(batch));
  plan->b_offsets.resize(static_cast<size_t>(batch));
  const int64_t a_matrix = m * ka, b_matrix = kb * n;
  for (int64_t item = 0; item < batch; item++) {
    int64_t rest = item, oa = 0, ob = 0;
    for (int d = batch_ndim - 1; d >= 0; d--) {
      const int64_t coord = rest % batch_shape[d];
      rest /= batch_shape[d];
      oa += coord * ba.strides[d];
      ob += coord * bb.strides[d];
    }
    plan->a_offsets[static_cast<size_t>(item)] = oa * a_matrix;
    plan->b_offsets[static_cast<size_t>(item)] = ob * b_matrix;
  }
  g.a_offsets = plan->a_offsets.data();
  g.b_offsets = plan->b_offsets.data();
  return MM_OK;
}

void run(MatmulPlan& plan, const mm_tensor* a, const mm_tensor* b, mm_tensor* c, float alpha, float beta) {
  plan.args.alpha = alpha;
  plan.args.beta = beta;
  plan.args.a = static_cast<const float*>(mm_tensor_data_const(a));
  plan.args.b = static_cast<const float*>(mm_tensor_data_const(b));
  plan.args.c = static_cast<float*>(mm_tensor_data(c));
  mm::cpu::gemm(plan.args);
}

bool overlaps(const mm_tensor* x, const mm_tensor* y) {
  const char* px = static_cast<const char*>(mm_tensor_data_const(x));
  const char* py = static_cast<const char*>(mm_tensor_data_const(y));
  return mm_tensor_nbytes(x) > 0 && mm_tensor_nbytes(y) > 0 && px < py + mm_tensor_nbytes(y) && py < px + mm_tensor_nbytes(x);
}

}  // namespace

extern "C" mm_status mm_matmul(const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, float alpha, mm_tensor** out) {
  return mm::guarded("matmul", [&]() -> mm_status {
    MatmulPlan plan;
    MM_TRY(plan_matmul("matmul", a, b, trans_a, trans_b, &plan));
    if (mm::on_cuda(a)) return mm::not_on_cuda_yet("matmul");
    MM_TRY(mm::new_on_device_of(a, MM_F32, plan.out_ndim, plan.out_shape, out));
    run(plan, a, b, *out, alpha, 0.0f);
    return MM_OK;
  });
}

extern "C" mm_status mm_gemm(const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, float alpha, float beta, mm_tensor* c) {
  return mm::guarded("gemm", [&]() -> mm_status {
    MatmulPlan plan;
    MM_TRY(plan_matmul("gemm", a, b, trans_a, trans_b, &plan));
    MM_TRY(mm::check_dtype("gemm", "c", c, MM_F32));
    MM_TRY(mm::check_same_device("gemm", "a", a, "c", c));
    bool same = mm_tensor_ndim(c) == plan.out_ndim;
    for (int i = 0; same && i < plan.out_ndim; i++) same = mm_tensor_shape(c)[i] == plan.out_shape[i];
    if (!same) {
      char want[256], have[256];
      return mm::fail(MM_ERR_SHAPE, "gemm: 'c' has shape %s but the product has shape %s", mm::format_shape(have, sizeof have, mm_tensor_ndim(c), mm_tensor_shape(c)),
                      mm::format_shape(want, sizeof want, plan.out_ndim, plan.out_shape));
    }
    if (overlaps(c, a) || overlaps(c, b)) return mm::fail(MM_ERR_ARG, "gemm: 'c' shares storage with '%s'; write the product to a separate tensor", overlaps(c, a) ? "a" : "b");
    if (mm::on_cuda(a)) return mm::not_on_cuda_yet("gemm");
    run(plan, a, b, c, alpha, beta);
    return MM_OK;
  });
}

extern "C" mm_status mm_gemm_set_kernel(const char* name) {
  if (!name) return mm::fail(MM_ERR_ARG, "gemmKernel: name is null");
  if (std::strcmp(name, "auto") && std::strcmp(name, "avx512") && std::strcmp(name, "avx2") && std::strcmp(name, "scalar")) {
    return mm::fail(MM_ERR_ARG, "gemmKernel: unknown kernel set '%s' (expected auto, avx512, avx2 or scalar)", name);
  }
  if (!mm::cpu::select_gemm_kernel(name)) return mm::fail(MM_ERR_UNSUPPORTED, "gemmKernel: this CPU cannot run the '%s' kernels", name);
  return MM_OK;
}

extern "C" const char* mm_gemm_kernel(void) { return mm::cpu::gemm_kernel_name(); }
