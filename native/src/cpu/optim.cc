#include "optim.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/thread_pool.h"

namespace mm::cpu {
namespace {

struct Piece {
  int tensor;
  int64_t begin, end;
};

// The tensors' elements cut into pieces of at most kPiece elements, tensor by tensor.
std::vector<Piece> pieces_of(const int64_t* sizes, int count) {
  constexpr int64_t kPiece = 1 << 14;
  std::vector<Piece> out;
  for (int k = 0; k < count; k++) {
    for (int64_t b = 0; b < sizes[k]; b += kPiece) out.push_back({k, b, std::min(sizes[k], b + kPiece)});
  }
  return out;
}

}  // namespace

void adamw(const AdamWSlot* slots, int count, const mm_adamw_config& c) {
  std::vector<int64_t> sizes(static_cast<size_t>(count));
  for (int k = 0; k < count; k++) sizes[k] = slots[k].n;
  const std::vector<Piece> pieces = pieces_of(sizes.data(), count);
  // Scalars in double (as torch computes them in Python floats), elementwise math in f32.
  const float decay = static_cast<float>(1.0 - c.lr * c.weight_decay);
  const float beta1 = static_cast<float>(c.beta1), beta2 = static_cast<float>(c.beta2);
  const float one_minus_beta1 = static_cast<float>(1.0 - c.beta1), one_minus_beta2 = static_cast<float>(1.0 - c.beta2);
  const double bias_correction1 = 1.0 - std::pow(c.beta1, static_cast<double>(c.step));
  const double bias_correction2 = 1.0 - std::pow(c.beta2, static_cast<double>(c.step));
  const float step_size = static_cast<float>(c.lr / bias_correction1);
  const float sqrt_bias_correction2 = static_cast<float>(std::sqrt(bias_correction2));
  const float eps = static_cast<float>(c.eps);
  parallel_for(static_cast<int64_t>(pieces.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t pi = begin; pi < end; pi++) {
      const Piece& piece = pieces[static_cast<size_t>(pi)];
      const AdamWSlot& s = slots[piece.tensor];
      for (int64_t i = piece.begin; i < piece.end; i++) {
        const float g = s.grad[i];
        const float m = beta1 * s.exp_avg[i] + one_minus_beta1 * g;
        const float v = beta2 * s.exp_avg_sq[i] + one_minus_beta2 * g * g;
        s.exp_avg[i] = m;
        s.exp_avg_sq[i] = v;
        s.param[i] = s.param[i] * decay - step_size * m / (std::sqrt(v) / sqrt_bias_correction2 + eps);
      }
    }
  });
}

double sum_of_squares(const float* const* data, const int64_t* sizes, int count) {
  const std::vector<Piece> pieces = pieces_of(sizes, count);
  std::vector<double> partial(pieces.size(), 0.0);
  parallel_for(static_cast<int64_t>(pieces.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t pi = begin; pi < end; pi++) {
      const Piece& piece = pieces[static_cast<size_t>(pi)];
      const float* x = data[piece.tensor];
      double s = 0;
      for (int64_t i = piece.begin; i < piece.end; i++) s += static_cast<double>(x[i]) * x[i];
      partial[static_cast<size_t>(pi)] = s;
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

void scale(float* const* data, const int64_t* sizes, int count, float factor) {
  const std::vector<Piece> pieces = pieces_of(sizes, count);
  parallel_for(static_cast<int64_t>(pieces.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t pi = begin; pi < end; pi++) {
      const Piece& piece = pieces[static_cast<size_t>(pi)];
      float* x = data[piece.tensor];
      for (int64_t i = piece.begin; i < piece.end; i++) x[i] *= factor;
    }
  });
}

}  // namespace mm::cpu
