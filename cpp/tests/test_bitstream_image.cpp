// Image records of the .ftm container (seed 003's texture): round trips of
// the TXTR box, its exact layout, and the rejection of every broken
// constraint (SPEC.md 3.16).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bitstream_helpers.hpp"
#include "ftm/bitstream.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using namespace ftm_test;  // NOLINT: the shared helpers of bitstream_helpers.hpp

ftm::TensorRecord image_record(std::uint32_t c = 3, std::uint32_t n = 2, std::uint32_t h = 5, std::uint32_t w = 7) {
  ftm::TensorRecord r;
  r.name = "image";
  r.kind = ftm::FeatureKind::kImage;
  r.source_dtype = ftm::SourceDtype::kUint8;
  r.dims = {n, c, h, w};
  ftm::TextureBox t;
  t.colour_transform = c == 3 ? 1 : 0;
  t.qp = 27;
  t.encoder_id = 1;
  t.payload = {0, 0, 0, 1, 0x40, 0x01, 0x0c};
  r.texture = t;
  return r;
}

ftm::TensorRecord vector_record() {
  ftm::TensorRecord r;
  r.name = "features";
  r.kind = ftm::FeatureKind::kVector;
  r.dims = {2, 4};
  r.scalar_quant = ftm::ScalarQuantBox{20, 0, 0, 1.0f};
  r.cabac = Bytes{1, 2, 3};
  return r;
}

// Inserts a box of `type` with `payload` before the box at `at`.
Bytes insert_box(const Bytes& b, std::size_t at, const char* type, const Bytes& payload) {
  Bytes box(8);
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::memcpy(box.data(), &size, 4);
  std::memcpy(box.data() + 4, type, 4);
  box.insert(box.end(), payload.begin(), payload.end());
  Bytes out = b;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), box.begin(), box.end());
  return out;
}

bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

TEST(ImageRecord, GreyAndColourRoundTrip) {
  for (std::uint32_t c : {1u, 3u}) {
    auto r = image_record(c);
    ftm::HashBox hash;
    hash.codes_md5.fill(0x5a);
    hash.features_md5.fill(0x5a);
    r.hash = hash;
    const Bytes b = write_one(r);
    const auto s = ftm::parse_stream(b.data(), b.size());
    ASSERT_EQ(s.tensors.size(), 1u);
    const auto& p = s.tensors[0];
    EXPECT_EQ(p.kind, ftm::FeatureKind::kImage);
    EXPECT_EQ(p.source_dtype, ftm::SourceDtype::kUint8);
    EXPECT_EQ(p.dims, r.dims);
    EXPECT_EQ(p.element_count(), 2u * c * 5 * 7);
    ASSERT_TRUE(p.texture.has_value());
    EXPECT_EQ(p.texture->colour_transform, c == 3 ? 1 : 0);
    EXPECT_EQ(p.texture->codec_id, ftm::VideoCodec::kHevc);
    EXPECT_EQ(p.texture->qp, 27);
    EXPECT_EQ(p.texture->encoder_id, 1);
    EXPECT_EQ(p.texture->payload, r.texture->payload);
    EXPECT_EQ(p.hash->codes_md5, hash.codes_md5);
    EXPECT_THROW((void)p.geometry(), ftm::BitstreamError);  // no frame packing: the image is its own geometry
    EXPECT_EQ(ftm::write_stream(s), b);
  }
}

TEST(ImageRecord, MixesWithOtherKinds) {
  ftm::Stream s;
  s.tensors = {image_record(1), vector_record(), image_record(3)};
  s.tensors[2].name = "image2";
  const Bytes b = ftm::write_stream(s);
  const auto p = ftm::parse_stream(b.data(), b.size());
  ASSERT_EQ(p.tensors.size(), 3u);
  EXPECT_EQ(p.tensors[0].kind, ftm::FeatureKind::kImage);
  EXPECT_EQ(p.tensors[1].kind, ftm::FeatureKind::kVector);
  EXPECT_FALSE(p.tensors[1].texture.has_value());
  EXPECT_EQ(p.tensors[2].texture->colour_transform, 1);
  EXPECT_EQ(ftm::write_stream(p), b);
}

TEST(ImageRecord, LayoutIsExactlyAsSpecified) {
  auto r = image_record(3);
  r.texture->qp = 0;
  r.texture->encoder_id = 255;
  const Bytes b = write_one(r);
  const std::size_t tens = find_box(b, "TENS"), txtr = find_box(b, "TXTR");
  ASSERT_LT(txtr, b.size());
  const std::size_t header = tens + 8 + 2 + 5;  // after name_length and "image"
  EXPECT_EQ(b[header], 3);      // feature_kind
  EXPECT_EQ(b[header + 1], 3);  // source_dtype
  EXPECT_EQ(b[header + 2], 4);  // num_dims
  EXPECT_EQ(b[header + 3 + 4], 3);  // dim[1] = C
  EXPECT_EQ(txtr, header + 3 + 16);
  EXPECT_EQ(b[txtr], 4 + 7);  // box_size
  EXPECT_EQ(b[txtr + 8], 1);      // colour_transform
  EXPECT_EQ(b[txtr + 9], 0);      // codec_id
  EXPECT_EQ(b[txtr + 10], 0);     // qp
  EXPECT_EQ(b[txtr + 11], 255);   // encoder_id
  EXPECT_EQ(b[txtr + 12 + 4], 0x40);  // the payload
}

TEST(ImageRecord, ChecksTheTexture) {
  EXPECT_EQ(validate_error(image_record(1)), "no error");
  EXPECT_EQ(validate_error(image_record(3, 1, 1, 1)), "no error");
  auto r = image_record(2);
  EXPECT_TRUE(has(validate_error(r), "dim[1]: C = 2: an image has 1 (grey) or 3 (RGB) channels")) << validate_error(r);
  r = image_record(4);
  EXPECT_TRUE(has(validate_error(r), "dim[1]: C = 4")) << validate_error(r);
  r = image_record(3);
  r.texture->colour_transform = 0;
  EXPECT_TRUE(has(validate_error(r), "box TXTR, colour_transform: 0 with C = 3")) << validate_error(r);
  r = image_record(1);
  r.texture->colour_transform = 1;
  EXPECT_TRUE(has(validate_error(r), "colour_transform: 1 with C = 1")) << validate_error(r);
  r = image_record(3);
  r.texture->colour_transform = 2;
  EXPECT_TRUE(has(validate_error(r), "colour_transform: 2 outside [0, 1]")) << validate_error(r);
  r = image_record(3);
  r.texture->codec_id = ftm::VideoCodec::kVvc;
  EXPECT_TRUE(has(validate_error(r), "codec_id: 1 outside [0, 0]")) << validate_error(r);
  r = image_record(3);
  r.texture->qp = 52;
  EXPECT_TRUE(has(validate_error(r), "qp: 52 outside [0, 51]")) << validate_error(r);
  r.texture->qp = -1;
  EXPECT_TRUE(has(validate_error(r), "qp: -1 outside [0, 51]")) << validate_error(r);
  r = image_record(3);
  r.texture->payload.clear();
  EXPECT_TRUE(has(validate_error(r), "texture_payload: is empty")) << validate_error(r);
  r = image_record(3);
  r.texture.reset();
  EXPECT_TRUE(has(validate_error(r), "box TXTR: missing")) << validate_error(r);
}

TEST(ImageRecord, ChecksTheHeader) {
  auto r = image_record(3);
  r.source_dtype = ftm::SourceDtype::kFloat32;
  EXPECT_TRUE(has(validate_error(r), "source_dtype: 1: an image record's source_dtype is 3 (uint8)")) << validate_error(r);
  auto v = vector_record();
  v.source_dtype = ftm::SourceDtype::kUint8;
  EXPECT_TRUE(has(validate_error(v), "source_dtype: 3 (uint8) is for image records (feature_kind 3) only")) << validate_error(v);
  r = image_record(3);
  r.source_dtype = static_cast<ftm::SourceDtype>(4);
  EXPECT_TRUE(has(validate_error(r), "source_dtype: 4 outside [0, 3]")) << validate_error(r);
  r = image_record(3);
  r.kind = static_cast<ftm::FeatureKind>(4);
  EXPECT_TRUE(has(validate_error(r), "feature_kind: 4 outside [0, 3]")) << validate_error(r);
  EXPECT_TRUE(has(validate_error(image_record(3, 0)), "dim[0]: must be >= 1 for an image"));
  EXPECT_TRUE(has(validate_error(image_record(3, 1, 0)), "dim[2]: must be >= 1 for an image"));
  EXPECT_TRUE(has(validate_error(image_record(1, 1, 4, 0)), "dim[3]: must be >= 1 for an image"));
  r = image_record(3);
  r.dims = {1, 3, 8};
  EXPECT_TRUE(has(validate_error(r), "num_dims: 3, expected 4")) << validate_error(r);
  EXPECT_TRUE(has(validate_error(image_record(3, 65536, 65536, 1)), "more than 2^31 elements"));
}

TEST(ImageRecord, CarriesNoForeignBox) {
  auto r = image_record(3);
  r.pack = ftm::PackBox{};
  EXPECT_TRUE(has(validate_error(r), "an image record carries no QLOG, QMMX, PACK, HEVC, VIDC, QSCL, NORM or CABC box"));
  r = image_record(3);
  r.cabac = Bytes{1};
  EXPECT_TRUE(has(validate_error(r), "an image record carries no"));
  r = image_record(3);
  r.hevc = ftm::HevcBox{};
  EXPECT_TRUE(has(validate_error(r), "an image record carries no"));
  r = image_record(3);
  r.latent = ftm::LatentBox{};
  EXPECT_TRUE(has(validate_error(r), "only a learned record carries LMOD"));
  auto v = vector_record();
  v.texture = image_record(3).texture;
  EXPECT_TRUE(has(validate_error(v), "only an image record carries a TXTR box")) << validate_error(v);
  ftm::TensorRecord m;  // a valid feature map, then a TXTR box in it
  m.name = "map";
  m.dims = {1, 2, 4, 4};
  m.log_quant = ftm::LogQuantBox{8, false, 0.0f, 1.0f};
  m.pack = ftm::PackBox{};
  m.hevc = ftm::HevcBox{8, 22, 0, Bytes{1}};
  EXPECT_EQ(validate_error(m), "no error");
  m.texture = image_record(3).texture;
  EXPECT_TRUE(has(validate_error(m), "only an image record carries a TXTR box")) << validate_error(m);
}

TEST(ImageRecord, ParsingRejectsBrokenBoxes) {
  const Bytes good = write_one(image_record(3));
  const std::size_t txtr = find_box(good, "TXTR");
  Bytes bad = good;
  bad[txtr + 8] = 7;
  EXPECT_TRUE(has(parse_error(bad), "box TXTR")) << parse_error(bad);
  EXPECT_TRUE(has(parse_error(bad), "colour_transform: 7 outside [0, 1]")) << parse_error(bad);
  bad = good;
  bad[txtr + 9] = 2;
  EXPECT_TRUE(has(parse_error(bad), "codec_id: 2 outside [0, 0]")) << parse_error(bad);
  EXPECT_TRUE(has(parse_error(insert_box(good, txtr, "PACK", Bytes(10, 0))), "unknown or misplaced critical box for an image record"));
  EXPECT_TRUE(has(parse_error(insert_box(good, txtr + 8 + 11, "CABC", Bytes{1})), "unknown or misplaced critical box for an image record"));
  EXPECT_TRUE(has(parse_error(insert_box(good, txtr + 8 + 11, "TXTR", Bytes{0, 0, 0, 0, 1})), "out of order or repeated"));
  const Bytes extra = insert_box(good, txtr + 8 + 11, "xtra", Bytes{1, 2});  // ancillary boxes as usual
  EXPECT_EQ(parse_error(extra), "no error");
  for (std::uint32_t size = 0; size < 4; ++size) {  // a box too short for its four header elements
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(txtr + 8 + size));
    std::memcpy(cut.data() + txtr, &size, 4);
    const Bytes end = {0, 0, 0, 0, 'F', 'E', 'N', 'D'};
    cut.insert(cut.end(), end.begin(), end.end());
    EXPECT_TRUE(has(parse_error(cut), "left in the box")) << size << ": " << parse_error(cut);
  }
  bad = good;
  bad[find_box(good, "TENS") + 8 + 2 + 5 + 1] = 1;  // source_dtype float32 in an image record
  EXPECT_TRUE(has(parse_error(bad), "an image record's source_dtype is 3")) << parse_error(bad);
  bad = good;
  bad[find_box(good, "TENS") + 8 + 2 + 5] = 4;  // feature_kind
  EXPECT_TRUE(has(parse_error(bad), "feature_kind: 4 outside [0, 3]")) << parse_error(bad);
  bad = good;
  bad[find_box(good, "TENS") + 8 + 2 + 5 + 1] = 4;
  EXPECT_TRUE(has(parse_error(bad), "source_dtype: 4 outside [0, 3]")) << parse_error(bad);
  bad = good;
  std::memcpy(bad.data() + txtr + 4, "VIDC", 4);
  EXPECT_TRUE(has(parse_error(bad), "unknown or misplaced critical box for an image record"));
  for (std::size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(ftm::parse_stream(cut.data(), cut.size()), ftm::BitstreamError) << "length " << n;
  }
}

TEST(ImageRecord, TxtrIsMisplacedInOtherKinds) {
  const Bytes b = write_one(vector_record());
  const Bytes bad = insert_box(b, find_box(b, "QSCL"), "TXTR", Bytes{0, 0, 0, 0, 1});
  EXPECT_TRUE(has(parse_error(bad), "unknown or misplaced critical box for a feature vector")) << parse_error(bad);
}

TEST(ImageRecord, TraceListsTheTexture) {
  const Bytes b = write_one(image_record(1));
  std::vector<ftm::SyntaxElement> trace;
  ftm::parse_stream(b.data(), b.size(), &trace);
  for (const char* name : {"colour_transform", "codec_id", "qp", "encoder_id", "texture_payload"}) {
    bool found = false;
    for (const auto& e : trace) found |= e.box == "TXTR" && e.name == name;
    EXPECT_TRUE(found) << name;
  }
}

}  // namespace
