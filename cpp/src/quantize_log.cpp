#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "float_bounds.hpp"
#include "isa.hpp"
#include "log_kernel.hpp"
#include "ftm/quantize.hpp"
#include "parallel.hpp"
#include "scan.hpp"

namespace ftm {

void check_bits(int bits) {
  if (bits < kMinBits || bits > kMaxBits)
    throw std::invalid_argument("bit depth must be in [" + std::to_string(kMinBits) + ", " +
                                std::to_string(kMaxBits) + "], got " + std::to_string(bits));
}

template <class T>
void check_finite(const T* x, std::size_t n) {
  constexpr std::size_t kChunk = 1 << 16;
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<std::size_t> first(chunks, n);
  detail::parallel_for(chunks, 4, [&](std::size_t b, std::size_t e) {
    for (std::size_t c = b; c < e; ++c) {
      const auto r = detail::scan_range_serial(x, c * kChunk, std::min(n, (c + 1) * kChunk));
      if (r.first_bad != std::numeric_limits<std::size_t>::max()) first[c] = r.first_bad;
    }
  });
  for (std::size_t i : first)
    if (i < n) detail::throw_not_finite(i, static_cast<double>(x[i]));
}

namespace {

double max_code(int bits) { return std::ldexp(1.0, bits) - 1.0; }

}  // namespace

template <class T>
LogQuantParams log_quant_fit(const T* x, std::size_t n, int bits, bool nonnegative) {
  check_bits(bits);
  if (n == 0) throw std::invalid_argument("cannot quantize an empty tensor");
  const detail::Extremes r = detail::scan_range(x, n);
  LogQuantParams p;
  p.bits = bits;
  if (nonnegative) {
    if (r.min < 0) {
      std::size_t i = 0;
      while (!(x[i] < 0)) ++i;
      throw std::invalid_argument("non-negative log quantizer got a negative value (" +
                                  detail::value_string(static_cast<double>(x[i])) +
                                  ") at flat index " + std::to_string(i));
    }
    p.offset = 0.0f;
  } else {
    p.offset = detail::float_at_or_below(r.min);
  }
  // log2 is monotonic, so max(L) is L of max(x): no second pass over the data.
  const double max_log = std::log2(r.max - static_cast<double>(p.offset) + 1.0);
  p.max_log = detail::float_at_or_above(max_log);
  return p;
}

namespace {

// The definition of a code, which every path reproduces bit for bit:
// v = (x - m) + 1 in double, code = rint(log2(v) / M * top), clamped to
// [0, top] (a NaN level, from v <= 0, lands on 0).
struct LogCodeRule {
  double m, big_m, top;
  template <class T>
  double code(T x) const {
    const double v = static_cast<double>(x) - m + 1.0;
    const double c = std::nearbyint(std::log2(v) / big_m * top);
    return c > top ? top : (c > 0.0 ? c : 0.0);
  }
};

// The variant chosen once per type combination.
template <class F, class T, class Q>
unsigned series_codes_for(const T* x, std::size_t n, double m, F scale, F top, F limit, Q* q, std::uint8_t* flag) {
  static detail::SeriesCodesFn<F, T, Q>* const run = detail::series_codes_kernel<F, T, Q>().best();
  return run(x, n, m, scale, top, limit, q, flag);
}

FTM_INLINE_KERNEL void approx_log2_loop(const float* v, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = detail::approx_log2(v[i]);
}

}  // namespace

template <class F, class T, class Q>
const detail::Kernel<detail::SeriesCodesFn<F, T, Q>>& detail::series_codes_kernel() {
  static constexpr auto kernel = Variants<SeriesCodesFn<F, T, Q>>::template of<&series_codes<F, T, Q>>();
  return kernel;
}

template const detail::Kernel<detail::SeriesCodesFn<float, float, std::uint8_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<float, float, std::uint16_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<float, double, std::uint8_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<float, double, std::uint16_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<double, float, std::uint8_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<double, float, std::uint16_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<double, double, std::uint8_t>>& detail::series_codes_kernel();
template const detail::Kernel<detail::SeriesCodesFn<double, double, std::uint16_t>>& detail::series_codes_kernel();

const detail::Kernel<detail::ApproxLog2BatchFn>& detail::approx_log2_batch_kernel() {
  static constexpr auto kernel = Variants<ApproxLog2BatchFn>::of<&approx_log2_loop>();
  return kernel;
}

void detail::approx_log2_batch(const float* v, std::size_t n, float* out) {
  static ApproxLog2BatchFn* const run = approx_log2_batch_kernel().best();
  run(v, n, out);
}

namespace {

// Series codes block by block, then the exact rule for flagged elements.
template <class F, class T, class Q>
void quantize_by_series(const T* x, std::size_t n, const LogCodeRule& rule, double eps, Q* q) {
  constexpr std::size_t kBlock = 4096;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  const F scale = static_cast<F>(rule.top / rule.big_m), top = static_cast<F>(rule.top);
  const F limit = static_cast<F>(0.5 - eps);
  detail::parallel_for(blocks, 8, [&](std::size_t b, std::size_t e) {
    std::uint8_t flag[kBlock];
    for (std::size_t blk = b; blk < e; ++blk) {
      const std::size_t begin = blk * kBlock, count = std::min(kBlock, n - begin);
      if (!series_codes_for(x + begin, count, rule.m, scale, top, limit, q + begin, flag)) continue;
      // Flags are rare (a fraction 2 eps): jump between them with memchr.
      const std::uint8_t* const end = flag + count;
      for (const std::uint8_t* f = flag; (f = static_cast<const std::uint8_t*>(std::memchr(f, 1, static_cast<std::size_t>(end - f)))); ++f) {
        const std::size_t i = begin + static_cast<std::size_t>(f - flag);
        q[i] = static_cast<Q>(rule.code(x[i]));
      }
    }
  });
}

}  // namespace

template <class T, class Q>
void log_quantize(const T* x, std::size_t n, const LogQuantParams& p, Q* q) {
  check_bits(p.bits);
  if (!(p.max_log >= 0.0f) || !std::isfinite(p.max_log) || !std::isfinite(p.offset))
    throw std::invalid_argument("log quantizer parameters must be finite with max_log >= 0, got "
                                "offset " + detail::value_string(p.offset) + ", max_log " +
                                detail::value_string(p.max_log));
  const LogCodeRule rule{p.offset, p.max_log, max_code(p.bits)};
  if (rule.big_m == 0.0) {
    std::fill(q, q + n, Q{0});
    return;
  }
  // Float lanes are twice as many as double ones, but their error bound
  // grows with the bit depth; past ~1e-3 too many elements would need the
  // exact fix-up. A vanishing M (a nearly constant tensor) makes both bounds
  // useless, and the exact rule is used throughout.
  constexpr double kMaxEps = 1e-3;
  if (const double eps = detail::series_code_error<float>(rule.top, rule.big_m); eps <= kMaxEps)
    return quantize_by_series<float>(x, n, rule, eps, q);
  if (const double eps = detail::series_code_error<double>(rule.top, rule.big_m); eps <= kMaxEps)
    return quantize_by_series<double>(x, n, rule, eps, q);
  detail::parallel_for(n, 1 << 15, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) q[i] = static_cast<Q>(rule.code(x[i]));
  });
}

template <class Q>
void log_dequantize(const Q* q, std::size_t n, const LogQuantParams& p, float* x) {
  check_bits(p.bits);
  const std::size_t codes = std::size_t{1} << p.bits;
  const double m = p.offset, big_m = p.max_log, top = max_code(p.bits);
  // 2^B values at most, so a table beats one exp2 per element.
  std::vector<float> table(codes);
  for (std::size_t c = 0; c < codes; ++c)
    table[c] = static_cast<float>(m + (std::exp2(static_cast<double>(c) * big_m / top) - 1.0));
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = q[i];
    if (c >= codes)
      throw std::invalid_argument("code " + std::to_string(c) + " at flat index " +
                                  std::to_string(i) + " exceeds " + std::to_string(p.bits) +
                                  "-bit range");
    x[i] = table[c];
  }
}

template void check_finite<float>(const float*, std::size_t);
template void check_finite<double>(const double*, std::size_t);
template LogQuantParams log_quant_fit<float>(const float*, std::size_t, int, bool);
template LogQuantParams log_quant_fit<double>(const double*, std::size_t, int, bool);
template void log_quantize<float, std::uint8_t>(const float*, std::size_t, const LogQuantParams&, std::uint8_t*);
template void log_quantize<float, std::uint16_t>(const float*, std::size_t, const LogQuantParams&, std::uint16_t*);
template void log_quantize<double, std::uint8_t>(const double*, std::size_t, const LogQuantParams&, std::uint8_t*);
template void log_quantize<double, std::uint16_t>(const double*, std::size_t, const LogQuantParams&, std::uint16_t*);
template void log_dequantize<std::uint8_t>(const std::uint8_t*, std::size_t, const LogQuantParams&, float*);
template void log_dequantize<std::uint16_t>(const std::uint16_t*, std::size_t, const LogQuantParams&, float*);

}  // namespace ftm
