// The CPU backend: aligned host storage, copies, fills, casts and Philox random fills, threaded
// through the pool. Kernels for ops live beside this file, one file per op family.
#include <atomic>
#include <map>
#include <mutex>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../core/backend.h"
#include "../core/convert.h"
#include "../core/philox.h"
#include "../core/status.h"
#include "../core/thread_pool.h"

namespace mm {
namespace {

constexpr size_t kAlignment = 64;        // a cache line, and the widest vector register
constexpr int64_t kElementwiseGrain = 1 << 15;

// Writes value v (computed in f32) to element i of a float buffer of dtype `dtype`.
inline void store_float(void* dst, mm_dtype dtype, int64_t i, float v) {
  if (dtype == MM_BF16) {
    static_cast<uint16_t*>(dst)[i] = f32_to_bf16_bits(v);
  } else {
    static_cast<float*>(dst)[i] = v;
  }
}

class CpuBackend final : public Backend {
 public:
  mm_device_type type() const override { return MM_CPU; }
  const char* name() const override { return "cpu"; }

  // Freed blocks of at least kCacheMinBytes are kept (up to a cap) and handed to the next
  // request of a similar size: returning them to the OS and faulting the pages in again cost
  // more than the kernels themselves for large op outputs (measured on attention: ~2,000 page
  // faults and 3-5 ms of system time per fwd+bwd at B4 H8 T256 D64).
  mm_status allocate(int, size_t bytes, void** out) override {
    const size_t size = block_size(bytes);
    if (size >= kCacheMinBytes) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      auto it = cache_.lower_bound(size);
      if (it != cache_.end() && it->first <= size + size / 4) {
        *out = it->second;
        cached_ -= static_cast<int64_t>(it->first);
        in_use_ += static_cast<int64_t>(it->first);
        sizes_[it->second] = it->first;
        cache_.erase(it);
        return MM_OK;
      }
    }
    void* ptr = nullptr;
    if (posix_memalign(&ptr, kAlignment, size) != 0 || !ptr) {
      empty_cache();  // give cached blocks back and try once more
      if (posix_memalign(&ptr, kAlignment, size) != 0 || !ptr) return fail(MM_ERR_OOM, "out of host memory allocating %zu bytes", bytes);
    }
    in_use_ += static_cast<int64_t>(size);
    if (size >= kCacheMinBytes) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      sizes_[ptr] = size;
    }
    *out = ptr;
    return MM_OK;
  }

  void release(int, void* ptr, size_t bytes) override {
    size_t size = block_size(bytes);
    if (size >= kCacheMinBytes) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      // A reused block may be larger than this request's size: free what was really allocated.
      if (auto it = sizes_.find(ptr); it != sizes_.end()) {
        size = it->second;
        sizes_.erase(it);
      }
      in_use_ -= static_cast<int64_t>(size);
      if (cached_ + static_cast<int64_t>(size) <= cache_limit()) {
        cache_.emplace(size, ptr);
        cached_ += static_cast<int64_t>(size);
        return;
      }
      std::free(ptr);
      return;
    }
    in_use_ -= static_cast<int64_t>(size);
    std::free(ptr);
  }

  mm_status copy_from_host(int, void* dst, const void* src, size_t bytes) override { return copy(dst, src, bytes); }
  mm_status copy_to_host(int, void* dst, const void* src, size_t bytes) override { return copy(dst, src, bytes); }
  mm_status copy_on_device(int, void* dst, const void* src, size_t bytes) override { return copy(dst, src, bytes); }

  mm_status fill(int, void* dst, mm_dtype dtype, int64_t n, double value) override {
    if (dtype == MM_I32) {
      if (!(value >= INT32_MIN && value <= INT32_MAX)) return fail(MM_ERR_ARG, "fill: %g does not fit in i32", value);
      const int32_t v = static_cast<int32_t>(value);
      parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; i++) static_cast<int32_t*>(dst)[i] = v;
      });
      return MM_OK;
    }
    const float v = static_cast<float>(value);
    parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) store_float(dst, dtype, i, v);
    });
    return MM_OK;
  }

  mm_status cast(int, void* dst, mm_dtype dst_dtype, const void* src, mm_dtype src_dtype, int64_t n) override {
    parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        float v;
        switch (src_dtype) {
          case MM_F32: v = static_cast<const float*>(src)[i]; break;
          case MM_BF16: v = bf16_bits_to_f32(static_cast<const uint16_t*>(src)[i]); break;
          default: {
            const int32_t x = static_cast<const int32_t*>(src)[i];
            if (dst_dtype == MM_I32) {
              static_cast<int32_t*>(dst)[i] = x;
              continue;
            }
            v = static_cast<float>(x);
          }
        }
        if (dst_dtype == MM_I32) {
          static_cast<int32_t*>(dst)[i] = f32_to_i32_saturating(v);
        } else {
          store_float(dst, dst_dtype, i, v);
        }
      }
    });
    return MM_OK;
  }

  mm_status fill_uniform(int, void* dst, mm_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, float low,
                         float high) override {
    const float span = high - low;
    for_each_block(n, [&](int64_t i, const Philox4& r, int lane) {
      store_float(dst, dtype, i, low + span * u32_to_unit(r.v[lane]));
    }, seed, offset);
    return MM_OK;
  }

  mm_status fill_normal(int, void* dst, mm_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, float mean,
                        float std) override {
    for_each_block(n, [&](int64_t i, const Philox4& r, int lane) {
      store_float(dst, dtype, i, mean + std * philox_normal_lane(r, lane));
    }, seed, offset);
    return MM_OK;
  }

  mm_status synchronize() override { return MM_OK; }

  mm_status empty_cache() override {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    for (auto& [size, ptr] : cache_) std::free(ptr);
    cache_.clear();
    cached_ = 0;
    return MM_OK;
  }

  int64_t reserved_bytes() const override { return in_use_ + cached_; }

 private:
  static mm_status copy(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
    return MM_OK;
  }

  // Calls fn(i, block, lane) for every element i < n, one Philox block per 4 elements.
  template <class F>
  static void for_each_block(int64_t n, const F& fn, uint64_t seed, uint64_t offset) {
    const int64_t blocks = (n + 3) / 4;
    parallel_for(blocks, kElementwiseGrain / 4, [&](int64_t b, int64_t e) {
      for (int64_t block = b; block < e; block++) {
        const Philox4 r = philox_block(seed, offset + static_cast<uint64_t>(block));
        for (int lane = 0; lane < 4 && block * 4 + lane < n; lane++) fn(block * 4 + lane, r, lane);
      }
    });
  }

  // Sizes are rounded so similar requests share blocks: 64-byte lines below the cache
  // threshold, 4 KiB pages above it.
  static size_t block_size(size_t bytes) {
    const size_t line = ((bytes ? bytes : 1) + kAlignment - 1) / kAlignment * kAlignment;
    return line < kCacheMinBytes ? line : (line + 4095) / 4096 * 4096;
  }

  // MMCOT_CPU_CACHE_MB caps the cached bytes (default 1024 MiB; 0 disables the cache).
  static int64_t cache_limit() {
    static const int64_t limit = [] {
      const char* env = std::getenv("MMCOT_CPU_CACHE_MB");
      char* end = nullptr;
      const long long mb = env ? std::strtoll(env, &end, 10) : -1;
      return (env && end != env && *end == '\0' && mb >= 0) ? static_cast<int64_t>(mb) << 20 : int64_t{1024} << 20;
    }();
    return limit;
  }

  static constexpr size_t kCacheMinBytes = 64 * 1024;
  std::mutex cache_mutex_;
  std::multimap<size_t, void*> cache_;           // free blocks by size
  std::map<void*, size_t> sizes_;                // live cacheable blocks -> their real size
  std::atomic<int64_t> in_use_{0}, cached_{0};
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace mm
