// Fast path of the logarithmic quantizer. Internal.
//
// The exact rule (quantize_log.cpp) needs one libm log2 per element. Here a
// vectorizable approximation gives an approximate code c~ with a proven error bound
// eps in code units; where c~ lies within eps of a rounding boundary (or
// outside the range the series handles) the element is flagged and the
// caller recomputes it with the exact rule. Elsewhere rint(c~) equals the
// exact code, so the output is bit-identical to the rule.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "isa.hpp"

namespace ftm::detail {

template <class F>
struct FloatLayout;
template <>
struct FloatLayout<float> {
  using Bits = std::uint32_t;
  using SBits = std::int32_t;
  static constexpr int kMantissa = 23;
  static constexpr Bits kMantissaMask = 0x007fffffu;
  static constexpr Bits kOneBits = 0x3f800000u;
  static constexpr int kBias = 127;
};
template <>
struct FloatLayout<double> {
  using Bits = std::uint64_t;
  using SBits = std::int64_t;
  static constexpr int kMantissa = 52;
  static constexpr Bits kMantissaMask = 0x000fffffffffffffull;
  static constexpr Bits kOneBits = 0x3ff0000000000000ull;
  static constexpr int kBias = 1023;
};

// v = 2^e f with f in [sqrt(1/2), sqrt(2)), for 1 <= v < 2^126.
template <class F>
FTM_INLINE_KERNEL void split_exponent(F v, F& e, F& f) {
  using L = FloatLayout<F>;
  typename L::Bits b;
  std::memcpy(&b, &v, sizeof b);
  const auto e0 = static_cast<typename L::SBits>(b >> L::kMantissa) - L::kBias;
  const typename L::Bits fb = (b & L::kMantissaMask) | L::kOneBits;
  F f0;
  std::memcpy(&f0, &fb, sizeof f0);
  const bool big = f0 > F(1.41421356237309504880);
  f = big ? f0 * F(0.5) : f0;
  e = static_cast<F>(big ? e0 + 1 : e0);
}

// Float: log2(f) = t P(t), t = f - 1, P of degree 8 fitted by
// scripts/fit_log2_polynomial.py (error 1.5e-8 before float rounding), its
// coefficients lowest degree first. No division, so it runs at the full
// float vector width.
constexpr float kLog2Poly[9] = {1.442695004e+00f,  -7.213474682e-01f, 4.809107535e-01f,
                                -3.606932681e-01f, 2.879032609e-01f,  -2.391698814e-01f,
                                2.160782256e-01f,  -2.058618803e-01f, 1.231096842e-01f};

FTM_INLINE_KERNEL float approx_log2(float v) {
  float e, f;
  split_exponent(v, e, f);
  const float t = f - 1.0f;
  float p = kLog2Poly[8];
  for (int k = 7; k >= 0; --k) p = p * t + kLog2Poly[k];
  return e + t * p;
}

// Double: log2(f) = (2 / ln 2) atanh(s), s = (f - 1) / (f + 1), |s| <= 0.1716,
// by its odd series to s^19 (truncation < 2e-17).
FTM_INLINE_KERNEL double approx_log2(double v) {
  double e, f;
  split_exponent(v, e, f);
  const double s = (f - 1.0) / (f + 1.0);
  const double z = s * s;
  double p = 1.0 / 19;
  for (int k = 17; k >= 3; k -= 2) p = p * z + 1.0 / k;
  p = p * z + 1.0;
  return e + 2.88539008177792681472 * s * p;  // 2 / ln 2
}

// Claimed bound on |approx_log2(v) - log2(v)| for float v in [1, 2^126),
// checked on every float32 in [1, 4) by the C++ tests: polynomial 1.5e-8,
// float coefficients and nine Horner roundings < 1.5e-7, the final
// t * p and e + (.) roundings < 6e-8 (1 + |log2 v|).
constexpr double kFloatLog2Error = 2.3e-7;
constexpr double kFloatLog2RelError = 6e-8;

// Bound on |c~ - c| in code units, where c = log2(v) / M * top is the exact
// rule's unrounded code (v formed in double) and c~ = approx_log2(v~) * scale
// with v~ the kernel's v. Float: forming v in float (two roundings, relative
// 2^-23) moves log2 by < 1.8e-7; approx_log2 adds kFloatLog2Error plus
// kFloatLog2RelError |L| (|L| <= M); scale and product round at relative
// 2^-24 each of |c| <= top. Double: every term is below 2^-29 of the float
// one (53- vs 24-bit rounding, series truncation 2e-17). The exact rule's
// own roundings of L / M * top add < 2^-50 top. Quadrupled for margin.
template <class F>
inline double series_code_error(double top, double big_m) {
  const double per_m = 1.8e-7 + kFloatLog2Error, flat = kFloatLog2RelError + 1.2e-7;
  const double unit = std::is_same_v<F, float> ? 1.0 : 0x1p-29;
  return 4.0 * unit * top * (per_m / big_m + flat) + top * 0x1p-48;
}

// Writes approximate codes to q and flags the elements to recompute
// exactly: near a rounding boundary, or v = (x - m) + 1 outside [1, 2^126).
// v is formed in F when the input is F too (m is a float32), else in double.
// Returns nonzero when any element was flagged.
template <class F, class T, class Q>
FTM_INLINE_KERNEL unsigned series_codes(const T* __restrict x, std::size_t n, double m, F scale, F top, F limit,
                                        Q* __restrict q, std::uint8_t* __restrict flag) {
  using V = std::conditional_t<std::is_same_v<F, T>, F, double>;
  const V mv = static_cast<V>(m);
  unsigned any = 0;  // an OR, not a count: no widening of the byte flags in the vector code
  for (std::size_t i = 0; i < n; ++i) {
    const V vx = static_cast<V>(x[i]) - mv + V(1);
    const bool inside = (vx >= V(1)) & (vx < V(0x1p126));
    const F v = static_cast<F>(inside ? vx : V(1));
    const F c = approx_log2(v) * scale;
    const F r = std::nearbyint(c);
    const F dist = std::fabs(c - r);
    const F clamped = r > top ? top : (r < F(0) ? F(0) : r);
    const auto f = static_cast<std::uint8_t>((dist > limit) | !inside);
    flag[i] = f;
    any |= f;
    q[i] = static_cast<Q>(clamped);
  }
  return any;
}

template <class F, class T, class Q>
using SeriesCodesFn = unsigned(const T* x, std::size_t n, double m, F scale, F top, F limit, Q* q,
                               std::uint8_t* flag);
// Every ISA variant (isa.hpp) of series_codes, for F float or double, T float
// or double, Q uint8_t or uint16_t.
template <class F, class T, class Q>
const Kernel<SeriesCodesFn<F, T, Q>>& series_codes_kernel();

// approx_log2 over an array by the variant the quantizer runs: lets the tests
// check the bound on the code that actually runs.
void approx_log2_batch(const float* v, std::size_t n, float* out);
using ApproxLog2BatchFn = void(const float* v, std::size_t n, float* out);
const Kernel<ApproxLog2BatchFn>& approx_log2_batch_kernel();

}  // namespace ftm::detail
