// The level coder: exact round trips on every kind of integer data, encoder
// and decoder in lockstep, known answers, and hostile payloads.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftm/level_coder.hpp"
#include "level_coder_state.hpp"
#include "known_answer.hpp"

namespace {

using ftm_test::fnv1a;
using ftm_test::hex;

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

struct XorShift {
  std::uint64_t s;
  std::uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<std::uint32_t>(s >> 32);
  }
};

using Levels = std::vector<std::int32_t>;

// Per-dimension scales spread over two decades, as feature dimensions are.
Levels gaussian(std::size_t n, std::size_t d, double scale, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  Levels v(n * d);
  for (std::size_t j = 0; j < d; ++j) {
    const double s = scale * std::pow(10.0, -2.0 * static_cast<double>(j) / static_cast<double>(d));
    for (std::size_t i = 0; i < n; ++i) v[i * d + j] = static_cast<std::int32_t>(std::floor(g(rng) * s));
  }
  return v;
}

Levels laplacian(std::size_t n, std::size_t d, double scale, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> e;
  std::bernoulli_distribution coin;
  Levels v(n * d);
  for (std::size_t j = 0; j < d; ++j) {
    const double s = scale / static_cast<double>(1 + j % 7);
    for (std::size_t i = 0; i < n; ++i)
      v[i * d + j] = static_cast<std::int32_t>(std::floor((coin(rng) ? 1 : -1) * e(rng) * s));
  }
  return v;
}

Levels sparse(std::size_t n, std::size_t d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution rare(0.03);
  std::geometric_distribution<int> size(0.2);
  Levels v(n * d, 0);
  for (auto& x : v)
    if (rare(rng)) x = 1 + size(rng);
  return v;
}

Levels full_range(std::size_t count, unsigned seed) {
  XorShift g{seed};
  Levels v(count);
  for (auto& x : v) x = static_cast<std::int32_t>(g.next());
  return v;
}

Levels alternating_extremes(std::size_t count) {
  const std::int32_t pattern[] = {kMin, kMax, 0, -1, 1, kMin + 1, kMax - 1, -2, 2, 3, -3, -4};
  Levels v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = pattern[i % (sizeof pattern / sizeof pattern[0])];
  return v;
}

Levels round_trip(const Levels& v, std::size_t n, std::size_t d, const ftm::LevelCoderOptions& o = {}) {
  const auto bytes = ftm::encode_levels(v.data(), n, d, o);
  Levels out(n * d, 12345);
  ftm::decode_levels(bytes.data(), bytes.size(), n, d, out.data());
  return out;
}

std::vector<ftm::LevelCoderOptions> option_sets() {
  std::vector<ftm::LevelCoderOptions> sets;
  for (const bool neighbours : {false, true})
    for (const auto& shifts : {std::array<int, 3>{5, 9, 6}, {1, 1, 1}, {12, 12, 12}, {3, 10, 2}}) {
      ftm::LevelCoderOptions o;
      o.fast_shift = shifts[0];
      o.slow_shift = shifts[1];
      o.stats_shift = shifts[2];
      o.neighbour_contexts = neighbours;
      sets.push_back(o);
    }
  return sets;
}

TEST(LevelCoder, RoundTripsEveryKindOfData) {
  struct Case {
    const char* name;
    Levels v;
    std::size_t n, d;
  };
  const std::vector<Case> cases = {
      {"gaussian high rate", gaussian(300, 64, 3000.0, 1), 300, 64},
      {"gaussian low rate", gaussian(300, 64, 3.0, 2), 300, 64},
      {"laplacian", laplacian(200, 33, 50.0, 3), 200, 33},
      {"sparse", sparse(100, 128, 4), 100, 128},
      {"all zero", Levels(5000, 0), 50, 100},
      {"constant", Levels(999, 17), 333, 3},
      {"constant INT32_MIN", Levels(500, kMin), 100, 5},
      {"constant INT32_MAX", Levels(500, kMax), 5, 100},
      {"alternating extremes", alternating_extremes(1200), 100, 12},
      {"alternating extremes, odd D", alternating_extremes(1001), 91, 11},
      {"full int32 range", full_range(4096, 5), 64, 64},
      {"one level", Levels{kMin}, 1, 1},
      {"one dimension", gaussian(1000, 1, 40.0, 6), 1000, 1},
      {"one vector", gaussian(1, 2048, 40.0, 7), 1, 2048},
  };
  for (const auto& o : option_sets())
    for (const auto& c : cases)
      ASSERT_EQ(round_trip(c.v, c.n, c.d, o), c.v)
          << c.name << " with shifts " << o.fast_shift << "/" << o.slow_shift << "/" << o.stats_shift << " neighbours "
          << o.neighbour_contexts;
}

TEST(LevelCoder, EmptyShapesGiveTheHeaderAlone) {
  for (const auto& shape : {std::pair<std::size_t, std::size_t>{0, 0}, {0, 128}, {7, 0}}) {
    const auto bytes = ftm::encode_levels(nullptr, shape.first, shape.second);
    ASSERT_EQ(bytes.size(), ftm::kLevelHeaderBytes);
    EXPECT_EQ(bytes[0], 0x59);  // fast_shift 5, slow_shift 9
    EXPECT_EQ(bytes[1], 0x0D);  // stats_shift 6, neighbour contexts
    ftm::decode_levels(bytes.data(), bytes.size(), shape.first, shape.second, nullptr);
    auto longer = bytes;
    longer.push_back(0);
    EXPECT_THROW(ftm::decode_levels(longer.data(), longer.size(), shape.first, shape.second, nullptr),
                 std::runtime_error);
  }
}

// Exact lengths: a single zero level is one bin at P = 1/2 plus the flush.
TEST(LevelCoder, ExactLengths) {
  const std::int32_t zero = 0;
  EXPECT_EQ(ftm::encode_levels(&zero, 1, 1).size(), ftm::kLevelHeaderBytes + 4);
  // 100000 zeros: the sig contexts bottom out at P(1) = 2^-15.
  const Levels zeros(100000, 0);
  EXPECT_LE(ftm::encode_levels(zeros.data(), 1000, 100).size(), ftm::kLevelHeaderBytes + 4 + 40);
}

TEST(LevelCoder, CompressesNearTheEntropyOfIndependentDimensions) {
  const std::size_t n = 4000, d = 16;
  const Levels v = gaussian(n, d, 20.0, 11);
  double bits = 0;
  for (std::size_t j = 0; j < d; ++j) {
    std::vector<std::pair<std::int32_t, double>> counts;
    std::vector<std::int32_t> col(n);
    for (std::size_t i = 0; i < n; ++i) col[i] = v[i * d + j];
    std::sort(col.begin(), col.end());
    for (std::size_t i = 0; i < n;) {
      std::size_t k = i;
      while (k < n && col[k] == col[i]) ++k;
      const double p = static_cast<double>(k - i) / static_cast<double>(n);
      bits -= static_cast<double>(k - i) * std::log2(p);
      i = k;
    }
  }
  const double size = static_cast<double>(ftm::encode_levels(v.data(), n, d).size());
  EXPECT_LT(size, 1.05 * bits / 8);
  EXPECT_GT(size, 0.98 * bits / 8);
}

std::string describe(const ftm::CabacContext& c) {
  return "{" + std::to_string(c.fast) + ", " + std::to_string(c.slow) + ", rates " + std::to_string(c.fast_rate) + "/" +
         std::to_string(c.slow_rate) + ", left " + std::to_string(c.warm_left) + "}";
}

std::string describe(const ftm::LevelStat& s) {
  return "{mean " + std::to_string(s.mean) + ", rate " + std::to_string(s.rate) + ", left " + std::to_string(s.left) +
         "}";
}

bool same(const ftm::CabacContext& a, const ftm::CabacContext& b) {
  return a.fast == b.fast && a.slow == b.slow && a.fast_rate == b.fast_rate && a.slow_rate == b.slow_rate &&
         a.warm_left == b.warm_left;
}

bool same(const ftm::LevelStat& a, const ftm::LevelStat& b) {
  return a.mean == b.mean && a.rate == b.rate && a.left == b.left;
}

// The first difference between two models, or "" when they agree.
std::string difference(const ftm::LevelModel& e, const ftm::LevelModel& d) {
  for (std::size_t i = 0; i < e.ctx.size(); ++i)
    if (!same(e.ctx[i], d.ctx[i]))
      return "context " + std::to_string(i) + ": encoder " + describe(e.ctx[i]) + ", decoder " + describe(d.ctx[i]);
  for (std::size_t i = 0; i < e.magnitude.size(); ++i)
    if (!same(e.magnitude[i], d.magnitude[i]))
      return "magnitude mean of dimension " + std::to_string(i) + ": encoder " + describe(e.magnitude[i]) +
             ", decoder " + describe(d.magnitude[i]);
  for (std::size_t i = 0; i < e.remainder.size(); ++i)
    if (!same(e.remainder[i], d.remainder[i]))
      return "remainder mean " + std::to_string(i) + ": encoder " + describe(e.remainder[i]) + ", decoder " +
             describe(d.remainder[i]);
  if (e.prev != d.prev) return "previous levels";
  if (!same(e.all_magnitude, d.all_magnitude))
    return "magnitude mean of all: encoder " + describe(e.all_magnitude) + ", decoder " + describe(d.all_magnitude);
  return "";
}

// The step API: after every level the decoder's interval and whole model
// (contexts, running means, previous levels) equal the encoder's.
TEST(LevelCoder, EncoderAndDecoderStatesAgreeLevelByLevel) {
  const std::size_t n = 60, d = 24;
  Levels v = laplacian(n, d, 30.0, 8);
  const Levels extremes = alternating_extremes(d);
  std::copy(extremes.begin(), extremes.end(), v.begin() + 10 * d);
  for (const bool neighbours : {false, true}) {
    ftm::LevelCoderOptions o;
    o.neighbour_contexts = neighbours;
    ftm::LevelEncoder e;
    ftm::level_encoder_init(e, d, o);
    std::vector<ftm::LevelModel> models;
    std::vector<std::uint32_t> ranges;
    for (const std::int32_t x : v) {
      ftm::level_encode(e, x);
      models.push_back(e.model);
      ranges.push_back(e.cabac.range);
    }
    const auto bytes = ftm::level_encoder_finish(e);
    ftm::LevelDecoder dec;
    ftm::level_decoder_init(dec, bytes.data(), bytes.size(), n * d, d);
    for (std::size_t i = 0; i < v.size(); ++i) {
      ASSERT_EQ(ftm::level_decode(dec), v[i]) << "level " << i;
      ASSERT_EQ(dec.cabac.range, ranges[i]) << "level " << i;
      const std::string diff = difference(models[i], dec.model);
      ASSERT_EQ(diff, "") << "after level " << i << " (dimension " << i % d << ")";
    }
    ftm::level_decoder_finish(dec);
  }
}

// Integer-only inputs, so that the known answers do not depend on the
// standard library's distributions.
Levels kat_input(std::size_t count, std::uint64_t seed) {
  XorShift g{seed};
  Levels v(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t r = g.next();
    const int magnitude_bits = static_cast<int>(i % 8) + 1;  // dimension i % 8 has its own scale
    const auto m = static_cast<std::int32_t>((r >> 8) & ((1u << magnitude_bits) - 1u));
    v[i] = (r & 1u) ? -m - 1 : m;
  }
  return v;
}

// Regenerate with FTM_PRINT_KNOWN_ANSWERS=1: the test prints the new
// constants and still fails until they are pasted here.
TEST(LevelCoder, KnownAnswers) {
  const Levels small = {0, 1, -1, 2, -2, 3, -3, 100, kMin, kMax, 0, 0, 5, -6, 7, -8};
  const auto small_bytes = ftm::encode_levels(small.data(), 2, 8);
  const std::vector<std::uint8_t> small_expected = {
      0x59, 0x0d, 0x99, 0x51, 0x00, 0x13, 0xff, 0x9d, 0x09, 0xff, 0xff, 0xff, 0xff, 0x5f, 0xff, 0xff, 0xef,
      0x47, 0xff, 0xff, 0xff, 0xfd, 0x7f, 0xff, 0xff, 0xb8, 0x3e, 0x47, 0x8b, 0x03, 0x20, 0x00, 0x00, 0x00,
  };
  ftm::LevelCoderOptions plain;
  plain.fast_shift = 4;
  plain.slow_shift = 9;
  plain.stats_shift = 3;
  plain.neighbour_contexts = false;
  const auto small_plain = ftm::encode_levels(small.data(), 2, 8, plain);
  const std::vector<std::uint8_t> small_plain_expected = {
      0x49, 0x06, 0x99, 0x51, 0x00, 0x13, 0xff, 0x9d, 0x09, 0xff, 0xff, 0xff, 0xff, 0x5f, 0xff, 0xff, 0xf0,
      0x05, 0xff, 0xff, 0xff, 0xfe, 0x1f, 0xff, 0xff, 0xca, 0xb3, 0xaa, 0x0f, 0x8c, 0x70, 0x80, 0x00, 0x00,
  };
  const Levels large = kat_input(64 * 1024, 42);
  const auto large_bytes = ftm::encode_levels(large.data(), 1024, 64);
  const std::size_t large_size = 48622;
  const std::uint64_t large_fnv = 0x0c225081332ca144ull;
  if (std::getenv("FTM_PRINT_KNOWN_ANSWERS"))
    std::printf("small: %s\nsmall plain: %s\nlarge: size %zu fnv1a 0x%016llx\n", hex(small_bytes).c_str(),
                hex(small_plain).c_str(), large_bytes.size(), static_cast<unsigned long long>(fnv1a(large_bytes)));
  EXPECT_EQ(small_bytes, small_expected) << "got " << hex(small_bytes);
  EXPECT_EQ(small_plain, small_plain_expected) << "got " << hex(small_plain);
  EXPECT_EQ(large_bytes.size(), large_size);
  EXPECT_EQ(fnv1a(large_bytes), large_fnv);
}

TEST(LevelCoder, RejectsBadOptionsAndShapes) {
  ftm::LevelCoderOptions o;
  o.fast_shift = 0;
  const std::int32_t x = 0;
  EXPECT_THROW(ftm::encode_levels(&x, 1, 1, o), std::invalid_argument);
  o.fast_shift = 4;
  o.slow_shift = 13;
  EXPECT_THROW(ftm::encode_levels(&x, 1, 1, o), std::invalid_argument);
  o.slow_shift = 8;
  o.stats_shift = 0;
  EXPECT_THROW(ftm::encode_levels(&x, 1, 1, o), std::invalid_argument);
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
  EXPECT_THROW(ftm::encode_levels(&x, huge, 3), std::invalid_argument);
  const std::uint8_t header[2] = {0x59, 0x0D};
  EXPECT_THROW(ftm::decode_levels(header, 2, huge, 3, nullptr), std::invalid_argument);
}

TEST(LevelCoder, RejectsMalformedHeaders) {
  const Levels v = gaussian(10, 10, 5.0, 9);
  const auto good = ftm::encode_levels(v.data(), 10, 10);
  Levels out(100);
  for (const auto& patch : std::vector<std::pair<std::size_t, std::uint8_t>>{
           {0, 0x09}, {0, 0x50}, {0, 0xD9}, {0, 0x5D}, {1, 0x01}, {1, 0x1A}, {1, 0x2D}, {1, 0x8D}}) {
    auto bad = good;
    bad[patch.first] = patch.second;
    EXPECT_THROW(ftm::decode_levels(bad.data(), bad.size(), 10, 10, out.data()), std::runtime_error)
        << "byte " << patch.first << " = " << int{patch.second};
  }
  EXPECT_THROW(ftm::decode_levels(good.data(), 1, 10, 10, out.data()), std::runtime_error);
  EXPECT_THROW(ftm::decode_levels(good.data(), 0, 10, 10, out.data()), std::runtime_error);
}

void expect_runtime_error_or_success(const std::vector<std::uint8_t>& bytes, std::size_t n, std::size_t d,
                                     const std::string& what) {
  Levels out(n * d);
  try {
    ftm::decode_levels(bytes.data(), bytes.size(), n, d, out.data());
  } catch (const std::runtime_error&) {
  } catch (const std::exception& e) {
    FAIL() << what << ": unexpected exception " << e.what();
  }
}

TEST(LevelCoder, TruncatedPayloadsThrow) {
  const Levels v = alternating_extremes(300);
  const Levels w = laplacian(20, 15, 20.0, 10);
  for (const Levels* input : {&v, &w}) {
    const auto bytes = ftm::encode_levels(input->data(), 20, 15);
    Levels out(300);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
      EXPECT_THROW(ftm::decode_levels(bytes.data(), cut, 20, 15, out.data()), std::runtime_error) << "cut " << cut;
    auto longer = bytes;
    longer.push_back(0x80);
    EXPECT_THROW(ftm::decode_levels(longer.data(), longer.size(), 20, 15, out.data()), std::runtime_error);
  }
}

TEST(LevelCoder, BitFlipsNeverCrash) {
  const Levels v = laplacian(16, 16, 40.0, 12);
  const auto bytes = ftm::encode_levels(v.data(), 16, 16);
  std::size_t detected = 0, total = 0;
  for (std::size_t bit = ftm::kLevelHeaderBytes * 8; bit < bytes.size() * 8; ++bit) {
    auto bad = bytes;
    bad[bit / 8] = static_cast<std::uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
    Levels out(256);
    ++total;
    try {
      ftm::decode_levels(bad.data(), bad.size(), 16, 16, out.data());
    } catch (const std::runtime_error&) {
      ++detected;
    }
  }
  // Most flips derail the decoder enough to leave bytes over or run out of them.
  EXPECT_GT(detected, total / 2);
}

TEST(LevelCoder, RandomBytesNeverCrashOrHang) {
  XorShift g{2024};
  const auto start = std::chrono::steady_clock::now();
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> bytes(g.next() % 80);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(g.next());
    if (bytes.size() >= 2 && trial % 2) {  // a valid header, so that the body is exercised
      bytes[0] = static_cast<std::uint8_t>((1 + g.next() % 12) << 4 | (1 + g.next() % 12));
      bytes[1] = static_cast<std::uint8_t>((1 + g.next() % 12) << 1 | (g.next() & 1u));
    }
    const std::size_t n = 1 + g.next() % 40, d = 1 + g.next() % 40;
    expect_runtime_error_or_success(bytes, n, d, "trial " + std::to_string(trial));
  }
  // Bounded by N * D: 3000 tiny payloads decode in well under a minute even
  // under sanitizers.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

// A payload cannot claim more levels than its bytes can hold, so a hostile
// N * D fails at once instead of allocating and decoding for long.
TEST(LevelCoder, WorkIsBoundedByPayloadSize) {
  const std::uint8_t payload[8] = {0x59, 0x0D, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
  EXPECT_THROW(ftm::decode_levels(payload, sizeof payload, std::size_t{1} << 30, 1024, nullptr), std::runtime_error);
  // The largest claim the size allows is decoded (or rejected) in bounded time.
  const std::size_t allowed = 6 * (std::size_t{1} << 18);
  Levels out(allowed);
  expect_runtime_error_or_success(std::vector<std::uint8_t>(payload, payload + 8), allowed, 1, "largest claim");
}

// Zeros cost almost nothing, so bytes bound neither N * D nor D: the limits
// do, before anything is allocated (out is null: nothing may be written).
TEST(LevelCoder, LimitsAreCheckedBeforeAllocating) {
  const std::size_t d = std::size_t{1} << 16;
  const Levels zeros(2 * d, 0);
  const auto bytes = ftm::encode_levels(zeros.data(), 2, d);
  ftm::LevelDecodeLimits tight;
  tight.max_levels = 2 * d - 1;
  EXPECT_THROW(ftm::decode_levels(bytes.data(), bytes.size(), 2, d, nullptr, tight), ftm::LimitError);
  tight = {};
  tight.max_state_bytes = ftm::level_state_bytes(2, d) - 1;
  EXPECT_THROW(ftm::decode_levels(bytes.data(), bytes.size(), 2, d, nullptr, tight), ftm::LimitError);
  EXPECT_EQ(ftm::level_state_bytes(1, std::size_t{1} << 40), 0u);
  Levels out(2 * d, 7);
  ftm::decode_levels(bytes.data(), bytes.size(), 2, d, out.data());
  EXPECT_EQ(out, zeros);
}

// One vector keeps one slot of state for every dimension (LevelModel): the
// levels are those of the full model, on data that exercises every context
// and the remainders of both signs.
TEST(LevelCoder, OneVectorStateDecodesLikeTheFullModel) {
  for (const double scale : {0.3, 5.0, 3000.0}) {
    const Levels v = gaussian(1, 5000, scale, 29);
    const auto bytes = ftm::encode_levels(v.data(), 1, v.size());
    Levels out(v.size());
    ftm::decode_levels(bytes.data(), bytes.size(), 1, v.size(), out.data());
    EXPECT_EQ(out, v) << "scale " << scale;
    ftm::LevelDecoder dec;
    ftm::level_decoder_init(dec, bytes.data(), bytes.size(), v.size(), v.size());
    for (std::size_t j = 0; j < v.size(); ++j) ASSERT_EQ(ftm::level_decode(dec), v[j]) << j;
  }
}

TEST(LevelCoder, StepApiMatchesTheWholeArrayApi) {
  const std::size_t n = 37, d = 19;
  const Levels v = gaussian(n, d, 100.0, 13);
  ftm::LevelEncoder e;
  ftm::level_encoder_init(e, d, {});
  for (const std::int32_t x : v) ftm::level_encode(e, x);
  EXPECT_EQ(ftm::level_encoder_finish(e), ftm::encode_levels(v.data(), n, d));
}

}  // namespace
