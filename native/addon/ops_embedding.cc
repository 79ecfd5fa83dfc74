// Addon functions of the embedding family.
#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

Napi::Value Embedding(const Napi::CallbackInfo& info) {
  ArgContext args{info, "embedding"};
  args.expect_count(2);
  const mm_tensor* ids = TensorHandle::From(args, 0, "ids");
  const mm_tensor* table = TensorHandle::From(args, 1, "table");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_embedding(ids, table, out); });
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "embeddingBackward"};
  args.expect_count(3);
  const mm_tensor* ids = TensorHandle::From(args, 0, "ids");
  const mm_tensor* grad = TensorHandle::From(args, 1, "grad");
  const int64_t rows = args.integer(2, "numRows", 0, 9007199254740991LL);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_embedding_backward(ids, grad, rows, out); });
}

}  // namespace

MM_ADDON_EXPORT("embedding", Embedding);
MM_ADDON_EXPORT("embeddingBackward", EmbeddingBackward);

}  // namespace mm_addon
