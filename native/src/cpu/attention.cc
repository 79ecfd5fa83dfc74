// Attention on the CPU: splits the work into blocks for the thread pool, gives each thread its
// scratch memory, and picks the kernel set (AVX-512, AVX2 or portable) for this CPU.
#include "attention.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "../core/thread_pool.h"

namespace mm::cpu {
namespace {

using attention_detail::BackwardTensors;
using attention_detail::Kernels;

const Kernels* best_kernels() {
  if (const Kernels* k = attention_detail::kernels_avx512()) return k;
  if (const Kernels* k = attention_detail::kernels_avx2()) return k;
  return attention_detail::kernels_generic();
}

std::atomic<const Kernels*> g_kernels{nullptr};

const Kernels& kernels() {
  const Kernels* k = g_kernels.load(std::memory_order_acquire);
  if (!k) {
    k = best_kernels();
    g_kernels.store(k, std::memory_order_release);
  }
  return *k;
}

// Per-thread scratch that grows to the largest request and is then reused, so steady-state
// calls (decoding token after token) allocate nothing but their outputs. Null when out of
// memory (kernels run inside the pool and must not throw).
float* thread_scratch(size_t floats) noexcept {
  struct Buffer {
    float* data = nullptr;
    size_t capacity = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (buffer.capacity < floats) {
    std::free(buffer.data);
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buffer.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    buffer.capacity = buffer.data ? floats : 0;
  }
  return buffer.data;
}

}  // namespace

bool attention_forward(const AttentionProblem& p, const float* q, const float* k, const float* v, float* out, float* lse) {
  const Kernels& ker = kernels();
  const int64_t rows = p.group() * p.Tq;  // query rows sharing one kv head
  if (p.B == 0 || p.Hkv == 0 || rows == 0) return true;
  std::atomic<bool> ok{true};
  if (rows <= ker.decode_rows) {
    // Decoding with a KV cache: one task per (batch, kv head), vectorised over D.
    const size_t need = ker.decode_scratch(p);
    parallel_for(p.B * p.Hkv, 1, [&](int64_t begin, int64_t end) {
      float* scratch = thread_scratch(need);
      if (!scratch) return ok.store(false);
      for (int64_t task = begin; task < end; task++) ker.decode_block(p, q, k, v, out, lse, task / p.Hkv, task % p.Hkv, 0, rows, scratch);
    });
    return ok.load();
  }
  const int64_t blocks = (rows + ker.forward_rows - 1) / ker.forward_rows;
  const size_t need = ker.forward_scratch(p);
  parallel_for(p.B * p.Hkv * blocks, 1, [&](int64_t begin, int64_t end) {
    float* scratch = thread_scratch(need);
    if (!scratch) return ok.store(false);
    for (int64_t task = begin; task < end; task++) {
      const int64_t block = task % blocks, head = task / blocks;
      ker.forward_block(p, q, k, v, out, lse, head / p.Hkv, head % p.Hkv, block * ker.forward_rows, scratch);
    }
  });
  return ok.load();
}

bool attention_backward(const AttentionProblem& p, const float* dout, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, float* dq, float* dk, float* dv) {
  const Kernels& ker = kernels();
  const int64_t D = p.D, G = p.group(), query_rows = p.B * p.H * p.Tq, group_rows = G * p.Tq;
  // Rows of dk/dv past Tk (unused cache rows) get no gradient.
  if (p.kv_rows > p.Tk) {
    for (int64_t head = 0; head < p.B * p.Hkv; head++) {
      const int64_t from = (head * p.kv_rows + p.Tk) * D, count = (p.kv_rows - p.Tk) * D;
      std::memset(dk + from, 0, static_cast<size_t>(count) * sizeof(float));
      std::memset(dv + from, 0, static_cast<size_t>(count) * sizeof(float));
    }
  }
  if (query_rows == 0) {
    for (int64_t head = 0; head < p.B * p.Hkv; head++) {
      std::memset(dk + head * p.kv_rows * D, 0, static_cast<size_t>(p.Tk * D) * sizeof(float));
      std::memset(dv + head * p.kv_rows * D, 0, static_cast<size_t>(p.Tk * D) * sizeof(float));
    }
    return true;
  }

  // A task owns the key blocks of one (batch, kv head), so no two tasks write the same dk/dv
  // rows, and it adds into the dq rows of that kv head's query heads. When there are too few
  // (batch, kv head) pairs to keep the threads busy, the key blocks of a head are dealt
  // round-robin to `chunks` tasks: chunk 0 accumulates into dq, the others into their own
  // buffers, summed into dq at the end.
  const int64_t heads = p.B * p.Hkv, key_blocks = (p.Tk + ker.backward_keys - 1) / ker.backward_keys, threads = num_threads();
  int64_t chunks = heads >= 2 * threads ? 1 : (2 * threads + heads - 1) / heads;
  if (chunks > key_blocks) chunks = key_blocks;
  std::vector<float> extra_dq(static_cast<size_t>((chunks - 1) * query_rows * D));

  std::atomic<bool> ok{true};
  const size_t kernel_floats = ker.backward_scratch(p);
  parallel_for(heads * chunks, 1, [&](int64_t begin, int64_t end) {
    float* scratch = thread_scratch(kernel_floats + static_cast<size_t>(group_rows));
    if (!scratch) return ok.store(false);
    float* delta = scratch + kernel_floats;
    for (int64_t task = begin; task < end; task++) {
      const int64_t head = task / chunks, chunk = task % chunks, b = head / p.Hkv, hk = head % p.Hkv;
      const int64_t group_row0 = (b * p.H + hk * G) * p.Tq;  // the group's query rows are contiguous
      // delta = rowsum(dout * out): the softmax backward's correction term, per query row.
      ker.row_dots(dout + group_row0 * D, out + group_row0 * D, group_rows, D, delta);
      float* dq_target = chunk == 0 ? dq : extra_dq.data() + (chunk - 1) * query_rows * D;
      std::memset(dq_target + group_row0 * D, 0, static_cast<size_t>(group_rows * D) * sizeof(float));
      const BackwardTensors t{dout, q, k, v, lse, delta, dk, dv, dq_target};
      for (int64_t kb = chunk; kb < key_blocks; kb += chunks) ker.backward_block(p, t, b, hk, kb, scratch);
    }
  });
  if (!ok.load()) return false;
  if (chunks > 1) {
    parallel_for(query_rows, 64, [&](int64_t begin, int64_t end) {
      for (int64_t c = 1; c < chunks; c++) {
        const float* src = extra_dq.data() + (c - 1) * query_rows * D;
        for (int64_t i = begin * D; i < end * D; i++) dq[i] += src[i];
      }
    });
  }
  return true;
}

const char* attention_kernel_name() { return kernels().name; }

bool set_attention_kernel(const char* name) {
  const Kernels* k = nullptr;
  if (std::strcmp(name, "avx512") == 0) k = attention_detail::kernels_avx512();
  else if (std::strcmp(name, "avx2") == 0) k = attention_detail::kernels_avx2();
  else if (std::strcmp(name, "generic") == 0) k = attention_detail::kernels_generic();
  else if (std::strcmp(name, "best") == 0) k = best_kernels();
  if (!k) return false;
  g_kernels.store(k, std::memory_order_release);
  return true;
}

}  // namespace mm::cpu
