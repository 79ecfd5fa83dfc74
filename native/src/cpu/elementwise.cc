#include "elementwise.h"

#include <vector>

#include "../core/thread_pool.h"
#include "broadcast.h"

namespace mm::cpu {
namespace {

template <class Op>
void binary_rows(const float* a, const BroadcastOperand& sa, const float* b, const BroadcastOperand& sb, float* out, int ndim,
                 const int64_t* shape, Op op) {
  const BroadcastOperand ops[2] = {sa, sb};
  const int64_t rows = row_count(ndim, shape);
  const int64_t inner = ndim ? shape[ndim - 1] : 1;
  const int64_t as = ndim ? sa.strides[ndim - 1] : 0, bs = ndim ? sb.strides[ndim - 1] : 0;
  parallel_for(rows, (1 << 14) / (inner + 1) + 1, [&](int64_t begin, int64_t end) {
    for_each_row(ndim, shape, ops, begin, end, [&](int64_t row, const int64_t* off, int64_t n) {
      const float* pa = a + off[0];
      const float* pb = b + off[1];
      float* po = out + row * n;
      // Specialised strides let the compiler vectorise the common cases.
      if (as == 1 && bs == 1) {
        for (int64_t i = 0; i < n; i++) po[i] = op(pa[i], pb[i]);
      } else if (as == 1 && bs == 0) {
        const float vb = *pb;
        for (int64_t i = 0; i < n; i++) po[i] = op(pa[i], vb);
      } else if (as == 0 && bs == 1) {
        const float va = *pa;
        for (int64_t i = 0; i < n; i++) po[i] = op(va, pb[i]);
      } else {
        for (int64_t i = 0; i < n; i++) po[i] = op(pa[i * as], pb[i * bs]);
      }
    });
  });
}

}  // namespace

void binary(mm_binary_op op, const float* a, int a_ndim, const int64_t* a_shape, const float* b, int b_ndim,
            const int64_t* b_shape, float* out, int out_ndim, const int64_t* out_shape) {
  const BroadcastOperand sa = broadcast_strides(a_ndim, a_shape, out_ndim, out_shape);
  const BroadcastOperand sb = broadcast_strides(b_ndim, b_shape, out_ndim, out_shape);
  switch (op) {
    case MM_BINARY_ADD: return binary_rows(a, sa, b, sb, out, out_ndim, out_shape, [](float x, float y) { return x + y; });
    case MM_BINARY_SUB: return binary_rows(a, sa, b, sb, out, out_ndim, out_shape, [](float x, float y) { return x - y; });
    case MM_BINARY_MUL: return binary_rows(a, sa, b, sb, out, out_ndim, out_shape, [](float x, float y) { return x * y; });
    case MM_BINARY_DIV: return binary_rows(a, sa, b, sb, out, out_ndim, out_shape, [](float x, float y) { return x / y; });
  }
}

void sum_to(const float* in, int in_ndim, const int64_t* in_shape, float* out, int out_ndim, const int64_t* out_shape) {
  // Read `out` as broadcast to the input's shape: each input element adds into the output
  // element its strides point at. Rows are split by threads over disjoint output ranges only
  // when the output keeps the row dimension(s); otherwise one thread accumulates (in double,
  // so long reductions stay accurate) per output column block.
  const BroadcastOperand so = broadcast_strides(out_ndim, out_shape, in_ndim, in_shape);
  const BroadcastOperand ops[1] = {so};
  int64_t out_numel = 1;
  for (int d = 0; d < out_ndim; d++) out_numel *= out_shape[d];
  std::vector<double> acc(static_cast<size_t>(out_numel), 0.0);
  const int64_t rows = row_count(in_ndim, in_shape);
  const int64_t os = in_ndim ? so.strides[in_ndim - 1] : 0;
  for_each_row(in_ndim, in_shape, ops, 0, rows, [&](int64_t row, const int64_t* off, int64_t n) {
    const float* pi = in + row * n;
    double* pa = acc.data() + off[0];
    if (os == 1) {
      for (int64_t i = 0; i < n; i++) pa[i] += pi[i];
    } else if (os == 0) {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += pi[i];
      *pa += s;
    } else {
      for (int64_t i = 0; i < n; i++) pa[i * os] += pi[i];
    }
  });
  for (int64_t i = 0; i < out_numel; i++) out[i] = static_cast<float>(acc[static_cast<size_t>(i)]);
}

}  // namespace mm::cpu
