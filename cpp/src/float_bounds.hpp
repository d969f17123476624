// Directed rounding of doubles to float32, for parameters that are sent as
// float32 but must bound the data they were computed from. Internal.
#pragma once

#include <cmath>
#include <limits>

namespace ftm::detail {

// Largest float32 <= v (v finite and within float32's range).
inline float float_at_or_below(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) > v) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// Smallest float32 >= v.
inline float float_at_or_above(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) < v) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

}  // namespace ftm::detail
