// The .ftm container: round trips, exact layout, and rejection of every
// kind of malformed stream without reading out of bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bitstream_helpers.hpp"
#include "ftm/bitstream.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using namespace ftm_test;  // NOLINT: the shared helpers of bitstream_helpers.hpp

ftm::TensorRecord map_record(const std::string& name = "features") {
  ftm::TensorRecord r;
  r.name = name;
  r.kind = ftm::FeatureKind::kMap;
  r.dims = {1, 3, 5, 6};
  r.log_quant = ftm::LogQuantBox{8, false, -0.5f, 2.25f};
  ftm::PackBox p;
  p.mode = ftm::PackMode::kTiled;
  p.grid_rows = 2;
  p.grid_cols = 2;
  p.permutation = {2, 0, 1};
  r.pack = p;
  ftm::HevcBox h;
  h.coded_bit_depth = 10;
  h.qp = 22;
  h.encoder_id = 0;
  h.payload = {0, 0, 0, 1, 0x40, 0x01, 0x0c};
  r.hevc = h;
  ftm::HashBox hash;
  hash.codes_md5.fill(0xab);
  hash.features_md5.fill(0xcd);
  r.hash = hash;
  r.info = "encoder=test";
  return r;
}

ftm::TensorRecord vector_record(std::uint32_t n = 3, std::uint32_t d = 4) {
  ftm::TensorRecord r;
  r.name = "embeddings";
  r.kind = ftm::FeatureKind::kVector;
  r.source_dtype = ftm::SourceDtype::kFloat64;
  r.dims = {n, d};
  r.scalar_quant = ftm::ScalarQuantBox{-12, 1, 1, 1.0f};
  r.norms = std::vector<float>(n, 2.5f);
  r.cabac = Bytes{1, 2, 3};
  return r;
}

Bytes sample_stream() {
  ftm::Stream s;
  s.tensors = {map_record(), vector_record()};
  return ftm::write_stream(s);
}

TEST(Bitstream, RoundTripsEveryField) {
  const Bytes bytes = sample_stream();
  const ftm::Stream s = ftm::parse_stream(bytes.data(), bytes.size());
  ASSERT_EQ(s.tensors.size(), 2u);
  const auto& m = s.tensors[0];
  EXPECT_EQ(m.name, "features");
  EXPECT_EQ(m.dims, (std::vector<std::uint32_t>{1, 3, 5, 6}));
  EXPECT_EQ(m.log_quant->offset, -0.5f);
  EXPECT_EQ(m.log_quant->max_log, 2.25f);
  EXPECT_EQ(m.pack->mode, ftm::PackMode::kTiled);
  EXPECT_EQ(m.pack->permutation, (std::vector<std::uint32_t>{2, 0, 1}));
  EXPECT_EQ(m.hevc->qp, 22);
  EXPECT_EQ(m.hevc->payload, (Bytes{0, 0, 0, 1, 0x40, 0x01, 0x0c}));
  EXPECT_EQ(m.hash->codes_md5[3], 0xab);
  EXPECT_EQ(*m.info, "encoder=test");
  const auto g = m.geometry();
  EXPECT_EQ(g.frames, 1u);
  EXPECT_EQ(g.frame_h, 16u);
  EXPECT_EQ(g.frame_w, 16u);
  const auto& v = s.tensors[1];
  EXPECT_EQ(v.kind, ftm::FeatureKind::kVector);
  EXPECT_EQ(v.scalar_quant->qp, -12);
  EXPECT_EQ(v.norms->size(), 3u);
  EXPECT_EQ(*v.cabac, (Bytes{1, 2, 3}));
  EXPECT_EQ(ftm::write_stream(s), bytes);
}

TEST(Bitstream, LayoutIsExactlyAsSpecified) {
  ftm::Stream s;
  ftm::TensorRecord r = vector_record(0, 0);
  r.name = "v";
  r.scalar_quant = ftm::ScalarQuantBox{22, 0, 2, 0.5f};
  r.norms.reset();
  r.cabac = Bytes{};
  s.tensors = {r};
  const Bytes want = {
      0x46, 0x54, 0x4D, 0x1A, 1, 0, 0, 0,                 // magic, version 1.0, reserved
      14, 0, 0, 0, 'T', 'E', 'N', 'S', 1, 0, 'v',         // TENS: name "v"
      1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0,                    // vector, float64, 2 dims: 0 x 0
      7, 0, 0, 0, 'Q', 'S', 'C', 'L', 22, 0, 2,           // QSCL: qp 22, floor, scale
      0x00, 0x00, 0x00, 0x3f,                             // scale 0.5f
      0, 0, 0, 0, 'C', 'A', 'B', 'C',                     // empty CABC
      0, 0, 0, 0, 'F', 'E', 'N', 'D'};                    // end
  EXPECT_EQ(ftm::write_stream(s), want);
  EXPECT_EQ(ftm::parse_stream(want.data(), want.size()).tensors[0].scalar_quant->scale, 0.5f);
}

TEST(Bitstream, EveryTruncationIsAnError) {
  const Bytes bytes = sample_stream();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Bytes cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(ftm::parse_stream(cut.data(), cut.size()), ftm::BitstreamError) << "length " << n;
  }
}

TEST(Bitstream, BitFlipsNeverCrash) {
  const Bytes bytes = sample_stream();
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = bytes;
      b[i] ^= static_cast<std::uint8_t>(1u << bit);
      try {
        ftm::parse_stream(b.data(), b.size());  // a flip inside a payload or float may stay valid
      } catch (const ftm::BitstreamError&) {
        ++rejected;
      }
    }
  EXPECT_GT(rejected, bytes.size() * 4);  // most flips hit structure and are caught
}

TEST(Bitstream, RandomBytesAreRejected) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    Bytes b(rng() % 200);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (trial % 2 && b.size() >= 8) b[0] = 0x46, b[1] = 0x54, b[2] = 0x4D, b[3] = 0x1A, b[4] = 1, b[6] = b[7] = 0;
    EXPECT_THROW(ftm::parse_stream(b.data(), b.size()), ftm::BitstreamError);
  }
}

TEST(Bitstream, NamesWhatIsWrong) {
  Bytes b = sample_stream();
  Bytes bad = b;
  bad[0] = 'G';
  EXPECT_NE(parse_error(bad).find("not an FTM stream"), std::string::npos);
  bad = b;
  bad[4] = 2;
  EXPECT_NE(parse_error(bad).find("unsupported version 2"), std::string::npos);
  bad = b;
  bad.push_back(0);
  EXPECT_NE(parse_error(bad).find("FEND must be the last box"), std::string::npos);
  bad = b;
  bad.resize(b.size() - 8);  // a whole record boundary: only the end box tells
  EXPECT_NE(parse_error(bad).find("FEND"), std::string::npos);
  // A box_size that claims more than the stream holds.
  bad = b;
  bad[8] = 0xff;
  EXPECT_NE(parse_error(bad).find("exceeds"), std::string::npos);
}

Bytes with_records(std::vector<ftm::TensorRecord> records) {
  // Written without validation by patching after a valid write is awkward;
  // instead validate() is exercised directly on the structures.
  ftm::Stream s;
  s.tensors = std::move(records);
  return ftm::write_stream(s);
}

std::string validate_error(std::vector<ftm::TensorRecord> records) {
  try {
    with_records(std::move(records));
  } catch (const ftm::BitstreamError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Bitstream, ChecksEveryConstraint) {
  auto r = map_record();
  r.log_quant->bit_depth = 7;
  EXPECT_NE(validate_error({r}).find("QLOG, bit_depth: 7 outside [8, 16]"), std::string::npos);
  r = map_record();
  r.hevc->coded_bit_depth = 8;  // below the quantizer's 8? equal is fine; use 10-bit codes
  r.log_quant->bit_depth = 10;
  EXPECT_NE(validate_error({r}).find("coded_bit_depth"), std::string::npos);
  r = map_record();
  r.hevc->qp = 52;
  EXPECT_NE(validate_error({r}).find("qp: 52 outside [-12, 51]"), std::string::npos);
  r = map_record();
  r.pack->grid_rows = 3;
  EXPECT_NE(validate_error({r}).find("not a valid grid"), std::string::npos);
  r = map_record();
  r.pack->permutation = {0, 1, 2};
  EXPECT_NE(validate_error({r}).find("identity"), std::string::npos);
  r = map_record();
  r.pack->permutation = {0, 0, 1};
  EXPECT_NE(validate_error({r}).find("channel_index[1]"), std::string::npos);
  r = map_record();
  r.minmax_quant = ftm::MinMaxQuantBox{8, ftm::kNoChannelAxis, {0.0f}, {1.0f}};
  EXPECT_NE(validate_error({r}).find("exactly one of QLOG and QMMX"), std::string::npos);
  r = map_record();
  r.log_quant.reset();
  r.minmax_quant = ftm::MinMaxQuantBox{8, 1, {0.0f, 0.0f}, {1.0f, 1.0f}};
  EXPECT_NE(validate_error({r}).find("num_ranges: 2, expected 3"), std::string::npos);
  r.minmax_quant = ftm::MinMaxQuantBox{8, 1, {0.0f, 2.0f, 0.0f}, {1.0f, 1.0f, 1.0f}};
  EXPECT_NE(validate_error({r}).find("range[1]"), std::string::npos);
  r = map_record();
  r.dims = {1, 3, 0, 6};
  EXPECT_NE(validate_error({r}).find("dim[2]"), std::string::npos);
  r = map_record();
  r.hevc->payload.clear();
  EXPECT_NE(validate_error({r}).find("empty"), std::string::npos);
  auto v = vector_record();
  v.norms.reset();
  EXPECT_NE(validate_error({v}).find("NORM"), std::string::npos);
  v = vector_record();
  v.scalar_quant->qp = 64;
  EXPECT_NE(validate_error({v}).find("qp: 64 outside [-48, 63]"), std::string::npos);
  v = vector_record();
  (*v.norms)[1] = -1.0f;
  EXPECT_NE(validate_error({v}).find("norm[1]"), std::string::npos);
  EXPECT_NE(validate_error({map_record("a"), map_record("a")}).find("repeats the name"), std::string::npos);
  EXPECT_NE(validate_error({}).find("at least one tensor"), std::string::npos);
  r = map_record();
  r.unknown_ancillary.push_back({"XTRA", {}});
  EXPECT_NE(validate_error({r}).find("must be ancillary"), std::string::npos);
}

// Inserts a raw box before the end box of a valid stream.
Bytes append_box(Bytes b, const char* type, const Bytes& payload) {
  Bytes box;
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) box.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  for (int i = 0; i < 4; ++i) box.push_back(static_cast<std::uint8_t>(type[i]));
  box.insert(box.end(), payload.begin(), payload.end());
  b.insert(b.end() - 8, box.begin(), box.end());
  return b;
}

ftm::TensorRecord video_record(ftm::VideoCodec codec, ftm::ChromaFormat chroma) {
  auto r = map_record();
  r.hevc.reset();
  ftm::VideoBox v;
  v.codec_id = codec;
  v.chroma_format_idc = chroma;
  v.coded_bit_depth = 10;
  v.qp = 60;
  v.encoder_id = 3;
  v.payload = {0, 0, 1, 0xb0, 0x20};
  r.video = v;
  return r;
}

TEST(Bitstream, VideoBoxRoundTripsAndIsLaidOutAsSpecified) {
  ftm::Stream s;
  s.tensors = {video_record(ftm::VideoCodec::kAvs2, ftm::ChromaFormat::k420)};
  const Bytes b = ftm::write_stream(s);
  const ftm::Stream back = ftm::parse_stream(b.data(), b.size());
  const auto& v = *back.tensors[0].video;
  EXPECT_FALSE(back.tensors[0].hevc.has_value());
  EXPECT_EQ(v.codec_id, ftm::VideoCodec::kAvs2);
  EXPECT_EQ(v.chroma_format_idc, ftm::ChromaFormat::k420);
  EXPECT_EQ(v.qp, 60);
  EXPECT_EQ(v.payload, (Bytes{0, 0, 1, 0xb0, 0x20}));
  EXPECT_EQ(ftm::write_stream(back), b);
  // box_size 10, 'VIDC', codec_id, chroma_format_idc, coded_bit_depth, qp, encoder_id, payload
  const Bytes box = {10, 0, 0, 0, 'V', 'I', 'D', 'C', 2, 1, 10, 60, 3, 0, 0, 1, 0xb0, 0x20};
  EXPECT_NE(std::search(b.begin(), b.end(), box.begin(), box.end()), b.end());
}

TEST(Bitstream, VideoBoxConstraints) {
  using C = ftm::VideoCodec;
  using F = ftm::ChromaFormat;
  EXPECT_EQ(validate_error({video_record(C::kVvc, F::k400)}), "no error");
  auto hevc420 = video_record(C::kHevc, F::k420);
  hevc420.video->qp = 22;
  EXPECT_EQ(validate_error({hevc420}), "no error");
  EXPECT_NE(validate_error({video_record(C::kHevc, F::k400)}).find("carried in an HEVC box"), std::string::npos);
  EXPECT_NE(validate_error({video_record(C::kAvs2, F::k400)}).find("4:2:0 pictures only"), std::string::npos);
  EXPECT_NE(validate_error({video_record(static_cast<C>(3), F::k400)}).find("codec_id: 3 outside [0, 2]"),
            std::string::npos);
  EXPECT_NE(validate_error({video_record(C::kVvc, static_cast<F>(2))}).find("chroma_format_idc: 2 outside [0, 1]"),
            std::string::npos);
  auto r = video_record(C::kVvc, F::k400);
  r.video->qp = 64;
  EXPECT_NE(validate_error({r}).find("VIDC, qp: 64 outside [-12, 63]"), std::string::npos);
  r = video_record(C::kHevc, F::k420);
  EXPECT_NE(validate_error({r}).find("qp: 60 outside [-12, 51]"), std::string::npos);
  r = video_record(C::kAvs2, F::k420);
  r.video->qp = 80;
  EXPECT_NE(validate_error({r}).find("qp: 80 outside [0, 79]"), std::string::npos);
  r.video->qp = 20;
  r.video->coded_bit_depth = 12;
  EXPECT_NE(validate_error({r}).find("coded_bit_depth: 12 outside [8, 10]"), std::string::npos);
  r = video_record(C::kVvc, F::k400);
  r.video->payload.clear();
  EXPECT_NE(validate_error({r}).find("video_payload: is empty"), std::string::npos);
  r = video_record(C::kVvc, F::k400);
  r.hevc = map_record().hevc;
  EXPECT_NE(validate_error({r}).find("one payload box"), std::string::npos);
  r = map_record();
  r.hevc.reset();
  EXPECT_NE(validate_error({r}).find("HEVC: missing"), std::string::npos);
  auto v = vector_record();
  v.video = video_record(C::kVvc, F::k400).video;
  EXPECT_NE(validate_error({v}).find("VIDC box"), std::string::npos);
}

TEST(Bitstream, VideoBoxIsParsedWithBoundsChecks) {
  ftm::Stream s;
  s.tensors = {video_record(ftm::VideoCodec::kVvc, ftm::ChromaFormat::k400)};
  Bytes b = ftm::write_stream(s);
  const std::string vidc = "VIDC";
  auto at = std::search(b.begin(), b.end(), vidc.begin(), vidc.end()) - b.begin();
  for (std::uint8_t size : {0, 3, 4, 5}) {  // cut before each field and before the payload
    Bytes cut = b;
    cut[static_cast<std::size_t>(at) - 4] = size;
    cut.erase(cut.begin() + at + 4 + size, cut.begin() + at + 4 + 10);
    EXPECT_NE(parse_error(cut), "no error") << int(size);
  }
  Bytes bad = b;
  bad[static_cast<std::size_t>(at) + 4] = 7;  // codec_id
  EXPECT_NE(parse_error(bad).find("codec_id: 7 outside [0, 2]"), std::string::npos);
  // a second payload box after the first is out of order
  EXPECT_NE(parse_error(append_box(b, "VIDC", {1, 0, 10, 0, 0, 1})).find("out of order or repeated"), std::string::npos);
}

TEST(Bitstream, TextMustBeUtf8) {
  auto r = map_record("caf\xc3\xa9");  // "café": valid
  EXPECT_EQ(validate_error({r}), "no error");
  for (const char* bad : {"\x80", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    r = map_record(bad);
    EXPECT_NE(validate_error({r}).find("name: is not valid UTF-8"), std::string::npos) << bad;
  }
  r = map_record();
  r.info = "\xff";
  EXPECT_NE(validate_error({r}).find("info"), std::string::npos);
}

TEST(Bitstream, EmptyVectorSetsAreValid) {
  ftm::Stream s;
  s.tensors = {vector_record(0, 128)};
  const Bytes b = ftm::write_stream(s);
  EXPECT_EQ(ftm::parse_stream(b.data(), b.size()).tensors[0].dims[0], 0u);
}

TEST(Bitstream, AncillaryBoxesAreSkippedAndCriticalOnesRejected) {
  const Bytes b = sample_stream();
  const Bytes with_ancillary = append_box(b, "zzzz", {1, 2, 3});
  const auto s = ftm::parse_stream(with_ancillary.data(), with_ancillary.size());
  ASSERT_EQ(s.tensors[1].unknown_ancillary.size(), 1u);
  EXPECT_EQ(s.tensors[1].unknown_ancillary[0].type, "zzzz");
  EXPECT_NE(parse_error(append_box(b, "ZZZZ", {})).find("unknown or misplaced critical box"), std::string::npos);
  EXPECT_NE(parse_error(append_box(b, "CABC", {})).find("out of order or repeated"), std::string::npos);
  EXPECT_NE(parse_error(append_box(with_ancillary, "zzzz", {})).find("appears twice"), std::string::npos);
  EXPECT_NE(parse_error(append_box(b, "ab\x01z", {})).find("four-letter"), std::string::npos);
}

TEST(Bitstream, TraceListsEverySyntaxElement) {
  const Bytes b = sample_stream();
  std::vector<ftm::SyntaxElement> trace;
  ftm::parse_stream(b.data(), b.size(), &trace);
  auto has = [&](const std::string& box, const std::string& name) {
    for (const auto& e : trace)
      if (e.box == box && e.name == name) return true;
    return false;
  };
  for (const char* name : {"magic", "version_major", "version_minor", "reserved_zero_16bits"}) EXPECT_TRUE(has("stream header", name)) << name;
  for (const char* name : {"name_length", "name", "feature_kind", "source_dtype", "num_dims", "dim"}) EXPECT_TRUE(has("TENS", name)) << name;
  for (const char* name : {"bit_depth", "nonnegative_flag", "offset", "max_log"}) EXPECT_TRUE(has("QLOG", name)) << name;
  for (const char* name : {"pack_mode", "grid_rows", "grid_cols", "permutation_flag", "channel_index"}) EXPECT_TRUE(has("PACK", name)) << name;
  for (const char* name : {"coded_bit_depth", "qp", "encoder_id", "hevc_payload"}) EXPECT_TRUE(has("HEVC", name)) << name;
  ftm::Stream video;
  video.tensors = {video_record(ftm::VideoCodec::kVvc, ftm::ChromaFormat::k400)};
  const Bytes vb = ftm::write_stream(video);
  ftm::parse_stream(vb.data(), vb.size(), &trace);
  for (const char* name : {"codec_id", "chroma_format_idc", "coded_bit_depth", "qp", "encoder_id", "video_payload"})
    EXPECT_TRUE(has("VIDC", name)) << name;
  for (const char* name : {"qp", "reconstruction", "normalization"}) EXPECT_TRUE(has("QSCL", name)) << name;
  EXPECT_TRUE(has("NORM", "norm"));
  EXPECT_TRUE(has("CABC", "level_payload"));
  EXPECT_TRUE(has("hash", "codes_md5"));
  EXPECT_TRUE(has("info", "text"));
}

}  // namespace
