// Addon function of token sampling.
#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

Napi::Value SampleTokens(const Napi::CallbackInfo& info) {
  ArgContext args{info, "sampleTokens"};
  args.expect_count(4);
  const mm_tensor* logits = TensorHandle::From(args, 0, "logits");
  const double temperature = args.finite(1, "temperature", 0, 1e30);
  const int64_t top_k = args.integer(2, "topK", 0, 9007199254740991LL);
  const double top_p = args.finite(3, "topP", 0, 1);
  const Napi::Value seed_value = args.at(4);
  uint64_t seed = 0;
  const bool has_seed = !seed_value.IsUndefined() && !seed_value.IsNull();
  if (has_seed) seed = args.u64(4, "seed");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_sample_tokens(logits, temperature, top_k, top_p, has_seed ? &seed : nullptr, out); });
}

}  // namespace

MM_ADDON_EXPORT("sampleTokens", SampleTokens);

}  // namespace mm_addon
