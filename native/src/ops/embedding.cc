// Embedding family: checks and dispatch. The lookup is a gather of table rows (axis 0), its
// backward a scatter-add into the rows: the same kernels as index_select (cpu/shape.cc).
#include "mmcot/ops/embedding.h"

#include "../cpu/shape.h"
#include "axis.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/shape.h"
#endif

namespace {

// ids (i32, any shape up to MM_MAX_DIMS - 1 dimensions so ids.shape + [D] fits) on `like`'s device.
mm_status check_ids(const char* op, const mm_tensor* ids, const char* like_name, const mm_tensor* like) {
  MM_TRY(mm::check_dtype(op, "ids", ids, MM_I32));
  MM_TRY(mm::check_ndim(op, "ids", ids, 0, MM_MAX_DIMS - 1));
  return mm::check_same_device(op, like_name, like, "ids", ids);
}

}  // namespace

extern "C" mm_status mm_embedding(const mm_tensor* ids, const mm_tensor* table, mm_tensor** out) {
  return mm::guarded("embedding", [&]() -> mm_status {
    MM_TRY(mm::check_dtype("embedding", "table", table, MM_F32));
    MM_TRY(mm::check_ndim("embedding", "table", table, 2, 2));
    MM_TRY(check_ids("embedding", ids, "table", table));
    const int64_t rows = mm_tensor_shape(table)[0], dim = mm_tensor_shape(table)[1];
    // On CUDA the kernel checks the ids (device error flag: raised at the next host wait).
    if (!mm::on_cuda(ids)) MM_TRY(mm::check_indices("embedding", "ids", ids, rows, "a table of ", " rows"));
    const int n = mm_tensor_ndim(ids);
    int64_t shape[MM_MAX_DIMS];
    for (int d = 0; d < n; d++) shape[d] = mm_tensor_shape(ids)[d];
    shape[n] = dim;
    MM_TRY(mm::new_on_device_of(table, MM_F32, n + 1, shape, out));
#if MM_WITH_CUDA
    if (mm::on_cuda(table)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(table).index));
      MM_TRY(mm::cuda::gather_axis("embedding", mm_tensor_data_const(table), 1, rows, dim, static_cast<const int32_t*>(mm_tensor_data_const(ids)),
                                   mm_tensor_numel(ids), mm_tensor_data(*out), sizeof(float)));
      return MM_OK;
    }
#endif
    mm::cpu::gather_axis(mm_tensor_data_const(table), 1, rows, dim, static_cast<const int32_t*>(mm_tensor_data_const(ids)), mm_tensor_numel(ids),
                         mm_tensor_data(*out), sizeof(float));
    return MM_OK;
  });
}

extern "C" mm_status mm_embedding_backward(const mm_tensor* ids, const mm_tensor* grad, int64_t num_rows, mm_tensor** out) {
  return mm::guarded("embeddingBackward", [&]() -> mm_status {
    const char* op = "embeddingBackward";
    MM_TRY(mm::check_dtype(op, "grad", grad, MM_F32));
    MM_TRY(check_ids(op, ids, "grad", grad));
    // grad must be ids.shape + [D].
    const int n = mm_tensor_ndim(ids);
    bool ok = mm_tensor_ndim(grad) == n + 1 && num_rows >= 0;
    for (int d = 0; ok && d < n; d++) ok = mm_tensor_shape(grad)[d] == mm_tensor_shape(ids)[d];
    if (!ok) {
      char sg[256], si[256];
      return mm::fail(MM_ERR_SHAPE, "%s: grad has shape %s but ids has shape %s (grad must be ids.shape + [D]; num_rows %lld must be >= 0)", op,
                      mm::format_shape(sg, sizeof sg, mm_tensor_ndim(grad), mm_tensor_shape(grad)), mm::format_shape(si, sizeof si, n, mm_tensor_shape(ids)),
                      static_cast<long long>(num_rows));
    }
    if (!mm::on_cuda(ids)) MM_TRY(mm::check_indices(op, "ids", ids, num_rows, "a table of ", " rows"));
    const int64_t dim = mm_tensor_shape(grad)[n];
    const int64_t shape[2] = {num_rows, dim};
    MM_TRY(mm::new_on_device_of(grad, MM_F32, 2, shape, out));
#if MM_WITH_CUDA
    if (mm::on_cuda(grad)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(grad).index));
      MM_TRY(mm::cuda::scatter_add_axis(op, static_cast<const float*>(mm_tensor_data_const(grad)), 1, mm_tensor_numel(ids), dim,
                                        static_cast<const int32_t*>(mm_tensor_data_const(ids)), num_rows, static_cast<float*>(mm_tensor_data(*out))));
      return MM_OK;
    }
#endif
    mm::cpu::scatter_add_axis(static_cast<const float*>(mm_tensor_data_const(grad)), 1, mm_tensor_numel(ids), dim,
                              static_cast<const int32_t*>(mm_tensor_data_const(ids)), num_rows, static_cast<float*>(mm_tensor_data(*out)));
    return MM_OK;
  });
}
