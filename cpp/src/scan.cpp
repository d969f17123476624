#include "scan.hpp"

#include <cstring>
#include <limits>

#include "isa.hpp"
#include "log_kernel.hpp"

namespace ftm::detail {
namespace {

// Signed integers ordered like the floats they come from (-0 sorts just
// below +0, which no caller minds).
template <class F>
FTM_INLINE_KERNEL typename FloatLayout<F>::SBits ordered_key(typename FloatLayout<F>::Bits b) {
  using L = FloatLayout<F>;
  constexpr int kSign = static_cast<int>(sizeof(b) * 8 - 1);
  const auto sign = static_cast<typename L::Bits>(static_cast<typename L::SBits>(b) >> kSign);
  return static_cast<typename L::SBits>(b ^ (sign >> 1));
}

template <class F>
F float_of_key(typename FloatLayout<F>::SBits key) {
  using L = FloatLayout<F>;
  constexpr int kSign = static_cast<int>(sizeof(key) * 8 - 1);
  const auto sign = static_cast<typename L::Bits>(key >> kSign);
  const auto b = static_cast<typename L::Bits>(key) ^ (sign >> 1);
  F v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

template <class F>
FTM_INLINE_KERNEL Extremes scan_keys(const F* __restrict x, std::size_t begin, std::size_t end) {
  using L = FloatLayout<F>;
  using SBits = typename L::SBits;
  constexpr typename L::Bits kExponent = ~L::kMantissaMask & (~typename L::Bits{0} >> 1);
  SBits lo = std::numeric_limits<SBits>::max(), hi = std::numeric_limits<SBits>::min();
  typename L::Bits bad = 0;
  for (std::size_t i = begin; i < end; ++i) {
    typename L::Bits b;
    std::memcpy(&b, x + i, sizeof b);
    const SBits key = ordered_key<F>(b);
    lo = key < lo ? key : lo;
    hi = key > hi ? key : hi;
    bad |= static_cast<typename L::Bits>((b & kExponent) == kExponent);
  }
  Extremes e;
  e.first_bad = std::numeric_limits<std::size_t>::max();
  if (bad) {
    for (std::size_t i = begin; i < end; ++i)
      if (!std::isfinite(x[i])) {
        e.first_bad = i;
        break;
      }
    return e;
  }
  if (begin < end) {
    e.min = static_cast<double>(float_of_key<F>(lo));
    e.max = static_cast<double>(float_of_key<F>(hi));
  }
  return e;
}

}  // namespace

template <class F>
const Kernel<ScanRangeFn<F>>& scan_range_kernel() {
  static constexpr auto kernel = Variants<ScanRangeFn<F>>::template of<&scan_keys<F>>();
  return kernel;
}

template const Kernel<ScanRangeFn<float>>& scan_range_kernel<float>();
template const Kernel<ScanRangeFn<double>>& scan_range_kernel<double>();

Extremes scan_range_serial(const float* x, std::size_t begin, std::size_t end) {
  static ScanRangeFn<float>* const run = scan_range_kernel<float>().best();
  return run(x, begin, end);
}

Extremes scan_range_serial(const double* x, std::size_t begin, std::size_t end) {
  static ScanRangeFn<double>* const run = scan_range_kernel<double>().best();
  return run(x, begin, end);
}

}  // namespace ftm::detail
