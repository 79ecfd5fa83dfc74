// Internal interface between the attention driver (cpu/attention.cc: threads, scratch, ISA
// choice) and its per-ISA kernels (cpu/attention_{avx512,avx2,generic}.cc, which all compile the
// same code, cpu/attention_impl.inl, with a different vector type).
#pragma once
#include <cstddef>
#include <cstdint>

namespace mm::cpu::attention_detail {

// One attention call with explicit shapes. q/out/dout: [B, H, Tq, D]; k/v/dk/dv: [B, Hkv,
// kv_rows, D] of which the first Tk rows per head are used; lse/delta: [B, H, Tq]. Query head h
// reads kv head h / (H / Hkv). All contiguous row-major f32.
struct Problem {
  int64_t B, H, Hkv, Tq, Tk, D;
  int64_t kv_rows;            // rows per (batch, kv head) in k/v storage (>= Tk: a KV cache may hold more)
  bool causal;                // query i sees keys j <= i + (Tk - Tq)
  const float* mask;          // additive [Tq, Tk] per batch (0 keeps, -inf drops), or null
  int64_t mask_batch_stride;  // 0 (one mask for all batches) or Tq * Tk
  float scale;                // multiplies q.k

  int64_t group() const { return H / Hkv; }
};

struct BackwardTensors {
  const float* dout;
  const float* q;
  const float* k;
  const float* v;
  const float* lse;    // saved by the forward
  const float* delta;  // rowsum(dout * out) of the G * Tq query rows of this (batch, kv head)
  float* dk;           // rows < Tk of each kv head are written by the key blocks
  float* dv;
  float* dq;           // [B, H, Tq, D]: the block adds into the rows of its query heads
};

struct Kernels {
  const char* name;
  int64_t forward_rows;   // query rows per forward block
  int64_t backward_keys;  // keys per backward block
  size_t (*forward_scratch)(const Problem& p);  // floats
  // Rows [row0, row0 + forward_rows) of the group matrix of (b, kv head hk): the G * Tq query rows of
  // heads hk*G .. hk*G+G-1, which are contiguous in q. Writes their out and lse rows.
  void (*forward_block)(const Problem& p, const float* q, const float* k, const float* v, float* out, float* lse, int64_t b,
                        int64_t hk, int64_t row0, float* scratch);
  // Few query rows (decode with a KV cache): same contract as forward_block for rows
  // [row0, row0 + n) with n <= decode_rows, vectorised over D instead of over rows.
  int64_t decode_rows;
  size_t (*decode_scratch)(const Problem& p);
  void (*decode_block)(const Problem& p, const float* q, const float* k, const float* v, float* out, float* lse, int64_t b,
                       int64_t hk, int64_t row0, int64_t n, float* scratch);
  size_t (*backward_scratch)(const Problem& p);
  // Keys [key_block * backward_keys, ...) of (b, hk): writes their dk/dv rows (summed over the group's
  // query heads) and adds their part of dq into t.dq.
  void (*backward_block)(const Problem& p, const BackwardTensors& t, int64_t b, int64_t hk, int64_t key_block, float* scratch);
  // out[r] = sum_d a[r][d] * b[r][d] for rows of length D.
  void (*row_dots)(const float* a, const float* b, int64_t rows, int64_t D, float* out);
};

// Null when this build or CPU has no such ISA path.
const Kernels* kernels_avx512();
const Kernels* kernels_avx2();
const Kernels* kernels_generic();

}  // namespace mm::cpu::attention_detail
