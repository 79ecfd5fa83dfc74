/* mmcot native core: a C-style API (no N-API here).
 *
 * Rules: every function returns an mm_status (or a plain value that cannot fail); nothing
 * aborts the process and nothing throws across this boundary. On failure the calling thread's
 * last-error message (mm_last_error) says what went wrong, naming the argument and the expected
 * vs given shape or dtype where that applies. */
#ifndef MMCOT_H
#define MMCOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_MAX_DIMS 8

typedef enum mm_status {
  MM_OK = 0,
  MM_ERR_ARG,         /* malformed argument (e.g. null pointer, negative size) */
  MM_ERR_SHAPE,       /* shapes do not match what the operation needs */
  MM_ERR_DTYPE,       /* dtype not supported here, or operands disagree */
  MM_ERR_DEVICE,      /* device unavailable, or operands on different devices */
  MM_ERR_DISPOSED,    /* a tensor was used after it was freed (reported by the addon layer) */
  MM_ERR_OOM,         /* allocation failed on host or device */
  MM_ERR_CUDA,        /* a CUDA runtime/driver call failed */
  MM_ERR_UNSUPPORTED, /* valid request this build or backend cannot serve */
  MM_ERR_INTERNAL     /* a bug: please report */
} mm_status;

/* "ERR_SHAPE" etc.; "OK" for MM_OK. Never NULL. */
const char* mm_status_code(mm_status status);
/* Message of the last failure on this thread ("" if none). Valid until the next failing call. */
const char* mm_last_error(void);

typedef enum mm_dtype { MM_F32 = 0, MM_I32 = 1, MM_BF16 = 2 } mm_dtype;
size_t mm_dtype_size(mm_dtype dtype);
const char* mm_dtype_name(mm_dtype dtype);

typedef enum mm_device_type { MM_CPU = 0, MM_CUDA = 1 } mm_device_type;
typedef struct mm_device {
  mm_device_type type;
  int index; /* CUDA ordinal; 0 for the CPU */
} mm_device;

/* ---- backends ---------------------------------------------------------------------------- */
typedef struct mm_backend_info {
  int cuda_compiled;     /* this binary contains the CUDA backend */
  int cuda_device_count; /* devices usable now (0 when none or no driver) */
  char cuda_reason[512]; /* why CUDA is or is not available, for people */
  int64_t cuda_copies_to_host; /* device -> host copies made so far (each one a host wait) */
} mm_backend_info;
mm_status mm_backend_info_get(mm_backend_info* out);

/* ---- threads (CPU backend) -------------------------------------------------------------- */
/* Default: MMCOT_NUM_THREADS if set, else the CPUs this process may run on. */
mm_status mm_set_num_threads(int n);
int mm_get_num_threads(void);

/* ---- random numbers: Philox4x32-10, counter based ---------------------------------------- */
/* The global generator is (seed, offset); each random fill of n values uses counters
 * [offset, offset + ceil(n/4)) and advances offset, so results do not depend on thread count
 * or backend. */
void mm_manual_seed(uint64_t seed);
void mm_rng_state(uint64_t* seed, uint64_t* offset);
/* Reserves the counters for n random values, as a fill of n values would (ceil(n/4) blocks),
 * for ops that draw their own numbers (dropout masks): value i uses lane i%4 of Philox block
 * *offset + i/4 under key *seed. Replaying the pair gives the same numbers. */
mm_status mm_rng_reserve(int64_t n, uint64_t* seed, uint64_t* offset);
void mm_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* ---- tensors ----------------------------------------------------------------------------- */
typedef struct mm_tensor mm_tensor; /* opaque; contiguous, row-major */

mm_status mm_tensor_empty(mm_device device, mm_dtype dtype, int ndim, const int64_t* shape,
                          mm_tensor** out);
/* Copies `bytes` of host memory (must equal numel * dtype size) into a new tensor. */
mm_status mm_tensor_from_host(mm_device device, mm_dtype dtype, int ndim, const int64_t* shape,
                              const void* data, size_t bytes, mm_tensor** out);
/* Float data converted to the tensor dtype (f32 copy, or f32 -> bf16 round-to-nearest-even). */
mm_status mm_tensor_from_f32(mm_device device, mm_dtype dtype, int ndim, const int64_t* shape,
                             const float* data, size_t count, mm_tensor** out);
/* Copies the tensor's bytes to host memory (`bytes` must equal its size in bytes). */
mm_status mm_tensor_to_host(const mm_tensor* t, void* data, size_t bytes);
/* Float tensors (f32, bf16) read back as f32. */
mm_status mm_tensor_to_host_f32(const mm_tensor* t, float* data, size_t count);
/* A copy on another device (same dtype). */
mm_status mm_tensor_to_device(const mm_tensor* t, mm_device device, mm_tensor** out);
/* A copy converted to another dtype (f32 <-> bf16, f32 <-> i32 truncating toward zero). */
mm_status mm_tensor_cast(const mm_tensor* t, mm_dtype dtype, mm_tensor** out);
/* Fill with a constant (converted to the dtype). */
mm_status mm_tensor_fill(mm_tensor* t, double value);
/* Float tensors: uniform in [low, high) or normal(mean, std) from the global generator. */
mm_status mm_tensor_fill_uniform(mm_tensor* t, float low, float high);
mm_status mm_tensor_fill_normal(mm_tensor* t, float mean, float std);
/* A new tensor sharing t's storage with another shape of the same element count (a reshape
 * view; also how autograd keeps saved tensors alive after the user disposes theirs). */
mm_status mm_tensor_alias(const mm_tensor* t, int ndim, const int64_t* shape, mm_tensor** out);
/* Frees the tensor (its storage once no tensor refers to it). NULL is fine. */
void mm_tensor_free(mm_tensor* t);

int mm_tensor_ndim(const mm_tensor* t);
const int64_t* mm_tensor_shape(const mm_tensor* t);
int64_t mm_tensor_numel(const mm_tensor* t);
size_t mm_tensor_nbytes(const mm_tensor* t);
mm_dtype mm_tensor_dtype(const mm_tensor* t);
mm_device mm_tensor_device(const mm_tensor* t);
void* mm_tensor_data(mm_tensor* t);
const void* mm_tensor_data_const(const mm_tensor* t);

/* ---- memory accounting ------------------------------------------------------------------- */
typedef struct mm_memory_stats {
  int64_t live_tensors;   /* mm_tensor objects not yet freed */
  int64_t live_bytes;     /* bytes of storage those tensors hold */
  int64_t peak_bytes;     /* high-water mark of live_bytes */
  int64_t reserved_bytes; /* held by the allocator: live + cached blocks (both backends cache) */
} mm_memory_stats;
mm_status mm_memory_stats_get(mm_device_type device_type, mm_memory_stats* out);
/* Returns cached blocks to the system: the CPU backend's host block cache and the CUDA caching
 * allocator's device blocks. */
mm_status mm_empty_cache(void);
/* Waits for all queued device work (no-op on the CPU). */
mm_status mm_synchronize(void);

#ifdef __cplusplus
}
#endif
#endif /* MMCOT_H */
