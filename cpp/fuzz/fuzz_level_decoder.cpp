// libFuzzer target: the level decoder (cpp/src/level_coder.cpp, cabac.hpp).
//
// Input: N (u16, little-endian), D (u16), then the level payload. Every
// payload must decode or throw ftm::BitstreamError / ftm::LimitError, in
// time bounded by the limits below; the levels of one that decodes must
// come back from encoding them with the header's options. The limits keep
// one execution short; the decoder's bound on N * D by the payload size
// is exercised too, since the fuzzer can claim any N and D.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ftm/level_coder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t n = data[0] | static_cast<std::size_t>(data[1]) << 8;
  const std::size_t d = data[2] | static_cast<std::size_t>(data[3]) << 8;
  const std::uint8_t* payload = data + 4;
  const std::size_t bytes = size - 4;
  ftm::LevelDecodeLimits limits;
  limits.max_levels = std::size_t{1} << 12;
  limits.max_state_bytes = std::size_t{1} << 20;
  std::vector<std::int32_t> levels;
  ftm::LevelCoderOptions options;
  try {
    ftm::check_level_payload(payload, bytes, n, d, limits);
    levels.resize(n * d);
    ftm::decode_levels(payload, bytes, n, d, levels.data(), limits);
    options = ftm::read_level_header(payload, bytes);
  } catch (const ftm::BitstreamError&) {
    return 0;
  } catch (const ftm::LimitError&) {
    return 0;
  }
  const std::vector<std::uint8_t> again = ftm::encode_levels(levels.data(), n, d, options);
  std::vector<std::int32_t> back(n * d);
  ftm::decode_levels(again.data(), again.size(), n, d, back.data(), limits);
  if (back != levels) std::abort();
  return 0;
}
