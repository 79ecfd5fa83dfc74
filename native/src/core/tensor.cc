// Tensors: a refcounted storage block on one device, plus dtype and shape (contiguous).
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backend.h"
#include "convert.h"
#include "status.h"

struct mm_storage {
  mm::Backend* backend;
  mm_device device;
  void* data;
  size_t bytes;
  std::atomic<int> refs;
};

struct mm_tensor {
  mm_storage* storage;
  mm_dtype dtype;
  int ndim;
  int64_t shape[MM_MAX_DIMS];
  int64_t numel;
};

namespace {

struct Counters {
  std::atomic<int64_t> tensors{0}, bytes{0}, peak{0};
};
Counters g_counters[2];  // indexed by mm_device_type

Counters& counters(mm_device_type type) { return g_counters[type == MM_CUDA ? 1 : 0]; }

bool valid_dtype(mm_dtype dtype) { return dtype == MM_F32 || dtype == MM_I32 || dtype == MM_BF16; }
bool is_float(mm_dtype dtype) { return dtype == MM_F32 || dtype == MM_BF16; }

// Checks dims and computes numel, guarding against overflow.
mm_status check_shape(const char* where, int ndim, const int64_t* shape, mm_dtype dtype, int64_t* numel) {
  if (ndim < 0 || ndim > MM_MAX_DIMS) return mm::fail(MM_ERR_SHAPE, "%s: ndim must be in [0, %d], got %d", where, MM_MAX_DIMS, ndim);
  if (ndim > 0 && !shape) return mm::fail(MM_ERR_ARG, "%s: shape is null", where);
  int64_t n = 1;
  const int64_t limit = (int64_t{1} << 62) / static_cast<int64_t>(mm_dtype_size(dtype));
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      char buf[256];
      return mm::fail(MM_ERR_SHAPE, "%s: dimension %d is negative in shape %s", where, i, mm::format_shape(buf, sizeof buf, ndim, shape));
    }
    if (shape[i] != 0 && n > limit / shape[i]) {
      char buf[256];
      return mm::fail(MM_ERR_OOM, "%s: shape %s is too large to allocate", where, mm::format_shape(buf, sizeof buf, ndim, shape));
    }
    n *= shape[i];
  }
  *numel = n;
  return MM_OK;
}

void account(mm_device_type type, int64_t tensors, int64_t bytes) {
  Counters& c = counters(type);
  c.tensors += tensors;
  const int64_t now = (c.bytes += bytes);
  int64_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
}

mm_status new_tensor(const char* where, mm_device device, mm_dtype dtype, int ndim, const int64_t* shape, mm_tensor** out) {
  if (!out) return mm::fail(MM_ERR_ARG, "%s: out is null", where);
  *out = nullptr;
  if (!valid_dtype(dtype)) return mm::fail(MM_ERR_DTYPE, "%s: unknown dtype %d", where, static_cast<int>(dtype));
  int64_t numel = 0;
  MM_TRY(check_shape(where, ndim, shape, dtype, &numel));
  mm::Backend* backend = nullptr;
  MM_TRY(mm::backend_for(device, &backend));
  const size_t bytes = static_cast<size_t>(numel) * mm_dtype_size(dtype);
  void* data = nullptr;
  MM_TRY(backend->allocate(device.index, bytes, &data));
  auto* storage = new mm_storage{backend, device, data, bytes, {1}};
  auto* t = new mm_tensor{storage, dtype, ndim, {}, numel};
  for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
  account(device.type, 1, static_cast<int64_t>(bytes));
  *out = t;
  return MM_OK;
}

struct RngState {
  std::atomic<uint64_t> seed{0x5eedULL};
  std::atomic<uint64_t> offset{0};
};
RngState g_rng;

// Reserves the Philox blocks for n values and returns the first block's counter.
uint64_t reserve_rng_blocks(int64_t n) { return g_rng.offset.fetch_add(static_cast<uint64_t>((n + 3) / 4)); }

mm_status require_float(const char* where, const mm_tensor* t) {
  if (!is_float(t->dtype)) return mm::fail(MM_ERR_DTYPE, "%s: expected a float tensor (f32 or bf16), got %s", where, mm_dtype_name(t->dtype));
  return MM_OK;
}

}  // namespace

extern "C" {

size_t mm_dtype_size(mm_dtype dtype) { return dtype == MM_BF16 ? 2 : 4; }

const char* mm_dtype_name(mm_dtype dtype) {
  switch (dtype) {
    case MM_F32: return "f32";
    case MM_I32: return "i32";
    case MM_BF16: return "bf16";
  }
  return "unknown";
}

void mm_manual_seed(uint64_t seed) {
  g_rng.seed = seed;
  g_rng.offset = 0;
}

void mm_rng_state(uint64_t* seed, uint64_t* offset) {
  if (seed) *seed = g_rng.seed;
  if (offset) *offset = g_rng.offset;
}

mm_status mm_rng_reserve(int64_t n, uint64_t* seed, uint64_t* offset) {
  if (n < 0 || !seed || !offset) return mm::fail(MM_ERR_ARG, "rng_reserve: needs n >= 0 (got %lld) and non-null outputs", static_cast<long long>(n));
  *seed = g_rng.seed;
  *offset = reserve_rng_blocks(n);
  return MM_OK;
}

void mm_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  mm::Philox4 ctr{{counter[0], counter[1], counter[2], counter[3]}};
  const mm::Philox4 r = mm::philox4x32_10(ctr, key[0], key[1]);
  for (int i = 0; i < 4; i++) out[i] = r.v[i];
}

mm_status mm_tensor_empty(mm_device device, mm_dtype dtype, int ndim, const int64_t* shape, mm_tensor** out) {
  return mm::guarded("tensor_empty", [&] { return new_tensor("tensor_empty", device, dtype, ndim, shape, out); });
}

mm_status mm_tensor_from_host(mm_device device, mm_dtype dtype, int ndim, const int64_t* shape, const void* data,
                              size_t bytes, mm_tensor** out) {
  return mm::guarded("tensor_from_host", [&]() -> mm_status {
    mm_tensor* t = nullptr;
    MM_TRY(new_tensor("tensor_from_host", device, dtype, ndim, shape, &t));
    if (bytes != t->storage->bytes) {
      const size_t want = t->storage->bytes;
      mm_tensor_free(t);
      return mm::fail(MM_ERR_SHAPE, "tensor_from_host: data has %zu bytes, the shape needs %zu", bytes, want);
    }
    if (bytes && !data) {
      mm_tensor_free(t);
      return mm::fail(MM_ERR_ARG, "tensor_from_host: data is null");
    }
    const mm_status s = t->storage->backend->copy_from_host(device.index, t->storage->data, data, bytes);
    if (s != MM_OK) {
      mm_tensor_free(t);
      return s;
    }
    *out = t;
    return MM_OK;
  });
}

mm_status mm_tensor_from_f32(mm_device device, mm_dtype dtype, int ndim, const int64_t* shape, const float* data,
                             size_t count, mm_tensor** out) {
  return mm::guarded("tensor_from_f32", [&]() -> mm_status {
    if (dtype == MM_F32) return mm_tensor_from_host(device, dtype, ndim, shape, data, count * sizeof(float), out);
    if (dtype != MM_BF16) return mm::fail(MM_ERR_DTYPE, "tensor_from_f32: float data cannot make a %s tensor", mm_dtype_name(dtype));
    std::vector<uint16_t> bits(count);
    for (size_t i = 0; i < count; i++) bits[i] = mm::f32_to_bf16_bits(data[i]);
    return mm_tensor_from_host(device, dtype, ndim, shape, bits.data(), count * sizeof(uint16_t), out);
  });
}

mm_status mm_tensor_to_host(const mm_tensor* t, void* data, size_t bytes) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_to_host: tensor is null");
  if (bytes != t->storage->bytes) return mm::fail(MM_ERR_SHAPE, "tensor_to_host: buffer has %zu bytes, the tensor has %zu", bytes, t->storage->bytes);
  if (bytes && !data) return mm::fail(MM_ERR_ARG, "tensor_to_host: data is null");
  return mm::guarded("tensor_to_host", [&] {
    return t->storage->backend->copy_to_host(t->storage->device.index, data, t->storage->data, bytes);
  });
}

mm_status mm_tensor_to_host_f32(const mm_tensor* t, float* data, size_t count) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_to_host_f32: tensor is null");
  MM_TRY(require_float("tensor_to_host_f32", t));
  if (count != static_cast<size_t>(t->numel)) return mm::fail(MM_ERR_SHAPE, "tensor_to_host_f32: buffer has %zu floats, the tensor has %lld", count, static_cast<long long>(t->numel));
  if (t->dtype == MM_F32) return mm_tensor_to_host(t, data, count * sizeof(float));
  return mm::guarded("tensor_to_host_f32", [&]() -> mm_status {
    std::vector<uint16_t> bits(count);
    MM_TRY(mm_tensor_to_host(t, bits.data(), count * sizeof(uint16_t)));
    for (size_t i = 0; i < count; i++) data[i] = mm::bf16_bits_to_f32(bits[i]);
    return MM_OK;
  });
}

mm_status mm_tensor_to_device(const mm_tensor* t, mm_device device, mm_tensor** out) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_to_device: tensor is null");
  return mm::guarded("tensor_to_device", [&]() -> mm_status {
    mm_tensor* copy = nullptr;
    MM_TRY(new_tensor("tensor_to_device", device, t->dtype, t->ndim, t->shape, &copy));
    const mm_storage* src = t->storage;
    mm_storage* dst = copy->storage;
    mm_status s = MM_OK;
    if (src->device.type == MM_CPU && device.type == MM_CPU) {
      s = dst->backend->copy_on_device(0, dst->data, src->data, src->bytes);
    } else if (src->device.type == MM_CPU) {
      s = dst->backend->copy_from_host(device.index, dst->data, src->data, src->bytes);
    } else if (device.type == MM_CPU) {
      s = src->backend->copy_to_host(src->device.index, dst->data, src->data, src->bytes);
    } else if (src->device.index == device.index) {
      s = dst->backend->copy_on_device(device.index, dst->data, src->data, src->bytes);
    } else {
      s = dst->backend->copy_between_devices(device.index, dst->data, src->device.index, src->data, src->bytes);
    }
    if (s != MM_OK) {
      mm_tensor_free(copy);
      return s;
    }
    *out = copy;
    return MM_OK;
  });
}

mm_status mm_tensor_cast(const mm_tensor* t, mm_dtype dtype, mm_tensor** out) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_cast: tensor is null");
  return mm::guarded("tensor_cast", [&]() -> mm_status {
    if (!valid_dtype(dtype)) return mm::fail(MM_ERR_DTYPE, "tensor_cast: unknown dtype %d", static_cast<int>(dtype));
    if ((t->dtype == MM_BF16 && dtype == MM_I32) || (t->dtype == MM_I32 && dtype == MM_BF16)) {
      return mm::fail(MM_ERR_DTYPE, "tensor_cast: %s -> %s is not supported (go through f32)", mm_dtype_name(t->dtype), mm_dtype_name(dtype));
    }
    mm_tensor* copy = nullptr;
    MM_TRY(new_tensor("tensor_cast", t->storage->device, dtype, t->ndim, t->shape, &copy));
    const mm_status s = copy->storage->backend->cast(t->storage->device.index, copy->storage->data, dtype, t->storage->data, t->dtype, t->numel);
    if (s != MM_OK) {
      mm_tensor_free(copy);
      return s;
    }
    *out = copy;
    return MM_OK;
  });
}

mm_status mm_tensor_fill(mm_tensor* t, double value) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_fill: tensor is null");
  if (std::isnan(value) && t->dtype == MM_I32) return mm::fail(MM_ERR_ARG, "tensor_fill: NaN cannot fill an i32 tensor");
  return mm::guarded("tensor_fill", [&] {
    return t->storage->backend->fill(t->storage->device.index, t->storage->data, t->dtype, t->numel, value);
  });
}

mm_status mm_tensor_fill_uniform(mm_tensor* t, float low, float high) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_fill_uniform: tensor is null");
  MM_TRY(require_float("rand", t));
  if (!(low <= high) || !std::isfinite(low) || !std::isfinite(high)) return mm::fail(MM_ERR_ARG, "rand: need finite low <= high, got [%g, %g)", low, high);
  return mm::guarded("tensor_fill_uniform", [&] {
    const uint64_t offset = reserve_rng_blocks(t->numel);
    return t->storage->backend->fill_uniform(t->storage->device.index, t->storage->data, t->dtype, t->numel, g_rng.seed, offset, low, high);
  });
}

mm_status mm_tensor_fill_normal(mm_tensor* t, float mean, float std) {
  if (!t) return mm::fail(MM_ERR_ARG, "tensor_fill_normal: tensor is null");
  MM_TRY(require_float("randn", t));
  if (!(std >= 0) || !std::isfinite(std) || !std::isfinite(mean)) return mm::fail(MM_ERR_ARG, "randn: need finite mean and std >= 0, got mean %g std %g", mean, std);
  return mm::guarded("tensor_fill_normal", [&] {
    const uint64_t offset = reserve_rng_blocks(t->numel);
    return t->storage->backend->fill_normal(t->storage->device.index, t->storage->data, t->dtype, t->numel, g_rng.seed, offset, mean, std);
  });
}

mm_status mm_tensor_alias(const mm_tensor* t, int ndim, const int64_t* shape, mm_tensor** out) {
  if (!t || !out) return mm::fail(MM_ERR_ARG, "tensor_alias: null argument");
  return mm::guarded("reshape", [&]() -> mm_status {
    int64_t numel = 0;
    MM_TRY(check_shape("reshape", ndim, shape, t->dtype, &numel));
    if (numel != t->numel) {
      char from[256], to[256];
      return mm::fail(MM_ERR_SHAPE, "reshape: cannot view shape %s (%lld elements) as %s (%lld elements)",
                      mm::format_shape(from, sizeof from, t->ndim, t->shape), static_cast<long long>(t->numel),
                      mm::format_shape(to, sizeof to, ndim, shape), static_cast<long long>(numel));
    }
    auto* alias = new mm_tensor{t->storage, t->dtype, ndim, {}, numel};
    for (int i = 0; i < ndim; i++) alias->shape[i] = shape[i];
    t->storage->refs++;
    account(t->storage->device.type, 1, 0);
    *out = alias;
    return MM_OK;
  });
}

void mm_tensor_free(mm_tensor* t) {
  if (!t) return;
  mm_storage* s = t->storage;
  account(s->device.type, -1, 0);
  if (--s->refs == 0) {
    account(s->device.type, 0, -static_cast<int64_t>(s->bytes));
    s->backend->release(s->device.index, s->data, s->bytes);
    delete s;
  }
  delete t;
}

int mm_tensor_ndim(const mm_tensor* t) { return t->ndim; }
const int64_t* mm_tensor_shape(const mm_tensor* t) { return t->shape; }
int64_t mm_tensor_numel(const mm_tensor* t) { return t->numel; }
size_t mm_tensor_nbytes(const mm_tensor* t) { return t->storage->bytes; }
mm_dtype mm_tensor_dtype(const mm_tensor* t) { return t->dtype; }
mm_device mm_tensor_device(const mm_tensor* t) { return t->storage->device; }
void* mm_tensor_data(mm_tensor* t) { return t->storage->data; }
const void* mm_tensor_data_const(const mm_tensor* t) { return t->storage->data; }

mm_status mm_memory_stats_get(mm_device_type device_type, mm_memory_stats* out) {
  if (!out) return mm::fail(MM_ERR_ARG, "memory_stats: out is null");
  if (device_type != MM_CPU && device_type != MM_CUDA) return mm::fail(MM_ERR_DEVICE, "memory_stats: unknown device type %d", static_cast<int>(device_type));
  const Counters& c = counters(device_type);
  out->live_tensors = c.tensors;
  out->live_bytes = c.bytes;
  out->peak_bytes = c.peak;
  out->reserved_bytes = device_type == MM_CPU ? mm::cpu_backend().reserved_bytes() : c.bytes.load();
  if (device_type == MM_CUDA) {
    const char* why = nullptr;
    if (mm::Backend* cuda = mm::cuda_backend(&why)) out->reserved_bytes = cuda->reserved_bytes();
  }
  return MM_OK;
}

mm_status mm_empty_cache(void) {
  MM_TRY(mm::cpu_backend().empty_cache());
  const char* why = nullptr;
  if (mm::Backend* cuda = mm::cuda_backend(&why)) return cuda->empty_cache();
  return MM_OK;
}

mm_status mm_synchronize(void) {
  const char* why = nullptr;
  if (mm::Backend* cuda = mm::cuda_backend(&why)) return cuda->synchronize();
  return MM_OK;
}

mm_status mm_backend_info_get(mm_backend_info* out) {
  if (!out) return mm::fail(MM_ERR_ARG, "backend_info: out is null");
  return mm::guarded("backend_info", [&] {
    const char* why = "";
    out->cuda_compiled = mm::cuda_compiled() ? 1 : 0;
    out->cuda_device_count = mm::cuda_backend(&why) ? mm::cuda_device_count() : 0;
    snprintf(out->cuda_reason, sizeof out->cuda_reason, "%s", why ? why : "");
    return MM_OK;
  });
}

}  // extern "C"

namespace mm {

mm_status backend_for(mm_device device, Backend** out) {
  if (device.type == MM_CPU) {
    if (device.index != 0) return fail(MM_ERR_DEVICE, "device cpu:%d does not exist (use cpu)", device.index);
    *out = &cpu_backend();
    return MM_OK;
  }
  if (device.type != MM_CUDA) return fail(MM_ERR_DEVICE, "unknown device type %d", static_cast<int>(device.type));
  const char* why = nullptr;
  Backend* cuda = cuda_backend(&why);
  if (!cuda) return fail(MM_ERR_DEVICE, "device cuda:%d is not available: %s", device.index, why);
  const int count = cuda_device_count();
  if (device.index < 0 || device.index >= count) return fail(MM_ERR_DEVICE, "device cuda:%d does not exist (%d CUDA device%s)", device.index, count, count == 1 ? "" : "s");
  *out = cuda;
  return MM_OK;
}

}  // namespace mm
