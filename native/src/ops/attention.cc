// Attention family: argument checks and dispatch (kernels: cpu/attention.cc).
#include "mmcot/ops/attention.h"

#include <cmath>
#include <cstdio>

#include "../cpu/attention.h"
#include "check.h"

namespace {

const int64_t* dims(const mm_tensor* t) { return mm_tensor_shape(t); }

mm_status shape_error(const char* op, const char* what, const char* arg, const mm_tensor* t, const char* expected) {
  char buf[256];
  return mm::fail(MM_ERR_SHAPE, "%s: %s: '%s' has shape %s, expected %s", op, what, arg,
                  mm::format_shape(buf, sizeof buf, mm_tensor_ndim(t), dims(t)), expected);
}

// Checks q, k, v (and the options) and fills the problem description.
mm_status check_problem(const char* op, const mm_tensor* q, const mm_tensor* k, const mm_tensor* v, const mm_attention_options* o,
                        mm::cpu::AttentionProblem* p) {
  if (!o) return mm::fail(MM_ERR_ARG, "%s: options is null", op);
  MM_TRY(mm::check_dtype(op, "q", q, MM_F32));
  MM_TRY(mm::check_dtype(op, "k", k, MM_F32));
  MM_TRY(mm::check_dtype(op, "v", v, MM_F32));
  MM_TRY(mm::check_ndim(op, "q", q, 4, 4));
  MM_TRY(mm::check_ndim(op, "k", k, 4, 4));
  MM_TRY(mm::check_same_shape(op, "k", k, "v", v));
  MM_TRY(mm::check_same_device(op, "q", q, "k", k));
  MM_TRY(mm::check_same_device(op, "q", q, "v", v));
  const int64_t* qs = dims(q);
  const int64_t* ks = dims(k);
  char sq[256], sk[256];
  mm::format_shape(sq, sizeof sq, 4, qs);
  mm::format_shape(sk, sizeof sk, 4, ks);
  if (ks[0] != qs[0]) return mm::fail(MM_ERR_SHAPE, "%s: 'q' %s and 'k' %s have different batch sizes (q is [B, H, Tq, D], k and v [B, Hkv, Tk, D])", op, sq, sk);
  if (ks[3] != qs[3]) return mm::fail(MM_ERR_SHAPE, "%s: 'q' %s and 'k' %s have different head dims D (last dimension)", op, sq, sk);
  if (qs[3] < 1) return mm::fail(MM_ERR_SHAPE, "%s: the head dim D of 'q' %s must be at least 1", op, sq);
  if (ks[1] < 1 || qs[1] % ks[1] != 0) {
    return mm::fail(MM_ERR_SHAPE, "%s: 'k' %s has %lld heads, which must divide the %lld heads of 'q' %s (grouped-query attention)", op, sk,
                    static_cast<long long>(ks[1]), static_cast<long long>(qs[1]), sq);
  }
  if (ks[2] < 1) return mm::fail(MM_ERR_SHAPE, "%s: 'k' %s has no keys (dimension 2 must be at least 1)", op, sk);
  if (!std::isfinite(o->scale)) return mm::fail(MM_ERR_ARG, "%s: scale must be finite, got %g", op, static_cast<double>(o->scale));
  if (o->kv_length < 0 || o->kv_length > ks[2]) {
    return mm::fail(MM_ERR_ARG, "%s: kvLength must be in [1, %lld] (the rows of 'k' %s) or 0 for all, got %lld", op, static_cast<long long>(ks[2]), sk,
                    static_cast<long long>(o->kv_length));
  }
  const int64_t Tk = o->kv_length ? o->kv_length : ks[2];
  if (o->causal && qs[2] > Tk) {
    return mm::fail(MM_ERR_SHAPE, "%s: causal attention needs Tq <= Tk (the queries are the last Tq of the Tk positions), got Tq %lld and Tk %lld", op,
                    static_cast<long long>(qs[2]), static_cast<long long>(Tk));
  }
  *p = mm::cpu::AttentionProblem{qs[0], qs[1], ks[1], qs[2], Tk, qs[3], ks[2], o->causal != 0, nullptr, 0, o->scale};
  if (o->mask) {
    const mm_tensor* m = o->mask;
    MM_TRY(mm::check_dtype(op, "mask", m, MM_F32));
    MM_TRY(mm::check_same_device(op, "q", q, "mask", m));
    const int n = mm_tensor_ndim(m);
    const int64_t* ms = dims(m);
    char expected[160];
    snprintf(expected, sizeof expected, "[Tq, Tk] = [%lld, %lld] or [B, Tq, Tk] = [%lld, %lld, %lld] (an additive f32 mask)",
             static_cast<long long>(p->Tq), static_cast<long long>(Tk), static_cast<long long>(p->B), static_cast<long long>(p->Tq),
             static_cast<long long>(Tk));
    const bool fits = (n == 2 && ms[0] == p->Tq && ms[1] == Tk) || (n == 3 && ms[0] == p->B && ms[1] == p->Tq && ms[2] == Tk);
    if (!fits) return shape_error(op, "wrong mask shape", "mask", m, expected);
    p->mask = static_cast<const float*>(mm_tensor_data_const(m));
    p->mask_batch_stride = n == 3 ? p->Tq * Tk : 0;
  }
  return MM_OK;
}

}  // namespace

extern "C" mm_status mm_attention_forward(const mm_tensor* q, const mm_tensor* k, const mm_tensor* v, const mm_attention_options* options,
                                          mm_tensor** out, mm_tensor** lse) {
  const char* op = "attention";
  return mm::guarded(op, [&]() -> mm_status {
    if (!out || !lse) return mm::fail(MM_ERR_ARG, "%s: output pointers are null", op);
    mm::cpu::AttentionProblem p{};
    MM_TRY(check_problem(op, q, k, v, options, &p));
    if (mm::on_cuda(q)) return mm::not_on_cuda_yet(op);
    MM_TRY(mm::new_on_device_of(q, MM_F32, 4, dims(q), out));
    const mm_status s = mm::new_on_device_of(q, MM_F32, 3, dims(q), lse);
    if (s != MM_OK) {
      mm_tensor_free(*out);
      *out = nullptr;
      return s;
    }
    if (!mm::cpu::attention_forward(p, static_cast<const float*>(mm_tensor_data_const(q)), static_cast<const float*>(mm_tensor_data_const(k)),
                                    static_cast<const float*>(mm_tensor_data_const(v)), static_cast<float*>(mm_tensor_data(*out)),
                                    static_cast<float*>(mm_tensor_data(*lse)))) {
      mm_tensor_free(*out);
      mm_tensor_free(*lse);
      *out = *lse = nullptr;
      return mm::fail(MM_ERR_OOM, "%s: out of host memory for scratch buffers", op);
    }
    return MM_OK;
  });
}

extern "C" mm_status mm_attention_backward(const mm_tensor* dout, const mm_tensor* q, const mm_tensor* k, const mm_tensor* v,
                                           const mm_tensor* out, const mm_tensor* lse, const mm_attention_options* options, mm_tensor** dq,
                                           mm_tensor** dk, mm_tensor** dv) {
  const char* op = "attentionBackward";
  return mm::guarded(op, [&]() -> mm_status {
    if (!dq || !dk || !dv) return mm::fail(MM_ERR_ARG, "%s: output pointers are null", op);
    mm::cpu::AttentionProblem p{};
    MM_TRY(check_problem(op, q, k, v, options, &p));
    MM_TRY(mm::check_dtype(op, "dout", dout, MM_F32));
    MM_TRY(mm::check_dtype(op, "out", out, MM_F32));
    MM_TRY(mm::check_dtype(op, "lse", lse, MM_F32));
    MM_TRY(mm::check_same_shape(op, "q", q, "dout", dout));
    MM_TRY(mm::check_same_shape(op, "q", q, "out", out));
    const int64_t* qs = dims(q);
    if (mm_tensor_ndim(lse) != 3 || dims(lse)[0] != qs[0] || dims(lse)[1] != qs[1] || dims(lse)[2] != qs[2]) {
      char expected[96];
      snprintf(expected, sizeof expected, "[B, H, Tq] = [%lld, %lld, %lld]", static_cast<long long>(qs[0]), static_cast<long long>(qs[1]),
               static_cast<long long>(qs[2]));
      return shape_error(op, "wrong saved log-sum-exp", "lse", lse, expected);
    }
    MM_TRY(mm::check_same_device(op, "q", q, "dout", dout));
    MM_TRY(mm::check_same_device(op, "q", q, "out", out));
    MM_TRY(mm::check_same_device(op, "q", q, "lse", lse));
    if (mm::on_cuda(q)) return mm::not_on_cuda_yet(op);
    mm_tensor* grads[3] = {nullptr, nullptr, nullptr};
    auto release = [&](mm_status s) {
      for (mm_tensor*& g : grads) {
        mm_tensor_free(g);
        g = nullptr;
      }
      return s;
    };
    mm_status s = mm::new_on_device_of(q, MM_F32, 4, qs, &grads[0]);
    if (s == MM_OK) s = mm::new_on_device_of(k, MM_F32, 4, dims(k), &grads[1]);
    if (s == MM_OK) s = mm::new_on_device_of(v, MM_F32, 4, dims(v), &grads[2]);
    if (s != MM_OK) return release(s);
    const auto in = [](const mm_tensor* t) { return static_cast<const float*>(mm_tensor_data_const(t)); };
    const auto outp = [](mm_tensor* t) { return static_cast<float*>(mm_tensor_data(t)); };
    if (!mm::cpu::attention_backward(p, in(dout), in(q), in(k), in(v), in(out), in(lse), outp(grads[0]), outp(grads[1]), outp(grads[2]))) {
      return release(mm::fail(MM_ERR_OOM, "%s: out of host memory for scratch buffers", op));
    }
    *dq = grads[0];
    *dk = grads[1];
    *dv = grads[2];
    return MM_OK;
  });
}

extern "C" const char* mm_attention_kernel(void) { return mm::cpu::attention_kernel_name(); }

extern "C" mm_status mm_attention_set_kernel(const char* name) {
  if (!name) return mm::fail(MM_ERR_ARG, "attentionKernel: name is null");
  if (!mm::cpu::set_attention_kernel(name)) {
    return mm::fail(MM_ERR_UNSUPPORTED, "attentionKernel: kernel set '%s' is not available here (use 'avx512', 'avx2', 'generic' or 'best'; the CPU or build may lack it)", name);
  }
  return MM_OK;
}
