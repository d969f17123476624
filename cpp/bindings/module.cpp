// ftm._core: the C++ core of FTM. Each concept registers itself from its own
// file; this one only wires them together.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace ftm::bindings {
void register_quantize(py::module_& m);
void register_pack(py::module_& m);
void register_bubble_index(py::module_& m);
void register_bitstream(py::module_& m);
void register_entropy(py::module_& m);
}  // namespace ftm::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of FTM (quantizers, packing, bubble index, bitstream).";
  ftm::bindings::register_quantize(m);
  ftm::bindings::register_pack(m);
  ftm::bindings::register_bubble_index(m);
  ftm::bindings::register_bitstream(m);
  ftm::bindings::register_entropy(m);
}
