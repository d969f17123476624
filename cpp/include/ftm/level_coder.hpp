// Entropy coding of N x D signed integer levels (quantized feature vectors)
// with a CABAC-like arithmetic coder. Specification: docs/entropy-coding.md.
//
// Each level is binarized, in raster order (vector by vector, dimension by
// dimension), into
//   sig_flag (level != 0), sign_flag, gt1_flag (|level| > 1),
//   gt2_flag (|level| > 2)                         context coded,
//   remainder (|level| - 3)                        Golomb-Rice, bypass,
// with an escape to Exp-Golomb for large remainders, so that every int32
// round-trips.
//
// Feature dimensions have distributions of their own, mostly differing in
// scale. Each dimension keeps running means of its magnitudes and of its
// remainders; the magnitude mean picks a scale class (a quarter octave wide)
// and, with the dimension's level in the previous vector, the contexts,
// which are shared by all dimensions of that class. So a dimension is coded
// with statistics learnt from every dimension of its scale (a single vector
// codes well), yet each dimension's own scale steers them (10,000 vectors
// code as well as with contexts of their own). The remainder mean gives the
// Rice parameter. A dimension's magnitude mean starts from the running mean
// of the dimensions before it in the first vector.
//
// The payload starts with a 2-byte header carrying the coding options, so a
// decoder needs only the bytes, N and D.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ftm/errors.hpp"

namespace ftm {

// Range of the adaptation shifts of LevelCoderOptions.
constexpr int kMinAdaptationShift = 1;
constexpr int kMaxAdaptationShift = 12;

// Defaults: within 2% of the per-dimension empirical entropy on 10,000
// independent Gaussian or Laplacian vectors, and below it on correlated ones
// (crops of one photo); benchmarks/bench_entropy.py has the figures.
struct LevelCoderOptions {
  // Windows of the two-rate context estimators, 2^fast_shift and
  // 2^slow_shift bins, each in [1, 12].
  int fast_shift = 5;
  int slow_shift = 9;
  // Window of each dimension's running means, 2^stats_shift levels, in
  // [1, 12]: shorter follows vectors whose statistics drift (a sequence of
  // scenes), longer suits independent vectors.
  int stats_shift = 6;
  // Select contexts also by the same dimension's level in the previous
  // vector: worth several percent when consecutive vectors are correlated,
  // a few tenths of a percent when they are independent.
  bool neighbour_contexts = true;
};

constexpr std::size_t kLevelHeaderBytes = 2;

// Throws std::invalid_argument for options out of range.
void check_level_options(const LevelCoderOptions& opts);

// Reads the options from a payload header (throws ftm::BitstreamError (errors.hpp) on a
// malformed one).
LevelCoderOptions read_level_header(const std::uint8_t* data, std::size_t size);

// What a decoder may spend on one payload. Levels are cheap to code (a run
// of zeros costs about 4.4e-5 bits a level), so a few bytes can ask for any
// N * D: a decoder bounds the levels and the adaptive state it holds per
// dimension (about 52 bytes, needed only when N > 1) before allocating.
struct LevelDecodeLimits {
  std::uint64_t max_levels = std::uint64_t{1} << 28;
  std::uint64_t max_state_bytes = std::uint64_t{128} << 20;
};

// Bytes of adaptive state decode_levels allocates for N x D levels.
std::uint64_t level_state_bytes(std::size_t n, std::size_t d);

// The checks decode_levels makes before decoding (header, N * D overflow,
// N * D against what the payload size can hold, the limits), without
// allocating anything, for a caller that allocates the output only for a
// plausible payload. Throws ftm::BitstreamError or ftm::LimitError.
void check_level_payload(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d,
                         const LevelDecodeLimits& limits = {});

// Whole-array entry points; levels are row-major N x D.
std::vector<std::uint8_t> encode_levels(const std::int32_t* levels, std::size_t n, std::size_t d,
                                        const LevelCoderOptions& opts = {});
// Throws ftm::BitstreamError (errors.hpp) for a payload that is malformed, truncated, has
// bytes left over, or cannot hold N * D levels, and ftm::LimitError for one
// past the limits; decoding time is bounded by N * D whatever the bytes say.
void decode_levels(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d, std::int32_t* out,
                   const LevelDecodeLimits& limits = {});

}  // namespace ftm
