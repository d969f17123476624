#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "ftm/threads.hpp"

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

}  // namespace

void set_num_threads(int count) {
  if (count < 0)
    throw std::invalid_argument("thread count must be >= 0 (0 = default), got " +
                                std::to_string(count));
  g_threads.store(count);
}

int num_threads() {
  const int set = g_threads.load();
  return set > 0 ? set : default_threads();
}

}  // namespace ftm
