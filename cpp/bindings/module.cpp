// ftm._core: the C++ core of FTM. Each concept registers itself, from its own
// file, into its own submodule (ftm._core.bitstream, ...); this file only
// wires them together.
#include <pybind11/pybind11.h>

#include <set>
#include <string>

namespace py = pybind11;

namespace ftm::bindings {
void register_quantize(py::module_& m);
void register_pack(py::module_& m);
void register_bubble_index(py::module_& m);
void register_threads(py::module_& m);
void register_bitstream(py::module_& m);
void register_level_coder(py::module_& m);
}  // namespace ftm::bindings

namespace {

// A module type whose instances, called, call their namesake function:
// ftm._core.pack(...) is ftm._core.pack.pack(...). Only for the deprecated
// flat names that a submodule's name now hides.
py::object callable_module_type() {
  py::dict body;
  body["__module__"] = "ftm._core";
  py::object cls = py::module_::import("builtins").attr("type")(
      "CallableModule", py::make_tuple(py::module_::import("types").attr("ModuleType")), body);
  cls.attr("__call__") = py::cpp_function(
      [](const py::object& self, const py::args& args, const py::kwargs& kwargs) {
        const std::string name = py::str(self.attr("__name__"));
        return self.attr(name.substr(name.rfind('.') + 1).c_str())(*args, **kwargs);
      },
      py::is_method(cls));
  return cls;
}

// Every public name of FTM 0.1's flat ftm._core: only these get flat aliases;
// names added to a submodule since live in their submodule alone.
bool is_flat_name_of_0_1(const std::string& key) {
  static const char* const kNames[] = {
      "MIN_BITS", "MAX_BITS", "MIN_QP", "MAX_QP", "PACK_CHANNEL", "PACK_TILED", "LEVEL_HEADER_BYTES",
      "MIN_ADAPTATION_SHIFT", "MAX_ADAPTATION_SHIFT", "set_num_threads", "num_threads", "log_quantize",
      "log_dequantize", "minmax_quantize", "minmax_dequantize", "qstep", "sq_quantize", "sq_dequantize",
      "pack_geometry", "pack", "unpack", "inversion_count", "bubble_index", "inversion_count_batch",
      "bubble_index_batch", "encode_levels", "decode_levels", "BitstreamError", "FeatureKind", "SourceDtype",
      "PackMode", "LogQuantBox", "MinMaxQuantBox", "PackBox", "HevcBox", "ScalarQuantBox", "HashBox",
      "TensorRecord", "Stream", "validate_stream", "write_stream", "parse_stream"};
  for (const char* name : kNames)
    if (key == name) return true;
  return false;
}

struct Core {
  py::module_ module;
  py::object callable_module = callable_module_type();

  // ftm._core.<name>, registered in sys.modules so that `import
  // ftm._core.<name>` finds it as `from ftm._core import <name>` does.
  void add(const char* name, const char* doc, void (*fill)(py::module_&));
};

void Core::add(const char* name, const char* doc, void (*fill)(py::module_&)) {
  py::module_ sub = module.def_submodule(name, doc);
  fill(sub);
  py::module_::import("sys").attr("modules")[sub.attr("__name__")] = sub;

  // Deprecated, kept for one release: every name of FTM 0.1's flat ftm._core
  // (ftm._core.parse_stream, ...) as an alias of the submodule's. The Python
  // package still uses them. Where the submodule's name is also one of its
  // functions (pack, bubble_index), the submodule itself answers the call.
  for (const auto& item : sub.attr("__dict__").cast<py::dict>()) {
    const std::string key = py::str(item.first);
    if (key.empty() || key[0] == '_' || !is_flat_name_of_0_1(key)) continue;
    if (key == name) sub.attr("__class__") = callable_module;
    else module.attr(key.c_str()) = item.second;
  }
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  using namespace ftm::bindings;
  m.doc() = "C++ core of FTM: one submodule per concept.";
  Core core{m};
  core.add("quantize", "Logarithmic, min-max and scalar quantizers.", register_quantize);
  core.add("pack", "Feature maps into codec frames and back.", register_pack);
  core.add("bubble_index", "Bubble index and inversion counts of rankings.", register_bubble_index);
  core.add("threads", "The worker pool of the multi-threaded kernels.", register_threads);
  core.add("bitstream", "The .ftm container: records, writing, parsing, validation.", register_bitstream);
  core.add("level_coder", "Entropy coding of integer levels (feature vectors).", register_level_coder);
}
