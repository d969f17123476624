// The CABAC engine: round trips of every bin kind, encoder and decoder in
// lockstep, exact lengths, known answers, and streams that end too early.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "cabac.hpp"
#include "known_answer.hpp"

namespace {

using ftm_test::fnv1a;
using ftm_test::hex;

// A generator written out here so that known answers do not depend on the
// standard library's distributions.
struct XorShift {
  std::uint64_t s;
  std::uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<std::uint32_t>(s >> 32);
  }
};

enum class Kind { kContext, kBypass, kTerminate };

struct Op {
  Kind kind;
  int ctx;            // context index for kContext
  int count;          // bins in a bypass group
  std::uint32_t value;
};

// A mixed script: skewed and balanced contexts, bypass groups of 0..32 bins,
// terminate bins.
std::vector<Op> script(std::size_t length, std::uint64_t seed) {
  XorShift g{seed};
  std::vector<Op> ops;
  for (std::size_t i = 0; i < length; ++i) {
    const std::uint32_t r = g.next();
    switch (r % 8) {
      case 0:
      case 1:
      case 2: ops.push_back({Kind::kContext, 0, 1, (g.next() % 100) < 3}); break;   // P(1) ~ 0.03
      case 3:
      case 4: ops.push_back({Kind::kContext, 1, 1, (g.next() % 100) < 50}); break;  // balanced
      case 5: ops.push_back({Kind::kContext, 2, 1, (g.next() % 1000) < 999}); break;  // almost always 1
      case 6: {
        const int n = static_cast<int>(g.next() % 33);
        const std::uint32_t v = n == 32 ? g.next() : g.next() & ((1u << n) - 1u);
        ops.push_back({Kind::kBypass, 0, n, v});
        break;
      }
      default: ops.push_back({Kind::kTerminate, 0, 1, (g.next() % 64) == 0}); break;
    }
  }
  return ops;
}

std::vector<ftm::CabacContext> fresh_contexts() {
  return {ftm::cabac_context(4, 7), ftm::cabac_context(5, 8, 20000), ftm::cabac_context(2, 12, 100)};
}

void encode(ftm::CabacEncoder& e, std::vector<ftm::CabacContext>& ctx, const Op& op) {
  switch (op.kind) {
    case Kind::kContext: ftm::cabac_encode_bin(e, ctx[static_cast<std::size_t>(op.ctx)], static_cast<int>(op.value)); break;
    case Kind::kBypass: ftm::cabac_encode_bypass_bits(e, op.value, op.count); break;
    case Kind::kTerminate: ftm::cabac_encode_terminate(e, static_cast<int>(op.value)); break;
  }
}

std::uint32_t decode(ftm::CabacDecoder& d, std::vector<ftm::CabacContext>& ctx, const Op& op) {
  switch (op.kind) {
    case Kind::kContext: return static_cast<std::uint32_t>(ftm::cabac_decode_bin(d, ctx[static_cast<std::size_t>(op.ctx)]));
    case Kind::kBypass: return ftm::cabac_decode_bypass_bits(d, op.count);
    case Kind::kTerminate: return static_cast<std::uint32_t>(ftm::cabac_decode_terminate(d));
  }
  return 0;
}

std::vector<std::uint8_t> encode_script(const std::vector<Op>& ops) {
  ftm::CabacEncoder e;
  auto ctx = fresh_contexts();
  for (const Op& op : ops) encode(e, ctx, op);
  ftm::cabac_finish(e);
  return e.out;
}

bool print_known_answers() { return std::getenv("FTM_PRINT_KNOWN_ANSWERS") != nullptr; }

std::string state(const ftm::CabacContext& c) {
  return "{fast " + std::to_string(c.fast) + ", slow " + std::to_string(c.slow) + ", rates " +
         std::to_string(c.fast_rate) + "/" + std::to_string(c.slow_rate) + ", warm_left " +
         std::to_string(c.warm_left) + "}";
}

bool same(const ftm::CabacContext& a, const ftm::CabacContext& b) {
  return a.fast == b.fast && a.slow == b.slow && a.fast_rate == b.fast_rate && a.slow_rate == b.slow_rate &&
         a.warm_left == b.warm_left;
}

TEST(Cabac, RoundTripsMixedScripts) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto ops = script(20000, seed);
    const auto bytes = encode_script(ops);
    ftm::CabacDecoder d;
    ftm::cabac_decoder_init(d, bytes.data(), bytes.size());
    auto ctx = fresh_contexts();
    for (std::size_t i = 0; i < ops.size(); ++i) ASSERT_EQ(decode(d, ctx, ops[i]), ops[i].value) << "seed " << seed << " op " << i;
    EXPECT_EQ(ftm::cabac_decoder_remaining(d), 0u);
  }
}

// After every bin the decoder's range and context must equal the encoder's.
TEST(Cabac, EncoderAndDecoderStatesAgreeBinByBin) {
  const auto ops = script(5000, 99);
  ftm::CabacEncoder e;
  auto ectx = fresh_contexts();
  std::vector<std::uint32_t> ranges;
  std::vector<std::vector<ftm::CabacContext>> snapshots;
  for (const Op& op : ops) {
    encode(e, ectx, op);
    ranges.push_back(e.range);
    snapshots.push_back(ectx);
  }
  ftm::cabac_finish(e);
  ftm::CabacDecoder d;
  ftm::cabac_decoder_init(d, e.out.data(), e.out.size());
  auto dctx = fresh_contexts();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    decode(d, dctx, ops[i]);
    ASSERT_EQ(d.range, ranges[i]) << "bin " << i;
    for (std::size_t c = 0; c < dctx.size(); ++c) {
      const auto& a = snapshots[i][c];
      const auto& b = dctx[c];
      ASSERT_TRUE(same(a, b))
          << "bin " << i << " context " << c << ": encoder " << state(a) << ", decoder " << state(b);
    }
  }
}

TEST(Cabac, EmptyStreamIsFourBytes) {
  ftm::CabacEncoder e;
  ftm::cabac_finish(e);
  ASSERT_EQ(e.out.size(), 4u);
  ftm::CabacDecoder d;
  ftm::cabac_decoder_init(d, e.out.data(), e.out.size());
  EXPECT_EQ(ftm::cabac_decoder_remaining(d), 0u);
}

// Bypass bins cost exactly one bit: 8 k of them take k bytes plus the 4 the
// flush writes, whether coded one at a time or in groups of 8.
TEST(Cabac, BypassLengthIsExact) {
  for (const int group : {1, 8}) {
    ftm::CabacEncoder e;
    XorShift g{7};
    for (int i = 0; i < 800 / group; ++i) ftm::cabac_encode_bypass_bits(e, g.next() & ((1u << group) - 1u), group);
    ftm::cabac_finish(e);
    EXPECT_EQ(e.out.size(), 104u) << "groups of " << group;
  }
}

TEST(Cabac, LongRunsOfOneValueCostAlmostNothing) {
  ftm::CabacEncoder e;
  auto c = ftm::cabac_context(4, 7);
  for (int i = 0; i < 100000; ++i) ftm::cabac_encode_bin(e, c, 0);
  ftm::cabac_finish(e);
  // P(1) bottoms out at 2^-15: 100000 bins cost about 100000 * 4.4e-5 bits.
  EXPECT_LE(e.out.size(), 4u + 8u);
  EXPECT_EQ(ftm::cabac_probability(c), 1u);
  ftm::CabacDecoder d;
  ftm::cabac_decoder_init(d, e.out.data(), e.out.size());
  auto c2 = ftm::cabac_context(4, 7);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(ftm::cabac_decode_bin(d, c2), 0);
  EXPECT_EQ(ftm::cabac_decoder_remaining(d), 0u);
}

TEST(Cabac, EstimatorStaysInRangeAndFollowsTheBins) {
  auto c = ftm::cabac_context(1, 12);
  for (int i = 0; i < 100000; ++i) ftm::cabac_update(c, 1);
  EXPECT_EQ(ftm::cabac_probability(c), (1u << ftm::kCabacProbBits) - 1u);
  EXPECT_LE(c.fast, 1u << ftm::kCabacStateBits);
  EXPECT_LE(c.slow, 1u << ftm::kCabacStateBits);
  // The slow estimate forgets over about 2^12 bins.
  for (int i = 0; i < 4096; ++i) ftm::cabac_update(c, 0);
  EXPECT_NEAR(ftm::cabac_probability(c) / 32768.0, 0.5 * std::exp(-1.0), 0.01);
  for (int i = 0; i < 100000; ++i) ftm::cabac_update(c, 0);
  EXPECT_EQ(ftm::cabac_probability(c), 1u);
  // Warm-up: the first bin moves both estimates half way, and the rates grow
  // as 1, 1, 2, 2, 2, 2, 3 ... up to their windows.
  auto w = ftm::cabac_context(3, 5);
  ftm::cabac_update(w, 1);
  EXPECT_EQ(ftm::cabac_probability(w), 3u << (ftm::kCabacProbBits - 2));
  std::vector<int> fast_rates, slow_rates;
  for (int i = 0; i < 40; ++i) {
    fast_rates.push_back(w.fast_rate);
    slow_rates.push_back(w.slow_rate);
    ftm::cabac_update(w, i % 3 == 0);
  }
  const std::vector<int> expect_fast = {1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
                                        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
  const std::vector<int> expect_slow = {1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4,
                                        4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  EXPECT_EQ(fast_rates, expect_fast);
  EXPECT_EQ(slow_rates, expect_slow);
  EXPECT_EQ(w.warm_left, 0);
  // A 1-in-4 source is learnt within a few percent.
  auto s = ftm::cabac_context(5, 8);
  for (int i = 0; i < 4000; ++i) ftm::cabac_update(s, i % 4 == 0);
  EXPECT_NEAR(ftm::cabac_probability(s) / 32768.0, 0.25, 0.03);
}

TEST(Cabac, RejectsBadContextParameters) {
  EXPECT_THROW(ftm::cabac_context(0, 7), std::invalid_argument);
  EXPECT_THROW(ftm::cabac_context(4, 13), std::invalid_argument);
  EXPECT_THROW(ftm::cabac_context(4, 7, 0), std::invalid_argument);
  EXPECT_THROW(ftm::cabac_context(4, 7, 32768), std::invalid_argument);
}

TEST(Cabac, DecoderNeedsFourBytesAndAValidFirstWord) {
  const std::uint8_t three[3] = {0, 0, 0};
  ftm::CabacDecoder d;
  EXPECT_THROW(ftm::cabac_decoder_init(d, three, 3), std::runtime_error);
  const std::uint8_t ones[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_THROW(ftm::cabac_decoder_init(d, ones, 4), std::runtime_error);
}

// Every prefix of a stream is rejected: the decoder needs all of its bytes.
TEST(Cabac, TruncatedStreamsThrow) {
  const auto ops = script(300, 5);
  const auto bytes = encode_script(ops);
  ASSERT_GT(bytes.size(), 8u);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    const std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(
        {
          ftm::CabacDecoder d;
          ftm::cabac_decoder_init(d, part.data(), part.size());
          auto ctx = fresh_contexts();
          for (const Op& op : ops) decode(d, ctx, op);
        },
        std::runtime_error)
        << "cut at " << cut << " of " << bytes.size();
  }
}

// Known answers: regenerate with FTM_PRINT_KNOWN_ANSWERS=1 (the test prints
// the new constants and still fails until they are pasted here).
TEST(Cabac, KnownAnswers) {
  const auto small = encode_script(script(40, 2024));
  const std::vector<std::uint8_t> small_expected = {
      0xec, 0xd9, 0x56, 0xc1, 0xc5, 0x76, 0x39, 0x3e, 0x00,
  };
  const auto large = encode_script(script(100000, 77));
  const std::size_t large_size = 29362;
  const std::uint64_t large_fnv = 0x3115f39b6eed29b8ull;
  if (print_known_answers())
    std::printf("small: %s\nlarge: size %zu fnv1a 0x%016llx\n", hex(small).c_str(), large.size(),
                static_cast<unsigned long long>(fnv1a(large)));
  EXPECT_EQ(small, small_expected) << "got " << hex(small);
  EXPECT_EQ(large.size(), large_size);
  EXPECT_EQ(fnv1a(large), large_fnv);
}

}  // namespace
