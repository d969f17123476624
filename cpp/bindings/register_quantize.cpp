#include <cstdint>
#include <optional>

#include "common.hpp"
#include "ftm/quantize.hpp"

namespace ftm::bindings {
namespace {

// Codes are uint8 at 8 bits and uint16 above: the frame layout of a codec.
template <class T>
py::tuple log_quantize_impl(const CArray<T>& x, int bits, bool nonnegative) {
  check_bits(bits);
  const auto n = static_cast<std::size_t>(x.size());
  const T* src = x.data();
  auto run = [&](auto* q) {
    py::gil_scoped_release nogil;
    const LogQuantParams p = log_quant_fit(src, n, bits, nonnegative);
    log_quantize(src, n, p, q);
    return p;
  };
  if (bits == 8) {
    py::array_t<std::uint8_t> q(shape_of(x));
    const auto p = run(q.mutable_data());
    return py::make_tuple(q, p.offset, p.max_log);
  }
  py::array_t<std::uint16_t> q(shape_of(x));
  const auto p = run(q.mutable_data());
  return py::make_tuple(q, p.offset, p.max_log);
}

template <class Q>
py::array_t<float> log_dequantize_impl(const ExactArray<Q>& q, int bits, float offset, float max_log) {
  py::array_t<float> x(shape_of(q));
  const LogQuantParams p{bits, offset, max_log};
  const Q* src = q.data();
  float* dst = x.mutable_data();
  const auto n = static_cast<std::size_t>(q.size());
  py::gil_scoped_release nogil;
  log_dequantize(src, n, p, dst);
  return x;
}

ChannelView view_of(const py::array& a, py::ssize_t axis) {
  ChannelView v;
  v.inner = static_cast<std::size_t>(a.size());
  if (axis < 0) return v;
  if (axis >= a.ndim())
    throw std::invalid_argument("channel axis " + std::to_string(axis) + " out of range for " +
                                std::to_string(a.ndim()) + "-D input");
  v.outer = 1;
  for (py::ssize_t d = 0; d < axis; ++d) v.outer *= static_cast<std::size_t>(a.shape(d));
  v.channels = static_cast<std::size_t>(a.shape(axis));
  v.inner = 1;
  for (py::ssize_t d = axis + 1; d < a.ndim(); ++d) v.inner *= static_cast<std::size_t>(a.shape(d));
  return v;
}

void check_range_arrays(const CArray<float>& lo, const CArray<float>& hi, std::size_t channels) {
  if (static_cast<std::size_t>(lo.size()) != channels || static_cast<std::size_t>(hi.size()) != channels)
    throw std::invalid_argument("min-max range needs " + std::to_string(channels) +
                                " lo/hi values, got " + std::to_string(lo.size()) + "/" +
                                std::to_string(hi.size()));
}

// channel_axis < 0 means one range for the whole tensor. Without lo/hi the
// range is fitted to the data.
template <class T>
py::tuple minmax_quantize_impl(const CArray<T>& x, int bits, py::ssize_t channel_axis,
                               std::optional<CArray<float>> lo_in, std::optional<CArray<float>> hi_in) {
  check_bits(bits);
  const ChannelView v = view_of(x, channel_axis);
  CArray<float> lo(static_cast<py::ssize_t>(v.channels)), hi(static_cast<py::ssize_t>(v.channels));
  const bool fit = !lo_in && !hi_in;
  if (!fit) {
    if (!lo_in || !hi_in) throw std::invalid_argument("a fixed min-max range needs both lo and hi");
    check_range_arrays(*lo_in, *hi_in, v.channels);
    lo = *lo_in, hi = *hi_in;
  }
  const T* src = x.data();
  float* plo = lo.mutable_data();
  float* phi = hi.mutable_data();
  auto run = [&](auto* q) {
    py::gil_scoped_release nogil;
    if (fit) minmax_fit(src, v, plo, phi);
    else check_finite(src, v.size());
    minmax_quantize(src, v, plo, phi, bits, q);
  };
  if (bits == 8) {
    py::array_t<std::uint8_t> q(shape_of(x));
    run(q.mutable_data());
    return py::make_tuple(q, lo, hi);
  }
  py::array_t<std::uint16_t> q(shape_of(x));
  run(q.mutable_data());
  return py::make_tuple(q, lo, hi);
}

template <class Q>
py::array_t<float> minmax_dequantize_impl(const ExactArray<Q>& q, int bits, py::ssize_t channel_axis,
                                          const CArray<float>& lo, const CArray<float>& hi) {
  const ChannelView v = view_of(q, channel_axis);
  check_range_arrays(lo, hi, v.channels);
  py::array_t<float> x(shape_of(q));
  const Q* src = q.data();
  float* dst = x.mutable_data();
  py::gil_scoped_release nogil;
  minmax_dequantize(src, v, lo.data(), hi.data(), bits, dst);
  return x;
}

template <class T>
py::array_t<std::int32_t> sq_quantize_impl(const CArray<T>& c, int qp) {
  py::array_t<std::int32_t> l(shape_of(c));
  const T* src = c.data();
  std::int32_t* dst = l.mutable_data();
  const auto n = static_cast<std::size_t>(c.size());
  py::gil_scoped_release nogil;
  sq_quantize(src, n, qp, dst);
  return l;
}

py::array_t<float> sq_dequantize_impl(const CArray<std::int32_t>& l, int qp, bool midpoint) {
  py::array_t<float> c(shape_of(l));
  const std::int32_t* src = l.data();
  float* dst = c.mutable_data();
  const auto n = static_cast<std::size_t>(l.size());
  py::gil_scoped_release nogil;
  sq_dequantize(src, n, qp, midpoint, dst);
  return c;
}

}  // namespace

void register_quantize(py::module_& m) {
  m.attr("MIN_BITS") = kMinBits;
  m.attr("MAX_BITS") = kMaxBits;
  m.attr("MIN_QP") = kMinQp;
  m.attr("MAX_QP") = kMaxQp;
  // float32 overloads come first so that float16 input converts to float32
  // (exactly) rather than to float64.
  m.def("log_quantize", &log_quantize_impl<float>, py::arg("x"), py::arg("bits"), py::arg("nonnegative"));
  m.def("log_quantize", &log_quantize_impl<double>, py::arg("x"), py::arg("bits"), py::arg("nonnegative"));
  m.def("log_dequantize", &log_dequantize_impl<std::uint8_t>, py::arg("q"), py::arg("bits"), py::arg("offset"), py::arg("max_log"));
  m.def("log_dequantize", &log_dequantize_impl<std::uint16_t>, py::arg("q"), py::arg("bits"), py::arg("offset"), py::arg("max_log"));
  m.def("minmax_quantize", &minmax_quantize_impl<float>, py::arg("x"), py::arg("bits"), py::arg("channel_axis"),
        py::arg("lo") = py::none(), py::arg("hi") = py::none());
  m.def("minmax_quantize", &minmax_quantize_impl<double>, py::arg("x"), py::arg("bits"), py::arg("channel_axis"),
        py::arg("lo") = py::none(), py::arg("hi") = py::none());
  m.def("minmax_dequantize", &minmax_dequantize_impl<std::uint8_t>, py::arg("q"), py::arg("bits"),
        py::arg("channel_axis"), py::arg("lo"), py::arg("hi"));
  m.def("minmax_dequantize", &minmax_dequantize_impl<std::uint16_t>, py::arg("q"), py::arg("bits"),
        py::arg("channel_axis"), py::arg("lo"), py::arg("hi"));
  m.def("qstep", &qstep, py::arg("qp"));
  m.def("sq_quantize", &sq_quantize_impl<float>, py::arg("c"), py::arg("qp"));
  m.def("sq_quantize", &sq_quantize_impl<double>, py::arg("c"), py::arg("qp"));
  m.def("sq_dequantize", &sq_dequantize_impl, py::arg("levels"), py::arg("qp"), py::arg("midpoint"));
}

}  // namespace ftm::bindings
