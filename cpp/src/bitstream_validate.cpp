// Checks of every constraint of conformance/SPEC.md on a Stream, whether it
// is about to be written or was just parsed.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "bitstream_syntax.hpp"
#include "ftm/bitstream.hpp"
#include "ftm/quantize.hpp"

namespace ftm {
namespace syntax {
namespace {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
// past U+10FFFF.
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra;
    std::uint32_t cp;
    if (c < 0x80) extra = 0, cp = c;
    else if ((c & 0xe0) == 0xc0) extra = 1, cp = c & 0x1fu;
    else if ((c & 0xf0) == 0xe0) extra = 2, cp = c & 0x0fu;
    else if ((c & 0xf8) == 0xf0) extra = 3, cp = c & 0x07u;
    else return false;
    if (i + extra >= s.size()) return false;  // a truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3fu);
    }
    static const std::uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

void validate_bit_depth(const Where& w, std::uint8_t b) { check_range(w, "bit_depth", b, kMinBits, kMaxBits); }

int quant_bit_depth(const TensorRecord& r) {
  if (r.log_quant) return r.log_quant->bit_depth;
  if (r.minmax_quant) return r.minmax_quant->bit_depth;
  return 0;
}

void validate_header(const Where& w, const TensorRecord& r) {
  if (r.name.size() > kMaxNameLength) fail(w, "name_length", str(r.name.size()) + " exceeds 255");
  if (r.name.find('\0') != std::string::npos) fail(w, "name", "contains a zero byte");
  if (!valid_utf8(r.name)) fail(w, "name", "is not valid UTF-8");
  check_range(w, "feature_kind", static_cast<int>(r.kind), 0, 3);
  check_range(w, "source_dtype", static_cast<int>(r.source_dtype), 0, 3);
  const bool image = r.kind == FeatureKind::kImage;
  if (image && r.source_dtype != SourceDtype::kUint8)
    fail(w, "source_dtype", str(static_cast<int>(r.source_dtype)) + ": an image record's source_dtype is 3 (uint8)");
  if (!image && r.source_dtype == SourceDtype::kUint8) fail(w, "source_dtype", "3 (uint8) is for image records (feature_kind 3) only");
  const std::size_t want = r.kind == FeatureKind::kMap || image ? 4 : 2;
  if (r.dims.size() != want) fail(w, "num_dims", str(r.dims.size()) + ", expected " + str(want));
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < r.dims.size(); ++i) {
    if (r.kind == FeatureKind::kMap && r.dims[i] == 0) fail(w, "dim[" + str(i) + "]", "must be >= 1 for a feature map");
    if (image && r.dims[i] == 0) fail(w, "dim[" + str(i) + "]", "must be >= 1 for an image");
    count = r.dims[i] == 0 ? 0 : (count > kMaxTensorElements ? count : count * r.dims[i]);
  }
  if (count > kMaxTensorElements) fail(w, "dim", "tensor has more than 2^31 elements");
  if (r.kind == FeatureKind::kLearned && r.dims[1] == 0) fail(w, "dim[1]", "must be >= 1 for a learned record");
  if (image && r.dims[1] != 1 && r.dims[1] != 3) fail(w, "dim[1]", "C = " + str(r.dims[1]) + ": an image has 1 (grey) or 3 (RGB) channels");
}

// SPEC.md 3.6: the codecs a VIDC box carries, with the chroma formats, bit depths and QPs each allows.
void validate_video(Where w, const TensorRecord& r) {
  w.box = "VIDC";
  const auto& v = *r.video;
  const int codec = static_cast<int>(v.codec_id), chroma = static_cast<int>(v.chroma_format_idc);
  check_range(w, "codec_id", codec, 0, 2);
  check_range(w, "chroma_format_idc", chroma, 0, 1);
  if (v.codec_id == VideoCodec::kHevc && v.chroma_format_idc == ChromaFormat::k400)
    fail(w, "chroma_format_idc", "0 with codec_id 0: a 4:0:0 HEVC payload is carried in an HEVC box");
  if (v.codec_id == VideoCodec::kAvs2 && v.chroma_format_idc == ChromaFormat::k400)
    fail(w, "chroma_format_idc", "0 with codec_id 2: AVS2's profiles code 4:2:0 pictures only");
  const int max_depth = v.codec_id == VideoCodec::kAvs2 ? 10 : kMaxBits;  // AVS2: Main (8) and Main 10
  check_range(w, "coded_bit_depth", v.coded_bit_depth, quant_bit_depth(r), max_depth);
  const int depth = v.coded_bit_depth;
  if (v.codec_id == VideoCodec::kAvs2) check_range(w, "qp", v.qp, 0, 63 + 8 * (depth - 8));
  else check_range(w, "qp", v.qp, -6 * (depth - 8), v.codec_id == VideoCodec::kVvc ? 63 : 51);
  if (v.payload.empty()) fail(w, "video_payload", "is empty");
}

void validate_map(Where w, const TensorRecord& r) {
  if (!r.log_quant == !r.minmax_quant) {
    w.box = "QLOG/QMMX";
    fail(w, "", "a feature map needs exactly one of QLOG and QMMX");
  }
  if (r.scalar_quant || r.norms || r.cabac) fail(w, "", "a feature map carries no QSCL, NORM or CABC box");
  if (r.log_quant) {
    w.box = "QLOG";
    const auto& q = *r.log_quant;
    validate_bit_depth(w, q.bit_depth);
    check_finite(w, "offset", q.offset);
    check_finite(w, "max_log", q.max_log);
    if (!(q.max_log >= 0.0f)) fail(w, "max_log", "must be >= 0, got " + str(q.max_log));
    if (q.nonnegative && q.offset != 0.0f) fail(w, "offset", "must be 0 when nonnegative_flag is 1, got " + str(q.offset));
  } else {
    w.box = "QMMX";
    const auto& q = *r.minmax_quant;
    validate_bit_depth(w, q.bit_depth);
    std::size_t want = 1;
    if (q.channel_axis != kNoChannelAxis) {
      check_range(w, "channel_axis", q.channel_axis, 0, static_cast<long long>(r.dims.size()) - 1);
      want = r.dims[q.channel_axis];
    }
    if (q.lo.size() != want || q.hi.size() != want)
      fail(w, "num_ranges", str(q.lo.size()) + ", expected " + str(want));
    for (std::size_t i = 0; i < want; ++i) {
      check_finite(w, "range_lo[" + str(i) + "]", q.lo[i]);
      check_finite(w, "range_hi[" + str(i) + "]", q.hi[i]);
      if (!(q.lo[i] <= q.hi[i])) fail(w, "range[" + str(i) + "]", "lo " + str(q.lo[i]) + " > hi " + str(q.hi[i]));
    }
  }
  w.box = "PACK";
  if (!r.pack) fail(w, "", "missing");
  const auto& p = *r.pack;
  const std::uint32_t c = r.dims[1];
  check_range(w, "pack_mode", static_cast<int>(p.mode), 0, 1);
  if (p.mode == PackMode::kChannel) {
    if (p.grid_rows || p.grid_cols) fail(w, "grid_rows/grid_cols", "must be 0 in channel mode");
  } else {
    const std::uint64_t rows = p.grid_rows, cols = p.grid_cols;
    if (rows == 0 || cols == 0 || rows * cols < c || (rows - 1) * cols >= c || cols > c)
      fail(w, "grid_rows/grid_cols", str(rows) + "x" + str(cols) + " is not a valid grid for " + str(c) +
                                         " channels (needs rows*cols >= C, (rows-1)*cols < C, cols <= C)");
  }
  if (!p.permutation.empty()) {
    if (p.permutation.size() != c) fail(w, "channel_index", str(p.permutation.size()) + " entries for " + str(c) + " channels");
    std::vector<char> seen(c, 0);
    bool identity = true;
    for (std::size_t k = 0; k < c; ++k) {
      const std::uint32_t v = p.permutation[k];
      if (v >= c || seen[v]) fail(w, "channel_index[" + str(k) + "]", str(v) + " repeats a channel or is out of range");
      seen[v] = 1;
      identity &= v == k;
    }
    if (identity) fail(w, "permutation_flag", "1 with the identity permutation");
  }
  try {
    (void)r.geometry();
  } catch (const std::invalid_argument& e) {
    fail(w, "", e.what());
  }
  if (r.hevc && r.video) {
    w.box = "VIDC";
    fail(w, "", "present beside an HEVC box: a record has one payload box");
  }
  if (r.video) {
    validate_video(w, r);
    return;
  }
  w.box = "HEVC";
  if (!r.hevc) fail(w, "", "missing (or VIDC)");
  const auto& h = *r.hevc;
  check_range(w, "coded_bit_depth", h.coded_bit_depth, quant_bit_depth(r), kMaxBits);
  check_range(w, "qp", h.qp, -6 * (h.coded_bit_depth - 8), 51);
  if (h.payload.empty()) fail(w, "hevc_payload", "is empty");
}

// SPEC.md 3.16: an image record's one payload box, HEVC pictures whose colour_transform says C.
void validate_image(Where w, const TensorRecord& r) {
  if (r.log_quant || r.minmax_quant || r.pack || r.hevc || r.video || r.scalar_quant || r.norms || r.cabac)
    fail(w, "", "an image record carries no QLOG, QMMX, PACK, HEVC, VIDC, QSCL, NORM or CABC box");
  w.box = "TXTR";
  if (!r.texture) fail(w, "", "missing");
  const auto& t = *r.texture;
  check_range(w, "colour_transform", t.colour_transform, 0, 1);
  const std::uint32_t channels = t.colour_transform == 0 ? 1 : 3;
  if (r.dims[1] != channels)
    fail(w, "colour_transform", str(t.colour_transform) + " with C = " + str(r.dims[1]) + ": 0 codes C = 1 (grey), 1 codes C = 3 (RGB)");
  check_range(w, "codec_id", static_cast<int>(t.codec_id), 0, 0);
  check_range(w, "qp", t.qp, 0, 51);
  if (t.payload.empty()) fail(w, "texture_payload", "is empty");
}

void validate_vector(Where w, const TensorRecord& r) {
  if (r.log_quant || r.minmax_quant || r.pack || r.hevc || r.video)
    fail(w, "", "a feature vector carries no QLOG, QMMX, PACK, HEVC or VIDC box");
  w.box = "QSCL";
  if (!r.scalar_quant) fail(w, "", "missing");
  const auto& q = *r.scalar_quant;
  check_range(w, "qp", q.qp, kMinQp, kMaxQp);
  check_range(w, "reconstruction", q.reconstruction, 0, 1);
  check_range(w, "normalization", q.normalization, 0, 2);
  if (q.normalization == 2) {
    check_finite(w, "scale", q.scale);
    if (!(q.scale > 0.0f)) fail(w, "scale", "must be > 0, got " + str(q.scale));
  }
  w.box = "NORM";
  if ((q.normalization == 1) != r.norms.has_value())
    fail(w, "", q.normalization == 1 ? "missing (normalization is 1)" : "present while normalization is not 1");
  if (r.norms) {
    if (r.norms->size() != r.dims[0]) fail(w, "norm", str(r.norms->size()) + " norms for N = " + str(r.dims[0]));
    for (std::size_t n = 0; n < r.norms->size(); ++n) {
      check_finite(w, "norm[" + str(n) + "]", (*r.norms)[n]);
      if ((*r.norms)[n] < 0.0f) fail(w, "norm[" + str(n) + "]", "must be >= 0");
    }
  }
  w.box = "CABC";
  if (!r.cabac) fail(w, "", "missing");
}

// The latent box of PRO and PRO-E (any r_clip) and of an entropy-coded DMOFC
// latent (r_clip 128: 8-bit levels in [-128, 127]), then its levels.
void validate_latent(Where w, const TensorRecord& r) {
  w.box = "LATN";
  if (!r.latent) fail(w, "", "missing");
  if (r.latent->latent_dims == 0) fail(w, "latent_dims", "must be >= 1");
  check_finite(w, "r_clip", r.latent->r_clip);
  if (!(r.latent->r_clip > 0.0f && r.latent->r_clip <= kMaxClip)) fail(w, "r_clip", str(r.latent->r_clip) + " outside (0, 32768]");
  if (static_cast<std::uint64_t>(r.dims[0]) * r.latent->latent_dims > kMaxTensorElements)
    fail(w, "latent_dims", "N * latent_dims exceeds 2^31 levels");
  w.box = "CABC";
  if (!r.cabac) fail(w, "", "missing");
}

// Fixed-length codes: PQ and OPQ (M sub-spaces dividing D), DMOFC (M = K
// latent elements of 8 bits, any K).
void validate_codes(Where w, const TensorRecord& r, bool divides_d) {
  w.box = "PQCD";
  if (!r.product_codes) fail(w, "", "missing");
  const auto& p = *r.product_codes;
  if (p.num_subquantizers == 0) fail(w, "num_subquantizers", "must be >= 1");
  if (divides_d && r.dims[1] % p.num_subquantizers != 0)
    fail(w, "num_subquantizers", str(p.num_subquantizers) + " does not divide D = " + str(r.dims[1]));
  check_range(w, "code_bits", p.code_bits, 1, kMaxCodeBits);
  const std::uint64_t bits = static_cast<std::uint64_t>(r.dims[0]) * p.num_subquantizers * p.code_bits;
  if (p.codes.size() != (bits + 7) / 8)
    fail(w, "codes", str(p.codes.size()) + " bytes, expected " + str((bits + 7) / 8) + " for N * M codes of " + str(+p.code_bits) + " bits");
  if (bits % 8 && (p.codes.back() & ((1u << (8 - bits % 8)) - 1u))) fail(w, "codes", "padding bits after the last code must be 0");
}

// A DMOFC record (seed 000): its 8-bit latent either fixed-length (PQCD, 8
// bits a code: K bytes a vector, the information capacity) or entropy-coded
// (LATN with r_clip 128, CABC).
void validate_dmofc(Where w, const TensorRecord& r) {
  if (r.scalar_quant || r.norms) fail(w, "", "method 5 (DMOFC) carries no QSCL or NORM box");
  if (r.product_codes) {
    if (r.latent || r.cabac) fail(w, "", "method 5 (DMOFC) carries PQCD or LATN and CABC, not both");
    validate_codes(w, r, false);
    if (r.product_codes->code_bits != 8) fail(w, "code_bits", str(+r.product_codes->code_bits) + ": a DMOFC latent has 8-bit codes");
    return;
  }
  validate_latent(w, r);
  if (r.latent->r_clip != kDmofcLatentClip) {
    w.box = "LATN";
    fail(w, "r_clip", str(r.latent->r_clip) + ": an entropy-coded DMOFC latent has r_clip 128");
  }
}

// A learned record: the model box, then the payload its method codes: SQ-E
// the vector payload (QSCL, NORM, CABC), PRO and PRO-E a latent (LATN, CABC),
// PQ and OPQ product codes (PQCD), DMOFC either of the last two.
void validate_learned(Where w, const TensorRecord& r) {
  if (r.log_quant || r.minmax_quant || r.pack || r.hevc) fail(w, "", "a learned record carries no QLOG, QMMX, PACK or HEVC box");
  w.box = "LMOD";
  if (!r.learned_model) fail(w, "", "missing");
  check_range(w, "method", static_cast<int>(r.learned_model->method), 0, kMaxLearnedMethod);
  const auto method = r.learned_model->method;
  if (method == LearnedMethod::kSqEnhanced) {
    if (r.latent || r.product_codes) fail(w, "", "method 0 (SQ-E) carries no LATN or PQCD box");
    validate_vector(w, r);
    return;
  }
  if (method == LearnedMethod::kDmofc) {
    validate_dmofc(w, r);
    return;
  }
  if (method == LearnedMethod::kPro || method == LearnedMethod::kProEnhanced) {
    if (r.scalar_quant || r.norms || r.product_codes) fail(w, "", "methods 1, 2 (PRO, PRO-E) carry no QSCL, NORM or PQCD box");
    validate_latent(w, r);
    return;
  }
  if (r.scalar_quant || r.norms || r.latent || r.cabac) fail(w, "", "methods 3, 4 (PQ, OPQ) carry no QSCL, NORM, LATN or CABC box");
  validate_codes(w, r, true);
}

void validate_record(const Where& w, const TensorRecord& r) {
  validate_header(w, r);
  if (r.kind != FeatureKind::kLearned && (r.learned_model || r.latent || r.product_codes))
    fail(w, "", "only a learned record carries LMOD, LATN or PQCD boxes");
  if (r.kind != FeatureKind::kImage && r.texture) fail(w, "", "only an image record carries a TXTR box");
  if (r.kind == FeatureKind::kMap) validate_map(w, r);
  else if (r.kind == FeatureKind::kLearned) validate_learned(w, r);
  else if (r.kind == FeatureKind::kImage) validate_image(w, r);
  else validate_vector(w, r);
  if (r.info && !valid_utf8(*r.info)) {
    Where h = w;
    h.box = "info";
    fail(h, "text", "is not valid UTF-8");
  }
  if (r.hash) {
    Where h = w;
    h.box = "hash";
    check_range(h, "hash_type", r.hash->hash_type, 0, 0);
  }
  std::unordered_set<std::string> seen;  // linear in the boxes, however many
  for (const auto& a : r.unknown_ancillary) {
    Where h = w;
    h.box = a.type;
    if (a.type.size() != 4 || !std::all_of(a.type.begin(), a.type.end(), valid_type_char) || !(a.type[0] >= 'a' && a.type[0] <= 'z'))
      fail(h, "box_type", "an unknown box must be ancillary (four letters, the first lower case)");
    if (a.type == "hash" || a.type == "info") fail(h, "box_type", "is a known box");
    if (!seen.insert(a.type).second) fail(h, "", "appears twice");
  }
}

}  // namespace

void validate_stream(const Stream& s, const std::vector<std::size_t>* offsets) {
  Where w;
  if (s.version_major != kVersionMajor) fail(w, "version_major", str(s.version_major) + ", expected 1");
  if (s.tensors.empty()) fail(w, "", "a stream holds at least one tensor");
  if (s.tensors.size() > kMaxTensors) fail(w, "", "more than 65535 tensors");
  std::unordered_set<std::string> names;  // 65535 records: a list would cost O(T^2)
  names.reserve(s.tensors.size());
  for (std::size_t t = 0; t < s.tensors.size(); ++t) {
    w.tensor = t;
    w.tensor_name = s.tensors[t].name;
    w.box = "";
    if (offsets) w.record_offset = (*offsets)[t];
    if (!names.insert(s.tensors[t].name).second) fail(w, "name", "repeats the name of an earlier tensor");
    validate_record(w, s.tensors[t]);
  }
}

}  // namespace syntax

std::uint64_t TensorRecord::element_count() const {
  std::uint64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

PackGeometry TensorRecord::geometry() const {
  if (kind != FeatureKind::kMap || dims.size() != 4 || !pack) throw BitstreamError("record has no feature-map packing");
  const auto& p = *pack;
  if (p.mode == PackMode::kChannel) return channel_geometry(dims[0], dims[1], dims[2], dims[3]);
  return tiled_geometry(dims[0], dims[1], dims[2], dims[3], p.grid_rows, p.grid_cols);
}

void validate(const Stream& stream) { syntax::validate_stream(stream, nullptr); }

}  // namespace ftm
