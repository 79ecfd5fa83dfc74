// Addon functions of the diffusion family.
#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

Napi::Value QSample(const Napi::CallbackInfo& info) {
  ArgContext args{info, "qSample"};
  args.expect_count(4);
  const mm_tensor* x0 = optional_tensor(args, 0, "x0");
  const mm_tensor* t = TensorHandle::From(args, 1, "t");
  const mm_tensor* noise = optional_tensor(args, 2, "noise");
  const mm_tensor* table = TensorHandle::From(args, 3, "table");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_q_sample(x0, t, noise, table, out); });
}

Napi::Value DiffusionStep(const Napi::CallbackInfo& info) {
  ArgContext args{info, "diffusionStep"};
  args.expect_count(8);
  const mm_tensor* xt = TensorHandle::From(args, 0, "xt");
  const mm_tensor* eps = TensorHandle::From(args, 1, "eps");
  const mm_tensor* t = TensorHandle::From(args, 2, "t");
  const mm_tensor* t_prev = TensorHandle::From(args, 3, "tPrev");
  const mm_tensor* table = TensorHandle::From(args, 4, "table");
  const mm_tensor* noise = optional_tensor(args, 5, "noise");
  const double eta = args.finite(6, "eta", 0, 1e30);
  const double noise_scale = args.finite(7, "noiseScale", 0, 1e30);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_diffusion_step(xt, eps, t, t_prev, table, noise, eta, noise_scale, out); });
}

Napi::Value TimestepEmbedding(const Napi::CallbackInfo& info) {
  ArgContext args{info, "timestepEmbedding"};
  args.expect_count(3);
  const mm_tensor* t = TensorHandle::From(args, 0, "t");
  const int64_t dim = args.integer(1, "dim", 1, int64_t{1} << 31);
  const double max_period = args.finite(2, "maxPeriod", 0, 1e300);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_timestep_embedding(t, dim, max_period, out); });
}

}  // namespace

MM_ADDON_EXPORT("qSample", QSample);
MM_ADDON_EXPORT("diffusionStep", DiffusionStep);
MM_ADDON_EXPORT("timestepEmbedding", TimestepEmbedding);

}  // namespace mm_addon
