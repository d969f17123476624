#include "level_coder_state.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "ftm/errors.hpp"
#include "ftm/level_coder.hpp"

namespace ftm {
namespace {

constexpr std::uint8_t kNeighbourFlag = 0x01;
constexpr int kStatsShiftBit = 1;  // bits 1..4 of the flags byte
constexpr std::uint8_t kReservedBits = 0xE0;

// A level costs at least one context-coded bin (sig_flag), which narrows the
// interval by a factor of at most 1 - 2^-15 (1 - 2^-9): at least 4.39e-5
// bits. The decoder reads 8 bits per byte and can end with a range of 2^24,
// so a body of S bytes holds at most 8 (S - 3) / 4.39e-5 < 2^18 S levels.
constexpr std::size_t kMaxLevelsPerByte = std::size_t{1} << 18;

// Initial P(bin = 1) of every context. The warm-up moves the estimate half
// way towards the first bin, so this costs at most about a bit per context.
constexpr std::uint32_t kInitialProbability = 1u << (kCabacProbBits - 1);

constexpr LevelStat kUnstarted{0, 0, 0};

inline unsigned bit_length64(std::uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
  return v ? 64u - static_cast<unsigned>(__builtin_clzll(v)) : 0u;
#else
  unsigned n = 0;
  while (v) ++n, v >>= 1;
  return n;
#endif
}

// A mean starts from another one's value; its first update then moves it
// half way, as if that value had been one earlier observation.
inline void stat_start(LevelStat& s, const LevelStat& from, int window_shift) {
  s.mean = from.mean;
  s.rate = 1;
  s.left = static_cast<std::uint16_t>(window_shift > 1 ? 2 : 0);
}

// Selects rather than branches: whether a magnitude is above the mean is a
// coin toss the branch predictor would lose.
inline void stat_update(LevelStat& s, std::uint32_t value, int window_shift) {
  const std::uint64_t x = static_cast<std::uint64_t>(value) << kLevelStatFraction;
  const bool up = x >= s.mean;
  const std::uint64_t step = (up ? x - s.mean : s.mean - x) >> s.rate;
  s.mean = up ? s.mean + step : s.mean - step;
  const std::uint16_t left = s.left;
  s.left = static_cast<std::uint16_t>(left - (left != 0));
  if (left == 1) {
    ++s.rate;
    s.left = static_cast<std::uint16_t>(s.rate < window_shift ? 1u << s.rate : 0u);
  }
}

// floor(4 log2(mean + 1/4)) + 8 in [0, 56], with log2 read off the bit
// length and the two bits after the leading one (a piecewise-linear log2).
inline int scale_class(const LevelStat& s) {
  const std::uint64_t x = s.mean + (std::uint64_t{1} << (kLevelStatFraction - 2));
  const int e = static_cast<int>(bit_length64(x)) - 1;  // >= kLevelStatFraction - 2
  const int quarter = static_cast<int>((x >> (e - 2)) & 3u);
  const int cls = 4 * (e - kLevelStatFraction) + quarter + 8;
  return cls < kLevelScaleClasses - 1 ? cls : kLevelScaleClasses - 1;
}

// 0 for a previous level of 0, else 2 r - 1 + sign with r = 1, 2, 3 for a
// magnitude <= mean / 2, <= 3 mean / 2, above.
inline int neighbour_class(std::int32_t prev, const LevelStat& magnitude) {
  const std::uint32_t mag = prev < 0 ? 0u - static_cast<std::uint32_t>(prev) : static_cast<std::uint32_t>(prev);
  const std::uint64_t twice = static_cast<std::uint64_t>(mag) << (kLevelStatFraction + 1);
  const int r = 1 + (twice > magnitude.mean) + (twice > 3 * magnitude.mean);
  const int cls = 2 * r - 1 + (prev < 0);
  return prev == 0 ? 0 : cls;
}

// The smallest k in [0, 31] with mean <= 1.75 * 2^k: for the half-Gaussian
// and geometric remainders of feature dimensions the cheapest Rice code has
// mean / 2^k between about 1.2 and 1.9 (docs/entropy-coding.md).
inline unsigned rice_parameter(const LevelStat& s) {
  // 4 mean <= 7 2^(k + F)  <=>  ceil(4 mean / 7) <= 2^(k + F)
  const std::uint64_t q = (4 * s.mean + 6) / 7;
  const int e = q > 1 ? static_cast<int>(bit_length64(q - 1)) : 0;
  const int k = e - kLevelStatFraction;
  return static_cast<unsigned>(k < 0 ? 0 : k > 31 ? 31 : k);
}

void init_model(LevelModel& m, std::size_t d, const LevelCoderOptions& opts, bool one_vector = false) {
  m.one_vector = one_vector;
  if (one_vector) d = 1;
  m.neighbour_classes = opts.neighbour_contexts ? kLevelNeighbourClasses : 1;
  m.stats_shift = opts.stats_shift;
  const CabacContext c = cabac_context(opts.fast_shift, opts.slow_shift, kInitialProbability);
  m.ctx.assign(static_cast<std::size_t>(kLevelScaleClasses * m.neighbour_classes * kLevelContextsPerClass), c);
  m.magnitude.assign(d, kUnstarted);
  m.remainder.assign(2 * d, kUnstarted);
  m.prev.assign(d, 0);
  // A zero mean that is already started: the first dimension starts there.
  m.all_magnitude = kUnstarted;
  stat_start(m.all_magnitude, kUnstarted, kLevelGlobalStatShift);
}

// The contexts for the next level of `dim`; starts its magnitude mean.
inline CabacContext* contexts_of(LevelModel& m, std::size_t dim) {
  LevelStat& mag = m.magnitude[dim];
  if (mag.rate == 0) stat_start(mag, m.all_magnitude, m.stats_shift);
  const int nb = m.neighbour_classes > 1 ? neighbour_class(m.prev[dim], mag) : 0;
  return &m.ctx[static_cast<std::size_t>((scale_class(mag) * m.neighbour_classes + nb) * kLevelContextsPerClass)];
}

// A dimension's remainder mean starts from its magnitude mean less 3 (the
// remainder is |level| - 3), so its first Rice parameter fits its scale.
inline LevelStat& remainder_stat(LevelModel& m, std::size_t dim, int neg) {
  LevelStat& r = m.remainder[2 * dim + static_cast<std::size_t>(neg)];
  if (r.rate == 0) {
    LevelStat from = m.magnitude[dim];
    const std::uint64_t three = std::uint64_t{3} << kLevelStatFraction;
    from.mean = from.mean > three ? from.mean - three : 0;
    stat_start(r, from, m.stats_shift);
  }
  return r;
}

// The mean over all dimensions only starts dimensions, all of which start in
// the first vector: it follows that vector alone.
inline void update_level(LevelModel& m, std::size_t dim, std::int32_t level, bool first) {
  const std::uint32_t mag = level < 0 ? 0u - static_cast<std::uint32_t>(level) : static_cast<std::uint32_t>(level);
  stat_update(m.magnitude[dim], mag, m.stats_shift);
  if (first) stat_update(m.all_magnitude, mag, kLevelGlobalStatShift);
  m.prev[dim] = level;
}

// Magnitudes are at most 2^31 (INT32_MIN), so remainders at most 2^31 - 3.
constexpr std::uint64_t kMaxRemainder = (std::uint64_t{1} << 31) - 3;

// Bypass bins are grouped as the syntax says (a unary prefix bin by bin, a
// fixed-length suffix as one group), and the decoder reads the same groups.
void encode_remainder(CabacEncoder& e, std::uint32_t rem, unsigned k) {
  const std::uint64_t q = static_cast<std::uint64_t>(rem) >> k;
  if (q < kLevelRicePrefixMax) {
    for (std::uint64_t i = 0; i < q; ++i) cabac_encode_bypass(e, 1);
    cabac_encode_bypass(e, 0);
    cabac_encode_bypass_bits(e, static_cast<std::uint32_t>(rem & ((std::uint64_t{1} << k) - 1)), static_cast<int>(k));
    return;
  }
  for (std::uint32_t i = 0; i < kLevelRicePrefixMax; ++i) cabac_encode_bypass(e, 1);
  // Exp-Golomb of order k + 1 for what the Rice prefix could not hold.
  std::uint64_t y = rem - (std::uint64_t{kLevelRicePrefixMax} << k);
  unsigned order = k + 1;
  while (y >= (std::uint64_t{1} << order)) {
    cabac_encode_bypass(e, 1);
    y -= std::uint64_t{1} << order;
    ++order;
  }
  cabac_encode_bypass(e, 0);
  cabac_encode_bypass_bits(e, static_cast<std::uint32_t>(y), static_cast<int>(order));
}

std::uint32_t decode_remainder(CabacDecoder& d, unsigned k) {
  std::uint64_t q = 0;
  while (q < kLevelRicePrefixMax && cabac_decode_bypass(d)) ++q;
  if (q < kLevelRicePrefixMax) {
    const std::uint64_t rem = (q << k) | cabac_decode_bypass_bits(d, static_cast<int>(k));
    if (rem > kMaxRemainder) cabac_throw_corrupt("level magnitude above 2^31");
    return static_cast<std::uint32_t>(rem);
  }
  unsigned order = k + 1;
  std::uint64_t base = std::uint64_t{kLevelRicePrefixMax} << k;
  while (cabac_decode_bypass(d)) {
    base += std::uint64_t{1} << order;
    // A valid remainder never needs an order above 32; stopping here bounds
    // the work a corrupt stream can ask for.
    if (++order > 32 || base > kMaxRemainder) cabac_throw_corrupt("Exp-Golomb prefix too long");
  }
  const std::uint64_t rem = base + cabac_decode_bypass_bits(d, static_cast<int>(order));
  if (rem > kMaxRemainder) cabac_throw_corrupt("level magnitude above 2^31");
  return static_cast<std::uint32_t>(rem);
}

inline void encode_one(LevelModel& m, CabacEncoder& e, std::size_t dim, std::int32_t level) {
  const bool first = m.magnitude[dim].rate == 0;
  CabacContext* c = contexts_of(m, dim);
  cabac_encode_bin(e, c[kCtxSig], level != 0);
  if (level != 0) {
    const int neg = level < 0;
    cabac_encode_bin(e, c[kCtxSign], neg);
    // Two's complement negation in unsigned arithmetic: |INT32_MIN| = 2^31.
    const std::uint32_t mag = neg ? 0u - static_cast<std::uint32_t>(level) : static_cast<std::uint32_t>(level);
    cabac_encode_bin(e, c[kCtxGt1Pos + neg], mag > 1u);
    if (mag > 1u) {
      cabac_encode_bin(e, c[kCtxGt2Pos + neg], mag > 2u);
      if (mag > 2u) {
        LevelStat& r = remainder_stat(m, dim, neg);
        encode_remainder(e, mag - 3u, rice_parameter(r));
        stat_update(r, mag - 3u, m.stats_shift);
      }
    }
  }
  update_level(m, dim, level, first);
}

inline std::int32_t decode_one(LevelModel& m, CabacDecoder& d, std::size_t dim) {
  if (m.one_vector) {
    dim = 0;
    m.magnitude[0] = m.remainder[0] = m.remainder[1] = kUnstarted;
    m.prev[0] = 0;
  }
  const bool first = m.magnitude[dim].rate == 0;
  CabacContext* c = contexts_of(m, dim);
  std::int32_t level = 0;
  if (cabac_decode_bin(d, c[kCtxSig])) {
    const int neg = cabac_decode_bin(d, c[kCtxSign]);
    std::uint32_t mag = 1;
    if (cabac_decode_bin(d, c[kCtxGt1Pos + neg])) {
      mag = 2;
      if (cabac_decode_bin(d, c[kCtxGt2Pos + neg])) {
        LevelStat& r = remainder_stat(m, dim, neg);
        const std::uint32_t rem = decode_remainder(d, rice_parameter(r));
        stat_update(r, rem, m.stats_shift);
        mag = rem + 3u;
        if (!neg && mag > 0x7FFFFFFFu) cabac_throw_corrupt("positive level above 2^31 - 1");
      }
    }
    // mag <= 2^31 here; negation in 64 bits then a value-preserving cast.
    level = static_cast<std::int32_t>(neg ? -static_cast<std::int64_t>(mag) : static_cast<std::int64_t>(mag));
  }
  update_level(m, dim, level, first);
  return level;
}

std::size_t checked_count(std::size_t n, std::size_t d) {
  if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d)
    throw std::invalid_argument("N x D = " + std::to_string(n) + " x " + std::to_string(d) + " overflows");
  return n * d;
}

LevelCoderOptions check_payload(const std::uint8_t* data, std::size_t size, std::size_t levels, std::size_t d) {
  const LevelCoderOptions opts = read_level_header(data, size);
  const std::size_t body = size - kLevelHeaderBytes;
  if (levels == 0) {
    if (body != 0)
      throw BitstreamError("level payload for 0 levels must be the header alone, got " + std::to_string(body) +
                           " more bytes");
    return opts;
  }
  if (d == 0) throw std::invalid_argument("D = 0 cannot hold levels");
  if (levels / kMaxLevelsPerByte > body || (levels / kMaxLevelsPerByte == body && levels % kMaxLevelsPerByte))
    throw BitstreamError("level payload of " + std::to_string(body) + " coded bytes cannot hold " +
                         std::to_string(levels) + " levels");
  return opts;
}

}  // namespace

void check_level_options(const LevelCoderOptions& opts) {
  for (const int s : {opts.fast_shift, opts.slow_shift})
    if (s < kCabacMinShift || s > kCabacMaxShift)
      throw std::invalid_argument("context adaptation shift must be in [" + std::to_string(kCabacMinShift) +
                                  ", " + std::to_string(kCabacMaxShift) + "], got " + std::to_string(s));
  if (opts.stats_shift < kCabacMinShift || opts.stats_shift > kCabacMaxShift)
    throw std::invalid_argument("stats_shift must be in [" + std::to_string(kCabacMinShift) + ", " +
                                std::to_string(kCabacMaxShift) + "], got " + std::to_string(opts.stats_shift));
}

LevelCoderOptions read_level_header(const std::uint8_t* data, std::size_t size) {
  if (size < kLevelHeaderBytes)
    throw BitstreamError("level payload must start with a " + std::to_string(kLevelHeaderBytes) +
                             "-byte header, got " + std::to_string(size) + " bytes");
  LevelCoderOptions o;
  o.fast_shift = data[0] >> 4;
  o.slow_shift = data[0] & 0x0F;
  for (const int s : {o.fast_shift, o.slow_shift})
    if (s < kCabacMinShift || s > kCabacMaxShift)
      throw BitstreamError("level payload header: adaptation shift " + std::to_string(s) + " outside [" +
                               std::to_string(kCabacMinShift) + ", " + std::to_string(kCabacMaxShift) + "]");
  if (data[1] & kReservedBits)
    throw BitstreamError("level payload header: reserved bits set in flags byte " + std::to_string(data[1]));
  o.neighbour_contexts = (data[1] & kNeighbourFlag) != 0;
  o.stats_shift = (data[1] >> kStatsShiftBit) & 0x0F;
  if (o.stats_shift < kCabacMinShift || o.stats_shift > kCabacMaxShift)
    throw BitstreamError("level payload header: stats shift " + std::to_string(o.stats_shift) + " outside [" +
                             std::to_string(kCabacMinShift) + ", " + std::to_string(kCabacMaxShift) + "]");
  return o;
}

void level_encoder_init(LevelEncoder& e, std::size_t d, const LevelCoderOptions& opts) {
  check_level_options(opts);
  e.opts = opts;
  e.d = d;
  e.next_dim = 0;
  e.coded = 0;
  init_model(e.model, d, opts);
  e.cabac = CabacEncoder{};
  e.cabac.out.push_back(static_cast<std::uint8_t>(opts.fast_shift << 4 | opts.slow_shift));
  e.cabac.out.push_back(static_cast<std::uint8_t>((opts.neighbour_contexts ? kNeighbourFlag : 0) |
                                                  opts.stats_shift << kStatsShiftBit));
}

void level_encode(LevelEncoder& e, std::int32_t level) {
  if (e.d == 0) throw std::logic_error("level_encode: the encoder was set up for D = 0");
  encode_one(e.model, e.cabac, e.next_dim, level);
  e.next_dim = e.next_dim + 1 == e.d ? 0 : e.next_dim + 1;
  ++e.coded;
}

std::vector<std::uint8_t> level_encoder_finish(LevelEncoder& e) {
  if (e.coded != 0) cabac_finish(e.cabac);
  return std::move(e.cabac.out);
}

void level_decoder_init(LevelDecoder& dec, const std::uint8_t* data, std::size_t size, std::size_t levels,
                        std::size_t d, bool one_vector) {
  dec.opts = check_payload(data, size, levels, d);
  dec.d = d;
  dec.next_dim = 0;
  dec.remaining = levels;
  dec.model = LevelModel{};
  dec.cabac = CabacDecoder{};
  if (levels == 0) return;
  init_model(dec.model, d, dec.opts, one_vector);
  cabac_decoder_init(dec.cabac, data + kLevelHeaderBytes, size - kLevelHeaderBytes);
}

std::int32_t level_decode(LevelDecoder& dec) {
  if (dec.remaining == 0) throw std::logic_error("level_decode: every expected level has been decoded");
  const std::int32_t v = decode_one(dec.model, dec.cabac, dec.next_dim);
  dec.next_dim = dec.next_dim + 1 == dec.d ? 0 : dec.next_dim + 1;
  --dec.remaining;
  return v;
}

void level_decoder_finish(const LevelDecoder& dec) {
  if (dec.remaining != 0)
    throw std::logic_error("level_decoder_finish: " + std::to_string(dec.remaining) + " levels not decoded yet");
  if (dec.cabac.pos != nullptr && cabac_decoder_remaining(dec.cabac) != 0)
    throw BitstreamError("level payload corrupt: " + std::to_string(cabac_decoder_remaining(dec.cabac)) +
                             " bytes left after the last level");
}

std::vector<std::uint8_t> encode_levels(const std::int32_t* levels, std::size_t n, std::size_t d,
                                        const LevelCoderOptions& opts) {
  const std::size_t count = checked_count(n, d);
  LevelEncoder e;
  level_encoder_init(e, d, opts);
  // About what the levels will take at a few bits each; the vector grows if not.
  e.cabac.out.reserve(kLevelHeaderBytes + 4 + count / 2);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) encode_one(e.model, e.cabac, j, levels[i * d + j]);
  e.coded = count;
  return level_encoder_finish(e);
}

std::uint64_t level_state_bytes(std::size_t n, std::size_t d) {
  if (n <= 1) return 0;  // LevelModel::one_vector
  constexpr std::uint64_t kPerDim = 3 * sizeof(LevelStat) + sizeof(std::int32_t);
  return static_cast<std::uint64_t>(d) * kPerDim;
}

void check_level_payload(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d,
                         const LevelDecodeLimits& limits) {
  const std::size_t count = checked_count(n, d);
  (void)check_payload(data, size, count, d);
  if (count > limits.max_levels)
    throw LimitError(std::to_string(n) + " x " + std::to_string(d) + " = " + std::to_string(count) +
                     " levels exceed the limit of " + std::to_string(limits.max_levels) + " decoded elements");
  const std::uint64_t state = level_state_bytes(n, d);
  if (state > limits.max_state_bytes)
    throw LimitError("D = " + std::to_string(d) + " dimensions need " + std::to_string(state) +
                     " bytes of decoder state, above the limit of " + std::to_string(limits.max_state_bytes));
}

void decode_levels(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d, std::int32_t* out,
                   const LevelDecodeLimits& limits) {
  check_level_payload(data, size, n, d, limits);
  LevelDecoder dec;
  level_decoder_init(dec, data, size, n * d, d, n == 1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) out[i * d + j] = decode_one(dec.model, dec.cabac, j);
  dec.remaining = 0;
  level_decoder_finish(dec);
}

}  // namespace ftm
