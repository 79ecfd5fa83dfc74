// Portable attention kernels (any CPU, compiled for the baseline ISA): the code in
// attention_impl.inl over a plain array of 8 floats, whose lane loops the compiler vectorises
// with whatever the target has (SSE2 on x86-64, NEON on arm64).
#include "attention_kernels.h"

namespace mm::cpu::attention_detail {
namespace {

constexpr int kWidth = 8;
struct Vec {
  float x[kWidth];
};
constexpr int kFwdVecs = 2;  // query rows per forward block: kWidth * kFwdVecs
constexpr int kBwdVecs = 2;  // keys per backward block: kWidth * kBwdVecs
constexpr int kScoreRows = 4;
constexpr int kPvRows = 4;
constexpr int kBwdRows = 2;

#define MM_LANES(expr)                           \
  Vec out;                                       \
  for (int i = 0; i < kWidth; i++) out.x[i] = (expr); \
  return out

inline Vec vzero() { MM_LANES(0.0f); }
inline Vec vbroadcast(float v) { MM_LANES(v); }
inline Vec vload(const float* p) { MM_LANES(p[i]); }
inline Vec vload_partial(const float* p, int64_t n) { MM_LANES(i < n ? p[i] : 0.0f); }
inline void vstore(float* p, Vec a) {
  for (int i = 0; i < kWidth; i++) p[i] = a.x[i];
}
inline void vstore_partial(float* p, int64_t n, Vec a) {
  for (int i = 0; i < n; i++) p[i] = a.x[i];
}
inline Vec vadd(Vec a, Vec b) { MM_LANES(a.x[i] + b.x[i]); }
inline Vec vsub(Vec a, Vec b) { MM_LANES(a.x[i] - b.x[i]); }
inline Vec vmul(Vec a, Vec b) { MM_LANES(a.x[i] * b.x[i]); }
inline Vec vdiv(Vec a, Vec b) { MM_LANES(a.x[i] / b.x[i]); }
inline Vec vfma(Vec a, Vec b, Vec c) { MM_LANES(a.x[i] * b.x[i] + c.x[i]); }
// Same NaN rule as x86 max/min: the second operand when the compare fails.
inline Vec vmax(Vec a, Vec b) { MM_LANES(a.x[i] > b.x[i] ? a.x[i] : b.x[i]); }
inline Vec vmin(Vec a, Vec b) { MM_LANES(a.x[i] < b.x[i] ? a.x[i] : b.x[i]); }
inline Vec vround(Vec a) { MM_LANES(__builtin_rintf(a.x[i])); }
inline Vec vpow2i(Vec n) {
  Vec out;
  for (int i = 0; i < kWidth; i++) {
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n.x[i]) + 127) << 23;
    __builtin_memcpy(&out.x[i], &bits, sizeof bits);
  }
  return out;
}
inline Vec vselect_lt(Vec a, Vec b, Vec x, Vec y) { MM_LANES(a.x[i] < b.x[i] ? x.x[i] : y.x[i]); }
inline float vhsum(Vec a) {
  float s = 0.0f;
  for (int i = 0; i < kWidth; i++) s += a.x[i];
  return s;
}
#undef MM_LANES
inline void vtranspose_tile(const float* src, int64_t ss, float* dst, int64_t ds) {
  for (int r = 0; r < kWidth; r++)
    for (int c = 0; c < kWidth; c++) dst[c * ds + r] = src[r * ss + c];
}

#include "attention_impl.inl"

}  // namespace

const Kernels* kernels_generic() { return make_kernels("generic"); }

}  // namespace mm::cpu::attention_detail
