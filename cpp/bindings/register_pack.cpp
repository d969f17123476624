#include <cstdint>
#include <optional>

#include "common.hpp"
#include "ftm/pack.hpp"

namespace ftm::bindings {
namespace {

PackGeometry geometry(int mode, std::size_t n, std::size_t c, std::size_t h, std::size_t w,
                      std::size_t rows, std::size_t cols) {
  if (mode == static_cast<int>(PackMode::kChannel)) return channel_geometry(n, c, h, w);
  if (mode == static_cast<int>(PackMode::kTiled)) return tiled_geometry(n, c, h, w, rows, cols);
  throw std::invalid_argument("unknown pack mode " + std::to_string(mode));
}

const std::uint32_t* permutation(const std::optional<CArray<std::uint32_t>>& perm, std::size_t c) {
  if (!perm) return nullptr;
  if (static_cast<std::size_t>(perm->size()) != c)
    throw std::invalid_argument("channel permutation has " + std::to_string(perm->size()) +
                                " entries for " + std::to_string(c) + " channels");
  check_permutation(perm->data(), c);
  return perm->data();
}

template <class Q>
py::array_t<Q> pack_impl(const ExactArray<Q>& tensor, int mode, std::size_t rows, std::size_t cols,
                         const std::optional<CArray<std::uint32_t>>& perm) {
  require_ndim(tensor, 4, "feature tensor (N x C x H x W)");
  const auto s = shape_of(tensor);
  const PackGeometry g = geometry(mode, static_cast<std::size_t>(s[0]), static_cast<std::size_t>(s[1]),
                                  static_cast<std::size_t>(s[2]), static_cast<std::size_t>(s[3]), rows, cols);
  const std::uint32_t* p = permutation(perm, g.c);
  py::array_t<Q> frames({static_cast<py::ssize_t>(g.frames), static_cast<py::ssize_t>(g.frame_h),
                         static_cast<py::ssize_t>(g.frame_w)});
  const Q* src = tensor.data();
  Q* dst = frames.mutable_data();
  py::gil_scoped_release nogil;
  pack(src, g, p, dst);
  return frames;
}

template <class Q>
py::array_t<Q> unpack_impl(const ExactArray<Q>& frames, int mode, std::size_t n, std::size_t c,
                           std::size_t h, std::size_t w, std::size_t rows, std::size_t cols,
                           const std::optional<CArray<std::uint32_t>>& perm) {
  const PackGeometry g = geometry(mode, n, c, h, w, rows, cols);
  require_ndim(frames, 3, "frames (F x H' x W')");
  const auto s = shape_of(frames);
  if (static_cast<std::size_t>(s[0]) != g.frames || static_cast<std::size_t>(s[1]) != g.frame_h ||
      static_cast<std::size_t>(s[2]) != g.frame_w)
    throw std::invalid_argument("frames have shape " + std::to_string(s[0]) + "x" + std::to_string(s[1]) +
                                "x" + std::to_string(s[2]) + ", layout expects " + std::to_string(g.frames) +
                                "x" + std::to_string(g.frame_h) + "x" + std::to_string(g.frame_w));
  const std::uint32_t* p = permutation(perm, g.c);
  py::array_t<Q> tensor({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(c),
                         static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)});
  const Q* src = frames.data();
  Q* dst = tensor.mutable_data();
  py::gil_scoped_release nogil;
  unpack(src, g, p, dst);
  return tensor;
}

}  // namespace

void register_pack(py::module_& m) {
  m.attr("PACK_CHANNEL") = static_cast<int>(PackMode::kChannel);
  m.attr("PACK_TILED") = static_cast<int>(PackMode::kTiled);
  m.def(
      "pack_geometry",
      [](int mode, std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::size_t rows, std::size_t cols) {
        const PackGeometry g = geometry(mode, n, c, h, w, rows, cols);
        return py::make_tuple(g.frames, g.frame_h, g.frame_w, g.grid_rows, g.grid_cols);
      },
      py::arg("mode"), py::arg("n"), py::arg("c"), py::arg("h"), py::arg("w"), py::arg("rows"), py::arg("cols"),
      "(frames, frame_h, frame_w, grid_rows, grid_cols) of a layout; validates it.");
  m.def("pack", &pack_impl<std::uint8_t>, py::arg("tensor"), py::arg("mode"), py::arg("rows"), py::arg("cols"),
        py::arg("perm") = py::none());
  m.def("pack", &pack_impl<std::uint16_t>, py::arg("tensor"), py::arg("mode"), py::arg("rows"), py::arg("cols"),
        py::arg("perm") = py::none());
  m.def("unpack", &unpack_impl<std::uint8_t>, py::arg("frames"), py::arg("mode"), py::arg("n"), py::arg("c"),
        py::arg("h"), py::arg("w"), py::arg("rows"), py::arg("cols"), py::arg("perm") = py::none());
  m.def("unpack", &unpack_impl<std::uint16_t>, py::arg("frames"), py::arg("mode"), py::arg("n"), py::arg("c"),
        py::arg("h"), py::arg("w"), py::arg("rows"), py::arg("cols"), py::arg("perm") = py::none());
}

}  // namespace ftm::bindings
