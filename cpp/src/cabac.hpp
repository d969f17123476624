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
//   start with a warm-up in which they adapt about as fast as a counting
//   estimator, until they reach their window.
// - The range register holds 32 bits and is renormalized a byte at a time
//   (carry propagation as in a range coder), and the subrange of a bin is a
//   17 x 15-bit product instead of HEVC's 9-bit range and 64 x 4 rLPS table:
//   fewer renormalizations, and no table quantization loss.
//
// The hot functions are inline because the level coder calls them per bin.
// Internal: the level coder (ftm/level_coder.hpp) is the API; tests include
// this header from cpp/src.
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

// One adaptive binary context. fast/slow estimate P(bin = 1) in units of
// 2^-kCabacStateBits and stay within [1, 2^kCabacStateBits - 1] (an update
// moves at most all but one unit of the way). During the warm-up both adapt
// at the rate 1/2^w, w = 1, 1, 2, 2, 2, 2, 3, ... (2^w bins at each w, so
// that 2^w is about the number of bins seen: a counting estimator), each
// until w reaches its own window.
struct CabacContext {
  std::uint32_t fast;
  std::uint32_t slow;
  std::uint8_t fast_rate;   // current shifts: min(w, window)
  std::uint8_t slow_rate;
  std::uint8_t fast_shift;  // windows 2^fast_shift, 2^slow_shift
  std::uint8_t slow_shift;
  std::uint16_t warm_left;  // bins until w grows; 0 once both windows are reached
};

// Context with windows 2^fast_shift and 2^slow_shift (each in
// [kCabacMinShift, kCabacMaxShift]) and initial P(bin = 1) = p1 / 2^15,
// p1 in [1, 2^15 - 1]. Throws std::invalid_argument otherwise.
CabacContext cabac_context(int fast_shift, int slow_shift, std::uint32_t p1 = 1u << (kCabacProbBits - 1));

// P(bin = 1) in units of 2^-15, in [1, 2^15 - 1]: fast + slow < 2^27 - 1
// keeps it below 2^15, so only the floor needs a clamp.
inline std::uint32_t cabac_probability(const CabacContext& c) {
  const std::uint32_t p = (c.fast + c.slow) >> (kCabacStateBits + 1 - kCabacProbBits);
  return p > 1u ? p : 1u;
}

// Moves the warm-up to the next w (out of line: it runs at most 12 times).
void cabac_warm_step(CabacContext& c);

inline void cabac_update(CabacContext& c, int bin) {
  constexpr std::uint32_t one = 1u << kCabacStateBits;
  if (bin) {
    c.fast += (one - c.fast) >> c.fast_rate;
    c.slow += (one - c.slow) >> c.slow_rate;
  } else {
    c.fast -= c.fast >> c.fast_rate;
    c.slow -= c.slow >> c.slow_rate;
  }
  // Counting down without a branch: contexts in and out of their warm-up
  // are interleaved, so a branch on warm_left != 0 would be unpredictable.
  const std::uint16_t left = c.warm_left;
  c.warm_left = static_cast<std::uint16_t>(left - (left != 0));
  if (left == 1) cabac_warm_step(c);
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
// Keeps the part of the interval below `bound` for a 1 (the context's
// symbol, or the end of the slice), the part above it for a 0.
inline void cabac_encode_split(CabacEncoder& e, std::uint32_t bound, int bin) {
  if (bin) {
    e.range = bound;
  } else {
    e.low += bound;
    e.range -= bound;
  }
}

inline void cabac_encode_bin(CabacEncoder& e, CabacContext& c, int bin) {
  cabac_encode_split(e, (e.range >> kCabacProbBits) * cabac_probability(c), bin);
  cabac_update(c, bin);
  cabac_encoder_normalize(e);
}

// A group of `count` bins with P = 1/2 each, the most significant bit of
// value first; count in [0, 32]. The decoder must read the same group: a
// group of n bins is not coded as n groups of one (range is rounded down
// once per chunk of 8, not per bin).
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

// A group of one bin.
inline void cabac_encode_bypass(CabacEncoder& e, int bin) {
  cabac_encode_bypass_bits(e, static_cast<std::uint32_t>(bin != 0), 1);
}

// A bin whose value 1 has the fixed probability 2^-7 (HEVC's
// end_of_slice_segment_flag): cheap to code 0 often, 1 once at an end.
constexpr int kCabacTerminateShift = 7;

inline void cabac_encode_terminate(CabacEncoder& e, int bin) {
  cabac_encode_split(e, e.range >> kCabacTerminateShift, bin);
  cabac_encoder_normalize(e);
}

// Writes the last 4 bytes so that the decoder reads exactly the bytes the
// encoder produced. The encoder must not be used afterwards.
void cabac_finish(CabacEncoder& e);

// ------------------------------------------------------------------ decoder
// Reads a byte span and never past its end: needing a byte beyond it throws
// ftm::BitstreamError (errors.hpp), as does a first code word outside the interval.
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

// Splits the interval at `bound`: the lower part codes 1 (the context's
// symbol, or the end of the slice), the upper part 0. Returns the bin.
inline int cabac_decode_split(CabacDecoder& d, std::uint32_t bound) {
  if (d.code < bound) {
    d.range = bound;
    return 1;
  }
  d.code -= bound;
  d.range -= bound;
  return 0;
}

inline int cabac_decode_bin(CabacDecoder& d, CabacContext& c) {
  const int bin = cabac_decode_split(d, (d.range >> kCabacProbBits) * cabac_probability(c));
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

// A group of one bin.
inline int cabac_decode_bypass(CabacDecoder& d) { return static_cast<int>(cabac_decode_bypass_bits(d, 1)); }

inline int cabac_decode_terminate(CabacDecoder& d) {
  const int bin = cabac_decode_split(d, d.range >> kCabacTerminateShift);
  cabac_decoder_normalize(d);
  return bin;
}

// Bytes not read yet: 0 after decoding everything a well-formed stream holds.
inline std::size_t cabac_decoder_remaining(const CabacDecoder& d) {
  return static_cast<std::size_t>(d.end - d.pos);
}

}  // namespace ftm
