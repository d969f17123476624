// Every ISA variant of every vectorized kernel (isa.hpp) against a plain
// scalar reference on the same random and edge-case inputs, as dav1d's
// checkasm does: on a mismatch the test names the kernel, the variant, the
// input size and the first differing index, with both values and the inputs
// around it. The references round every multiply and add as written (this
// file is compiled with -ffp-contract=off); for the variants that fuse them
// (isa.hpp) the references use std::fma at the same places.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "bubble_index_kernel.hpp"
#include "isa.hpp"
#include "log_kernel.hpp"
#include "scan.hpp"

namespace {

using ftm::detail::Isa;
using ftm::detail::Kernel;

constexpr Isa kLevels[] = {Isa::kBaseline, Isa::kX86_64_V3, Isa::kX86_64_V4};

bool fuses_multiply_add(Isa level) { return level != Isa::kBaseline; }

struct Variant {
  Isa level;
  const char* name;
};

// The variants of `kernel` this machine runs; prints which ran and which were
// skipped, and why.
template <class Fn>
std::vector<std::pair<Variant, Fn*>> runnable(const Kernel<Fn>& kernel, const std::string& label) {
  std::vector<std::pair<Variant, Fn*>> out;
  std::string ran, skipped;
  for (const Isa level : kLevels) {
    const char* name = ftm::detail::isa_name(level);
    Fn* fn = kernel.variant[static_cast<int>(level)];
    if (fn == nullptr) skipped += std::string(" ") + name + " (not in this build)";
    else if (!ftm::detail::isa_supported(level)) skipped += std::string(" ") + name + " (unsupported by this CPU)";
    else ran += std::string(" ") + name, out.push_back({{level, name}, fn});
  }
  std::printf("[ variants ] %s: ran%s; skipped%s\n", label.c_str(), ran.c_str(), skipped.empty() ? " none" : skipped.c_str());
  return out;
}

template <class T>
std::string show(T v) {
  std::ostringstream s;
  if constexpr (std::is_floating_point_v<T>) {
    std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t> bits;
    std::memcpy(&bits, &v, sizeof v);
    s.precision(std::numeric_limits<T>::max_digits10);
    s << v << " (0x" << std::hex << bits << ")";
  } else {
    s << +v;
  }
  return s.str();
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The inputs x[i - 3 .. i + 3] of an array of n.
template <class T>
std::string around(const T* x, std::size_t n, std::size_t i) {
  std::ostringstream s;
  for (std::size_t k = i < 3 ? 0 : i - 3; k < n && k <= i + 3; ++k) s << "\n    [" << k << "] " << show(x[k]);
  return s.str();
}

std::mt19937_64& rng() {
  static std::mt19937_64 r(20240611);
  return r;
}

std::vector<std::size_t> sizes() {
  std::vector<std::size_t> n;
  for (std::size_t k = 0; k <= 70; ++k) n.push_back(k);
  for (std::size_t k : {127, 128, 129, 255, 1000, 4095, 4096, 10007}) n.push_back(k);
  return n;
}

TEST(Isa, CapComesFromTheEnvironment) {
  const char* saved = std::getenv("FTM_ISA");
  const std::string keep = saved ? saved : "";
  for (const Isa level : kLevels) {
    setenv("FTM_ISA", ftm::detail::isa_name(level), 1);
    EXPECT_EQ(ftm::detail::isa_cap(), level);
  }
  setenv("FTM_ISA", "", 1);
  EXPECT_EQ(ftm::detail::isa_cap(), Isa::kX86_64_V4);
  setenv("FTM_ISA", "avx9", 1);
  try {
    (void)ftm::detail::isa_cap();
    ADD_FAILURE() << "FTM_ISA=avx9 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'avx9'"), std::string::npos) << e.what();
  }
  if (saved) setenv("FTM_ISA", keep.c_str(), 1);
  else unsetenv("FTM_ISA");
  EXPECT_TRUE(ftm::detail::isa_supported(Isa::kBaseline));
  std::printf("[ variants ] production kernels run %s\n", ftm::detail::isa_name(ftm::detail::selected_isa()));
}

// ---------------------------------------------------------------- scan_range

bool key_below(double a, double b) { return a < b || (a == b && std::signbit(a) && !std::signbit(b)); }

template <class F>
ftm::detail::Extremes reference_scan(const F* x, std::size_t begin, std::size_t end) {
  ftm::detail::Extremes e;
  e.first_bad = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = begin; i < end; ++i)
    if (!std::isfinite(x[i])) {
      e.first_bad = i;
      return e;
    }
  for (std::size_t i = begin; i < end; ++i) {
    const double v = static_cast<double>(x[i]);
    if (i == begin || key_below(v, e.min)) e.min = v;
    if (i == begin || key_below(e.max, v)) e.max = v;
  }
  return e;
}

template <class F>
std::vector<F> scan_input(std::size_t n, int kind) {
  std::vector<F> x(n);
  std::normal_distribution<double> g(0.0, 100.0);
  const F special[] = {F(0), -F(0), std::numeric_limits<F>::denorm_min(), -std::numeric_limits<F>::denorm_min(),
                       std::numeric_limits<F>::max(), std::numeric_limits<F>::lowest(), std::numeric_limits<F>::min()};
  for (auto& v : x) v = static_cast<F>(g(rng()));
  if (n == 0) return x;
  std::uniform_int_distribution<std::size_t> at(0, n - 1);
  if (kind == 3) {  // signed zeros only: -0 is the minimum when present
    for (auto& v : x) v = at(rng()) % 2 ? F(0) : -F(0);
    return x;
  }
  for (std::size_t k = 0; k < 1 + n / 16; ++k) x[at(rng())] = special[at(rng()) % 7];
  if (kind == 1) x[at(rng())] = std::numeric_limits<F>::quiet_NaN();
  if (kind == 2) x[at(rng())] = -std::numeric_limits<F>::infinity(), x[at(rng())] = std::numeric_limits<F>::infinity();
  return x;
}

template <class F>
void check_scan(const char* label) {
  for (const auto& [variant, fn] : runnable(ftm::detail::scan_range_kernel<F>(), label))
    for (const std::size_t n : sizes())
      for (int kind = 0; kind < 4; ++kind) {
        const auto x = scan_input<F>(n, kind);
        const std::size_t begin = n > 4 && kind == 0 ? 3 : 0;
        const auto got = fn(x.data(), begin, n);
        const auto want = reference_scan(x.data(), begin, n);
        const char* field = got.first_bad != want.first_bad ? "first_bad"
                            : !same_bits(got.min, want.min) ? "min"
                            : !same_bits(got.max, want.max) ? "max"
                                                             : nullptr;
        if (field == nullptr) continue;
        // Where the differing value is: the first bad element, or the variant's extreme.
        std::size_t i = want.first_bad < n ? want.first_bad : std::min(got.first_bad, n ? n - 1 : 0);
        const double shown = field[1] == 'i' ? got.min : got.max;
        for (std::size_t k = begin; k < n && field[0] == 'm'; ++k)
          if (same_bits(static_cast<double>(x[k]), shown)) {
            i = k;
            break;
          }
        ADD_FAILURE() << label << " " << variant.name << ", n = " << n << " from " << begin << ": " << field
                      << " differs\n  got  min " << show(got.min) << " max " << show(got.max) << " first_bad "
                      << got.first_bad << "\n  want min " << show(want.min) << " max " << show(want.max)
                      << " first_bad " << want.first_bad << "\n  inputs around " << i << ":" << around(x.data(), n, i);
        return;
      }
}

TEST(KernelVariants, ScanRangeFloat) { check_scan<float>("scan_range<float>"); }
TEST(KernelVariants, ScanRangeDouble) { check_scan<double>("scan_range<double>"); }

// ---------------------------------------------------------------- log2 and series codes

template <class F>
F madd(F a, F b, F c, bool fused) {
  return fused ? std::fma(a, b, c) : a * b + c;
}

// v = 2^e f, f in [sqrt(1/2), sqrt(2)).
template <class F>
void reference_split(F v, F& e, F& f) {
  int ex;
  const F m = std::frexp(v, &ex);  // v = m 2^ex, m in [1/2, 1)
  const bool big = 2 * m > F(1.41421356237309504880);
  f = big ? m : 2 * m;
  e = static_cast<F>(big ? ex : ex - 1);
}

float reference_log2(float v, bool fused) {
  float e, f;
  reference_split(v, e, f);
  const float t = f - 1.0f;
  float p = ftm::detail::kLog2Poly[8];
  for (int k = 7; k >= 0; --k) p = madd(p, t, ftm::detail::kLog2Poly[k], fused);
  return madd(t, p, e, fused);
}

double reference_log2(double v, bool fused) {
  double e, f;
  reference_split(v, e, f);
  const double s = (f - 1.0) / (f + 1.0), z = s * s;
  double p = 1.0 / 19;
  for (int k = 17; k >= 3; k -= 2) p = madd(p, z, 1.0 / k, fused);
  p = madd(p, z, 1.0, fused);
  return madd(2.88539008177792681472 * s, p, e, fused);
}

TEST(KernelVariants, ApproxLog2Batch) {
  std::vector<float> v;
  for (float x = 1.0f; x < 4.0f; x *= 1.0001f) v.push_back(x);
  for (float x : {1.41421354f, 1.41421356f, 1.41421366f, 2.82842708f, 0x1.fffffep125f, 0x1p100f}) v.push_back(x);
  std::uniform_real_distribution<double> exponent(0.0, 125.99);
  for (int k = 0; k < 20000; ++k) v.push_back(static_cast<float>(std::exp2(exponent(rng()))));
  for (const auto& [variant, fn] : runnable(ftm::detail::approx_log2_batch_kernel(), "approx_log2_batch"))
    for (const std::size_t n : sizes()) {
      const std::size_t start = std::uniform_int_distribution<std::size_t>(0, v.size() - n)(rng());
      const float* x = v.data() + start;
      std::vector<float> got(n + 1, -1.0f);
      fn(x, n, got.data());
      for (std::size_t i = 0; i <= n; ++i) {
        const float want = i < n ? reference_log2(x[i], fuses_multiply_add(variant.level)) : -1.0f;
        if (same_bits(got[i], want)) continue;
        ADD_FAILURE() << "approx_log2_batch " << variant.name << ", n = " << n << ": first difference at " << i
                      << (i == n ? " (written past the end)" : "") << "\n  got  " << show(got[i]) << "\n  want "
                      << show(want) << "\n  inputs around " << i << ":" << around(x, n, i);
        return;
      }
    }
}

template <class F, class T, class Q>
unsigned reference_series(const T* x, std::size_t n, double m, F scale, F top, F limit, Q* q, std::uint8_t* flag,
                          bool fused) {
  using V = std::conditional_t<std::is_same_v<F, T>, F, double>;
  unsigned any = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const V vx = static_cast<V>(x[i]) - static_cast<V>(m) + V(1);
    const bool inside = vx >= V(1) && vx < V(0x1p126);
    const F c = reference_log2(static_cast<F>(inside ? vx : V(1)), fused) * scale;
    const F r = std::nearbyint(c);
    const F clamped = r > top ? top : (r < F(0) ? F(0) : r);
    flag[i] = static_cast<std::uint8_t>(std::fabs(c - r) > limit || !inside);
    any |= flag[i];
    q[i] = static_cast<Q>(clamped);
  }
  return any;
}

// Random values, with some on the exact rule's rounding boundaries (where
// elements get flagged), below the offset, huge, NaN and infinite.
template <class T>
std::vector<T> series_input(std::size_t n, float m, float big_m, double top) {
  std::vector<T> x(n);
  std::exponential_distribution<double> spread(0.5);
  std::uniform_int_distribution<int> pick(0, 15), code(0, static_cast<int>(top) - 1);
  for (auto& v : x) {
    const int k = pick(rng());
    const double boundary = m + std::exp2((code(rng()) + 0.5) * big_m / top) - 1.0;
    v = k == 0   ? static_cast<T>(boundary)
        : k == 1 ? static_cast<T>(m - 1.0 - spread(rng()))
        : k == 2 ? std::numeric_limits<T>::quiet_NaN()
        : k == 3 ? std::numeric_limits<T>::infinity()
        : k == 4 ? static_cast<T>(0x1p127)
                 : static_cast<T>(m + spread(rng()));
  }
  return x;
}

template <class F, class T, class Q>
void check_series(const char* label) {
  for (const auto& [variant, fn] : runnable(ftm::detail::series_codes_kernel<F, T, Q>(), label))
    for (const int bits : {8, 10, 16})
      for (const std::size_t n : sizes()) {
        if (bits > 8 && sizeof(Q) == 1) continue;
        const float m = -0.75f, big_m = 4.5f;
        const double top = std::ldexp(1.0, bits) - 1.0;
        const auto x = series_input<T>(n, m, big_m, top);
        const F scale = static_cast<F>(top / big_m), ftop = static_cast<F>(top);
        const F limit = static_cast<F>(0.5 - ftm::detail::series_code_error<F>(top, big_m));
        std::vector<Q> q(n + 1, 7), want_q(n + 1, 7);
        std::vector<std::uint8_t> flag(n + 1, 9), want_flag(n + 1, 9);
        const unsigned any = fn(x.data(), n, m, scale, ftop, limit, q.data(), flag.data());
        const unsigned want_any = reference_series(x.data(), n, m, scale, ftop, limit, want_q.data(),
                                                   want_flag.data(), fuses_multiply_add(variant.level));
        std::size_t i = 0;
        while (i <= n && q[i] == want_q[i] && flag[i] == want_flag[i]) ++i;
        if (i > n && (any != 0) == (want_any != 0)) continue;
        std::ostringstream what;
        if (i > n) what << "returned " << any << ", want " << want_any;
        else
          what << "first difference at " << i << (i == n ? " (written past the end)" : "") << "\n  got  code "
               << show(q[i]) << " flag " << show(flag[i]) << "\n  want code " << show(want_q[i]) << " flag "
               << show(want_flag[i]) << "\n  inputs around " << i << ":" << around(x.data(), n, i);
        ADD_FAILURE() << label << " " << variant.name << ", " << bits << " bits, n = " << n << ": " << what.str();
        return;
      }
}

TEST(KernelVariants, SeriesCodes) {
  check_series<float, float, std::uint8_t>("series_codes<float, float, uint8>");
  check_series<float, float, std::uint16_t>("series_codes<float, float, uint16>");
  check_series<float, double, std::uint8_t>("series_codes<float, double, uint8>");
  check_series<float, double, std::uint16_t>("series_codes<float, double, uint16>");
  check_series<double, float, std::uint8_t>("series_codes<double, float, uint8>");
  check_series<double, float, std::uint16_t>("series_codes<double, float, uint16>");
  check_series<double, double, std::uint8_t>("series_codes<double, double, uint8>");
  check_series<double, double, std::uint16_t>("series_codes<double, double, uint16>");
}

// ---------------------------------------------------------------- bitset inversion counter

// Inversions by a Fenwick tree over ranks in 0..n-1; false on a repeat.
bool reference_inversions(const std::uint32_t* ranks, std::size_t n, std::uint64_t& inversions) {
  std::vector<std::uint64_t> tree(n + 1, 0);
  std::vector<char> seen(n, 0);
  bool distinct = true;
  inversions = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t below = 0;
    for (std::size_t k = ranks[i]; k > 0; k &= k - 1) below += tree[k];
    inversions += i - below;
    for (std::size_t k = ranks[i] + 1; k <= n; k += k & (0 - k)) ++tree[k];
    distinct &= !seen[ranks[i]];
    seen[ranks[i]] = 1;
  }
  return distinct;
}

// The ranks of v[0, k) renumbered densely from 0, order and repeats kept.
std::vector<std::uint32_t> renumbered_prefix(const std::vector<std::uint32_t>& v, std::size_t k) {
  std::vector<std::uint32_t> sorted(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k)), out(k);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (std::size_t i = 0; i < k; ++i)
    out[i] = static_cast<std::uint32_t>(std::lower_bound(sorted.begin(), sorted.end(), v[i]) - sorted.begin());
  return out;
}

std::vector<std::uint32_t> ranking(std::size_t n, int kind) {
  std::vector<std::uint32_t> r(n);
  std::iota(r.begin(), r.end(), 0u);
  if (kind == 1) std::reverse(r.begin(), r.end());
  if (kind >= 2) std::shuffle(r.begin(), r.end(), rng());
  if (kind == 3 && n >= 2) r[std::uniform_int_distribution<std::size_t>(1, n - 1)(rng())] = r[0];  // a repeat
  return r;
}

TEST(KernelVariants, CountByBitset) {
  std::vector<std::size_t> ns = sizes();
  for (std::size_t n : {2047, 2048, 2049, 5693, 16385, 70000, 300001}) ns.push_back(n);
  for (const auto& [variant, fn] : runnable(ftm::detail::count_by_bitset_kernel(), "count_by_bitset"))
    for (const std::size_t n : ns)
      for (int kind = 0; kind < 4; ++kind) {
        const auto r = ranking(n, kind);
        ftm::detail::BitsetTables tables;
        std::uint64_t got = 0, want = 0;
        const bool got_distinct = ftm::detail::count_with_bitset(r.data(), n, tables, got, fn);
        const bool want_distinct = reference_inversions(r.data(), n, want);
        if (got_distinct == want_distinct && (!want_distinct || got == want)) continue;
        // The shortest prefix that differs, by bisection on renumbered prefixes.
        std::size_t lo = 0, hi = n;
        while (hi - lo > 1) {
          const std::size_t mid = lo + (hi - lo) / 2;
          const auto p = renumbered_prefix(r, mid);
          std::uint64_t a = 0, b = 0;
          const bool da = ftm::detail::count_with_bitset(p.data(), mid, tables, a, fn);
          const bool db = reference_inversions(p.data(), mid, b);
          (da == db && (!db || a == b) ? lo : hi) = mid;
        }
        ADD_FAILURE() << "count_by_bitset " << variant.name << ", n = " << n << ": got " << got << " inversions"
                      << (got_distinct ? "" : ", a repeat") << "; want " << want
                      << (want_distinct ? "" : ", a repeat") << "\n  first differing prefix: " << hi
                      << " ranks\n  ranks around " << hi - 1 << ":" << around(r.data(), n, hi ? hi - 1 : 0);
        return;
      }
}

}  // namespace
