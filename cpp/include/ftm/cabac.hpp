// Binary arithmetic coder in the manner of HEVC's CABAC: adaptive binary
// contexts, bypass bins and a terminating bin, in integer arithmetic only, so
// encoder and decoder agree bit for bit on every platform.
//
// Differences from HEVC's engine, and why (docs/entropy-coding.md has the
// full specification):
// - Contexts are VVC's two-rate estimators (the mean of a fast and a slow
//   exponentially decaying estimate of P(bin = 1)) rather than HEVC's 64-state
//   machine, whose coarse probabilities and floor of 0.01875 cost several
//   percent on the very skewed bins of sparse feature vectors. Both estimators
//   start with a warm-up in which they adapt as 1/2^floor(log2(count + 2)),
//   close to a counting estimator, until they reach their window.
// - The range register holds 32 bits and is renormalized a byte at a time
//   (carry propagation as in a range coder), and the subrange of a bin is a
//   17 x 15-bit product instead of HEVC's 9-bit range and 64 x 4 rLPS table:
//   fewer renormalizations, and no table quantization loss.
//
// The hot functions are inline because the level coder calls them per bin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ftm {

// Precision of the probability the engine multiplies by: P(bin = 1) is an
// integer in [1, 2^15 - 1] in units of 2^-15.
constexpr int kCabacProbBits = 15;
// Precision of the estimators: slow windows need resolution below 2^-15 so
// that a rare bin keeps adapting instead of sticking at a floor.
constexpr int kCabacStateBits = 26;
constexpr int kCabacMinShift = 1;
constexpr int kCabacMaxShift = 12;
// Both estimators adapt at least this fast until `count` reaches 2^shift.
constexpr std::uint16_t kCabacCountCap = 1u << kCabacMaxShift;

// One adaptive binary context. fast/slow estimate P(bin = 1) in units of
// 2^-kCabacStateBits and stay within [0, 2^kCabacStateBits].
struct CabacContext {
  std::uint32_t fast;
  std::uint32_t slow;
  std::uint16_t count;  // bins coded so far, saturating at kCabacCountCap
  std::uint8_t fast_shift;
  std::uint8_t slow_shift;
};

// Context with windows 2^fast_shift and 2^slow_shift (each in
// [kCabacMinShift, kCabacMaxShift]) and initial P(bin = 1) = p1 / 2^15,
// p1 in [1, 2^15 - 1]. Throws std::invalid_argument otherwise.
CabacContext cabac_context(int fast_shift, int slow_shift, std::uint32_t p1 = 1u << (kCabacProbBits - 1));

// P(bin = 1) in units of 2^-15, in [1, 2^15 - 1].
inline std::uint32_t cabac_probability(const CabacContext& c) {
  std::uint32_t p = (c.fast + c.slow) >> (kCabacStateBits + 1 - kCabacProbBits);
  p = p < 1u ? 1u : p;
  return p > (1u << kCabacProbBits) - 1u ? (1u << kCabacProbBits) - 1u : p;
}

namespace detail {
inline unsigned bit_length(std::uint32_t v) {
#if defined(__GNUC__) || defined(__clang__)
  return v ? 32u - static_cast<unsigned>(__builtin_clz(v)) : 0u;
#else
  unsigned n = 0;
  while (v) ++n, v >>= 1;
  return n;
#endif
}
}  // namespace detail

inline void cabac_update(CabacContext& c, int bin) {
  // Warm-up: the rate 1/2^floor(log2(count + 2)) follows the running mean of
  // a counting estimator until the window is reached.
  const unsigned warm = detail::bit_length(static_cast<std::uint32_t>(c.count) + 2u) - 1u;
  const unsigned sf = warm < c.fast_shift ? warm : c.fast_shift;
  const unsigned ss = warm < c.slow_shift ? warm : c.slow_shift;
  constexpr std::uint32_t one = 1u << kCabacStateBits;
  if (bin) {
    c.fast += (one - c.fast) >> sf;
    c.slow += (one - c.slow) >> ss;
  } else {
    c.fast -= c.fast >> sf;
    c.slow -= c.slow >> ss;
  }
  c.count = static_cast<std::uint16_t>(c.count + (c.count < kCabacCountCap));
}

// ------------------------------------------------------------------ encoder
// Bytes are appended to `out`, which may already hold a header. The interval
// is [low, low + range) with 2^24 <= range < 2^32 between bins; low carries
// one extra bit for the carry into bytes not yet written (`cache` and
// `pending` 0xFF bytes after it).
struct CabacEncoder {
  std::vector<std::uint8_t> out;
  std::uint64_t low = 0;
  std::uint32_t range = 0xFFFFFFFFu;
  std::uint8_t cache = 0;
  std::uint64_t pending = 1;  // cache byte plus 0xFF bytes waiting for a carry
  bool lead_byte = true;      // the first byte of the carry chain is always 0 and is not written
};

constexpr std::uint32_t kCabacTop = 1u << 24;

void cabac_encoder_shift(CabacEncoder& e);

inline void cabac_encoder_normalize(CabacEncoder& e) {
  while (e.range < kCabacTop) {
    e.range <<= 8;
    cabac_encoder_shift(e);
  }
}

// Bin 1 takes the lower P(1) part of the interval.
inline void cabac_encode_bin(CabacEncoder& e, CabacContext& c, int bin) {
  const std::uint32_t bound = (e.range >> kCabacProbBits) * cabac_probability(c);
  if (bin) {
    e.range = bound;
  } else {
    e.low += bound;
    e.range -= bound;
  }
  cabac_update(c, bin);
  cabac_encoder_normalize(e);
}

// `count` bins with P = 1/2 each, the most significant bit of value first;
// count in [0, 32].
inline void cabac_encode_bypass_bits(CabacEncoder& e, std::uint32_t value, int count) {
  while (count > 0) {
    // Chunks of at most 8 bits keep range >= 2^16 before renormalizing, so the
    // interval lost to rounding is below 2^-16 of it.
    const int c = count < 8 ? count : 8;
    count -= c;
    const std::uint32_t chunk = (value >> count) & ((1u << c) - 1u);
    e.range >>= c;
    e.low += static_cast<std::uint64_t>(chunk) * e.range;
    cabac_encoder_normalize(e);
  }
}

inline void cabac_encode_bypass(CabacEncoder& e, int bin) {
  cabac_encode_bypass_bits(e, static_cast<std::uint32_t>(bin != 0), 1);
}

// A bin whose value 1 has the fixed probability 2^-7 (HEVC's
// end_of_slice_segment_flag): cheap to code 0 often, 1 once at an end.
constexpr int kCabacTerminateShift = 7;

inline void cabac_encode_terminate(CabacEncoder& e, int bin) {
  const std::uint32_t bound = e.range >> kCabacTerminateShift;
  if (bin) {
    e.range = bound;
  } else {
    e.low += bound;
    e.range -= bound;
  }
  cabac_encoder_normalize(e);
}

// Writes the last 4 bytes so that the decoder reads exactly the bytes the
// encoder produced. The encoder must not be used afterwards.
void cabac_finish(CabacEncoder& e);

// ------------------------------------------------------------------ decoder
// Reads a byte span and never past its end: needing a byte beyond it throws
// std::runtime_error, as does a first code word outside the interval.
struct CabacDecoder {
  const std::uint8_t* pos = nullptr;
  const std::uint8_t* end = nullptr;
  std::uint32_t range = 0xFFFFFFFFu;
  std::uint32_t code = 0;
};

// Needs at least 4 bytes (what cabac_finish writes).
void cabac_decoder_init(CabacDecoder& d, const std::uint8_t* data, std::size_t size);

[[noreturn]] void cabac_throw_overrun();
[[noreturn]] void cabac_throw_corrupt(const char* what);

inline void cabac_decoder_normalize(CabacDecoder& d) {
  while (d.range < kCabacTop) {
    if (d.pos == d.end) cabac_throw_overrun();
    d.range <<= 8;
    d.code = (d.code << 8) | *d.pos++;
  }
}

inline int cabac_decode_bin(CabacDecoder& d, CabacContext& c) {
  const std::uint32_t bound = (d.range >> kCabacProbBits) * cabac_probability(c);
  int bin;
  if (d.code < bound) {
    d.range = bound;
    bin = 1;
  } else {
    d.code -= bound;
    d.range -= bound;
    bin = 0;
  }
  cabac_update(c, bin);
  cabac_decoder_normalize(d);
  return bin;
}

inline std::uint32_t cabac_decode_bypass_bits(CabacDecoder& d, int count) {
  std::uint32_t value = 0;
  while (count > 0) {
    const int c = count < 8 ? count : 8;
    count -= c;
    const std::uint32_t r = d.range >> c;
    // Only a corrupt stream points into the part of the interval that
    // rounding range down to a multiple of 2^c left unused.
    if (d.code >= (r << c)) cabac_throw_corrupt("bypass bins outside the coding interval");
    for (int i = c - 1; i >= 0; --i) {
      const std::uint32_t t = r << i;
      const std::uint32_t bit = d.code >= t;
      d.code -= t & (0u - bit);
      value = (value << 1) | bit;
    }
    d.range = r;
    cabac_decoder_normalize(d);
  }
  return value;
}

inline int cabac_decode_bypass(CabacDecoder& d) { return static_cast<int>(cabac_decode_bypass_bits(d, 1)); }

inline int cabac_decode_terminate(CabacDecoder& d) {
  const std::uint32_t bound = d.range >> kCabacTerminateShift;
  int bin;
  if (d.code < bound) {
    d.range = bound;
    bin = 1;
  } else {
    d.code -= bound;
    d.range -= bound;
    bin = 0;
  }
  cabac_decoder_normalize(d);
  return bin;
}

// Bytes not read yet: 0 after decoding everything a well-formed stream holds.
inline std::size_t cabac_decoder_remaining(const CabacDecoder& d) {
  return static_cast<std::size_t>(d.end - d.pos);
}

}  // namespace ftm
