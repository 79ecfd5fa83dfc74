// Attention family: argument checks and dispatch (kernels: cpu/attention.cc, cuda/attention_*.cu).
// q, k, v (and dout, out in the backward) are f32, or all bf16: CUDA reads bf16 directly and
// accumulates in f32; the CPU converts them to f32 (one helper below), runs the f32 kernels and
// rounds the results. lse and the mask are f32 on every path.
#include "mmcot/ops/attention.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../core/convert.h"
#include "../core/thread_pool.h"
#include "../cpu/attention.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/attention.h"
#endif

namespace {

// The CPU's bf16 path: the f32 view of a tensor's data (the data itself for f32, else a
// converted copy kept in `storage`), and f32 results rounded into a bf16 tensor.
const float* f32_view(const mm_tensor* t, std::vector<float>& storage) {
  if (mm_tensor_dtype(t) == MM_F32) return static_cast<const float*>(mm_tensor_data_const(t));
  const int64_t n = mm_tensor_numel(t);
  storage.resize(static_cast<size_t>(n));
  const uint16_t* bits = static_cast<const uint16_t*>(mm_tensor_data_const(t));
  float* dst = storage.data();
  mm::parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) dst[i] = mm::bf16_bits_to_f32(bits[i]);
  });
  return dst;
}

// Where a kernel writes an output tensor's f32 values: the tensor itself for f32, else a
// buffer that round_into() converts afterwards.
float* f32_target(mm_tensor* t, std::vector<float>& storage) {
  if (mm_tensor_dtype(t) == MM_F32) return static_cast<float*>(mm_tensor_data(t));
  storage.resize(static_cast<size_t>(mm_tensor_numel(t)));
  return storage.data();
}

void round_into(mm_tensor* t, const std::vector<float>& storage) {
  if (mm_tensor_dtype(t) == MM_F32) return;
  uint16_t* bits = static_cast<uint16_t*>(mm_tensor_data(t));
  const float* src = storage.data();
  mm::parallel_for(mm_tensor_numel(t), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) bits[i] = mm::f32_to_bf16_bits(src[i]);
  });
}

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
  MM_TRY(mm::check_tensor(op, "q", q));
  const mm_dtype dtype = mm_tensor_dtype(q);
  if (dtype != MM_F32 && dtype != MM_BF16) {
    return mm::fail(MM_ERR_DTYPE, "%s: argument 'q' must be f32 or bf16, got %s", op, mm_dtype_name(dtype));
  }
  MM_TRY(mm::check_dtype(op, "k", k, dtype));
  MM_TRY(mm::check_dtype(op, "v", v, dtype));
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
    const mm_dtype dtype = mm_tensor_dtype(q);
    mm_tensor* results[2] = {nullptr, nullptr};
    auto release = [&](mm_status s) {
      for (mm_tensor*& t : results) {
        mm_tensor_free(t);
        t = nullptr;
      }
      return s;
    };
    mm_status s = mm::new_on_device_of(q, dtype, 4, dims(q), &results[0]);
    if (s == MM_OK) s = mm::new_on_device_of(q, MM_F32, 3, dims(q), &results[1]);
    if (s != MM_OK) return release(s);
    float* lse_data = static_cast<float*>(mm_tensor_data(results[1]));
#if MM_WITH_CUDA
    if (mm::on_cuda(q)) {
      s = mm::cuda::select_device(mm_tensor_device(q).index);
      if (s == MM_OK) {
        s = mm::cuda::attention_forward(p, dtype, mm_tensor_data_const(q), mm_tensor_data_const(k), mm_tensor_data_const(v),
                                        mm_tensor_data(results[0]), lse_data);
      }
      if (s != MM_OK) return release(s);
      *out = results[0];
      *lse = results[1];
      return MM_OK;
    }
#endif
    std::vector<float> qf, kf, vf, outf;
    float* out_data = f32_target(results[0], outf);
    if (!mm::cpu::attention_forward(p, f32_view(q, qf), f32_view(k, kf), f32_view(v, vf), out_data, lse_data)) {
      return release(mm::fail(MM_ERR_OOM, "%s: out of host memory for scratch buffers", op));
    }
    round_into(results[0], outf);
    *out = results[0];
    *lse = results[1];
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
    const mm_dtype dtype = mm_tensor_dtype(q);
    MM_TRY(mm::check_dtype(op, "dout", dout, dtype));
    MM_TRY(mm::check_dtype(op, "out", out, dtype));
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
    mm_tensor* grads[3] = {nullptr, nullptr, nullptr};
    auto release = [&](mm_status s) {
      for (mm_tensor*& g : grads) {
        mm_tensor_free(g);
        g = nullptr;
      }
      return s;
    };
    mm_status s = mm::new_on_device_of(q, dtype, 4, qs, &grads[0]);
    if (s == MM_OK) s = mm::new_on_device_of(k, dtype, 4, dims(k), &grads[1]);
    if (s == MM_OK) s = mm::new_on_device_of(v, dtype, 4, dims(v), &grads[2]);
    if (s != MM_OK) return release(s);
    const float* lse_data = static_cast<const float*>(mm_tensor_data_const(lse));
#if MM_WITH_CUDA
    if (mm::on_cuda(q)) {
      s = mm::cuda::select_device(mm_tensor_device(q).index);
      if (s == MM_OK) {
        s = mm::cuda::attention_backward(p, dtype, mm_tensor_data_const(dout), mm_tensor_data_const(q), mm_tensor_data_const(k),
                                         mm_tensor_data_const(v), mm_tensor_data_const(out), lse_data, mm_tensor_data(grads[0]),
                                         mm_tensor_data(grads[1]), mm_tensor_data(grads[2]));
      }
      if (s != MM_OK) return release(s);
      *dq = grads[0];
      *dk = grads[1];
      *dv = grads[2];
      return MM_OK;
    }
#endif
    std::vector<float> doutf, qf, kf, vf, outf, dqf, dkf, dvf;
    float* dq_data = f32_target(grads[0], dqf);
    float* dk_data = f32_target(grads[1], dkf);
    float* dv_data = f32_target(grads[2], dvf);
    if (!mm::cpu::attention_backward(p, f32_view(dout, doutf), f32_view(q, qf), f32_view(k, kf), f32_view(v, vf), f32_view(out, outf),
                                     lse_data, dq_data, dk_data, dv_data)) {
      return release(mm::fail(MM_ERR_OOM, "%s: out of host memory for scratch buffers", op));
    }
    round_into(grads[0], dqf);
    round_into(grads[1], dkf);
    round_into(grads[2], dvf);
    *dq = grads[0];
    *dk = grads[1];
    *dv = grads[2];
    return MM_OK;
  });
}

extern "C" const char* mm_attention_kernel(void) { return mm::cpu::attention_kernel_name(); }

extern "C" mm_status mm_attention_set_kernel(const char* name) {
  if (!name) return mm::fail(MM_ERR_ARG, "attentionKernel: name is null");
#if MM_WITH_CUDA
  if (mm::cuda::set_attention_kernel(name)) return MM_OK;
#else
  if (std::strcmp(name, "auto") == 0 || std::strcmp(name, "flash") == 0 || std::strcmp(name, "rowwise") == 0 || std::strcmp(name, "wmma") == 0) {
    return mm::fail(MM_ERR_UNSUPPORTED, "attentionKernel: '%s' is a CUDA kernel and this build has no CUDA backend", name);
  }
#endif
  if (!mm::cpu::set_attention_kernel(name)) {
    return mm::fail(MM_ERR_UNSUPPORTED,
                    "attentionKernel: kernel set '%s' is not available here (use 'avx512', 'avx2', 'generic' or 'best' on the CPU, "
                    "'auto', 'flash', 'rowwise' or 'wmma' on CUDA; the CPU or build may lack it)",
                    name);
  }
  return MM_OK;
}
