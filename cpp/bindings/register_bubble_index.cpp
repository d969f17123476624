#include <cstdint>

#include "common.hpp"
#include "ftm/bubble_index.hpp"

namespace ftm::bindings {
namespace {

using Ids = CArray<std::int64_t>;

std::size_t pair_length(const Ids& s_p, const Ids& s_r) {
  require_ndim(s_p, 1, "s_p");
  require_ndim(s_r, 1, "s_r");
  if (s_p.size() != s_r.size())
    throw std::invalid_argument("s_p and s_r must have the same length, got " + std::to_string(s_p.size()) +
                                " and " + std::to_string(s_r.size()));
  return static_cast<std::size_t>(s_p.size());
}

std::pair<std::size_t, std::size_t> batch_shape(const Ids& P, const Ids& R) {
  require_ndim(P, 2, "P (queries x n)");
  require_ndim(R, 2, "R (queries x n)");
  if (P.shape(0) != R.shape(0) || P.shape(1) != R.shape(1))
    throw std::invalid_argument("P and R must have the same shape, got " + std::to_string(P.shape(0)) + "x" +
                                std::to_string(P.shape(1)) + " and " + std::to_string(R.shape(0)) + "x" +
                                std::to_string(R.shape(1)));
  return {static_cast<std::size_t>(P.shape(0)), static_cast<std::size_t>(P.shape(1))};
}

}  // namespace

void register_bubble_index(py::module_& m) {
  m.def(
      "inversion_count",
      [](const Ids& s_p, const Ids& s_r) {
        const std::size_t n = pair_length(s_p, s_r);
        py::gil_scoped_release nogil;
        return inversion_count(s_p.data(), s_r.data(), n);
      },
      py::arg("s_p"), py::arg("s_r"));
  m.def(
      "bubble_index",
      [](const Ids& s_p, const Ids& s_r) {
        const std::size_t n = pair_length(s_p, s_r);
        py::gil_scoped_release nogil;
        return bubble_index(s_p.data(), s_r.data(), n);
      },
      py::arg("s_p"), py::arg("s_r"));
  m.def(
      "inversion_count_batch",
      [](const Ids& P, const Ids& R) {
        const auto [queries, n] = batch_shape(P, R);
        py::array_t<std::uint64_t> out(static_cast<py::ssize_t>(queries));
        std::uint64_t* dst = out.mutable_data();
        py::gil_scoped_release nogil;
        inversion_count_batch(P.data(), R.data(), queries, n, dst);
        return out;
      },
      py::arg("P"), py::arg("R"));
  m.def(
      "bubble_index_batch",
      [](const Ids& P, const Ids& R) {
        const auto [queries, n] = batch_shape(P, R);
        py::array_t<double> out(static_cast<py::ssize_t>(queries));
        double* dst = out.mutable_data();
        py::gil_scoped_release nogil;
        bubble_index_batch(P.data(), R.data(), queries, n, dst);
        return out;
      },
      py::arg("P"), py::arg("R"));
}

}  // namespace ftm::bindings
