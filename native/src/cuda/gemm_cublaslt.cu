// cuBLASLt for the CUDA GEMM, loaded at run time with dlopen so that the build needs no cuBLAS
// headers and the binary runs where the library is absent (the fallback kernels in gemm.cu take
// over). Never loaded in the emulator; MMCOT_DISABLE_CUBLASLT=1 keeps it unloaded.
//
// Our row-major C = op(A) op(B) is cuBLAS's column-major C^T = op(B)^T op(A)^T: the call takes
// our B as its "A" and our A as its "B", each with the transpose flag of its own, and C as an
// N x M column-major matrix. fp32 runs with CUBLAS_COMPUTE_32F (true fp32: no TF32); bf16
// operands and result with CUBLAS_COMPUTE_32F as well (fp32 accumulation, one rounding).
// Descriptors and the chosen algorithm are cached per shape, alignment and batch layout.
#include "common.cuh"
#include "gemm.h"

#if defined(MMCOT_CUDA_EMULATED)

namespace mm::cuda {
bool cublaslt_available() { return false; }
const char* cublaslt_reason() { return "not used in the CUDA emulator"; }
mm_status cublaslt_gemm(const GemmArgs&) { return fail(MM_ERR_UNSUPPORTED, "matmul: cuBLASLt is not used in the CUDA emulator"); }
}  // namespace mm::cuda

#else

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace mm::cuda {
namespace {

// ---- the few declarations we need ----------------------------------------------------------------
// ABI of cublasLt.h, cublas_api.h and library_types.h (CUDA 12 and 13): opaque handles and
// descriptors are pointers, enums are passed as int. Values, as documented in the cuBLAS
// reference (https://docs.nvidia.com/cuda/cublas/, sections cudaDataType_t,
// cublasComputeType_t, cublasOperation_t, cublasLtMatmulDescAttributes_t,
// cublasLtMatrixLayoutAttribute_t, cublasLtMatmulPreferenceAttributes_t and
// cublasLtMatmulHeuristicResult_t; the same values are listed by NVIDIA's nvmath-python
// bindings, https://docs.nvidia.com/cuda/nvmath-python/latest/bindings/cublasLt.html):
using LtHandle = void*;  // cublasLtHandle_t
using LtDesc = void*;    // cublasLtMatmulDesc_t
using LtLayout = void*;  // cublasLtMatrixLayout_t
using LtPref = void*;    // cublasLtMatmulPreference_t
struct LtAlgo {          // cublasLtMatmulAlgo_t: uint64_t data[8]
  uint64_t data[8];
};
struct LtHeuristic {  // cublasLtMatmulHeuristicResult_t
  LtAlgo algo;
  size_t workspace_size;
  int state;  // cublasStatus_t
  float waves_count;
  int reserved[4];
};
constexpr int kCudaR32F = 0, kCudaR16BF = 14;    // cudaDataType_t CUDA_R_32F, CUDA_R_16BF
constexpr int kCompute32F = 68;                  // cublasComputeType_t CUBLAS_COMPUTE_32F (not _FAST_TF32 = 77)
constexpr int kOpN = 0, kOpT = 1;                // cublasOperation_t CUBLAS_OP_N, CUBLAS_OP_T
constexpr int kDescTransA = 3, kDescTransB = 4;  // CUBLASLT_MATMUL_DESC_TRANSA / _TRANSB (int32_t)
constexpr int kLayoutBatchCount = 5;             // CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT (int32_t)
constexpr int kLayoutBatchStride = 6;            // CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET (int64_t)
constexpr int kPrefMaxWorkspace = 1;             // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES (uint64_t)
constexpr int kPrefAlignA = 5, kPrefAlignB = 6, kPrefAlignC = 7, kPrefAlignD = 8;  // _MIN_ALIGNMENT_{A,B,C,D}_BYTES (uint32_t, default 256)

constexpr size_t kMaxWorkspace = size_t{32} << 20;  // what cuBLAS recommends for Hopper

struct Api {
  void* lib = nullptr;
  int (*create)(LtHandle*) = nullptr;
  int (*desc_create)(LtDesc*, int compute_type, int scale_type) = nullptr;
  int (*desc_set)(LtDesc, int attr, const void* buf, size_t size) = nullptr;
  int (*desc_destroy)(LtDesc) = nullptr;
  int (*layout_create)(LtLayout*, int type, uint64_t rows, uint64_t cols, int64_t ld) = nullptr;
  int (*layout_set)(LtLayout, int attr, const void* buf, size_t size) = nullptr;
  int (*layout_destroy)(LtLayout) = nullptr;
  int (*pref_create)(LtPref*) = nullptr;
  int (*pref_set)(LtPref, int attr, const void* buf, size_t size) = nullptr;
  int (*pref_destroy)(LtPref) = nullptr;
  int (*heuristic)(LtHandle, LtDesc, LtLayout, LtLayout, LtLayout, LtLayout, LtPref, int requested, LtHeuristic* results, int* returned) = nullptr;
  int (*matmul)(LtHandle, LtDesc, const void* alpha, const void* a, LtLayout, const void* b, LtLayout, const void* beta, const void* c, LtLayout,
                void* d, LtLayout, const LtAlgo*, void* workspace, size_t workspace_size, cudaStream_t) = nullptr;
};

Api g_api;
char g_reason[256] = "not loaded yet";
std::once_flag g_load_once;

template <class F>
bool bind(void* lib, const char* symbol, F* fn) {
  *fn = reinterpret_cast<F>(dlsym(lib, symbol));
  if (!*fn) std::snprintf(g_reason, sizeof g_reason, "the library has no %s", symbol);
  return *fn != nullptr;
}

void load() {
  const char* disable = std::getenv("MMCOT_DISABLE_CUBLASLT");
  if (disable && *disable && std::strcmp(disable, "0") != 0) {
    std::snprintf(g_reason, sizeof g_reason, "disabled by MMCOT_DISABLE_CUBLASLT=%s", disable);
    return;
  }
  void* lib = nullptr;
  for (const char* name : {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}) {
    if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  }
  if (!lib) {
    std::snprintf(g_reason, sizeof g_reason, "libcublasLt.so.13/.12 not found (%s)", dlerror());
    return;
  }
  Api api;
  api.lib = lib;
  const bool ok = bind(lib, "cublasLtCreate", &api.create) && bind(lib, "cublasLtMatmulDescCreate", &api.desc_create) &&
                  bind(lib, "cublasLtMatmulDescSetAttribute", &api.desc_set) && bind(lib, "cublasLtMatmulDescDestroy", &api.desc_destroy) &&
                  bind(lib, "cublasLtMatrixLayoutCreate", &api.layout_create) &&
                  bind(lib, "cublasLtMatrixLayoutSetAttribute", &api.layout_set) &&
                  bind(lib, "cublasLtMatrixLayoutDestroy", &api.layout_destroy) &&
                  bind(lib, "cublasLtMatmulPreferenceCreate", &api.pref_create) &&
                  bind(lib, "cublasLtMatmulPreferenceSetAttribute", &api.pref_set) &&
                  bind(lib, "cublasLtMatmulPreferenceDestroy", &api.pref_destroy) &&
                  bind(lib, "cublasLtMatmulAlgoGetHeuristic", &api.heuristic) && bind(lib, "cublasLtMatmul", &api.matmul);
  if (!ok) {
    dlclose(lib);
    return;
  }
  g_api = api;
  std::snprintf(g_reason, sizeof g_reason, "loaded");
}

bool loaded() {
  std::call_once(g_load_once, load);
  return g_api.lib != nullptr;
}

// ---- handles and cached plans ----------------------------------------------------------------------
constexpr int kMaxDevices = 16;

// A product's cuBLASLt setup: one strided-batched call of `count` items.
struct PlanKey {
  int device, dtype, trans_a, trans_b;
  int64_t m, n, k, count, stride_a, stride_b;
  int align_a, align_b, align_c;
  bool operator<(const PlanKey& o) const {
    return std::tie(device, dtype, trans_a, trans_b, m, n, k, count, stride_a, stride_b, align_a, align_b, align_c) <
           std::tie(o.device, o.dtype, o.trans_a, o.trans_b, o.m, o.n, o.k, o.count, o.stride_a, o.stride_b, o.align_a, o.align_b, o.align_c);
  }
};
struct Plan {
  LtDesc desc = nullptr;
  LtLayout a = nullptr, b = nullptr, c = nullptr;  // cuBLAS's A (our B), B (our A), C = D
  LtAlgo algo{};
  size_t workspace = 0;
};

std::mutex g_mutex;
LtHandle g_handles[kMaxDevices] = {};
std::map<PlanKey, Plan> g_plans;
constexpr size_t kMaxPlans = 512;

void destroy(const Plan& p) {
  if (p.a) g_api.layout_destroy(p.a);
  if (p.b) g_api.layout_destroy(p.b);
  if (p.c) g_api.layout_destroy(p.c);
  if (p.desc) g_api.desc_destroy(p.desc);
}

mm_status lt_check(int status, const char* what) {
  if (status == 0) return MM_OK;
  return fail(MM_ERR_CUDA, "matmul: %s failed (cublasStatus %d)", what, status);
}

mm_status handle_for(int device, LtHandle* out) {
  if (device < 0 || device >= kMaxDevices) return fail(MM_ERR_CUDA, "matmul: device %d out of range for cuBLASLt", device);
  if (!g_handles[device]) MM_TRY(lt_check(g_api.create(&g_handles[device]), "cublasLtCreate"));
  *out = g_handles[device];
  return MM_OK;
}

mm_status layout(LtLayout* out, int type, int64_t rows, int64_t cols, int64_t ld, int64_t count, int64_t stride) {
  MM_TRY(lt_check(g_api.layout_create(out, type, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld), "cublasLtMatrixLayoutCreate"));
  if (count > 1) {
    const int32_t c = static_cast<int32_t>(count);
    MM_TRY(lt_check(g_api.layout_set(*out, kLayoutBatchCount, &c, sizeof c), "cublasLtMatrixLayoutSetAttribute (batch count)"));
    MM_TRY(lt_check(g_api.layout_set(*out, kLayoutBatchStride, &stride, sizeof stride), "cublasLtMatrixLayoutSetAttribute (batch stride)"));
  }
  return MM_OK;
}

mm_status make_plan(LtHandle handle, const PlanKey& key, Plan* plan) {
  const int type = key.dtype == MM_BF16 ? kCudaR16BF : kCudaR32F;
  MM_TRY(lt_check(g_api.desc_create(&plan->desc, kCompute32F, kCudaR32F), "cublasLtMatmulDescCreate"));
  const int32_t op_a = key.trans_b ? kOpT : kOpN, op_b = key.trans_a ? kOpT : kOpN;  // cuBLAS's A is our B
  MM_TRY(lt_check(g_api.desc_set(plan->desc, kDescTransA, &op_a, sizeof op_a), "cublasLtMatmulDescSetAttribute (transa)"));
  MM_TRY(lt_check(g_api.desc_set(plan->desc, kDescTransB, &op_b, sizeof op_b), "cublasLtMatmulDescSetAttribute (transb)"));
  // Column-major views: our B (K x N, or N x K when transposed) is N x K (K x N) with ld N (K);
  // our A (M x K, or K x M) is K x M (M x K) with ld K (M); C is N x M with ld N.
  MM_TRY(key.trans_b ? layout(&plan->a, type, key.k, key.n, key.k, key.count, key.stride_b)
                     : layout(&plan->a, type, key.n, key.k, key.n, key.count, key.stride_b));
  MM_TRY(key.trans_a ? layout(&plan->b, type, key.m, key.k, key.m, key.count, key.stride_a)
                     : layout(&plan->b, type, key.k, key.m, key.k, key.count, key.stride_a));
  MM_TRY(layout(&plan->c, type, key.n, key.m, key.n, key.count, key.m * key.n));

  LtPref pref = nullptr;
  MM_TRY(lt_check(g_api.pref_create(&pref), "cublasLtMatmulPreferenceCreate"));
  const uint64_t max_workspace = kMaxWorkspace;
  const uint32_t align_a = static_cast<uint32_t>(key.align_b), align_b = static_cast<uint32_t>(key.align_a);
  const uint32_t align_c = static_cast<uint32_t>(key.align_c);
  int status = g_api.pref_set(pref, kPrefMaxWorkspace, &max_workspace, sizeof max_workspace);
  if (status == 0) status = g_api.pref_set(pref, kPrefAlignA, &align_a, sizeof align_a);
  if (status == 0) status = g_api.pref_set(pref, kPrefAlignB, &align_b, sizeof align_b);
  if (status == 0) status = g_api.pref_set(pref, kPrefAlignC, &align_c, sizeof align_c);
  if (status == 0) status = g_api.pref_set(pref, kPrefAlignD, &align_c, sizeof align_c);
  // Room for a larger result struct than ours, should a version grow it (we read the head).
  union {
    LtHeuristic result;
    unsigned char room[1024];
  } found{};
  int returned = 0;
  if (status == 0) status = g_api.heuristic(handle, plan->desc, plan->a, plan->b, plan->c, plan->c, pref, 1, &found.result, &returned);
  g_api.pref_destroy(pref);
  MM_TRY(lt_check(status, "cublasLtMatmulPreferenceSetAttribute / AlgoGetHeuristic"));
  if (returned < 1 || found.result.state != 0) {
    return fail(MM_ERR_UNSUPPORTED, "matmul: cuBLASLt has no algorithm for this product (%lld x %lld x %lld)", static_cast<long long>(key.m),
                static_cast<long long>(key.n), static_cast<long long>(key.k));
  }
  plan->algo = found.result.algo;
  plan->workspace = found.result.workspace_size;
  return MM_OK;
}

// Largest power of two (up to 256) dividing every byte address the operand's items start at.
int alignment(const void* base, int64_t stride_elems, int64_t count, size_t elem) {
  uintptr_t bits = reinterpret_cast<uintptr_t>(base) | 256;
  if (count > 1 && stride_elems != 0) bits |= static_cast<uintptr_t>(stride_elems) * elem;
  return static_cast<int>(bits & (~bits + 1));
}

// One strided-batched call: items i < count at a + i * stride_a, b + i * stride_b, c + i * M * N
// (elements).
mm_status run(const GemmArgs& g, const void* a, const void* b, void* c, int64_t count, int64_t stride_a, int64_t stride_b) {
  const size_t elem = g.dtype == MM_BF16 ? 2 : 4;
  PlanKey key{current_device(), static_cast<int>(g.dtype), g.trans_a, g.trans_b, g.m, g.n, g.k, count, count > 1 ? stride_a : 0,
              count > 1 ? stride_b : 0, alignment(a, stride_a, count, elem), alignment(b, stride_b, count, elem),
              alignment(c, g.m * g.n, count, elem)};
  LtHandle handle = nullptr;
  Plan plan;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    MM_TRY(handle_for(key.device, &handle));
    auto it = g_plans.find(key);
    if (it == g_plans.end()) {
      Plan made;
      const mm_status status = make_plan(handle, key, &made);
      if (status != MM_OK) {
        destroy(made);
        return status;
      }
      if (g_plans.size() >= kMaxPlans) {
        for (auto& entry : g_plans) destroy(entry.second);
        g_plans.clear();
      }
      it = g_plans.emplace(key, made).first;
    }
    plan = it->second;
  }
  Scratch workspace;
  if (plan.workspace > 0) MM_TRY(workspace.allocate(plan.workspace));
  const float alpha = g.alpha, beta = g.beta;
  return lt_check(g_api.matmul(handle, plan.desc, &alpha, b, plan.a, a, plan.b, &beta, c, plan.c, c, plan.c, &plan.algo, workspace.as<void>(),
                               plan.workspace, stream()),
                  "cublasLtMatmul");
}

}  // namespace

bool cublaslt_available() { return loaded(); }
const char* cublaslt_reason() {
  loaded();
  return g_reason;
}

mm_status cublaslt_gemm(const GemmArgs& g) {
  if (!loaded()) return fail(MM_ERR_UNSUPPORTED, "matmul: cuBLASLt is not available (%s)", g_reason);
  if (g.m > 0x7fffffff || g.n > 0x7fffffff || g.k > 0x7fffffff || g.batch > 0x7fffffff) {
    return fail(MM_ERR_UNSUPPORTED, "matmul: dimensions beyond int32 for cuBLASLt");
  }
  const size_t elem = g.dtype == MM_BF16 ? 2 : 4;
  const int64_t a_matrix = g.m * g.k, b_matrix = g.k * g.n, c_matrix = g.m * g.n;
  if (g.batch == 1 || g.index.ndim == 0) return run(g, g.a, g.b, g.c, g.batch, a_matrix, b_matrix);
  // Broadcast batches: one call when each operand's items are evenly spaced (a stride of 0 for
  // a broadcast operand); else one call per item of the outer dimensions, strided over the
  // innermost batch dimension.
  int64_t a1 = 0, b1 = 0;
  g.index.offsets(1, &a1, &b1);
  bool regular = true;
  for (int64_t item = 2; regular && item < g.batch; item++) {
    int64_t oa, ob;
    g.index.offsets(item, &oa, &ob);
    regular = oa == item * a1 && ob == item * b1;
  }
  if (regular) return run(g, g.a, g.b, g.c, g.batch, a1 * a_matrix, b1 * b_matrix);
  const int last = g.index.ndim - 1;
  const int64_t inner = g.index.shape[last];
  const char* a = static_cast<const char*>(g.a);
  const char* b = static_cast<const char*>(g.b);
  char* c = static_cast<char*>(g.c);
  for (int64_t outer = 0; outer < g.batch / inner; outer++) {
    int64_t oa, ob;
    g.index.offsets(outer * inner, &oa, &ob);
    MM_TRY(run(g, a + oa * a_matrix * elem, b + ob * b_matrix * elem, c + outer * inner * c_matrix * elem, inner, g.index.a_stride[last] * a_matrix,
               g.index.b_stride[last] * b_matrix));
  }
  return MM_OK;
}

}  // namespace mm::cuda

#endif
