// The CUDA emulator's engine (fibers, barriers, warp exchange) and its runtime API (device
// memory in host memory, synchronous "streams"). See emu.h for what it models and what it cannot.
#include "emu.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#if !defined(__x86_64__)
#error "the CUDA emulator's fiber switch is written for x86-64"
#endif

// Fiber switch without system calls (ucontext's swapcontext saves the signal mask with a syscall,
// which made each emulated thread cost ~0.7 us). Saves the callee-saved registers, MXCSR and the
// x87 control word on the current stack, stores the stack pointer to *from, and resumes `to`.
extern "C" void mm_emu_switch(void** from, void* to);
asm(R"(
  .text
  .globl mm_emu_switch
  .hidden mm_emu_switch
  .type mm_emu_switch, @function
mm_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size mm_emu_switch, .-mm_emu_switch
)");

namespace mm::emu {

thread_local ThreadState* t_thread = nullptr;

namespace {

// ---- configuration ----

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  return end && *end == '\0' ? static_cast<size_t>(n) : fallback;
}

int device_count() {
  static const int n = static_cast<int>(std::max<size_t>(1, std::min<size_t>(8, env_size("MMCOT_EMU_DEVICES", 1))));
  return n;
}
size_t memory_limit() {
  static const size_t bytes = env_size("MMCOT_EMU_MEMORY_MB", 4096) << 20;
  return bytes;
}
constexpr size_t kStackBytes = 256 * 1024;
constexpr size_t kDefaultSharedLimit = 48 * 1024;
constexpr size_t kOptinSharedLimit = 227 * 1024;

// ---- errors ----

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_launch_message;

cudaError_t record(cudaError_t err) {
  if (err != cudaSuccess) t_last_error = err;
  return err;
}

// ---- fibers ----

enum class FiberState { Runnable, AtBlockBarrier, AtWarpBarrier, Done };

struct Fiber {
  void* sp = nullptr;  // saved stack pointer while suspended
  ThreadState thread;
  FiberState state = FiberState::Runnable;
  uint64_t exchange = 0;  // this lane's deposit for warp_exchange
};

// The fibers of the block running on this OS thread, with their stacks (kept between launches).
struct Scheduler {
  void* main_sp = nullptr;
  std::vector<Fiber> fibers;
  std::vector<void*> stacks;
  std::vector<int> order;
  const std::function<void()>* body = nullptr;
  // The schedule's randomness: fixed per process (reproducible failures), MMCOT_EMU_SEED to vary it.
  std::mt19937 rng{static_cast<uint32_t>(env_size("MMCOT_EMU_SEED", 12345))};
  bool failed = false;
  std::string failure;
  std::string device_fault;  // set by a kernel thread (e.g. a misaligned wmma pointer)

  ~Scheduler() {
    for (void* s : stacks) munmap(s, kStackBytes);
  }

  void ensure_stacks(size_t n) {
    while (stacks.size() < n) {
      void* s = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (s == MAP_FAILED) throw std::bad_alloc();
      // A guard page at the low end turns a stack overflow into a fault instead of corruption.
      mprotect(s, static_cast<size_t>(getpagesize()), PROT_NONE);
      stacks.push_back(s);
    }
  }
};

thread_local Scheduler* t_scheduler = nullptr;
thread_local Fiber* t_fiber = nullptr;

Scheduler& scheduler() {
  if (!t_scheduler) t_scheduler = new Scheduler();  // one per OS thread, for the process
  return *t_scheduler;
}

// First frame of every fiber: runs the kernel body, then returns to the scheduler for good.
void fiber_entry() {
  Scheduler& s = scheduler();
  (*s.body)();
  t_fiber->state = FiberState::Done;
  mm_emu_switch(&t_fiber->sp, s.main_sp);
  __builtin_unreachable();
}

// A fresh fiber's stack, laid out as mm_emu_switch expects to find a suspended one: control
// words, six callee-saved registers, then fiber_entry as the return address (with the stack
// aligned as if fiber_entry had been called).
void* initial_stack(void* stack_base) {
  uintptr_t top = (reinterpret_cast<uintptr_t>(stack_base) + kStackBytes) & ~uintptr_t{15};
  uint64_t* sp = reinterpret_cast<uint64_t*>(top - 72);
  uint32_t control[2] = {0x1F80u, 0x037Fu};  // default MXCSR and x87 control word
  memcpy(&sp[0], control, sizeof control);
  for (int i = 1; i <= 6; i++) sp[i] = 0;
  sp[7] = reinterpret_cast<uint64_t>(&fiber_entry);
  sp[8] = 0;
  return sp;
}

// Gives control back to the scheduler until a barrier releases this fiber.
void block_on(FiberState state) {
  Fiber* f = t_fiber;
  f->state = state;
  mm_emu_switch(&f->sp, scheduler().main_sp);
  t_fiber = f;
  t_thread = &f->thread;
}

std::string format_block(const uint3& b) {
  return "(" + std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.z) + ")";
}

// Runs one block to completion; false (with s.failure set) when a barrier can never be passed.
bool run_block(Scheduler& s, BlockState& block, unsigned threads) {
  const dim3 bd = block.block_dim;
  s.fibers.resize(threads);
  s.order.resize(threads);
  for (unsigned i = 0; i < threads; i++) {
    Fiber& f = s.fibers[i];
    f.state = FiberState::Runnable;
    f.exchange = 0;
    f.thread.linear = static_cast<int>(i);
    f.thread.thread_idx = {i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y)};
    f.thread.block = &block;
    f.sp = initial_stack(s.stacks[i]);
    s.order[i] = static_cast<int>(i);
  }
  const unsigned warps = (threads + 31) / 32;
  for (;;) {
    // Run every runnable thread until it blocks or ends, in a fresh random order.
    std::shuffle(s.order.begin(), s.order.end(), s.rng);
    for (int i : s.order) {
      Fiber& f = s.fibers[i];
      if (f.state != FiberState::Runnable) continue;
      t_fiber = &f;
      t_thread = &f.thread;
      mm_emu_switch(&s.main_sp, f.sp);
    }
    t_thread = nullptr;
    t_fiber = nullptr;
    // Release warps whose live lanes all wait at a warp barrier.
    bool released = false, all_done = true, any_block_wait = false;
    for (unsigned w = 0; w < warps; w++) {
      const unsigned begin = w * 32, end = std::min(threads, begin + 32);
      int waiting = 0, live = 0, done = 0;
      for (unsigned i = begin; i < end; i++) {
        const FiberState st = s.fibers[i].state;
        if (st == FiberState::Done) {
          done++;
          continue;
        }
        live++;
        if (st == FiberState::AtWarpBarrier) waiting++;
        if (st == FiberState::AtBlockBarrier) any_block_wait = true;
      }
      if (live) all_done = false;
      if (waiting && waiting == live) {
        if (done) {
          s.failure = "warp " + std::to_string(w) + " of block " + format_block(block.block_idx) + ": a warp shuffle/__syncwarp with " +
                      std::to_string(done) + " lane(s) already exited (all 32 lanes must take part)";
          return false;
        }
        for (unsigned i = begin; i < end; i++) s.fibers[i].state = FiberState::Runnable;
        released = true;
      }
    }
    if (all_done) {
      if (s.device_fault.empty()) return true;
      s.failure = "block " + format_block(block.block_idx) + ": " + s.device_fault;
      s.device_fault.clear();
      return false;
    }
    if (released) continue;
    // Release the block barrier when every thread waits at it. A thread that already exited
    // makes the barrier divergent: undefined in CUDA (it may hang or pass), an error here.
    bool all_at_block = any_block_wait;
    int exited = 0;
    for (const Fiber& f : s.fibers) {
      if (f.state != FiberState::Done && f.state != FiberState::AtBlockBarrier) all_at_block = false;
      exited += f.state == FiberState::Done;
    }
    if (all_at_block && exited) {
      s.failure = "block " + format_block(block.block_idx) + ": __syncthreads reached after " + std::to_string(exited) +
                  " thread(s) of the block returned (divergent barrier: every thread must reach it)";
      return false;
    }
    if (all_at_block) {
      for (Fiber& f : s.fibers)
        if (f.state == FiberState::AtBlockBarrier) f.state = FiberState::Runnable;
      continue;
    }
    int at_block = 0, at_warp = 0;
    for (const Fiber& f : s.fibers) {
      at_block += f.state == FiberState::AtBlockBarrier;
      at_warp += f.state == FiberState::AtWarpBarrier;
    }
    s.failure = "block " + format_block(block.block_idx) + " can never pass its barriers: " + std::to_string(at_block) +
                " thread(s) wait in __syncthreads and " + std::to_string(at_warp) +
                " in a warp shuffle/__syncwarp whose warp-mates went elsewhere (divergent barrier)";
    return false;
  }
}

// ---- function attributes (dynamic shared memory opt-in) ----

std::mutex g_attr_mutex;
std::map<const void*, size_t> g_max_dynamic_smem;

size_t allowed_dynamic_smem(const void* kernel) {
  std::lock_guard<std::mutex> lock(g_attr_mutex);
  auto it = g_max_dynamic_smem.find(kernel);
  return it == g_max_dynamic_smem.end() ? kDefaultSharedLimit : it->second;
}

// ---- memory ----

struct Allocation {
  void* base;     // the mapping: the block, then one guard page
  size_t mapped;  // bytes mapped, guard page included
  size_t size;    // bytes asked for
};
std::mutex g_memory_mutex;
std::map<void*, Allocation> g_allocations;
size_t g_allocated = 0;
thread_local const char* t_launch_name = nullptr;

struct sigaction g_previous_segv;

// A fault in a guard page: say which block and which kernel, then die (an emulated kernel has no
// way back). Other faults go to the handler that was there before (V8 uses one for wasm).
void on_fault(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (const auto& [ptr, a] : g_allocations) {  // not async-signal-safe, but the process is ending
    const uintptr_t guard = reinterpret_cast<uintptr_t>(a.base) + a.mapped - static_cast<size_t>(getpagesize());
    if (addr >= guard && addr < guard + static_cast<size_t>(getpagesize())) {
      char msg[512];
      const int n = snprintf(msg, sizeof msg,
                             "mmcot CUDA emulator: %s accessed device memory %zu bytes past the end of a %zu-byte allocation at %p "
                             "(out of bounds; on a GPU an illegal address or silent corruption)\n",
                             t_launch_name ? t_launch_name : "host code", static_cast<size_t>(addr - reinterpret_cast<uintptr_t>(ptr)) - a.size,
                             a.size, ptr);
      if (n > 0) (void)!write(2, msg, static_cast<size_t>(n));
      signal(SIGABRT, SIG_DFL);
      abort();
    }
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    if (g_previous_segv.sa_sigaction) return g_previous_segv.sa_sigaction(sig, info, context);
  } else if (g_previous_segv.sa_handler != SIG_DFL && g_previous_segv.sa_handler != SIG_IGN) {
    return g_previous_segv.sa_handler(sig);
  }
  signal(SIGSEGV, SIG_DFL);  // re-raised on return: the default action
}

void install_fault_handler() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_previous_segv);
}
thread_local int t_device = 0;

}  // namespace

void set_launch_name(const char* what) { t_launch_name = what; }

cudaError_t set_function_attribute(const void* fn, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || static_cast<size_t>(value) > kOptinSharedLimit)
    return record(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(g_attr_mutex);
  g_max_dynamic_smem[fn] = static_cast<size_t>(value);
  return cudaSuccess;
}

cudaError_t run_grid(const void* kernel_id, dim3 grid, dim3 block, size_t dynamic_smem, const std::function<void()>& body) {
  t_launch_message.clear();
  const unsigned long long threads = static_cast<unsigned long long>(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.y > 65535 || grid.z > 65535 || grid.x == 0 || grid.y == 0 || grid.z == 0) {
    t_launch_message = "invalid launch configuration: grid (" + std::to_string(grid.x) + "," + std::to_string(grid.y) + "," +
                       std::to_string(grid.z) + "), block (" + std::to_string(block.x) + "," + std::to_string(block.y) + "," +
                       std::to_string(block.z) + ")";
    return record(cudaErrorInvalidConfiguration);
  }
  if (dynamic_smem > allowed_dynamic_smem(kernel_id)) {
    t_launch_message = std::to_string(dynamic_smem) + " bytes of dynamic shared memory requested; the kernel allows " +
                       std::to_string(allowed_dynamic_smem(kernel_id)) + " (cudaFuncSetAttribute raises it up to 227 KiB)";
    return record(cudaErrorInvalidValue);
  }
  if (t_thread) {
    t_launch_message = "a kernel launched another kernel (dynamic parallelism is not part of the dialect)";
    return record(cudaErrorLaunchFailure);
  }
  Scheduler& s = scheduler();
  s.ensure_stacks(threads);
  s.body = &body;
  // 128 bytes of alignment slack (MM_DYNAMIC_SHARED promises 128), the kernel's dynamic shared
  // memory, then a canary that a write past its end would change.
  constexpr size_t kCanary = 256;
  std::vector<unsigned char> smem(128 + dynamic_smem + kCanary);
  // Fill with a pattern so kernels that read shared memory before writing it see garbage.
  std::fill(smem.begin(), smem.end(), static_cast<unsigned char>(0xA5));
  BlockState state{};
  state.block_dim = block;
  state.grid_dim = grid;
  state.dynamic_shared = smem.data() + (128 - reinterpret_cast<uintptr_t>(smem.data()) % 128) % 128;
  // Blocks in a shuffled order: CUDA promises no order between blocks.
  const unsigned long long blocks = static_cast<unsigned long long>(grid.x) * grid.y * grid.z;
  std::vector<unsigned long long> block_order(blocks);
  for (unsigned long long i = 0; i < blocks; i++) block_order[i] = i;
  std::shuffle(block_order.begin(), block_order.end(), s.rng);
  for (unsigned long long b : block_order) {
    state.block_idx = {static_cast<unsigned>(b % grid.x), static_cast<unsigned>((b / grid.x) % grid.y),
                       static_cast<unsigned>(b / (static_cast<unsigned long long>(grid.x) * grid.y))};
    bool ok = run_block(s, state, static_cast<unsigned>(threads));
    const unsigned char* canary = state.dynamic_shared + dynamic_smem;
    for (size_t i = 0; ok && i < kCanary; i++) {
      if (canary[i] != 0xA5) {
        s.failure = "block " + format_block(state.block_idx) + " wrote " + std::to_string(i) + " bytes past the end of its " +
                    std::to_string(dynamic_smem) + " bytes of dynamic shared memory";
        ok = false;
      }
    }
    if (!ok) {
      t_launch_message = "emulated kernel failed: " + s.failure;
      fprintf(stderr, "mmcot CUDA emulator: %s\n", t_launch_message.c_str());
      return record(cudaErrorLaunchFailure);
    }
  }
  return cudaSuccess;
}

void device_fault(const char* what) {
  Scheduler& s = scheduler();
  if (s.device_fault.empty()) s.device_fault = std::string(what) + " (thread " + std::to_string(t_thread ? t_thread->linear : -1) + ")";
}

void sync_block() { block_on(FiberState::AtBlockBarrier); }
void sync_warp() { block_on(FiberState::AtWarpBarrier); }

uint64_t warp_exchange(uint64_t value, int src_lane) {
  Scheduler& s = scheduler();
  Fiber* self = t_fiber;
  self->exchange = value;
  sync_warp();  // every lane has deposited
  const int warp_base = self->thread.linear / 32 * 32;
  const size_t src = static_cast<size_t>(warp_base + src_lane);
  const uint64_t got = src < s.fibers.size() ? s.fibers[src].exchange : value;
  sync_warp();  // every lane has read before anyone deposits again
  return got;
}

}  // namespace mm::emu

unsigned __ballot_sync(unsigned, int predicate) {
  using namespace mm::emu;
  // Each lane deposits its predicate; lane i reads lane j's deposit by a shuffle per lane is
  // wasteful, so read them all between the two barriers of one exchange.
  Scheduler& s = scheduler();
  Fiber* self = t_fiber;
  self->exchange = predicate ? 1 : 0;
  sync_warp();
  const int base = self->thread.linear / 32 * 32;
  unsigned votes = 0;
  for (int lane = 0; lane < 32 && static_cast<size_t>(base + lane) < s.fibers.size(); lane++) {
    const Fiber& f = s.fibers[base + lane];
    if (f.state != FiberState::Done && f.exchange) votes |= 1u << lane;
  }
  sync_warp();
  return votes;
}

// ---- runtime API ----------------------------------------------------------------------------------
using namespace mm::emu;

cudaError_t cudaGetDeviceCount(int* count) {
  *count = device_count();
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count()) return record(cudaErrorInvalidDevice);
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = t_device;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device < 0 || device >= device_count()) return record(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  snprintf(prop->name, sizeof prop->name, "mmcot CUDA emulator on the CPU");
  prop->totalGlobalMem = memory_limit();
  prop->sharedMemPerBlock = kDefaultSharedLimit;
  prop->sharedMemPerBlockOptin = kOptinSharedLimit;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->multiProcessorCount = 4;
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device < 0 || device >= device_count()) return record(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = 4; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(kOptinSharedLimit); return cudaSuccess;
  }
  return record(cudaErrorInvalidValue);
}

// Device memory is host memory, each block placed so that it ends where a PROT_NONE guard page
// begins (256-byte aligned, as cudaMalloc promises): a kernel that reads or writes past the end
// of an allocation faults at once, and the SIGSEGV handler below names the kernel and the block
// instead of letting it corrupt a neighbour (on a GPU: an illegal address, or silent corruption).
cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_memory_mutex);
  install_fault_handler();
  const size_t size = bytes ? bytes : 1;
  if (g_allocated + size > memory_limit()) {
    *ptr = nullptr;
    return record(cudaErrorMemoryAllocation);
  }
  const size_t page = static_cast<size_t>(getpagesize());
  // MMCOT_EMU_TIGHT=1: no rounding, so the guard page follows the last byte asked for.
  static const bool tight = env_size("MMCOT_EMU_TIGHT", 0) != 0;
  const size_t data = tight ? size : (size + 255) / 256 * 256;
  const size_t span = (data + page - 1) / page * page;
  void* base = mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return record(cudaErrorMemoryAllocation);
  mprotect(static_cast<char*>(base) + span, page, PROT_NONE);
  void* p = static_cast<char*>(base) + span - data;
  // Fresh device memory holds garbage on a GPU; a pattern (a NaN when read as float) makes
  // kernels that read what they never wrote fail tests instead of seeing zeros.
  memset(p, 0xFF, data);
  g_allocations[p] = Allocation{base, span + page, size};
  g_allocated += size;
  *ptr = p;
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(g_memory_mutex);
  auto it = g_allocations.find(ptr);
  if (it == g_allocations.end()) return record(cudaErrorInvalidValue);
  g_allocated -= it->second.size;
  munmap(it->second.base, it->second.mapped);
  g_allocations.erase(it);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(g_memory_mutex);
  *total_bytes = memory_limit();
  *free_bytes = memory_limit() - g_allocated;
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes) memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t bytes, cudaStream_t) {
  if (dst_device < 0 || dst_device >= device_count() || src_device < 0 || src_device >= device_count()) return record(cudaErrorInvalidDevice);
  return cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice);
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (bytes) memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) { return cudaMemset(dst, value, bytes); }

// Streams are tokens: every launch and copy completes before its call returns.
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  static std::atomic<uintptr_t> next{1};
  *stream = reinterpret_cast<cudaStream_t>(next.fetch_add(1) * 16);
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) { return cudaStreamCreate(stream); }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaGetLastError() {
  const cudaError_t err = t_last_error;
  t_last_error = cudaSuccess;
  return err;
}
cudaError_t cudaPeekAtLastError() { return t_last_error; }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}
const char* cudaGetErrorString(cudaError_t err) {
  // Launch problems carry the emulator's explanation (which block, which barrier).
  if ((err == cudaErrorLaunchFailure || err == cudaErrorInvalidConfiguration || err == cudaErrorInvalidValue) && !t_launch_message.empty())
    return t_launch_message.c_str();
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}
