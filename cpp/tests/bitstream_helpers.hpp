// What the container tests share: a record's validation or parse error as
// text, a one-record stream, and where a box is in written bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ftm/bitstream.hpp"

namespace ftm_test {

using Bytes = std::vector<std::uint8_t>;

// The validator's message for a stream of `r` alone, or "no error".
inline std::string validate_error(const ftm::TensorRecord& r) {
  ftm::Stream s;
  s.tensors = {r};
  try {
    ftm::validate(s);
  } catch (const ftm::BitstreamError& e) {
    return e.what();
  }
  return "no error";
}

inline Bytes write_one(const ftm::TensorRecord& r) {
  ftm::Stream s;
  s.tensors = {r};
  return ftm::write_stream(s);
}

// The parser's message for `b`, or "no error".
inline std::string parse_error(const Bytes& b) {
  try {
    ftm::parse_stream(b.data(), b.size());
  } catch (const ftm::BitstreamError& e) {
    return e.what();
  }
  return "no error";
}

// Offset of the first box of `type` in a written stream (its size field), or b.size().
inline std::size_t find_box(const Bytes& b, const char* type) {
  for (std::size_t pos = 8; pos + 8 <= b.size();) {
    std::uint32_t size;
    std::memcpy(&size, b.data() + pos, 4);  // little-endian host, as CI
    if (std::memcmp(b.data() + pos + 4, type, 4) == 0) return pos;
    pos += 8 + size;
  }
  return b.size();
}

}  // namespace ftm_test
