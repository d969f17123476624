#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "ftm/quantize.hpp"
#include "parallel.hpp"
#include "scan.hpp"

namespace ftm {

void check_qp(int qp) {
  if (qp < kMinQp || qp > kMaxQp)
    throw std::invalid_argument("QP must be an integer in [" + std::to_string(kMinQp) + ", " +
                                std::to_string(kMaxQp) + "], got " + std::to_string(qp));
}

double qstep(int qp) {
  check_qp(qp);
  return std::exp2((qp - 4) / 6.0 - 10.0);
}

template <class T>
void sq_quantize(const T* c, std::size_t n, int qp, std::int32_t* levels) {
  const double step = qstep(qp);
  check_finite(c, n);
  constexpr double kLow = static_cast<double>(std::numeric_limits<std::int32_t>::min());
  constexpr double kHigh = static_cast<double>(std::numeric_limits<std::int32_t>::max());
  for (std::size_t i = 0; i < n; ++i) {
    const double l = std::floor(static_cast<double>(c[i]) / step);
    if (l < kLow || l > kHigh)
      throw std::invalid_argument("value " + detail::value_string(static_cast<double>(c[i])) +
                                  " at flat index " + std::to_string(i) +
                                  " quantizes to a level outside int32 at QP " +
                                  std::to_string(qp));
    levels[i] = static_cast<std::int32_t>(l);
  }
}

void sq_dequantize(const std::int32_t* levels, std::size_t n, int qp, bool midpoint, float* c) {
  const double step = qstep(qp), shift = midpoint ? 0.5 : 0.0;
  for (std::size_t i = 0; i < n; ++i)
    c[i] = static_cast<float>((static_cast<double>(levels[i]) + shift) * step);
}

template void sq_quantize<float>(const float*, std::size_t, int, std::int32_t*);
template void sq_quantize<double>(const double*, std::size_t, int, std::int32_t*);

}  // namespace ftm
