// Splits an index range over the core's worker threads. Internal to the core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

#include "ftm/threads.hpp"

namespace ftm::detail {

// Calls fn(begin, end) on contiguous chunks of [0, count). Chunks hold at
// least min_chunk items so small jobs stay on the calling thread. The first
// exception thrown by any chunk is rethrown here after every thread joined.
template <class Fn>
void parallel_for(std::size_t count, std::size_t min_chunk, Fn&& fn) {
  const std::size_t by_size = min_chunk ? count / min_chunk : count;
  const std::size_t workers =
      std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(num_threads()), by_size));
  if (workers == 1) {
    if (count) fn(std::size_t{0}, count);
    return;
  }
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  auto run = [&](std::size_t t) {
    const std::size_t begin = count * t / workers, end = count * (t + 1) / workers;
    try {
      fn(begin, end);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  for (std::size_t t = 1; t < workers; ++t) threads.emplace_back(run, t);
  run(0);
  for (auto& th : threads) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace ftm::detail
