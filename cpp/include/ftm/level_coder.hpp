// Entropy coding of N x D signed integer levels (quantized feature vectors)
// with the CABAC engine of cabac.hpp. Specification: docs/entropy-coding.md.
//
// Each level is binarized, in raster order (vector by vector, dimension by
// dimension), into
//   sig_flag (level != 0), sign_flag, gt1_flag (|level| > 1),
//   gt2_flag (|level| > 2)                         context coded,
//   remainder (|level| - 3)                        Golomb-Rice, bypass,
// with an escape to Exp-Golomb for large remainders, so that every int32
// round-trips. Every dimension has its own contexts and its own adaptive Rice
// parameter (feature dimensions have distributions of their own); optionally
// the contexts are also selected by the same dimension's level in the
// previous vector.
//
// The payload starts with a 2-byte header carrying the coding options, so a
// decoder needs only the bytes, N and D.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ftm/cabac.hpp"

namespace ftm {

// Defaults suit both independent vectors (within 2.6% of the per-dimension
// empirical entropy on 10,000 Gaussian or Laplacian vectors) and correlated
// ones (crops of the same photo); benchmarks/bench_entropy.py compares others.
struct LevelCoderOptions {
  // Windows of the two-rate context estimators, 2^fast_shift and
  // 2^slow_shift bins, each in [1, 12]; 2^slow_shift is also the window of
  // the Rice parameter statistics.
  int fast_shift = 4;
  int slow_shift = 7;
  // Select contexts by the same dimension's level in the previous vector:
  // worth 5% and more when consecutive vectors are correlated, about 0.3%
  // more bytes when they are independent.
  bool neighbour_contexts = true;
};

constexpr std::size_t kLevelHeaderBytes = 2;
// Neighbour classes: the previous level of the dimension, by magnitude
// min(m, 2) with m = l >= 0 ? l : -l - 1 (floor quantization makes 0 and -1
// the two central levels), times its sign.
constexpr int kLevelNeighbourClasses = 6;
// Unary Rice prefixes longer than this escape to Exp-Golomb.
constexpr std::uint32_t kLevelRicePrefixMax = 6;

// Adaptive Rice parameter state: sum and count of recent remainders, both
// halved when count reaches 2^slow_shift (the rate of the slow context
// estimators), and the parameter k they give.
struct RiceState {
  std::uint64_t sum;
  std::uint32_t count;
  std::uint32_t k;
};

// Contexts of one dimension and neighbour class, in this order.
enum LevelContext : int { kCtxSig, kCtxSign, kCtxGt1Pos, kCtxGt1Neg, kCtxGt2Pos, kCtxGt2Neg, kLevelContextsPerClass };

// Adaptive state of all dimensions: contexts [dim][neighbour class][LevelContext],
// Rice states [dim][sign], and each dimension's level in the previous vector
// (0 before the first).
struct LevelModel {
  int classes = 1;
  std::uint32_t rice_window = 2;
  std::vector<CabacContext> ctx;
  std::vector<RiceState> rice;
  std::vector<std::int32_t> prev;
};

// Step API: levels are coded one at a time in raster order; tests use it to
// compare encoder and decoder states after every level.
struct LevelEncoder {
  LevelCoderOptions opts;
  std::size_t d = 0;
  std::size_t next_dim = 0;
  std::size_t coded = 0;
  LevelModel model;
  CabacEncoder cabac;
};

struct LevelDecoder {
  LevelCoderOptions opts;
  std::size_t d = 0;
  std::size_t next_dim = 0;
  std::size_t remaining = 0;  // levels still to decode
  LevelModel model;
  CabacDecoder cabac;
};

// Throws std::invalid_argument for options out of range.
void check_level_options(const LevelCoderOptions& opts);
void level_encoder_init(LevelEncoder& e, std::size_t d, const LevelCoderOptions& opts);
void level_encode(LevelEncoder& e, std::int32_t level);
// The payload: header and arithmetic-coded levels. With no level coded it is
// the header alone.
std::vector<std::uint8_t> level_encoder_finish(LevelEncoder& e);

// Parses the header; `levels` = N * D is what the caller expects to decode
// (it bounds the work, and an empty payload body is valid only for 0).
void level_decoder_init(LevelDecoder& dec, const std::uint8_t* data, std::size_t size, std::size_t levels,
                        std::size_t d);
std::int32_t level_decode(LevelDecoder& dec);
// Throws std::runtime_error unless the payload was consumed exactly.
void level_decoder_finish(const LevelDecoder& dec);

// Reads the options from a payload header (throws std::runtime_error on a
// malformed one).
LevelCoderOptions read_level_header(const std::uint8_t* data, std::size_t size);

// The checks decode_levels makes before decoding (header, N * D overflow,
// N * D against what the payload size can hold), for a caller that allocates
// the output only for a plausible payload.
void check_level_payload(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d);

// Whole-array entry points; levels are row-major N x D.
std::vector<std::uint8_t> encode_levels(const std::int32_t* levels, std::size_t n, std::size_t d,
                                        const LevelCoderOptions& opts = {});
// Throws std::runtime_error for a payload that is malformed, truncated, has
// bytes left over, or cannot hold N * D levels; decoding time is bounded by
// N * D whatever the bytes say.
void decode_levels(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d, std::int32_t* out);

}  // namespace ftm
