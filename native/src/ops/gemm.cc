// GEMM family: shape checks, batch broadcasting and dispatch (kernels: cpu/gemm.cc,
// cuda/gemm.cu). f32, or bf16 operands and result (fp32 accumulation, one rounding; on the CPU
// through the f32 kernel, see run_cpu_bf16).
#include "mmcot/ops/gemm.h"

#include <cstring>
#include <vector>

#include "../core/batch_index.h"
#include "../core/convert.h"
#include "../core/thread_pool.h"
#include "../cpu/broadcast.h"
#include "../cpu/gemm.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/gemm.h"
#endif

namespace {

// A product's shapes resolved: the kernel arguments plus the output shape and the batch
// broadcasting (each operand's strides in matrices over the broadcast batch shape).
struct MatmulPlan {
  mm_dtype dtype = MM_F32;
  mm::cpu::GemmArgs args;
  int out_ndim = 0;
  int64_t out_shape[MM_MAX_DIMS] = {};
  mm::GemmBatchIndex index;  // ndim 0 when the batch folds into the rows or there is one item
  std::vector<int64_t> a_offsets, b_offsets;  // CPU: per batch item (empty: one item at offset 0)
};

mm_status check_float_dtype(const char* op, const char* arg, const mm_tensor* t) {
  MM_TRY(mm::check_tensor(op, arg, t));
  const mm_dtype d = mm_tensor_dtype(t);
  if (d == MM_F32 || d == MM_BF16) return MM_OK;
  return mm::fail(MM_ERR_DTYPE, "%s: '%s' must be f32 or bf16, got %s", op, arg, mm_dtype_name(d));
}

mm_status check_same_dtype(const char* op, const char* arg_a, const mm_tensor* a, const char* arg_b, const mm_tensor* b) {
  if (mm_tensor_dtype(a) == mm_tensor_dtype(b)) return MM_OK;
  return mm::fail(MM_ERR_DTYPE, "%s: '%s' is %s but '%s' is %s; both must have the same dtype (cast one)", op, arg_a,
                  mm_dtype_name(mm_tensor_dtype(a)), arg_b, mm_dtype_name(mm_tensor_dtype(b)));
}

mm_status plan_matmul(const char* op, const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, MatmulPlan* plan) {
  MM_TRY(check_float_dtype(op, "a", a));
  MM_TRY(check_float_dtype(op, "b", b));
  MM_TRY(check_same_dtype(op, "a", a, "b", b));
  MM_TRY(mm::check_ndim(op, "a", a, 2, MM_MAX_DIMS));
  MM_TRY(mm::check_ndim(op, "b", b, 2, MM_MAX_DIMS));
  MM_TRY(mm::check_same_device(op, "a", a, "b", b));
  plan->dtype = mm_tensor_dtype(a);
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
  int64_t* batch_shape = plan->index.shape;
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
  plan->index.ndim = batch_ndim;
  const mm::cpu::BroadcastOperand a_strides = mm::cpu::broadcast_strides(na - 2, sa, batch_ndim, batch_shape);
  const mm::cpu::BroadcastOperand b_strides = mm::cpu::broadcast_strides(nb - 2, sb, batch_ndim, batch_shape);
  std::memcpy(plan->index.a_stride, a_strides.strides, sizeof(int64_t) * batch_ndim);
  std::memcpy(plan->index.b_stride, b_strides.strides, sizeof(int64_t) * batch_ndim);
  return MM_OK;
}

// The CPU kernel's per-item element offsets of A and B (0 stride where broadcast).
void cpu_offsets(MatmulPlan& plan) {
  mm::cpu::GemmArgs& g = plan.args;
  if (plan.index.ndim == 0) return;
  plan.a_offsets.resize(static_cast<size_t>(g.batch));
  plan.b_offsets.resize(static_cast<size_t>(g.batch));
  const int64_t a_matrix = g.m * g.k, b_matrix = g.k * g.n;
  for (int64_t item = 0; item < g.batch; item++) {
    int64_t oa, ob;
    plan.index.offsets(item, &oa, &ob);
    plan.a_offsets[static_cast<size_t>(item)] = oa * a_matrix;
    plan.b_offsets[static_cast<size_t>(item)] = ob * b_matrix;
  }
  g.a_offsets = plan.a_offsets.data();
  g.b_offsets = plan.b_offsets.data();
}

// bf16 on the CPU, for programs that also run on CUDA: the operands widened to f32 (exactly), the
// f32 kernel, and the result rounded to bf16 once (C is widened first when beta reads it), so
// the arithmetic is the CUDA kernels' (fp32 accumulation, one rounding) in another order.
void widen(const mm_tensor* t, std::vector<float>& out) {
  const int64_t n = mm_tensor_numel(t);
  const uint16_t* src = static_cast<const uint16_t*>(mm_tensor_data_const(t));
  out.resize(static_cast<size_t>(n));
  mm::parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) out[static_cast<size_t>(i)] = mm::bf16_bits_to_f32(src[i]);
  });
}

void run_cpu_bf16(mm::cpu::GemmArgs g, const mm_tensor* a, const mm_tensor* b, mm_tensor* c) {
  std::vector<float> fa, fb, fc;
  widen(a, fa);
  widen(b, fb);
  if (g.beta != 0.0f) {
    widen(c, fc);
  } else {
    fc.resize(static_cast<size_t>(mm_tensor_numel(c)));
  }
  g.a = fa.data();
  g.b = fb.data();
  g.c = fc.data();
  mm::cpu::gemm(g);
  uint16_t* dst = static_cast<uint16_t*>(mm_tensor_data(c));
  mm::parallel_for(static_cast<int64_t>(fc.size()), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) dst[i] = mm::f32_to_bf16_bits(fc[static_cast<size_t>(i)]);
  });
}

mm_status run(MatmulPlan& plan, const mm_tensor* a, const mm_tensor* b, mm_tensor* c, float alpha, float beta) {
  plan.args.alpha = alpha;
  plan.args.beta = beta;
#if MM_WITH_CUDA
  if (mm::on_cuda(a)) {
    mm::cuda::GemmArgs g;
    g.dtype = plan.dtype;
    g.trans_a = plan.args.trans_a;
    g.trans_b = plan.args.trans_b;
    g.m = plan.args.m;
    g.n = plan.args.n;
    g.k = plan.args.k;
    g.alpha = alpha;
    g.beta = beta;
    g.a = mm_tensor_data_const(a);
    g.b = mm_tensor_data_const(b);
    g.c = mm_tensor_data(c);
    g.batch = plan.args.batch;
    g.index = plan.index;
    MM_TRY(mm::cuda::select_device(mm_tensor_device(a).index));
    return mm::cuda::gemm(g);
  }
#endif
  cpu_offsets(plan);
  if (plan.dtype == MM_BF16) {
    run_cpu_bf16(plan.args, a, b, c);
    return MM_OK;
  }
  plan.args.a = static_cast<const float*>(mm_tensor_data_const(a));
  plan.args.b = static_cast<const float*>(mm_tensor_data_const(b));
  plan.args.c = static_cast<float*>(mm_tensor_data(c));
  mm::cpu::gemm(plan.args);
  return MM_OK;
}

bool overlaps(const mm_tensor* x, const mm_tensor* y) {
  const char* px = static_cast<const char*>(mm_tensor_data_const(x));
  const char* py = static_cast<const char*>(mm_tensor_data_const(y));
  return mm_tensor_nbytes(x) > 0 && mm_tensor_nbytes(y) > 0 && px < py + mm_tensor_nbytes(y) && py < px + mm_tensor_nbytes(x);
}

bool is_cpu_kernel_name(const char* name) {
  return !std::strcmp(name, "avx512") || !std::strcmp(name, "avx2") || !std::strcmp(name, "scalar");
}

}  // namespace

extern "C" mm_status mm_matmul(const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, float alpha, mm_tensor** out) {
  return mm::guarded("matmul", [&]() -> mm_status {
    MatmulPlan plan;
    MM_TRY(plan_matmul("matmul", a, b, trans_a, trans_b, &plan));
    MM_TRY(mm::new_on_device_of(a, plan.dtype, plan.out_ndim, plan.out_shape, out));
    const mm_status status = run(plan, a, b, *out, alpha, 0.0f);
    if (status != MM_OK) {
      mm_tensor_free(*out);
      *out = nullptr;
    }
    return status;
  });
}

extern "C" mm_status mm_gemm(const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, float alpha, float beta, mm_tensor* c) {
  return mm::guarded("gemm", [&]() -> mm_status {
    MatmulPlan plan;
    MM_TRY(plan_matmul("gemm", a, b, trans_a, trans_b, &plan));
    MM_TRY(check_float_dtype("gemm", "c", c));
    MM_TRY(check_same_dtype("gemm", "a", a, "c", c));
    MM_TRY(mm::check_same_device("gemm", "a", a, "c", c));
    bool same = mm_tensor_ndim(c) == plan.out_ndim;
    for (int i = 0; same && i < plan.out_ndim; i++) same = mm_tensor_shape(c)[i] == plan.out_shape[i];
    if (!same) {
      char want[256], have[256];
      return mm::fail(MM_ERR_SHAPE, "gemm: 'c' has shape %s but the product has shape %s", mm::format_shape(have, sizeof have, mm_tensor_ndim(c), mm_tensor_shape(c)),
                      mm::format_shape(want, sizeof want, plan.out_ndim, plan.out_shape));
    }
    if (overlaps(c, a) || overlaps(c, b)) return mm::fail(MM_ERR_ARG, "gemm: 'c' shares storage with '%s'; write the product to a separate tensor", overlaps(c, a) ? "a" : "b");
    return run(plan, a, b, c, alpha, beta);
  });
}

extern "C" mm_status mm_gemm_set_kernel(const char* name) {
  if (!name) return mm::fail(MM_ERR_ARG, "gemmKernel: name is null");
  if (!std::strcmp(name, "auto")) {
    mm::cpu::select_gemm_kernel("auto");
#if MM_WITH_CUDA
    MM_TRY(mm::cuda::set_gemm_kernel("auto"));
#endif
    return MM_OK;
  }
  if (is_cpu_kernel_name(name)) {
    if (!mm::cpu::select_gemm_kernel(name)) return mm::fail(MM_ERR_UNSUPPORTED, "gemmKernel: this CPU cannot run the '%s' kernels", name);
    return MM_OK;
  }
#if MM_WITH_CUDA
  if (mm::cuda::is_gemm_kernel_name(name)) return mm::cuda::set_gemm_kernel(name);
#else
  if (!std::strcmp(name, "cublaslt") || !std::strcmp(name, "tiled") || !std::strcmp(name, "wmma")) {
    return mm::fail(MM_ERR_UNSUPPORTED, "gemmKernel: '%s' is a CUDA kernel and this build has no CUDA backend", name);
  }
#endif
  return mm::fail(MM_ERR_ARG,
                  "gemmKernel: unknown kernel set '%s' (expected auto, avx512, avx2 or scalar for the CPU; cublaslt, tiled or wmma for CUDA)", name);
}

extern "C" const char* mm_gemm_kernel(void) { return mm::cpu::gemm_kernel_name(); }

extern "C" const char* mm_gemm_cuda_kernel(void) {
#if MM_WITH_CUDA
  return mm::cuda::gemm_kernel_name();
#else
  return "none";
#endif
}
