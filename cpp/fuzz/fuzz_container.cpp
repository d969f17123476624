// libFuzzer target: the .ftm container parser (cpp/src/bitstream_*.cpp).
//
// Any byte string must either parse or throw ftm::BitstreamError; nothing
// else may escape, and a sanitizer must find nothing. A stream that parses
// must write back (write_stream validates it again) into bytes that parse
// to a stream writing the very same bytes: the writer and the parser agree
// on every syntax element. docs/fuzzing.md says how to run it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ftm/bitstream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ftm::Stream stream;
  std::vector<ftm::SyntaxElement> trace;
  try {
    stream = ftm::parse_stream(data, size, (size & 1) ? &trace : nullptr);
  } catch (const ftm::BitstreamError&) {
    return 0;
  }
  for (const auto& record : stream.tensors) {
    (void)record.element_count();
    if (record.kind == ftm::FeatureKind::kMap) (void)record.geometry();
  }
  const std::vector<std::uint8_t> written = ftm::write_stream(stream);
  const ftm::Stream again = ftm::parse_stream(written.data(), written.size());
  if (ftm::write_stream(again) != written) std::abort();
  return 0;
}
