// Quantizers against scalar references written straight from the formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftm/quantize.hpp"
#include "isa.hpp"
#include "log_kernel.hpp"

namespace {

template <class T>
std::vector<T> relu_gaussian(std::size_t n, unsigned seed, double scale = 3.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0.0, scale);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(std::max(0.0, d(rng)) - (seed % 2 ? 1.5 : 0.0));
  return v;
}

// Eq. 5 of seed 002 in base 2, with the float32 side information.
template <class T>
std::vector<std::uint16_t> reference_log(const std::vector<T>& x, int bits, float m, float big_m) {
  std::vector<std::uint16_t> q(x.size());
  const double top = std::pow(2.0, bits) - 1.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double level = std::log2(static_cast<double>(x[i]) - static_cast<double>(m) + 1.0);
    q[i] = static_cast<std::uint16_t>(big_m == 0.0f ? 0.0 : std::nearbyint(level / big_m * top));
  }
  return q;
}

template <class T>
void check_log_against_reference(int bits, unsigned seed) {
  const auto x = relu_gaussian<T>(10007, seed);
  const auto p = ftm::log_quant_fit(x.data(), x.size(), bits, false);
  const T mn = *std::min_element(x.begin(), x.end());
  EXPECT_LE(static_cast<double>(p.offset), static_cast<double>(mn));
  std::vector<std::uint16_t> q(x.size());
  ftm::log_quantize(x.data(), x.size(), p, q.data());
  const auto ref = reference_log(x, bits, p.offset, p.max_log);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(q[i], ref[i]) << "index " << i << " value " << x[i];
  EXPECT_EQ(*std::max_element(q.begin(), q.end()), (1u << bits) - 1);

  std::vector<float> back(x.size());
  ftm::log_dequantize(q.data(), q.size(), p, back.data());
  const double top = std::pow(2.0, bits) - 1.0;
  for (std::size_t i = 0; i < x.size(); i += 97) {
    const double want = std::exp2(q[i] * static_cast<double>(p.max_log) / top) + p.offset - 1.0;
    ASSERT_NEAR(back[i], want, 1e-5 * (1.0 + std::fabs(want)));
  }
}

TEST(LogQuantizer, MatchesEquationFiveAtEveryBitDepth) {
  for (int bits = ftm::kMinBits; bits <= ftm::kMaxBits; ++bits) {
    check_log_against_reference<float>(bits, static_cast<unsigned>(bits));
    check_log_against_reference<double>(bits, static_cast<unsigned>(bits) + 100);
  }
}

TEST(LogQuantizer, EightBitCodesFitInBytes) {
  const auto x = relu_gaussian<float>(1000, 7);
  const auto p = ftm::log_quant_fit(x.data(), x.size(), 8, false);
  std::vector<std::uint8_t> q8(x.size());
  std::vector<std::uint16_t> q16(x.size());
  ftm::log_quantize(x.data(), x.size(), p, q8.data());
  ftm::log_quantize(x.data(), x.size(), p, q16.data());
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(q8[i], q16[i]);
}

TEST(LogQuantizer, ConstantTensorRoundTripsExactly) {
  for (float v : {0.0f, 3.25f, -7.5f, 1e-20f}) {
    const std::vector<float> x(64, v);
    const auto p = ftm::log_quant_fit(x.data(), x.size(), 10, false);
    EXPECT_EQ(p.max_log, 0.0f);
    std::vector<std::uint16_t> q(x.size(), 99);
    ftm::log_quantize(x.data(), x.size(), p, q.data());
    std::vector<float> back(x.size());
    ftm::log_dequantize(q.data(), q.size(), p, back.data());
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(q[i], 0);
      ASSERT_EQ(back[i], v);
    }
  }
}

TEST(LogQuantizer, Float64OffsetBoundsTheData) {
  // 0.1 is not a float32: m must round down so that x - m >= 0.
  const std::vector<double> x = {0.1, 0.2, 0.30000000000000004};
  const auto p = ftm::log_quant_fit(x.data(), x.size(), 8, false);
  EXPECT_LE(static_cast<double>(p.offset), 0.1);
  EXPECT_GE(static_cast<double>(p.max_log), std::log2(0.30000000000000004 - p.offset + 1.0));
}

TEST(LogQuantizer, NonNegativeModeFixesOffsetAndRejectsNegatives) {
  std::vector<float> x = {0.5f, 2.0f, 7.0f};
  const auto p = ftm::log_quant_fit(x.data(), x.size(), 8, true);
  EXPECT_EQ(p.offset, 0.0f);
  EXPECT_FLOAT_EQ(p.max_log, 3.0f);
  x[1] = -0.25f;
  try {
    ftm::log_quant_fit(x.data(), x.size(), 8, true);
    FAIL() << "negative input accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("index 1"), std::string::npos) << e.what();
  }
}

TEST(LogQuantizer, RejectsBadInput) {
  std::vector<float> x = {1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN(), 4.0f};
  try {
    ftm::log_quant_fit(x.data(), x.size(), 8, false);
    FAIL() << "NaN accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("index 2"), std::string::npos) << e.what();
  }
  x[2] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(ftm::log_quant_fit(x.data(), x.size(), 8, false), std::invalid_argument);
  x[2] = 3.0f;
  EXPECT_THROW(ftm::log_quant_fit(x.data(), x.size(), 7, false), std::invalid_argument);
  EXPECT_THROW(ftm::log_quant_fit(x.data(), x.size(), 17, false), std::invalid_argument);
  EXPECT_THROW(ftm::log_quant_fit(x.data(), 0, 8, false), std::invalid_argument);
  const std::vector<double> huge = {0.0, 1e300};
  EXPECT_THROW(ftm::log_quant_fit(huge.data(), huge.size(), 8, false), std::invalid_argument);
}

TEST(LogQuantizer, FirstNonFiniteIndexIsReportedAcrossChunks) {
  std::vector<float> x(1 << 20, 1.0f);
  x[900000] = std::numeric_limits<float>::quiet_NaN();
  x[300001] = -std::numeric_limits<float>::infinity();
  try {
    ftm::check_finite(x.data(), x.size());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("index 300001"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- min-max

TEST(MinMaxQuantizer, MatchesFormulaPerTensorAndPerChannel) {
  const std::size_t outer = 3, channels = 5, inner = 37;
  const auto x = relu_gaussian<float>(outer * channels * inner, 11);
  for (std::size_t ch : {std::size_t{1}, channels}) {
    ftm::ChannelView v{outer, ch, x.size() / (outer * ch)};
    std::vector<float> lo(ch), hi(ch);
    ftm::minmax_fit(x.data(), v, lo.data(), hi.data());
    for (int bits : {8, 10, 12, 16}) {
      std::vector<std::uint16_t> q(x.size());
      ftm::minmax_quantize(x.data(), v, lo.data(), hi.data(), bits, q.data());
      std::vector<float> back(x.size());
      ftm::minmax_dequantize(q.data(), v, lo.data(), hi.data(), bits, back.data());
      const double top = std::pow(2.0, bits) - 1.0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = (i / v.inner) % ch;
        const double l = lo[c], h = hi[c];
        ASSERT_LE(l, x[i]);
        ASSERT_GE(h, x[i]);
        const double want = h == l ? 0.0 : std::nearbyint((x[i] - l) / (h - l) * top);
        ASSERT_EQ(q[i], want) << "index " << i;
        ASSERT_FLOAT_EQ(back[i], static_cast<float>(l + q[i] / top * (h - l)));
      }
    }
  }
}

TEST(MinMaxQuantizer, FixedRangeClipsAndFlatChannelIsZero) {
  const std::vector<float> x = {-5.0f, 0.0f, 0.5f, 1.0f, 9.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f};
  const ftm::ChannelView v{1, 2, 5};
  const float lo[2] = {0.0f, 2.0f}, hi[2] = {1.0f, 2.0f};
  std::vector<std::uint8_t> q(x.size());
  ftm::minmax_quantize(x.data(), v, lo, hi, 8, q.data());
  const std::vector<std::uint8_t> want = {0, 0, 128, 255, 255, 0, 0, 0, 0, 0};
  EXPECT_EQ(q, want);
  std::vector<float> back(x.size());
  ftm::minmax_dequantize(q.data(), v, lo, hi, 8, back.data());
  EXPECT_FLOAT_EQ(back[5], 2.0f);
  const float bad_lo[2] = {1.0f, 0.0f}, bad_hi[2] = {0.0f, 1.0f};
  EXPECT_THROW(ftm::minmax_quantize(x.data(), v, bad_lo, bad_hi, 8, q.data()), std::invalid_argument);
}

// ---------------------------------------------------------------- scalar

TEST(ScalarQuantizer, StepFollowsEquationOne) {
  EXPECT_DOUBLE_EQ(ftm::qstep(4), std::ldexp(1.0, -10));
  EXPECT_DOUBLE_EQ(ftm::qstep(10), std::ldexp(1.0, -9));
  EXPECT_DOUBLE_EQ(ftm::qstep(58), 0.5);
  EXPECT_DOUBLE_EQ(ftm::qstep(37), std::exp2(33.0 / 6.0 - 10.0));
  EXPECT_THROW(ftm::qstep(ftm::kMinQp - 1), std::invalid_argument);
  EXPECT_THROW(ftm::qstep(ftm::kMaxQp + 1), std::invalid_argument);
}

TEST(ScalarQuantizer, FloorsTowardsMinusInfinity) {
  const std::vector<double> c = {0.0, 0.5, -0.5, 1.0 / 1024, -1.0 / 1024, -1e-9, 3.7};
  std::vector<std::int32_t> l(c.size());
  ftm::sq_quantize(c.data(), c.size(), 4, l.data());  // Qstep = 1/1024
  const std::vector<std::int32_t> want = {0, 512, -512, 1, -1, -1, 3788};
  EXPECT_EQ(l, want);
  std::vector<float> back(l.size()), mid(l.size());
  ftm::sq_dequantize(l.data(), l.size(), 4, false, back.data());
  ftm::sq_dequantize(l.data(), l.size(), 4, true, mid.data());
  for (std::size_t i = 0; i < l.size(); ++i) {
    EXPECT_FLOAT_EQ(back[i], static_cast<float>(l[i] / 1024.0));
    EXPECT_FLOAT_EQ(mid[i], static_cast<float>((l[i] + 0.5) / 1024.0));
  }
}

TEST(ScalarQuantizer, RejectsLevelsOutsideInt32AndNaN) {
  const std::vector<double> big = {1.0, 1e7};
  std::vector<std::int32_t> l(big.size());
  EXPECT_THROW(ftm::sq_quantize(big.data(), big.size(), ftm::kMinQp, l.data()), std::invalid_argument);
  const std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(ftm::sq_quantize(nan.data(), nan.size(), 22, l.data()), std::invalid_argument);
}

}  // namespace

// ---------------------------------------------------------------- fast path

namespace {

// Every float32 in [lo, hi), in order.
std::vector<float> all_floats(float lo, float hi) {
  std::vector<float> v;
  for (float x = lo; x < hi; x = std::nextafter(x, hi)) v.push_back(x);
  return v;
}

// Every variant the CPU runs (FTM_ISA may select any of them).
void check_log2_bound(const std::vector<float>& v) {
  std::vector<float> got(v.size());
  const auto& kernel = ftm::detail::approx_log2_batch_kernel();
  for (int level = 0; level < ftm::detail::kIsaLevels; ++level) {
    const auto isa = static_cast<ftm::detail::Isa>(level);
    if (kernel.variant[level] == nullptr || !ftm::detail::isa_supported(isa)) continue;
    kernel.variant[level](v.data(), v.size(), got.data());
    double worst = 0.0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double exact = std::log2(static_cast<double>(v[i]));
      const double bound = ftm::detail::kFloatLog2Error + ftm::detail::kFloatLog2RelError * std::fabs(exact);
      const double err = std::fabs(got[i] - exact);
      worst = std::max(worst, err / bound);
      ASSERT_LE(err, bound) << ftm::detail::isa_name(isa) << ", v " << v[i];
    }
    ::testing::Test::RecordProperty(std::string("worst_error_over_bound_") + ftm::detail::isa_name(isa),
                                    std::to_string(worst));
  }
}

}  // namespace

TEST(LogFastPath, FloatLog2StaysWithinItsBoundOnEveryFloat) {
  check_log2_bound(all_floats(1.0f, 4.0f));  // both halves of the reduction, two binades
  for (float base : {1024.0f, 1.5e9f, 3e30f}) check_log2_bound(all_floats(base, base * 1.001f));
}

// Inputs placed on and around every rounding boundary of the code: the fast
// path must reproduce the exact rule there too.
template <class T>
std::vector<T> boundary_inputs(int bits, float m, float big_m) {
  std::vector<T> x;
  const double top = std::ldexp(1.0, bits) - 1.0;
  const int step = bits > 12 ? 97 : 1;
  for (int k = 1; k <= static_cast<int>(top); k += step) {
    const T at = static_cast<T>(std::exp2((k - 0.5) * big_m / top) - 1.0 + m);
    T lo = at, hi = at;
    for (int j = 0; j < 3; ++j) {
      lo = std::nextafter(lo, -std::numeric_limits<T>::infinity());
      hi = std::nextafter(hi, std::numeric_limits<T>::infinity());
      x.push_back(lo);
      x.push_back(hi);
    }
    x.push_back(at);
  }
  return x;
}

template <class T, class Q>
void check_fast_path_exact(int bits, float m, float big_m) {
  auto x = boundary_inputs<T>(bits, m, big_m);
  // Enough elements that the threaded, blocked path runs, plus the ends.
  while (x.size() < 300000) x.insert(x.end(), x.begin(), x.begin() + std::min<std::size_t>(x.size(), 300000 - x.size()));
  x.push_back(static_cast<T>(m));
  const ftm::LogQuantParams p{bits, m, big_m};
  std::vector<Q> q(x.size());
  ftm::log_quantize(x.data(), x.size(), p, q.data());
  const double top = std::ldexp(1.0, bits) - 1.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = static_cast<double>(x[i]) - static_cast<double>(m) + 1.0;
    double want = std::nearbyint(std::log2(v) / static_cast<double>(big_m) * top);
    want = want > top ? top : (want > 0.0 ? want : 0.0);
    ASSERT_EQ(q[i], static_cast<Q>(want)) << "bits " << bits << " M " << big_m << " x " << x[i];
  }
}

TEST(LogFastPath, MatchesTheExactRuleOnRoundingBoundaries) {
  for (float big_m : {3.0f, 0.37f, 11.5f}) {
    check_fast_path_exact<float, std::uint8_t>(8, 0.0f, big_m);
    check_fast_path_exact<float, std::uint16_t>(10, -1.25f, big_m);
    check_fast_path_exact<double, std::uint8_t>(8, 2.5f, big_m);
    check_fast_path_exact<float, std::uint16_t>(12, 0.0f, big_m);
    check_fast_path_exact<double, std::uint16_t>(16, -3.0f, big_m);
  }
  check_fast_path_exact<float, std::uint8_t>(8, 0.0f, 1e-6f);  // a vanishing M: the exact path
}
