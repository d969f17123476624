#include "ftm/bitstream.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "ftm/quantize.hpp"

namespace ftm {
namespace {

// Box types as the 32-bit little-endian value of their four characters.
constexpr std::uint32_t fourcc(const char (&s)[5]) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}
constexpr std::uint32_t kTens = fourcc("TENS"), kQlog = fourcc("QLOG"), kQmmx = fourcc("QMMX"),
                        kPack = fourcc("PACK"), kHevc = fourcc("HEVC"), kQscl = fourcc("QSCL"),
                        kNorm = fourcc("NORM"), kCabc = fourcc("CABC"), kHash = fourcc("hash"),
                        kInfo = fourcc("info"), kFend = fourcc("FEND");
constexpr std::uint8_t kMagic[4] = {0x46, 0x54, 0x4D, 0x1A};

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

bool valid_type_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' '; }

// ------------------------------------------------------------------ errors

// Labels of the parts of a stream that are not boxes.
const std::string kStreamHeader = "stream header";
const std::string kBoxHeader = "box header";

// Where an error is: which tensor and box, and (for parsed streams) the
// byte offset of the box.
struct Where {
  std::size_t tensor = 0;
  std::string tensor_name;
  std::string box;
  std::optional<std::size_t> offset;         // of the element, while parsing
  std::optional<std::size_t> record_offset;  // of the tensor record, while validating a parsed stream
};

// Stream-supplied text in a message: printable ASCII kept, every other byte
// as \xNN, so that a message is always valid text whatever the stream holds.
std::string escaped(const std::string& text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

[[noreturn]] void fail(const Where& w, const std::string& element, const std::string& what) {
  std::ostringstream s;
  s << "tensor " << w.tensor;
  if (!w.tensor_name.empty()) s << " '" << escaped(w.tensor_name) << "'";
  if (w.box == kStreamHeader || w.box == kBoxHeader) s << ", " << w.box;
  else if (!w.box.empty()) s << ", box " << escaped(w.box);
  if (w.offset) s << " at byte " << *w.offset;
  if (w.record_offset) s << " (record at byte " << *w.record_offset << ")";
  if (!element.empty()) s << ", " << element;
  s << ": " << what;
  throw BitstreamError(s.str());
}

template <class T>
std::string str(T v) {
  std::ostringstream s;
  s.precision(9);
  s << +v;
  return s.str();
}

void check_range(const Where& w, const char* element, long long v, long long lo, long long hi) {
  if (v < lo || v > hi) fail(w, element, str(v) + " outside [" + str(lo) + ", " + str(hi) + "]");
}

void check_finite(const Where& w, const std::string& element, float v) {
  if (!std::isfinite(v)) fail(w, element, "must be finite, got " + str(v));
}

// ------------------------------------------------------------------ validation

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
  check_range(w, "feature_kind", static_cast<int>(r.kind), 0, 1);
  check_range(w, "source_dtype", static_cast<int>(r.source_dtype), 0, 2);
  const std::size_t want = r.kind == FeatureKind::kMap ? 4 : 2;
  if (r.dims.size() != want) fail(w, "num_dims", str(r.dims.size()) + ", expected " + str(want));
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < r.dims.size(); ++i) {
    if (r.kind == FeatureKind::kMap && r.dims[i] == 0) fail(w, "dim[" + str(i) + "]", "must be >= 1 for a feature map");
    count = r.dims[i] == 0 ? 0 : (count > kMaxTensorElements ? count : count * r.dims[i]);
  }
  if (count > kMaxTensorElements) fail(w, "dim", "tensor has more than 2^31 elements");
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
  w.box = "HEVC";
  if (!r.hevc) fail(w, "", "missing");
  const auto& h = *r.hevc;
  check_range(w, "coded_bit_depth", h.coded_bit_depth, quant_bit_depth(r), kMaxBits);
  check_range(w, "qp", h.qp, -6 * (h.coded_bit_depth - 8), 51);
  if (h.payload.empty()) fail(w, "hevc_payload", "is empty");
}

void validate_vector(Where w, const TensorRecord& r) {
  if (r.log_quant || r.minmax_quant || r.pack || r.hevc)
    fail(w, "", "a feature vector carries no QLOG, QMMX, PACK or HEVC box");
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

void validate_record(const Where& w, const TensorRecord& r) {
  validate_header(w, r);
  if (r.kind == FeatureKind::kMap) validate_map(w, r);
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
  std::vector<std::string> seen;
  for (const auto& a : r.unknown_ancillary) {
    Where h = w;
    h.box = a.type;
    if (a.type.size() != 4 || !std::all_of(a.type.begin(), a.type.end(), valid_type_char) || !(a.type[0] >= 'a' && a.type[0] <= 'z'))
      fail(h, "box_type", "an unknown box must be ancillary (four letters, the first lower case)");
    if (a.type == "hash" || a.type == "info") fail(h, "box_type", "is a known box");
    if (std::find(seen.begin(), seen.end(), a.type) != seen.end()) fail(h, "", "appears twice");
    seen.push_back(a.type);
  }
}

void validate_stream(const Stream& s, const std::vector<std::size_t>* offsets) {
  Where w;
  if (s.version_major != kVersionMajor) fail(w, "version_major", str(s.version_major) + ", expected 1");
  if (s.tensors.empty()) fail(w, "", "a stream holds at least one tensor");
  if (s.tensors.size() > kMaxTensors) fail(w, "", "more than 65535 tensors");
  std::vector<std::string> names;
  for (std::size_t t = 0; t < s.tensors.size(); ++t) {
    w.tensor = t;
    w.tensor_name = s.tensors[t].name;
    w.box = "";
    if (offsets) w.record_offset = (*offsets)[t];
    if (std::find(names.begin(), names.end(), s.tensors[t].name) != names.end())
      fail(w, "name", "repeats the name of an earlier tensor");
    names.push_back(s.tensors[t].name);
    validate_record(w, s.tensors[t]);
  }
}

// ------------------------------------------------------------------ writing

class Writer {
 public:
  void u8(std::uint32_t v) { out_.push_back(static_cast<std::uint8_t>(v)); }
  void u16(std::uint32_t v) { u8(v & 0xff), u8(v >> 8); }
  void u32(std::uint32_t v) { u16(v & 0xffff), u16(v >> 16); }
  void f32(float v) {
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    u32(b);
  }
  void bytes(const std::uint8_t* p, std::size_t n) { out_.insert(out_.end(), p, p + n); }
  // Box size is patched once the payload is written.
  std::size_t begin_box(std::uint32_t type) {
    const std::size_t at = out_.size();
    u32(0);
    u32(type);
    return at;
  }
  void end_box(std::size_t at) {
    const std::size_t size = out_.size() - at - 8;
    if (size > 0xffffffffu) throw BitstreamError("box payload exceeds 4 GiB");
    for (int i = 0; i < 4; ++i) out_[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (8 * i));
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  std::vector<std::uint8_t> out_;
};

void write_record(Writer& w, const TensorRecord& r) {
  auto box = w.begin_box(kTens);
  w.u16(static_cast<std::uint32_t>(r.name.size()));
  w.bytes(reinterpret_cast<const std::uint8_t*>(r.name.data()), r.name.size());
  w.u8(static_cast<std::uint32_t>(r.kind));
  w.u8(static_cast<std::uint32_t>(r.source_dtype));
  w.u8(static_cast<std::uint32_t>(r.dims.size()));
  for (auto d : r.dims) w.u32(d);
  w.end_box(box);
  if (r.log_quant) {
    box = w.begin_box(kQlog);
    w.u8(r.log_quant->bit_depth);
    w.u8(r.log_quant->nonnegative);
    w.f32(r.log_quant->offset);
    w.f32(r.log_quant->max_log);
    w.end_box(box);
  }
  if (r.minmax_quant) {
    box = w.begin_box(kQmmx);
    w.u8(r.minmax_quant->bit_depth);
    w.u8(r.minmax_quant->channel_axis);
    w.u32(static_cast<std::uint32_t>(r.minmax_quant->lo.size()));
    for (std::size_t i = 0; i < r.minmax_quant->lo.size(); ++i) {
      w.f32(r.minmax_quant->lo[i]);
      w.f32(r.minmax_quant->hi[i]);
    }
    w.end_box(box);
  }
  if (r.pack) {
    box = w.begin_box(kPack);
    w.u8(static_cast<std::uint32_t>(r.pack->mode));
    w.u32(r.pack->grid_rows);
    w.u32(r.pack->grid_cols);
    w.u8(!r.pack->permutation.empty());
    for (auto k : r.pack->permutation) w.u32(k);
    w.end_box(box);
  }
  if (r.hevc) {
    box = w.begin_box(kHevc);
    w.u8(r.hevc->coded_bit_depth);
    w.u8(static_cast<std::uint8_t>(r.hevc->qp));
    w.u8(r.hevc->encoder_id);
    w.bytes(r.hevc->payload.data(), r.hevc->payload.size());
    w.end_box(box);
  }
  if (r.scalar_quant) {
    box = w.begin_box(kQscl);
    w.u8(static_cast<std::uint8_t>(r.scalar_quant->qp));
    w.u8(r.scalar_quant->reconstruction);
    w.u8(r.scalar_quant->normalization);
    if (r.scalar_quant->normalization == 2) w.f32(r.scalar_quant->scale);
    w.end_box(box);
  }
  if (r.norms) {
    box = w.begin_box(kNorm);
    for (float v : *r.norms) w.f32(v);
    w.end_box(box);
  }
  if (r.cabac) {
    box = w.begin_box(kCabc);
    w.bytes(r.cabac->data(), r.cabac->size());
    w.end_box(box);
  }
  if (r.hash) {
    box = w.begin_box(kHash);
    w.u8(r.hash->hash_type);
    w.bytes(r.hash->codes_md5.data(), 16);
    w.bytes(r.hash->features_md5.data(), 16);
    w.end_box(box);
  }
  if (r.info) {
    box = w.begin_box(kInfo);
    w.bytes(reinterpret_cast<const std::uint8_t*>(r.info->data()), r.info->size());
    w.end_box(box);
  }
  for (const auto& a : r.unknown_ancillary) {
    std::uint32_t t = 0;
    for (int i = 0; i < 4; ++i) t |= static_cast<std::uint32_t>(static_cast<unsigned char>(a.type[static_cast<std::size_t>(i)])) << (8 * i);
    box = w.begin_box(t);
    w.bytes(a.data.data(), a.data.size());
    w.end_box(box);
  }
}

// ------------------------------------------------------------------ parsing

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
  if (kind > 1) in.error("feature_kind", str(kind) + " outside [0, 1]");
  r.kind = static_cast<FeatureKind>(kind);
  const std::uint32_t dtype = in.u8("source_dtype");
  if (dtype > 2) in.error("source_dtype", str(dtype) + " outside [0, 2]");
  r.source_dtype = static_cast<SourceDtype>(dtype);
  const std::uint32_t nd = in.u8("num_dims");
  if (nd != (kind == 0 ? 4u : 2u)) in.error("num_dims", str(nd) + ", expected " + (kind == 0 ? "4" : "2"));
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
    if (t == kHevc) return 3;
  } else {
    if (t == kQscl) return 1;
    if (t == kNorm) return 2;
    if (t == kCabc) return 3;
  }
  return -1;
}

}  // namespace

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

void validate(const Stream& stream) { validate_stream(stream, nullptr); }

std::vector<std::uint8_t> write_stream(const Stream& stream) {
  validate(stream);
  Writer w;
  w.bytes(kMagic, 4);
  w.u8(stream.version_major);
  w.u8(stream.version_minor);
  w.u16(0);
  for (const auto& r : stream.tensors) write_record(w, r);
  w.end_box(w.begin_box(kFend));
  return w.take();
}

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
  std::vector<std::uint32_t> seen_ancillary;
  while (in.left() > 0) {
    in.set_box(kBoxHeader);
    const std::size_t box_at = in.pos();
    const std::uint32_t box_size = in.u32("box_size");
    const std::string name = in.fourcc_text("box_type");
    if (!std::all_of(name.begin(), name.end(), valid_type_char)) in.error("box_type", "bytes are not a four-letter box type");
    std::uint32_t type = 0;
    for (int i = 0; i < 4; ++i) type |= static_cast<std::uint32_t>(static_cast<unsigned char>(name[static_cast<std::size_t>(i)])) << (8 * i);
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
        if (std::find(seen_ancillary.begin(), seen_ancillary.end(), type) != seen_ancillary.end()) in.error("", "appears twice in one record");
        seen_ancillary.push_back(type);
        if (type == kHash) parse_hash(in, r);
        else if (type == kInfo) {
          const auto text = in.bytes("text", in.left());
          r.info = std::string(text.begin(), text.end());
        } else r.unknown_ancillary.push_back({name, in.bytes("data", in.left())});
      } else {
        const int rank = critical_rank(type, r.kind);
        if (rank < 0) in.error("box_type", "unknown or misplaced critical box for a " + std::string(r.kind == FeatureKind::kMap ? "feature map" : "feature vector"));
        if (rank <= last_rank) in.error("box_type", "out of order or repeated");
        last_rank = rank;
        if (type == kQlog) parse_qlog(in, r);
        else if (type == kQmmx) parse_qmmx(in, r);
        else if (type == kPack) parse_pack(in, r);
        else if (type == kHevc) parse_hevc(in, r);
        else if (type == kQscl) parse_qscl(in, r);
        else if (type == kNorm) parse_norm(in, r);
        else if (type == kCabc) r.cabac = in.bytes("level_payload", in.left());
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
