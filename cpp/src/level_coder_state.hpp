// The level coder's adaptive state and its step API: levels coded one at a
// time, so that tests can compare encoder and decoder states after every
// level. Internal: callers use ftm/level_coder.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cabac.hpp"
#include "ftm/level_coder.hpp"

namespace ftm {

static_assert(kMinAdaptationShift == kCabacMinShift && kMaxAdaptationShift == kCabacMaxShift,
              "the options' range is the engine's");

// Scale classes: floor(4 log2(mean magnitude + 1/4)) + 8, in [0, 56].
constexpr int kLevelScaleClasses = 57;
// Neighbour classes: 0 when the previous level of the dimension is 0, else
// by its magnitude against the dimension's mean (<= 1/2, <= 3/2, above)
// and its sign.
constexpr int kLevelNeighbourClasses = 7;
// Unary Rice prefixes longer than this escape to Exp-Golomb.
constexpr std::uint32_t kLevelRicePrefixMax = 6;
// Running means hold magnitudes in units of 2^-kLevelStatFraction.
constexpr int kLevelStatFraction = 8;
// Window of the magnitude mean over the first vector.
constexpr int kLevelGlobalStatShift = 10;

// Contexts of one scale and neighbour class, in this order.
enum LevelContext : int { kCtxSig, kCtxSign, kCtxGt1Pos, kCtxGt1Neg, kCtxGt2Pos, kCtxGt2Neg, kLevelContextsPerClass };

// A running mean with the warm-up of the contexts (rate 1/2^w for 2^w
// updates, w = 1, 2, ... up to the window); rate 0 marks one not started.
struct LevelStat {
  std::uint64_t mean;  // in units of 2^-kLevelStatFraction
  std::uint16_t left;
  std::uint8_t rate;
};

// Adaptive state: contexts [scale class][neighbour class][LevelContext];
// per dimension the magnitude mean, the remainder means [sign] and the level
// in the previous vector (0 before the first); the magnitude mean over the
// first vector, which each dimension's starts from.
struct LevelModel {
  // A payload of one vector reads each dimension's state once, right after
  // starting it: one slot, reset before every level, stands for all of them,
  // so a hostile D costs no memory.
  bool one_vector = false;
  int neighbour_classes = 1;
  int stats_shift = 6;
  std::vector<CabacContext> ctx;
  std::vector<LevelStat> magnitude;
  std::vector<LevelStat> remainder;  // [dim][sign]
  std::vector<std::int32_t> prev;
  LevelStat all_magnitude;
};

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

void level_encoder_init(LevelEncoder& e, std::size_t d, const LevelCoderOptions& opts);
void level_encode(LevelEncoder& e, std::int32_t level);
// The payload: header and arithmetic-coded levels. With no level coded it is
// the header alone.
std::vector<std::uint8_t> level_encoder_finish(LevelEncoder& e);

// Parses the header; `levels` = N * D is what the caller expects to decode
// (it bounds the work, and an empty payload body is valid only for 0).
// `one_vector` selects the single-slot state (LevelModel), which the step
// API's state comparisons do not use.
void level_decoder_init(LevelDecoder& dec, const std::uint8_t* data, std::size_t size, std::size_t levels,
                        std::size_t d, bool one_vector = false);
std::int32_t level_decode(LevelDecoder& dec);
// Throws ftm::BitstreamError (errors.hpp) unless the payload was consumed exactly.
void level_decoder_finish(const LevelDecoder& dec);

}  // namespace ftm
