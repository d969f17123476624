#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"
#include "ftm/bitstream.hpp"

namespace ftm::bindings {
namespace {

using Bytes = std::vector<std::uint8_t>;

py::bytes to_bytes(const Bytes& v) { return py::bytes(reinterpret_cast<const char*>(v.data()), v.size()); }

Bytes from_bytes(const py::bytes& b) {
  const std::string_view s = b;
  return Bytes(s.begin(), s.end());
}

template <std::size_t N>
py::bytes digest_bytes(const std::array<std::uint8_t, N>& a) { return py::bytes(reinterpret_cast<const char*>(a.data()), N); }

template <std::size_t N>
std::array<std::uint8_t, N> digest_from(const py::bytes& b, const char* what) {
  const std::string_view s = b;
  if (s.size() != N) throw std::invalid_argument(std::string("an ") + what + " digest has " + std::to_string(N) + " bytes, got " + std::to_string(s.size()));
  std::array<std::uint8_t, N> a{};
  std::copy(s.begin(), s.end(), a.begin());
  return a;
}

py::bytes md5_bytes(const std::array<std::uint8_t, 16>& a) { return digest_bytes(a); }
std::array<std::uint8_t, 16> md5_from(const py::bytes& b) { return digest_from<16>(b, "MD5"); }

// The boxes of learned records (seed 001's codecs).
void register_learned_boxes(py::module_& m) {
  py::enum_<LearnedMethod>(m, "LearnedMethod")
      .value("SQ_E", LearnedMethod::kSqEnhanced)
      .value("PRO", LearnedMethod::kPro)
      .value("PRO_E", LearnedMethod::kProEnhanced)
      .value("PQ", LearnedMethod::kPq)
      .value("OPQ", LearnedMethod::kOpq)
      .value("DMOFC", LearnedMethod::kDmofc);
  py::class_<LearnedModelBox>(m, "LearnedModelBox")
      .def(py::init<>())
      .def_readwrite("method", &LearnedModelBox::method)
      .def_property(
          "model_sha256", [](const LearnedModelBox& b) { return digest_bytes(b.model_sha256); },
          [](LearnedModelBox& b, const py::bytes& v) { b.model_sha256 = digest_from<32>(v, "SHA-256"); });
  py::class_<LatentBox>(m, "LatentBox")
      .def(py::init<>())
      .def_readwrite("latent_dims", &LatentBox::latent_dims)
      .def_readwrite("r_clip", &LatentBox::r_clip);
  py::class_<ProductCodesBox>(m, "ProductCodesBox")
      .def(py::init<>())
      .def_readwrite("num_subquantizers", &ProductCodesBox::num_subquantizers)
      .def_readwrite("code_bits", &ProductCodesBox::code_bits)
      .def_property(
          "codes", [](const ProductCodesBox& b) { return to_bytes(b.codes); },
          [](ProductCodesBox& b, const py::bytes& v) { b.codes = from_bytes(v); });
}

}  // namespace

void register_bitstream(py::module_& m) {
  // FTM's own class (a FtmError and a ValueError), so that one except clause
  // catches the errors of the core and of the Python layer. ftm.errors imports
  // nothing from FTM: importing it while ftm._core initializes is safe.
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> error_class;
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> limit_class;
  error_class.call_once_and_store_result([] { return py::module_::import("ftm.errors").attr("BitstreamError"); });
  limit_class.call_once_and_store_result([] { return py::module_::import("ftm.errors").attr("DecodeLimitError"); });
  m.attr("BitstreamError") = error_class.get_stored();
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const BitstreamError& e) {
      py::set_error(error_class.get_stored(), e.what());
    } catch (const LimitError& e) {
      py::set_error(limit_class.get_stored(), e.what());
    }
  });

  py::enum_<FeatureKind>(m, "FeatureKind")
      .value("MAP", FeatureKind::kMap)
      .value("VECTOR", FeatureKind::kVector)
      .value("LEARNED", FeatureKind::kLearned)
      .value("IMAGE", FeatureKind::kImage);
  py::enum_<SourceDtype>(m, "SourceDtype")
      .value("FLOAT16", SourceDtype::kFloat16)
      .value("FLOAT32", SourceDtype::kFloat32)
      .value("FLOAT64", SourceDtype::kFloat64)
      .value("UINT8", SourceDtype::kUint8);
  py::enum_<PackMode>(m, "PackMode").value("CHANNEL", PackMode::kChannel).value("TILED", PackMode::kTiled);

  py::class_<LogQuantBox>(m, "LogQuantBox")
      .def(py::init<>())
      .def_readwrite("bit_depth", &LogQuantBox::bit_depth)
      .def_readwrite("nonnegative", &LogQuantBox::nonnegative)
      .def_readwrite("offset", &LogQuantBox::offset)
      .def_readwrite("max_log", &LogQuantBox::max_log);
  py::class_<MinMaxQuantBox>(m, "MinMaxQuantBox")
      .def(py::init<>())
      .def_readwrite("bit_depth", &MinMaxQuantBox::bit_depth)
      .def_readwrite("channel_axis", &MinMaxQuantBox::channel_axis)
      .def_readwrite("lo", &MinMaxQuantBox::lo)
      .def_readwrite("hi", &MinMaxQuantBox::hi);
  py::class_<PackBox>(m, "PackBox")
      .def(py::init<>())
      .def_readwrite("mode", &PackBox::mode)
      .def_readwrite("grid_rows", &PackBox::grid_rows)
      .def_readwrite("grid_cols", &PackBox::grid_cols)
      .def_readwrite("permutation", &PackBox::permutation);
  py::class_<HevcBox>(m, "HevcBox")
      .def(py::init<>())
      .def_readwrite("coded_bit_depth", &HevcBox::coded_bit_depth)
      .def_readwrite("qp", &HevcBox::qp)
      .def_readwrite("encoder_id", &HevcBox::encoder_id)
      .def_property(
          "payload", [](const HevcBox& h) { return to_bytes(h.payload); },
          [](HevcBox& h, const py::bytes& b) { h.payload = from_bytes(b); });
  // codec_id and chroma_format_idc as the integers of the syntax (SPEC.md 3.6); validation checks their range
  py::class_<VideoBox>(m, "VideoBox")
      .def(py::init<>())
      .def_property(
          "codec_id", [](const VideoBox& v) { return static_cast<int>(v.codec_id); },
          [](VideoBox& v, std::uint8_t id) { v.codec_id = static_cast<VideoCodec>(id); })
      .def_property(
          "chroma_format_idc", [](const VideoBox& v) { return static_cast<int>(v.chroma_format_idc); },
          [](VideoBox& v, std::uint8_t idc) { v.chroma_format_idc = static_cast<ChromaFormat>(idc); })
      .def_readwrite("coded_bit_depth", &VideoBox::coded_bit_depth)
      .def_readwrite("qp", &VideoBox::qp)
      .def_readwrite("encoder_id", &VideoBox::encoder_id)
      .def_property(
          "payload", [](const VideoBox& v) { return to_bytes(v.payload); },
          [](VideoBox& v, const py::bytes& b) { v.payload = from_bytes(b); });
  // colour_transform and codec_id as the integers of the syntax (SPEC.md 3.16); validation checks their range
  py::class_<TextureBox>(m, "TextureBox")
      .def(py::init<>())
      .def_readwrite("colour_transform", &TextureBox::colour_transform)
      .def_property(
          "codec_id", [](const TextureBox& t) { return static_cast<int>(t.codec_id); },
          [](TextureBox& t, std::uint8_t id) { t.codec_id = static_cast<VideoCodec>(id); })
      .def_readwrite("qp", &TextureBox::qp)
      .def_readwrite("encoder_id", &TextureBox::encoder_id)
      .def_property(
          "payload", [](const TextureBox& t) { return to_bytes(t.payload); },
          [](TextureBox& t, const py::bytes& b) { t.payload = from_bytes(b); });
  py::class_<ScalarQuantBox>(m, "ScalarQuantBox")
      .def(py::init<>())
      .def_readwrite("qp", &ScalarQuantBox::qp)
      .def_readwrite("reconstruction", &ScalarQuantBox::reconstruction)
      .def_readwrite("normalization", &ScalarQuantBox::normalization)
      .def_readwrite("scale", &ScalarQuantBox::scale);
  py::class_<HashBox>(m, "HashBox")
      .def(py::init<>())
      .def_readwrite("hash_type", &HashBox::hash_type)
      .def_property(
          "codes_md5", [](const HashBox& h) { return md5_bytes(h.codes_md5); },
          [](HashBox& h, const py::bytes& b) { h.codes_md5 = md5_from(b); })
      .def_property(
          "features_md5", [](const HashBox& h) { return md5_bytes(h.features_md5); },
          [](HashBox& h, const py::bytes& b) { h.features_md5 = md5_from(b); });

  register_learned_boxes(m);

  py::class_<TensorRecord>(m, "TensorRecord")
      .def(py::init<>())
      .def_readwrite("name", &TensorRecord::name)
      .def_readwrite("kind", &TensorRecord::kind)
      .def_readwrite("source_dtype", &TensorRecord::source_dtype)
      .def_readwrite("dims", &TensorRecord::dims)
      .def_readwrite("log_quant", &TensorRecord::log_quant)
      .def_readwrite("minmax_quant", &TensorRecord::minmax_quant)
      .def_readwrite("pack", &TensorRecord::pack)
      .def_readwrite("hevc", &TensorRecord::hevc)
      .def_readwrite("video", &TensorRecord::video)
      .def_readwrite("texture", &TensorRecord::texture)
      .def_readwrite("scalar_quant", &TensorRecord::scalar_quant)
      .def_readwrite("learned_model", &TensorRecord::learned_model)
      .def_readwrite("latent", &TensorRecord::latent)
      .def_readwrite("product_codes", &TensorRecord::product_codes)
      .def_readwrite("hash", &TensorRecord::hash)
      .def_readwrite("info", &TensorRecord::info)
      .def_property(
          "norms",
          [](const TensorRecord& r) -> py::object {
            if (!r.norms) return py::none();
            return py::array_t<float>(static_cast<py::ssize_t>(r.norms->size()), r.norms->data());
          },
          [](TensorRecord& r, const std::optional<CArray<float>>& v) {
            if (!v) r.norms.reset();
            else r.norms = std::vector<float>(v->data(), v->data() + v->size());
          })
      .def_property(
          "cabac",
          [](const TensorRecord& r) -> py::object {
            if (!r.cabac) return py::none();
            return to_bytes(*r.cabac);
          },
          [](TensorRecord& r, const std::optional<py::bytes>& b) {
            if (!b) r.cabac.reset();
            else r.cabac = from_bytes(*b);
          })
      .def_property_readonly("ancillary_types", [](const TensorRecord& r) {
        std::vector<std::string> t;
        for (const auto& a : r.unknown_ancillary) t.push_back(a.type);
        return t;
      });

  py::class_<Stream>(m, "Stream")
      .def(py::init<>())
      .def_readwrite("version_major", &Stream::version_major)
      .def_readwrite("version_minor", &Stream::version_minor)
      .def_readwrite("tensors", &Stream::tensors);

  m.def("validate_stream", &validate, py::arg("stream"));
  m.def(
      "write_stream",
      [](const Stream& s) {
        const Bytes out = write_stream(s);
        return to_bytes(out);
      },
      py::arg("stream"));
  m.def(
      "parse_stream",
      [](const py::bytes& data, bool trace) -> py::object {
        const std::string_view view = data;
        std::vector<SyntaxElement> elements;
        Stream s;
        {
          py::gil_scoped_release nogil;
          s = parse_stream(reinterpret_cast<const std::uint8_t*>(view.data()), view.size(), trace ? &elements : nullptr);
        }
        if (!trace) return py::cast(std::move(s));
        py::list rows;
        for (const auto& e : elements) rows.append(py::make_tuple(e.offset, e.box, e.name, e.value));
        return py::make_tuple(std::move(s), rows);
      },
      py::arg("data"), py::arg("trace") = false);
}

}  // namespace ftm::bindings
