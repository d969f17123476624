#include "parallel.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ftm {
namespace {

std::atomic<int> g_threads{0};

int default_threads() {
  if (const char* env = std::getenv("FTM_NUM_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 4096) return static_cast<int>(v);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

thread_local bool t_in_worker = false;

// Spinning briefly before sleeping: kernels often run back to back
// (quantize, then pack), and a futex wake-up costs tens of microseconds,
// as much as a small kernel. OpenMP runtimes spin for the same reason.
constexpr auto kSpin = std::chrono::microseconds(50);

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until ready() or kSpin passes; true if ready.
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto stop = std::chrono::steady_clock::now() + kSpin;
  do {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
  } while (std::chrono::steady_clock::now() < stop);
  return ready();
}

// Workers sleep on a condition variable between jobs; a job is a task count
// and a callable, tasks handed out by an atomic counter. Starting threads
// per call would cost tens of microseconds, more than small kernels take.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Returns false (doing nothing) when another thread holds the pool.
  bool try_run(std::size_t tasks, const std::function<void(std::size_t)>& task) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    grow(tasks - 1);
    std::vector<std::exception_ptr> errors(tasks);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      errors_ = &errors;
      tasks_.store(tasks);
      next_.store(1);
      pending_.store(tasks - 1);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    execute(0);
    // The caller also takes tasks until none is left, then waits for the rest.
    for (std::size_t t; (t = next_.fetch_add(1)) < tasks;) finish(t);
    if (!spin_until([&] { return pending_.load() == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return pending_.load() == 0; });
    }
    std::lock_guard<std::mutex> lock(mutex_);  // workers touch nothing of this job after their last decrement
    task_ = nullptr;
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    return true;
  }

 private:
  void execute(std::size_t t) {
    try {
      (*task_)(t);
    } catch (...) {
      (*errors_)[t] = std::current_exception();
    }
  }

  void finish(std::size_t t) {
    execute(t);
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.fetch_sub(1) == 1) done_.notify_one();
  }

  void grow(std::size_t wanted) {
    while (threads_.size() < wanted) threads_.emplace_back([this] { work(); });
  }

  void work() {
    t_in_worker = true;
    std::uint64_t seen = 0;
    for (;;) {
      auto ready = [&] { return stopping_.load() || generation_.load() != seen; };
      if (!spin_until(ready)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, ready);
      }
      if (stopping_.load()) return;
      {
        // Taking the mutex orders this worker after the job's setup.
        std::lock_guard<std::mutex> lock(mutex_);
        seen = generation_.load();
      }
      for (std::size_t t; (t = next_.fetch_add(1)) < tasks_;) finish(t);
    }
  }

  std::mutex busy_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::vector<std::exception_ptr>* errors_ = nullptr;
  std::atomic<std::size_t> tasks_{0};  // read by workers outside the mutex
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> generation_{0};  // read while spinning
  std::atomic<bool> stopping_{false};
};

std::mutex g_pool_mutex;
Pool* g_pool = nullptr;  // leaked on purpose: see forget_pool_after_fork

// A forked child has none of the parent's threads: it must not wait on
// them. It forgets the pool (leaking it, since its threads cannot be
// joined) and builds a new one on first use.
void forget_pool_after_fork() {
  new (&g_pool_mutex) std::mutex();
  g_pool = nullptr;
}

Pool& pool() {
  static const bool registered = (pthread_atfork(nullptr, nullptr, forget_pool_after_fork), true);
  (void)registered;
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = new Pool();
  return *g_pool;
}

}  // namespace

void set_num_threads(int count) {
  if (count < 0)
    throw std::invalid_argument("thread count must be >= 0 (0 = default), got " + std::to_string(count));
  g_threads.store(count);
}

int num_threads() {
  const int set = g_threads.load();
  return set > 0 ? set : default_threads();
}

namespace detail {

void run_tasks(std::size_t tasks, const std::function<void(std::size_t)>& task) {
  if (tasks > 1 && !t_in_worker && pool().try_run(tasks, task)) return;
  std::exception_ptr first;
  for (std::size_t t = 0; t < tasks; ++t) {
    try {
      task(t);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace detail
}  // namespace ftm
