#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "float_bounds.hpp"
#include "ftm/quantize.hpp"
#include "parallel.hpp"
#include "scan.hpp"

namespace ftm {
namespace {

void check_view(const ChannelView& v) {
  if (v.size() == 0) throw std::invalid_argument("cannot quantize an empty tensor");
}

void check_ranges(const float* lo, const float* hi, std::size_t channels) {
  for (std::size_t c = 0; c < channels; ++c)
    if (!std::isfinite(lo[c]) || !std::isfinite(hi[c]) || !(lo[c] <= hi[c]))
      throw std::invalid_argument("min-max range of channel " + std::to_string(c) +
                                  " must be finite with lo <= hi, got [" +
                                  detail::value_string(lo[c]) + ", " +
                                  detail::value_string(hi[c]) + "]");
}

// Runs fn(channel, block_begin, block_end) for every (outer, channel) block,
// spreading the blocks over threads.
template <class Fn>
void for_each_block(const ChannelView& v, Fn&& fn) {
  const std::size_t blocks = v.outer * v.channels;
  const std::size_t min_blocks = std::max<std::size_t>(1, (std::size_t{1} << 15) / std::max<std::size_t>(1, v.inner));
  detail::parallel_for(blocks, min_blocks, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) fn(k % v.channels, k * v.inner, (k + 1) * v.inner);
  });
}

}  // namespace

template <class T>
void minmax_fit(const T* x, const ChannelView& v, float* lo, float* hi) {
  check_view(v);
  if (v.channels == 1) {
    const detail::Extremes r = detail::scan_range(x, v.size());
    lo[0] = detail::float_at_or_below(r.min);
    hi[0] = detail::float_at_or_above(r.max);
    return;
  }
  const std::size_t blocks = v.outer * v.channels;
  std::vector<detail::Extremes> parts(blocks);
  for_each_block(v, [&](std::size_t, std::size_t b, std::size_t e) {
    parts[b / v.inner] = detail::scan_range_serial(x, b, e);
  });
  std::size_t first_bad = v.size();
  for (const auto& p : parts) first_bad = std::min(first_bad, p.first_bad);
  if (first_bad < v.size()) detail::throw_not_finite(first_bad, static_cast<double>(x[first_bad]));
  for (std::size_t c = 0; c < v.channels; ++c) {
    double mn = parts[c].min, mx = parts[c].max;
    for (std::size_t o = 1; o < v.outer; ++o) {
      mn = std::min(mn, parts[o * v.channels + c].min);
      mx = std::max(mx, parts[o * v.channels + c].max);
    }
    constexpr double kFloatMax = std::numeric_limits<float>::max();
    if (mn < -kFloatMax || mx > kFloatMax)
      throw std::invalid_argument("channel " + std::to_string(c) + " range exceeds float32");
    lo[c] = detail::float_at_or_below(mn);
    hi[c] = detail::float_at_or_above(mx);
  }
}

template <class T, class Q>
void minmax_quantize(const T* x, const ChannelView& v, const float* lo, const float* hi, int bits,
                     Q* q) {
  check_bits(bits);
  check_view(v);
  check_ranges(lo, hi, v.channels);
  const double top = std::ldexp(1.0, bits) - 1.0;
  for_each_block(v, [&](std::size_t c, std::size_t b, std::size_t e) {
    const double l = lo[c], h = hi[c], span = h - l;
    if (span == 0.0) {
      std::fill(q + b, q + e, Q{0});
      return;
    }
    for (std::size_t i = b; i < e; ++i) {
      double s = static_cast<double>(x[i]);
      s = s < l ? l : (s > h ? h : s);
      q[i] = static_cast<Q>(std::nearbyint((s - l) / span * top));
    }
  });
}

template <class Q>
void minmax_dequantize(const Q* q, const ChannelView& v, const float* lo, const float* hi, int bits,
                       float* x) {
  check_bits(bits);
  check_ranges(lo, hi, v.channels);
  const std::size_t codes = std::size_t{1} << bits;
  const double top = static_cast<double>(codes - 1);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (q[i] >= codes)
      throw std::invalid_argument("code " + std::to_string(q[i]) + " at flat index " +
                                  std::to_string(i) + " exceeds " + std::to_string(bits) +
                                  "-bit range");
  for_each_block(v, [&](std::size_t c, std::size_t b, std::size_t e) {
    const double l = lo[c], span = static_cast<double>(hi[c]) - l;
    for (std::size_t i = b; i < e; ++i)
      x[i] = static_cast<float>(l + static_cast<double>(q[i]) / top * span);
  });
}

template void minmax_fit<float>(const float*, const ChannelView&, float*, float*);
template void minmax_fit<double>(const double*, const ChannelView&, float*, float*);
template void minmax_quantize<float, std::uint8_t>(const float*, const ChannelView&, const float*, const float*, int, std::uint8_t*);
template void minmax_quantize<float, std::uint16_t>(const float*, const ChannelView&, const float*, const float*, int, std::uint16_t*);
template void minmax_quantize<double, std::uint8_t>(const double*, const ChannelView&, const float*, const float*, int, std::uint8_t*);
template void minmax_quantize<double, std::uint16_t>(const double*, const ChannelView&, const float*, const float*, int, std::uint16_t*);
template void minmax_dequantize<std::uint8_t>(const std::uint8_t*, const ChannelView&, const float*, const float*, int, float*);
template void minmax_dequantize<std::uint16_t>(const std::uint16_t*, const ChannelView&, const float*, const float*, int, float*);

}  // namespace ftm
