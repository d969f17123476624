// Pre-quantizers that turn float features into unsigned integers for a video
// codec (logarithmic and min-max), and the HEVC-style scalar quantizer for
// feature vectors.
//
// Internal precision: every kernel computes in double and rounds half to even
// (std::nearbyint in the default rounding mode, like numpy.rint). Parameters
// that travel in a bitstream are float32, and quantization uses those
// float32 values, so an encoder's prediction and a decoder's reconstruction
// agree bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ftm {

constexpr int kMinBits = 8;
constexpr int kMaxBits = 16;

// Throws std::invalid_argument unless kMinBits <= bits <= kMaxBits.
void check_bits(int bits);

// Throws std::invalid_argument naming the first index whose value is NaN or
// infinite.
template <class T>
void check_finite(const T* x, std::size_t n);

// ---------------------------------------------------------------- logarithmic
// Seed 002 eq. 5/6 with base 2 on both sides:
//   L = log2(x - m + 1),  q = round(L / M * (2^B - 1)),
//   x' = m + (2^(q * M / (2^B - 1)) - 1).
// m is the float32 at or below min(x) (so x - m >= 0 for every element), M is
// the float32 at or above max(L) (so q never exceeds 2^B - 1).
struct LogQuantParams {
  int bits = 8;
  float offset = 0.0f;   // m
  float max_log = 0.0f;  // M; 0 for a constant tensor
};

// Fits (m, M) to x. With nonnegative, m is fixed at 0 (the authors' published
// code, log2(x + 1)) and a negative element is an error naming its index.
template <class T>
LogQuantParams log_quant_fit(const T* x, std::size_t n, int bits, bool nonnegative);

template <class T, class Q>
void log_quantize(const T* x, std::size_t n, const LogQuantParams& p, Q* q);

template <class Q>
void log_dequantize(const Q* q, std::size_t n, const LogQuantParams& p, float* x);

// ---------------------------------------------------------------- min-max
// Uniform quantizer over [lo, hi]:
//   q = round((clip(x, lo, hi) - lo) / (hi - lo) * (2^B - 1)),
//   x' = lo + q / (2^B - 1) * (hi - lo).
// A tensor is viewed as outer x channels x inner elements; lo and hi hold
// `channels` entries (channels = 1 for one range over the whole tensor).
// A channel with hi == lo quantizes to 0 and dequantizes to lo.
struct ChannelView {
  std::size_t outer = 1;
  std::size_t channels = 1;
  std::size_t inner = 0;
  std::size_t size() const { return outer * channels * inner; }
};

// lo[c] is the float32 at or below the channel's minimum, hi[c] the float32 at
// or above its maximum.
template <class T>
void minmax_fit(const T* x, const ChannelView& view, float* lo, float* hi);

template <class T, class Q>
void minmax_quantize(const T* x, const ChannelView& view, const float* lo, const float* hi,
                     int bits, Q* q);

template <class Q>
void minmax_dequantize(const Q* q, const ChannelView& view, const float* lo, const float* hi,
                       int bits, float* x);

// ---------------------------------------------------------------- scalar (vectors)
// Seed 003 eq. 1/2: Qstep = 2^((QP - 4) / 6 - 10), l = floor(c / Qstep).
// QP is an integer in [kMinQp, kMaxQp]: -48 is HEVC's lowest QP (16-bit
// video), 63 is VVC's highest.
constexpr int kMinQp = -48;
constexpr int kMaxQp = 63;

void check_qp(int qp);
double qstep(int qp);

// Throws std::invalid_argument naming the first element whose level does not
// fit in int32.
template <class T>
void sq_quantize(const T* c, std::size_t n, int qp, std::int32_t* levels);

// Reconstruction l * Qstep, or (l + 0.5) * Qstep with midpoint.
void sq_dequantize(const std::int32_t* levels, std::size_t n, int qp, bool midpoint, float* c);

}  // namespace ftm
