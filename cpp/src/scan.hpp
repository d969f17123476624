// One pass over a tensor for its range and the first non-finite element.
// Internal.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "isa.hpp"
#include "parallel.hpp"

namespace ftm::detail {

struct Extremes {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::size_t first_bad = 0;  // == n when every element is finite
};

// Extremes of x[begin, end), the best variant of scan_range_kernel. Floats
// are compared through their bit patterns mapped to ordered integers (-0
// just below +0), and NaN/inf are spotted by an all-ones exponent:
// integer-only work that vectorizes, with no NaN semantics to get in the way
// of min/max. first_bad is the index of the first non-finite element, or
// SIZE_MAX (and min/max those of an empty range) when there is none.
Extremes scan_range_serial(const float* x, std::size_t begin, std::size_t end);
Extremes scan_range_serial(const double* x, std::size_t begin, std::size_t end);

template <class F>
using ScanRangeFn = Extremes(const F* x, std::size_t begin, std::size_t end);
// Every ISA variant (isa.hpp), for F = float and double.
template <class F>
const Kernel<ScanRangeFn<F>>& scan_range_kernel();

template <class T>
std::string value_string(T v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

[[noreturn]] inline void throw_not_finite(std::size_t index, double v) {
  throw std::invalid_argument("input has a non-finite value (" + value_string(v) +
                              ") at flat index " + std::to_string(index));
}

// Range of x[0..n), parallel; throws naming the first non-finite element and
// any element outside float32's range (parameters are sent as float32).
template <class T>
Extremes scan_range(const T* x, std::size_t n) {
  constexpr std::size_t kChunk = 1 << 16;
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Extremes> parts(chunks);
  parallel_for(chunks, 2, [&](std::size_t b, std::size_t e) {
    for (std::size_t c = b; c < e; ++c)
      parts[c] = scan_range_serial(x, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  Extremes all;
  all.first_bad = n;
  for (const auto& p : parts) {
    if (p.first_bad < all.first_bad) all.first_bad = p.first_bad;
    all.min = std::min(all.min, p.min);
    all.max = std::max(all.max, p.max);
  }
  if (all.first_bad < n) throw_not_finite(all.first_bad, static_cast<double>(x[all.first_bad]));
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  if (all.min < -kFloatMax || all.max > kFloatMax)
    throw std::invalid_argument("input range [" + value_string(all.min) + ", " +
                                value_string(all.max) +
                                "] exceeds float32, in which quantizer parameters are sent");
  return all;
}

}  // namespace ftm::detail
