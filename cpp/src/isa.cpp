#include "isa.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ftm::detail {

namespace {

constexpr const char* kNames[kIsaLevels] = {"baseline", "x86-64-v3", "x86-64-v4"};

}  // namespace

const char* isa_name(Isa level) { return kNames[static_cast<int>(level)]; }

bool isa_supported(Isa level) {
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
  // Also checks that the OS saves the wider registers (XGETBV). Clang (14)
  // knows no level names here, and builds the baseline only (isa.hpp).
  __builtin_cpu_init();
  switch (level) {
    case Isa::kBaseline: return true;
    case Isa::kX86_64_V3: return __builtin_cpu_supports("x86-64-v3");
    case Isa::kX86_64_V4: return __builtin_cpu_supports("x86-64-v4");
  }
  return false;
#else
  return level == Isa::kBaseline;
#endif
}

Isa isa_cap() {
  const char* env = std::getenv("FTM_ISA");
  if (env == nullptr || *env == '\0') return Isa::kX86_64_V4;
  for (int level = 0; level < kIsaLevels; ++level)
    if (std::strcmp(env, kNames[level]) == 0) return static_cast<Isa>(level);
  throw std::invalid_argument(std::string("FTM_ISA must be baseline, x86-64-v3 or x86-64-v4, got '") + env + "'");
}

Isa selected_isa() {
  static const Isa selected = [] {
    int level = static_cast<int>(isa_cap());
    while (level > 0 && !isa_supported(static_cast<Isa>(level))) --level;
    return static_cast<Isa>(level);
  }();
  return selected;
}

}  // namespace ftm::detail
