// Helpers of the known-answer tests of the entropy coders: a short stream is
// checked byte for byte (and printed as a C array when it changes), a long
// one by its FNV-1a hash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ftm_test {

inline std::uint64_t fnv1a(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

inline std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string s;
  char buf[8];
  for (const std::uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "0x%02x, ", b);
    s += buf;
  }
  return s;
}

}  // namespace ftm_test
