#include "ftm/level_coder.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace ftm {
namespace {

constexpr std::uint8_t kNeighbourFlag = 0x01;
constexpr std::uint8_t kReservedBits = 0xFE;

// A level costs at least one context-coded bin (sig_flag), which narrows the
// interval by a factor of at most 1 - 2^-15 (1 - 2^-9): at least 4.39e-5
// bits. The decoder reads 8 bits per byte and can end with a range of 2^24,
// so a body of S bytes holds at most 8 (S - 3) / 4.39e-5 < 2^18 S levels.
constexpr std::size_t kMaxLevelsPerByte = std::size_t{1} << 18;

// Initial P(bin = 1) of every context. The warm-up moves the estimate half
// way towards the first bin, so this costs at most about a bit per context.
constexpr std::uint32_t kInitialProbability = 1u << (kCabacProbBits - 1);

void init_model(LevelModel& m, std::size_t d, const LevelCoderOptions& opts) {
  m.classes = opts.neighbour_contexts ? kLevelNeighbourClasses : 1;
  m.rice_window = 1u << opts.slow_shift;
  const CabacContext c = cabac_context(opts.fast_shift, opts.slow_shift, kInitialProbability);
  m.ctx.assign(d * static_cast<std::size_t>(m.classes) * kLevelContextsPerClass, c);
  m.rice.assign(d * 2, RiceState{0, 1, 0});
  m.prev.assign(d, 0);
}

inline int neighbour_class(std::int32_t prev) {
  const std::uint32_t m = prev >= 0 ? static_cast<std::uint32_t>(prev) : ~static_cast<std::uint32_t>(prev);
  return static_cast<int>(m < 2u ? m : 2u) * 2 + (prev < 0);
}

inline CabacContext* contexts_of(LevelModel& m, std::size_t dim) {
  const int cls = m.classes > 1 ? neighbour_class(m.prev[dim]) : 0;
  return &m.ctx[(dim * static_cast<std::size_t>(m.classes) + static_cast<std::size_t>(cls)) * kLevelContextsPerClass];
}

inline unsigned rice_parameter(const RiceState& r) { return r.k; }

// k is the smallest k with mean <= 1.75 * 2^k: for the half-Gaussian and
// geometric remainders of feature dimensions the cheapest Rice code has
// mean / 2^k between about 1.2 and 1.9 (docs/entropy-coding.md). The mean
// moves little per remainder, so k is adjusted from its last value;
// remainders are below 2^31, hence so is the mean, and k <= 31.
inline void rice_update(RiceState& r, std::uint32_t rem, std::uint32_t window) {
  r.sum += rem;
  if (++r.count == window) {
    r.sum >>= 1;
    r.count >>= 1;
  }
  const std::uint64_t count7 = std::uint64_t{r.count} * 7, sum4 = r.sum * 4;
  while (r.k < 31 && (count7 << r.k) < sum4) ++r.k;
  while (r.k > 0 && (count7 << (r.k - 1)) >= sum4) --r.k;
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
  CabacContext* c = contexts_of(m, dim);
  m.prev[dim] = level;
  cabac_encode_bin(e, c[kCtxSig], level != 0);
  if (level == 0) return;
  const int neg = level < 0;
  cabac_encode_bin(e, c[kCtxSign], neg);
  // Two's complement negation in unsigned arithmetic: |INT32_MIN| = 2^31.
  const std::uint32_t mag = neg ? 0u - static_cast<std::uint32_t>(level) : static_cast<std::uint32_t>(level);
  cabac_encode_bin(e, c[kCtxGt1Pos + neg], mag > 1u);
  if (mag == 1u) return;
  cabac_encode_bin(e, c[kCtxGt2Pos + neg], mag > 2u);
  if (mag == 2u) return;
  RiceState& r = m.rice[dim * 2 + static_cast<std::size_t>(neg)];
  const std::uint32_t rem = mag - 3u;
  encode_remainder(e, rem, rice_parameter(r));
  rice_update(r, rem, m.rice_window);
}

inline std::int32_t decode_one(LevelModel& m, CabacDecoder& d, std::size_t dim) {
  CabacContext* c = contexts_of(m, dim);
  std::int32_t level = 0;
  if (cabac_decode_bin(d, c[kCtxSig])) {
    const int neg = cabac_decode_bin(d, c[kCtxSign]);
    std::uint32_t mag = 1;
    if (cabac_decode_bin(d, c[kCtxGt1Pos + neg])) {
      mag = 2;
      if (cabac_decode_bin(d, c[kCtxGt2Pos + neg])) {
        RiceState& r = m.rice[dim * 2 + static_cast<std::size_t>(neg)];
        const std::uint32_t rem = decode_remainder(d, rice_parameter(r));
        rice_update(r, rem, m.rice_window);
        mag = rem + 3u;
        if (!neg && mag > 0x7FFFFFFFu) cabac_throw_corrupt("positive level above 2^31 - 1");
      }
    }
    // mag <= 2^31 here; negation in unsigned arithmetic then a value-preserving cast.
    level = neg ? static_cast<std::int32_t>(static_cast<std::int64_t>(0) - mag) : static_cast<std::int32_t>(mag);
  }
  m.prev[dim] = level;
  return level;
}

std::size_t checked_count(std::size_t n, std::size_t d) {
  if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d)
    throw std::invalid_argument("N x D = " + std::to_string(n) + " x " + std::to_string(d) + " overflows");
  return n * d;
}

}  // namespace

void check_level_options(const LevelCoderOptions& opts) {
  for (const int s : {opts.fast_shift, opts.slow_shift})
    if (s < kCabacMinShift || s > kCabacMaxShift)
      throw std::invalid_argument("context adaptation shift must be in [" + std::to_string(kCabacMinShift) +
                                  ", " + std::to_string(kCabacMaxShift) + "], got " + std::to_string(s));
}

LevelCoderOptions read_level_header(const std::uint8_t* data, std::size_t size) {
  if (size < kLevelHeaderBytes)
    throw std::runtime_error("level payload must start with a " + std::to_string(kLevelHeaderBytes) +
                             "-byte header, got " + std::to_string(size) + " bytes");
  LevelCoderOptions o;
  o.fast_shift = data[0] >> 4;
  o.slow_shift = data[0] & 0x0F;
  for (const int s : {o.fast_shift, o.slow_shift})
    if (s < kCabacMinShift || s > kCabacMaxShift)
      throw std::runtime_error("level payload header: adaptation shift " + std::to_string(s) + " outside [" +
                               std::to_string(kCabacMinShift) + ", " + std::to_string(kCabacMaxShift) + "]");
  if (data[1] & kReservedBits)
    throw std::runtime_error("level payload header: reserved bits set in flags byte " + std::to_string(data[1]));
  o.neighbour_contexts = (data[1] & kNeighbourFlag) != 0;
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
  e.cabac.out.push_back(opts.neighbour_contexts ? kNeighbourFlag : std::uint8_t{0});
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
                        std::size_t d) {
  dec.opts = read_level_header(data, size);
  dec.d = d;
  dec.next_dim = 0;
  dec.remaining = levels;
  const std::size_t body = size - kLevelHeaderBytes;
  if (levels == 0) {
    if (body != 0)
      throw std::runtime_error("level payload for 0 levels must be the header alone, got " + std::to_string(body) +
                               " more bytes");
    dec.model = LevelModel{};
    dec.cabac = CabacDecoder{};
    return;
  }
  if (d == 0) throw std::invalid_argument("D = 0 cannot hold levels");
  if (levels / kMaxLevelsPerByte > body || (levels / kMaxLevelsPerByte == body && levels % kMaxLevelsPerByte))
    throw std::runtime_error("level payload of " + std::to_string(body) + " coded bytes cannot hold " +
                             std::to_string(levels) + " levels");
  init_model(dec.model, d, dec.opts);
  cabac_decoder_init(dec.cabac, data + kLevelHeaderBytes, body);
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
    throw std::runtime_error("level payload corrupt: " + std::to_string(cabac_decoder_remaining(dec.cabac)) +
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

void check_level_payload(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d) {
  LevelDecoder dec;
  level_decoder_init(dec, data, size, checked_count(n, d), d);
}

void decode_levels(const std::uint8_t* data, std::size_t size, std::size_t n, std::size_t d, std::int32_t* out) {
  const std::size_t count = checked_count(n, d);
  LevelDecoder dec;
  level_decoder_init(dec, data, size, count, d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) out[i * d + j] = decode_one(dec.model, dec.cabac, j);
  dec.remaining = 0;
  level_decoder_finish(dec);
}

}  // namespace ftm
