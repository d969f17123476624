#include "common.hpp"
#include "ftm/threads.hpp"

namespace ftm::bindings {

void register_threads(py::module_& m) {
  m.def("set_num_threads", &set_num_threads, py::arg("count"));
  m.def("num_threads", &num_threads);
}

}  // namespace ftm::bindings
