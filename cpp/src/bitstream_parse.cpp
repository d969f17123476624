// Parsing of .ftm bytes into a Stream: every read is bounds-checked, and the
// result is validated before it is returned.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "bitstream_syntax.hpp"
#include "ftm/bitstream.hpp"

namespace ftm {
namespace {

using namespace syntax;

// Reads within [pos, end) only; every read is bounds-checked and can be
// traced.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size, std::vector<SyntaxElement>* trace)
      : data_(data), end_(size), trace_(trace) {}

  std::size_t pos() const { return pos_; }
  std::size_t left() const { return end_ - pos_; }
  void set_box(std::string box) { box_ = std::move(box); }
  // Restricts reading to the next n bytes (a box payload); returns the old end.
  std::size_t limit(std::size_t n) {
    const std::size_t old = end_;
    end_ = pos_ + n;
    return old;
  }
  void unlimit(std::size_t old_end) { end_ = old_end; }

  std::uint32_t u8(const char* name) { return log(name, read(1, name)); }
  std::uint32_t u16(const char* name) { return log(name, read(2, name)); }
  std::uint32_t u32(const char* name) { return log(name, read(4, name)); }
  std::int32_t i8(const char* name) {
    const auto v = static_cast<std::int8_t>(read(1, name));
    note(name, str(v), 1);
    return v;
  }
  float f32(const char* name) {
    const std::uint32_t b = read(4, name);
    float v;
    std::memcpy(&v, &b, 4);
    note(name, str(v), 4);
    return v;
  }
  std::vector<std::uint8_t> bytes(const char* name, std::size_t n) {
    need(n, name);
    std::vector<std::uint8_t> v(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    note(name, str(n) + " bytes", n);
    return v;
  }
  std::string fourcc_text(const char* name) {
    need(4, name);
    std::string t(reinterpret_cast<const char*>(data_ + pos_), 4);
    pos_ += 4;
    note(name, "'" + escaped(t) + "'", 4);
    return t;
  }
  [[noreturn]] void error(const std::string& element, const std::string& what) const {
    Where w;
    w.tensor = tensor_;
    w.box = box_;
    w.offset = element_start_;
    fail(w, element, what);
  }
  void set_tensor(std::size_t t) { tensor_ = t; }

 private:
  void need(std::size_t n, const char* name) {
    element_start_ = pos_;
    if (n > left()) error(name, "needs " + str(n) + " bytes, only " + str(left()) + " left in " + (box_.empty() ? "the stream" : "the box"));
  }
  std::uint32_t read(std::size_t n, const char* name) {
    need(n, name);
    last_size_ = n;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint32_t>(data_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  std::uint32_t log(const char* name, std::uint32_t v) {
    note(name, str(v), 0);
    return v;
  }
  // Records an element that ended at pos_ and was `size` bytes long
  // (0: the size of the last fixed-width read).
  void note(const char* name, const std::string& value, std::size_t size) {
    if (trace_) trace_->push_back({pos_ - (size ? size : last_size_), box_, name, value});
  }

  const std::uint8_t* data_;
  std::size_t pos_ = 0, end_;
  std::vector<SyntaxElement>* trace_;
  std::string box_;
  std::size_t tensor_ = 0;
  std::size_t last_size_ = 0;
  std::size_t element_start_ = 0;  // where the element being read (or last read) starts
};

void parse_tens(Reader& in, TensorRecord& r) {
  const std::uint32_t len = in.u16("name_length");
  if (len > kMaxNameLength) in.error("name_length", str(len) + " exceeds 255");
  const auto name = in.bytes("name", len);
  r.name.assign(name.begin(), name.end());
  const std::uint32_t kind = in.u8("feature_kind");
  if (kind > 3) in.error("feature_kind", str(kind) + " outside [0, 3]");
  r.kind = static_cast<FeatureKind>(kind);
  const std::uint32_t dtype = in.u8("source_dtype");
  if (dtype > 3) in.error("source_dtype", str(dtype) + " outside [0, 3]");
  r.source_dtype = static_cast<SourceDtype>(dtype);
  const std::uint32_t nd = in.u8("num_dims");
  const bool four = r.kind == FeatureKind::kMap || r.kind == FeatureKind::kImage;  // N, C, H, W
  if (nd != (four ? 4u : 2u)) in.error("num_dims", str(nd) + ", expected " + (four ? "4" : "2"));
  for (std::uint32_t i = 0; i < nd; ++i) r.dims.push_back(in.u32("dim"));
}

void parse_qlog(Reader& in, TensorRecord& r) {
  LogQuantBox q;
  q.bit_depth = static_cast<std::uint8_t>(in.u8("bit_depth"));
  const std::uint32_t nn = in.u8("nonnegative_flag");
  if (nn > 1) in.error("nonnegative_flag", str(nn) + " outside [0, 1]");
  q.nonnegative = nn == 1;
  q.offset = in.f32("offset");
  q.max_log = in.f32("max_log");
  r.log_quant = q;
}

void parse_qmmx(Reader& in, TensorRecord& r) {
  MinMaxQuantBox q;
  q.bit_depth = static_cast<std::uint8_t>(in.u8("bit_depth"));
  q.channel_axis = static_cast<std::uint8_t>(in.u8("channel_axis"));
  const std::uint32_t n = in.u32("num_ranges");
  // Bound the allocation by what the box can hold before trusting n.
  if (static_cast<std::uint64_t>(n) * 8 != in.left()) in.error("num_ranges", str(n) + " ranges do not fill the box's " + str(in.left()) + " bytes");
  for (std::uint32_t i = 0; i < n; ++i) {
    q.lo.push_back(in.f32("range_lo"));
    q.hi.push_back(in.f32("range_hi"));
  }
  r.minmax_quant = q;
}

void parse_pack(Reader& in, TensorRecord& r) {
  PackBox p;
  const std::uint32_t mode = in.u8("pack_mode");
  if (mode > 1) in.error("pack_mode", str(mode) + " outside [0, 1]");
  p.mode = static_cast<PackMode>(mode);
  p.grid_rows = in.u32("grid_rows");
  p.grid_cols = in.u32("grid_cols");
  const std::uint32_t flag = in.u8("permutation_flag");
  if (flag > 1) in.error("permutation_flag", str(flag) + " outside [0, 1]");
  if (flag) {
    const std::uint64_t c = r.dims.size() > 1 ? r.dims[1] : 0;
    if (c * 4 != in.left()) in.error("channel_index", "C = " + str(c) + " entries do not fill the box's " + str(in.left()) + " bytes");
    for (std::uint64_t k = 0; k < c; ++k) p.permutation.push_back(in.u32("channel_index"));
  }
  r.pack = p;
}

void parse_hevc(Reader& in, TensorRecord& r) {
  HevcBox h;
  h.coded_bit_depth = static_cast<std::uint8_t>(in.u8("coded_bit_depth"));
  h.qp = static_cast<std::int8_t>(in.i8("qp"));
  h.encoder_id = static_cast<std::uint8_t>(in.u8("encoder_id"));
  h.payload = in.bytes("hevc_payload", in.left());
  r.hevc = std::move(h);
}

void parse_vidc(Reader& in, TensorRecord& r) {
  VideoBox v;
  // the enums hold any byte: the validation names an out-of-range value with its offset
  v.codec_id = static_cast<VideoCodec>(in.u8("codec_id"));
  v.chroma_format_idc = static_cast<ChromaFormat>(in.u8("chroma_format_idc"));
  v.coded_bit_depth = static_cast<std::uint8_t>(in.u8("coded_bit_depth"));
  v.qp = static_cast<std::int8_t>(in.i8("qp"));
  v.encoder_id = static_cast<std::uint8_t>(in.u8("encoder_id"));
  v.payload = in.bytes("video_payload", in.left());
  r.video = std::move(v);
}

void parse_txtr(Reader& in, TensorRecord& r) {
  TextureBox t;
  t.colour_transform = static_cast<std::uint8_t>(in.u8("colour_transform"));
  t.codec_id = static_cast<VideoCodec>(in.u8("codec_id"));  // any byte: the validation names a reserved one
  t.qp = static_cast<std::int8_t>(in.i8("qp"));
  t.encoder_id = static_cast<std::uint8_t>(in.u8("encoder_id"));
  t.payload = in.bytes("texture_payload", in.left());
  r.texture = std::move(t);
}

void parse_qscl(Reader& in, TensorRecord& r) {
  ScalarQuantBox q;
  q.qp = static_cast<std::int8_t>(in.i8("qp"));
  q.reconstruction = static_cast<std::uint8_t>(in.u8("reconstruction"));
  q.normalization = static_cast<std::uint8_t>(in.u8("normalization"));
  if (q.normalization == 2) q.scale = in.f32("scale");
  r.scalar_quant = q;
}

void parse_norm(Reader& in, TensorRecord& r) {
  const std::uint64_t n = r.dims.empty() ? 0 : r.dims[0];
  if (n * 4 != in.left()) in.error("norm", "N = " + str(n) + " norms do not fill the box's " + str(in.left()) + " bytes");
  std::vector<float> v;
  v.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) v.push_back(in.f32("norm"));
  r.norms = std::move(v);
}

void parse_lmod(Reader& in, TensorRecord& r) {
  LearnedModelBox m;
  const auto digest = in.bytes("model_sha256", 32);
  std::copy(digest.begin(), digest.end(), m.model_sha256.begin());
  const std::uint32_t method = in.u8("method");
  if (method > kMaxLearnedMethod) in.error("method", str(method) + " outside [0, " + str(+kMaxLearnedMethod) + "]");
  m.method = static_cast<LearnedMethod>(method);
  r.learned_model = m;
}

void parse_latn(Reader& in, TensorRecord& r) {
  LatentBox l;
  l.latent_dims = in.u32("latent_dims");
  l.r_clip = in.f32("r_clip");
  r.latent = l;
}

void parse_pqcd(Reader& in, TensorRecord& r) {
  ProductCodesBox p;
  p.num_subquantizers = in.u32("num_subquantizers");
  p.code_bits = static_cast<std::uint8_t>(in.u8("code_bits"));
  p.codes = in.bytes("codes", in.left());  // its size is checked against N, M and code_bits by validation
  r.product_codes = std::move(p);
}

void parse_hash(Reader& in, TensorRecord& r) {
  HashBox h;
  h.hash_type = static_cast<std::uint8_t>(in.u8("hash_type"));
  const auto a = in.bytes("codes_md5", 16), b = in.bytes("features_md5", 16);
  std::copy(a.begin(), a.end(), h.codes_md5.begin());
  std::copy(b.begin(), b.end(), h.features_md5.begin());
  r.hash = h;
}

// Order rank of a critical box within a record of each kind.
int critical_rank(std::uint32_t t, FeatureKind kind) {
  if (kind == FeatureKind::kMap) {
    if (t == kQlog || t == kQmmx) return 1;
    if (t == kPack) return 2;
    if (t == kHevc || t == kVidc) return 3;  // one payload box: HEVC or VIDC
  } else if (kind == FeatureKind::kVector) {
    if (t == kQscl) return 1;
    if (t == kNorm) return 2;
    if (t == kCabc) return 3;
  } else if (kind == FeatureKind::kImage) {
    if (t == kTxtr) return 1;
  } else {
    if (t == kLmod) return 1;
    if (t == kQscl || t == kLatn || t == kPqcd) return 2;
    if (t == kNorm) return 3;
    if (t == kCabc) return 4;
  }
  return -1;
}

}  // namespace

Stream parse_stream(const std::uint8_t* data, std::size_t size, std::vector<SyntaxElement>* trace) {
  Reader in(data, size, trace);
  Stream s;
  in.set_box(kStreamHeader);
  if (size < 4 || std::memcmp(data, kMagic, 4) != 0) in.error("magic", "not an FTM stream (expected bytes 46 54 4D 1A)");
  (void)in.bytes("magic", 4);
  s.version_major = static_cast<std::uint8_t>(in.u8("version_major"));
  if (s.version_major != kVersionMajor) in.error("version_major", "unsupported version " + str(s.version_major) + " (this decoder reads version 1)");
  s.version_minor = static_cast<std::uint8_t>(in.u8("version_minor"));
  if (in.u16("reserved_zero_16bits") != 0) in.error("reserved_zero_16bits", "must be 0");
  if (in.left() == 0) in.error("box", "a stream holds at least one tensor");

  std::vector<std::size_t> offsets;
  bool ended = false;
  int last_rank = 0;
  // A set, not a list: a record may hold ~4 million distinct ancillary types,
  // and parsing stays linear in the boxes (SPEC.md section 4).
  std::unordered_set<std::uint32_t> seen_ancillary;
  while (in.left() > 0) {
    in.set_box(kBoxHeader);
    const std::size_t box_at = in.pos();
    const std::uint32_t box_size = in.u32("box_size");
    const std::string name = in.fourcc_text("box_type");
    if (!std::all_of(name.begin(), name.end(), valid_type_char)) in.error("box_type", "bytes are not a four-letter box type");
    const std::uint32_t type = fourcc_of(name);
    if (box_size > in.left()) in.error("box_size", str(box_size) + " exceeds the " + str(in.left()) + " bytes left");
    in.set_box(name);
    const std::size_t outer = in.limit(box_size);
    if (type == kFend) {
      // The end box makes any truncation detectable, even at a box boundary.
      if (box_size != 0) in.error("box_size", "FEND is empty, got " + str(box_size) + " bytes");
      in.unlimit(outer);
      if (in.left() != 0) in.error("box_type", "FEND must be the last box; " + str(in.left()) + " bytes follow");
      ended = true;
      break;
    }
    if (type == kTens) {
      if (s.tensors.size() == kMaxTensors) in.error("", "more than 65535 tensors");
      in.set_tensor(s.tensors.size());
      s.tensors.emplace_back();
      offsets.push_back(box_at);
      parse_tens(in, s.tensors.back());
      last_rank = 0;
      seen_ancillary.clear();
    } else {
      if (s.tensors.empty()) in.error("box_type", "the first box must be TENS");
      TensorRecord& r = s.tensors.back();
      const bool ancillary = name[0] >= 'a' && name[0] <= 'z';
      if (ancillary) {
        if (!seen_ancillary.insert(type).second) in.error("", "appears twice in one record");
        if (type == kHash) parse_hash(in, r);
        else if (type == kInfo) {
          const auto text = in.bytes("text", in.left());
          r.info = std::string(text.begin(), text.end());
        } else r.unknown_ancillary.push_back({name, in.bytes("data", in.left())});
      } else {
        const int rank = critical_rank(type, r.kind);
        if (rank < 0) {
          static const char* kKinds[] = {"a feature map", "a feature vector", "a learned record", "an image record"};
          in.error("box_type", "unknown or misplaced critical box for " + std::string(kKinds[static_cast<int>(r.kind)]));
        }
        if (rank <= last_rank) in.error("box_type", "out of order or repeated");
        last_rank = rank;
        if (type == kQlog) parse_qlog(in, r);
        else if (type == kQmmx) parse_qmmx(in, r);
        else if (type == kPack) parse_pack(in, r);
        else if (type == kHevc) parse_hevc(in, r);
        else if (type == kVidc) parse_vidc(in, r);
        else if (type == kTxtr) parse_txtr(in, r);
        else if (type == kQscl) parse_qscl(in, r);
        else if (type == kNorm) parse_norm(in, r);
        else if (type == kCabc) r.cabac = in.bytes("level_payload", in.left());
        else if (type == kLmod) parse_lmod(in, r);
        else if (type == kLatn) parse_latn(in, r);
        else if (type == kPqcd) parse_pqcd(in, r);
      }
    }
    if (in.left() != 0) in.error("box_size", str(in.left()) + " bytes of the box left unread");
    in.unlimit(outer);
  }
  if (!ended) {
    in.set_box(kStreamHeader);
    in.error("FEND", "the end box is missing: the stream is truncated");
  }
  validate_stream(s, &offsets);
  return s;
}

}  // namespace ftm
