#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "ftm/level_coder.hpp"

namespace ftm::bindings {
namespace {

py::bytes encode_levels_impl(const ExactArray<std::int32_t>& levels, int fast_shift, int slow_shift,
                             int stats_shift, bool neighbour_contexts) {
  require_ndim(levels, 2, "levels (N x D)");
  LevelCoderOptions opts;
  opts.fast_shift = fast_shift;
  opts.slow_shift = slow_shift;
  opts.stats_shift = stats_shift;
  opts.neighbour_contexts = neighbour_contexts;
  const auto n = static_cast<std::size_t>(levels.shape(0));
  const auto d = static_cast<std::size_t>(levels.shape(1));
  const std::int32_t* src = levels.data();
  std::vector<std::uint8_t> payload;
  {
    py::gil_scoped_release nogil;
    payload = encode_levels(src, n, d, opts);
  }
  return py::bytes(reinterpret_cast<const char*>(payload.data()), static_cast<py::ssize_t>(payload.size()));
}

py::array_t<std::int32_t> decode_levels_impl(const py::bytes& data, std::size_t n, std::size_t d,
                                             std::uint64_t max_levels, std::uint64_t max_state_bytes) {
  const std::string_view view = data;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(view.data());
  LevelDecodeLimits limits;
  limits.max_levels = max_levels;
  limits.max_state_bytes = max_state_bytes;
  // Checked (without allocating) before the output is: a hostile N x D asks
  // for no memory the payload could never fill or the limits do not allow.
  check_level_payload(bytes, view.size(), n, d, limits);
  py::array_t<std::int32_t> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(d)});
  std::int32_t* dst = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    decode_levels(bytes, view.size(), n, d, dst, limits);
  }
  return out;
}

}  // namespace

void register_level_coder(py::module_& m) {
  m.attr("LEVEL_HEADER_BYTES") = kLevelHeaderBytes;
  m.attr("MIN_ADAPTATION_SHIFT") = kMinAdaptationShift;
  m.attr("MAX_ADAPTATION_SHIFT") = kMaxAdaptationShift;
  m.def("encode_levels", &encode_levels_impl, py::arg("levels"), py::arg("fast_shift"), py::arg("slow_shift"),
        py::arg("stats_shift"), py::arg("neighbour_contexts"));
  const LevelDecodeLimits defaults;
  m.attr("DEFAULT_MAX_LEVELS") = defaults.max_levels;
  m.attr("DEFAULT_MAX_STATE_BYTES") = defaults.max_state_bytes;
  m.def("level_state_bytes", &level_state_bytes, py::arg("n"), py::arg("d"));
  m.def("decode_levels", &decode_levels_impl, py::arg("data"), py::arg("n"), py::arg("d"),
        py::arg("max_levels") = defaults.max_levels, py::arg("max_state_bytes") = defaults.max_state_bytes);
}

}  // namespace ftm::bindings
