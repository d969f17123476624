// Splits an index range over the core's worker threads. Internal.
#pragma once

#include <cstddef>
#include <functional>

#include "ftm/threads.hpp"

namespace ftm::detail {

// Runs task(t) for t in [0, tasks) on the persistent worker pool plus the
// calling thread, and returns when all are done; rethrows the exception of
// the lowest-numbered task that threw. Runs everything on the caller when
// called from a worker (nesting) or while another thread uses the pool.
void run_tasks(std::size_t tasks, const std::function<void(std::size_t)>& task);

// Calls fn(begin, end) on contiguous chunks of [0, count). Chunks hold at
// least min_chunk items so small jobs stay on the calling thread.
template <class Fn>
void parallel_for(std::size_t count, std::size_t min_chunk, Fn&& fn) {
  const std::size_t by_size = min_chunk ? count / min_chunk : count;
  std::size_t workers = static_cast<std::size_t>(num_threads());
  if (by_size < workers) workers = by_size;
  if (workers <= 1) {
    if (count) fn(std::size_t{0}, count);
    return;
  }
  run_tasks(workers, [&](std::size_t t) { fn(count * t / workers, count * (t + 1) / workers); });
}

}  // namespace ftm::detail
