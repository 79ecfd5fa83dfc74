// A persistent worker pool for the CPU backend. parallel_for splits [0, n) into chunks that the
// calling thread and the workers take from a shared counter; it returns when all are done.
#pragma once
#include <cstdint>
#include <functional>

namespace mm {

// Runs fn(begin, end) over disjoint chunks covering [0, n), each at least `grain` long (except
// the last). Runs inline when n <= grain or the pool has one thread. Not reentrant: a nested
// call from inside fn runs inline on the calling worker.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

int num_threads();
// n >= 1; rebuilds the pool. Must not be called from inside parallel_for.
void set_num_threads(int n);
// MMCOT_NUM_THREADS if set to a positive integer, else the CPUs this process may run on.
int default_num_threads();

}  // namespace mm
