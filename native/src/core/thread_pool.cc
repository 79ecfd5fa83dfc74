#include "thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mmcot/mmcot.h"
#include "status.h"

namespace mm {
namespace {

thread_local bool t_inside_parallel_region = false;

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : threads_(threads) {
    for (int i = 1; i < threads; i++) workers_.emplace_back([this] { worker_loop(); });
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  int size() const { return threads_; }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    std::lock_guard<std::mutex> serial(run_mutex_);  // one job at a time from any caller
    const int64_t chunks_wanted = std::min<int64_t>(threads_ * 4, (n + grain - 1) / grain);
    const int64_t chunk = std::max<int64_t>(grain, (n + chunks_wanted - 1) / chunks_wanted);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      job_n_ = n;
      job_chunk_ = chunk;
      next_.store(0);
      pending_workers_ = static_cast<int>(workers_.size());
      generation_++;
    }
    wake_.notify_all();
    work_on_job(fn, n, chunk);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_workers_ == 0; });
    job_ = nullptr;
  }

 private:
  void work_on_job(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int64_t chunk) {
    t_inside_parallel_region = true;
    for (;;) {
      const int64_t begin = next_.fetch_add(chunk);
      if (begin >= n) break;
      fn(begin, std::min(n, begin + chunk));
    }
    t_inside_parallel_region = false;
  }

  void worker_loop() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int64_t, int64_t)>* job;
      int64_t n, chunk;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        job = job_;
        n = job_n_;
        chunk = job_chunk_;
      }
      work_on_job(*job, n, chunk);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_workers_ == 0) done_.notify_one();
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 1;
  std::atomic<int64_t> next_{0};
  int pending_workers_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

std::mutex g_pool_mutex;
std::unique_ptr<ThreadPool> g_pool;

ThreadPool& pool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(default_num_threads());
  return *g_pool;
}

}  // namespace

int default_num_threads() {
  if (const char* env = std::getenv("MMCOT_NUM_THREADS")) {
    char* end = nullptr;
    const long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value > 0 && value <= 1024) return static_cast<int>(value);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (g_pool && g_pool->size() == n) return;
  g_pool.reset();  // joins the old workers first
  g_pool = std::make_unique<ThreadPool>(n);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n <= grain || t_inside_parallel_region) {
    fn(0, n);
    return;
  }
  ThreadPool& p = pool();
  if (p.size() == 1) {
    fn(0, n);
    return;
  }
  p.run(n, grain, fn);
}

}  // namespace mm

extern "C" mm_status mm_set_num_threads(int n) {
  if (n < 1 || n > 1024) return mm::fail(MM_ERR_ARG, "setNumThreads: n must be in [1, 1024], got %d", n);
  return mm::guarded("setNumThreads", [&] {
    mm::set_num_threads(n);
    return MM_OK;
  });
}

extern "C" int mm_get_num_threads(void) { return mm::num_threads(); }
