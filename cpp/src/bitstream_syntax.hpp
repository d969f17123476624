// What the validator, writer and parser of the .ftm container share: box
// types, where an error is and how it is reported. Internal.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ftm/bitstream.hpp"

namespace ftm::syntax {

// Box types as the 32-bit little-endian value of their four characters.
constexpr std::uint32_t fourcc(const char (&s)[5]) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}
inline constexpr std::uint32_t kTens = fourcc("TENS"), kQlog = fourcc("QLOG"), kQmmx = fourcc("QMMX"),
                               kPack = fourcc("PACK"), kHevc = fourcc("HEVC"), kVidc = fourcc("VIDC"),
                               kQscl = fourcc("QSCL"),
                               kNorm = fourcc("NORM"), kCabc = fourcc("CABC"), kHash = fourcc("hash"),
                               kInfo = fourcc("info"), kFend = fourcc("FEND");
inline constexpr std::uint32_t kLmod = fourcc("LMOD"), kLatn = fourcc("LATN"), kPqcd = fourcc("PQCD");
inline constexpr std::uint32_t kTxtr = fourcc("TXTR");
inline constexpr std::uint8_t kMagic[4] = {0x46, 0x54, 0x4D, 0x1A};

// The type of a box from its four characters (any four bytes).
inline std::uint32_t fourcc_of(const std::string& type) {
  std::uint32_t t = 0;
  for (std::size_t i = 0; i < 4; ++i) t |= static_cast<std::uint32_t>(static_cast<unsigned char>(type[i])) << (8 * i);
  return t;
}

inline bool valid_type_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' '; }

// Labels of the parts of a stream that are not boxes.
inline const std::string kStreamHeader = "stream header";
inline const std::string kBoxHeader = "box header";

// Where an error is: which tensor and box, and (for parsed streams) the
// byte offset of the box.
struct Where {
  std::size_t tensor = 0;
  std::string tensor_name;
  std::string box;
  std::optional<std::size_t> offset;         // of the element, while parsing
  std::optional<std::size_t> record_offset;  // of the tensor record, while validating a parsed stream
};

// Stream-supplied text in a message: printable ASCII kept, every other byte
// as \xNN, so that a message is always valid text whatever the stream holds.
inline std::string escaped(const std::string& text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

[[noreturn]] inline void fail(const Where& w, const std::string& element, const std::string& what) {
  std::ostringstream s;
  s << "tensor " << w.tensor;
  if (!w.tensor_name.empty()) s << " '" << escaped(w.tensor_name) << "'";
  if (w.box == kStreamHeader || w.box == kBoxHeader) s << ", " << w.box;
  else if (!w.box.empty()) s << ", box " << escaped(w.box);
  if (w.offset) s << " at byte " << *w.offset;
  if (w.record_offset) s << " (record at byte " << *w.record_offset << ")";
  if (!element.empty()) s << ", " << element;
  s << ": " << what;
  throw BitstreamError(s.str());
}

template <class T>
std::string str(T v) {
  std::ostringstream s;
  s.precision(9);
  s << +v;
  return s.str();
}

inline void check_range(const Where& w, const char* element, long long v, long long lo, long long hi) {
  if (v < lo || v > hi) fail(w, element, str(v) + " outside [" + str(lo) + ", " + str(hi) + "]");
}

inline void check_finite(const Where& w, const std::string& element, float v) {
  if (!std::isfinite(v)) fail(w, element, "must be finite, got " + str(v));
}

// Every constraint of the spec (bitstream_validate.cpp); offsets[t], when
// given, is where record t starts in the parsed bytes.
void validate_stream(const Stream& s, const std::vector<std::size_t>* offsets);

}  // namespace ftm::syntax
