// Learned records of the .ftm container (seed 001's codecs): round trips of
// the LMOD, LATN and PQCD boxes (seed 001; DMOFC of seed 000), their exact layout, and the rejection of
// every broken constraint.
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

ftm::TensorRecord learned_record(ftm::LearnedMethod method, std::uint32_t n = 3, std::uint32_t d = 8) {
  ftm::TensorRecord r;
  r.name = "embeddings";
  r.kind = ftm::FeatureKind::kLearned;
  r.dims = {n, d};
  ftm::LearnedModelBox m;
  for (std::size_t i = 0; i < 32; ++i) m.model_sha256[i] = static_cast<std::uint8_t>(i);
  m.method = method;
  r.learned_model = m;
  switch (method) {
    case ftm::LearnedMethod::kSqEnhanced:
      r.scalar_quant = ftm::ScalarQuantBox{30, 0, 2, 0.5f};
      r.cabac = Bytes{0x59, 0x60, 1, 2, 3, 4};
      break;
    case ftm::LearnedMethod::kPro:
    case ftm::LearnedMethod::kProEnhanced:
      r.latent = ftm::LatentBox{5, 20.0f};
      r.cabac = Bytes{0x59, 0x60, 1, 2, 3, 4};
      break;
    case ftm::LearnedMethod::kDmofc: {  // fixed-length 8-bit latent: K = 5 bytes a vector
      ftm::ProductCodesBox p;
      p.num_subquantizers = 5;
      p.code_bits = 8;
      p.codes = Bytes(static_cast<std::size_t>(n) * 5, 0x80);
      r.product_codes = p;
      break;
    }
    case ftm::LearnedMethod::kPq:
    case ftm::LearnedMethod::kOpq: {
      ftm::ProductCodesBox p;
      p.num_subquantizers = 2;
      p.code_bits = 3;                       // 3 * 2 * 3 = 18 bits: 3 bytes, 6 padding bits
      p.codes = Bytes{0xde, 0xad, 0xc0};
      r.product_codes = p;
      break;
    }
  }
  return r;
}

TEST(LearnedRecord, EveryMethodRoundTrips) {
  for (auto method : {ftm::LearnedMethod::kSqEnhanced, ftm::LearnedMethod::kPro, ftm::LearnedMethod::kProEnhanced,
                      ftm::LearnedMethod::kPq, ftm::LearnedMethod::kOpq, ftm::LearnedMethod::kDmofc}) {
    const auto r = learned_record(method);
    const Bytes b = write_one(r);
    const auto s = ftm::parse_stream(b.data(), b.size());
    ASSERT_EQ(s.tensors.size(), 1u);
    const auto& p = s.tensors[0];
    EXPECT_EQ(p.kind, ftm::FeatureKind::kLearned);
    EXPECT_EQ(p.learned_model->method, method);
    EXPECT_EQ(p.learned_model->model_sha256, r.learned_model->model_sha256);
    EXPECT_EQ(p.latent.has_value(), r.latent.has_value());
    if (r.latent) {
      EXPECT_EQ(p.latent->latent_dims, 5u);
      EXPECT_EQ(p.latent->r_clip, 20.0f);
    }
    if (r.product_codes) {
      EXPECT_EQ(p.product_codes->codes, r.product_codes->codes);
    }
    if (r.scalar_quant) {
      EXPECT_EQ(p.scalar_quant->scale, 0.5f);
    }
    EXPECT_EQ(ftm::write_stream(s), b);
  }
}

TEST(LearnedRecord, LayoutIsExactlyAsSpecified) {
  const Bytes b = write_one(learned_record(ftm::LearnedMethod::kPro));
  const std::size_t lmod = find_box(b, "LMOD"), latn = find_box(b, "LATN");
  ASSERT_LT(lmod, latn);
  EXPECT_EQ(b[lmod], 33);  // box_size: 32-byte digest and the method
  EXPECT_EQ(b[lmod + 8 + 31], 31);
  EXPECT_EQ(b[lmod + 8 + 32], 1);  // method 1: PRO
  EXPECT_EQ(latn, lmod + 8 + 33);
  EXPECT_EQ(b[latn], 8);
  EXPECT_EQ(b[latn + 8], 5);  // latent_dims, u(32) little-endian
  float clip;
  std::memcpy(&clip, b.data() + latn + 12, 4);
  EXPECT_EQ(clip, 20.0f);
  const Bytes q = write_one(learned_record(ftm::LearnedMethod::kOpq));
  const std::size_t pqcd = find_box(q, "PQCD");
  EXPECT_EQ(q[pqcd], 5 + 3);
  EXPECT_EQ(q[pqcd + 8], 2);       // num_subquantizers
  EXPECT_EQ(q[pqcd + 12], 3);      // code_bits
  EXPECT_EQ(q[pqcd + 13], 0xde);   // the codes
}

TEST(LearnedRecord, ChecksEveryConstraint) {
  auto r = learned_record(ftm::LearnedMethod::kPro);
  r.learned_model.reset();
  EXPECT_NE(validate_error(r).find("box LMOD: missing"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPro);
  r.latent->r_clip = 0.0f;
  EXPECT_NE(validate_error(r).find("r_clip"), std::string::npos);
  r.latent->r_clip = 1e6f;
  EXPECT_NE(validate_error(r).find("outside (0, 32768]"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kProEnhanced);
  r.latent->latent_dims = 0;
  EXPECT_NE(validate_error(r).find("latent_dims"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPro);
  r.cabac.reset();
  EXPECT_NE(validate_error(r).find("box CABC: missing"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPro);
  r.scalar_quant = ftm::ScalarQuantBox{};
  EXPECT_NE(validate_error(r).find("carry no QSCL"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kSqEnhanced);
  r.latent = ftm::LatentBox{};
  EXPECT_NE(validate_error(r).find("SQ-E"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kSqEnhanced);
  r.scalar_quant->normalization = 1;
  EXPECT_NE(validate_error(r).find("box NORM"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPq);
  r.product_codes->num_subquantizers = 3;
  EXPECT_NE(validate_error(r).find("does not divide D = 8"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPq);
  r.product_codes->code_bits = 17;
  EXPECT_NE(validate_error(r).find("code_bits: 17 outside [1, 16]"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPq);
  r.product_codes->codes.push_back(0);
  EXPECT_NE(validate_error(r).find("4 bytes, expected 3"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPq);
  r.product_codes->codes.back() = 0xc1;
  EXPECT_NE(validate_error(r).find("padding bits"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kOpq);
  r.cabac = Bytes{1};
  EXPECT_NE(validate_error(r).find("carry no QSCL, NORM, LATN or CABC"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPro, 3, 0);
  EXPECT_NE(validate_error(r).find("dim[1]: must be >= 1"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kPro);
  r.learned_model->method = static_cast<ftm::LearnedMethod>(6);
  EXPECT_NE(validate_error(r).find("method: 6 outside [0, 5]"), std::string::npos);
}

TEST(LearnedRecord, DmofcCarriesAnEightBitLatentEitherWay) {
  auto r = learned_record(ftm::LearnedMethod::kDmofc);  // K = 5 does not divide D = 8: no matter for DMOFC
  EXPECT_EQ(validate_error(r), "no error");
  r.product_codes->code_bits = 4;
  r.product_codes->codes.resize(8);
  EXPECT_NE(validate_error(r).find("a DMOFC latent has 8-bit codes"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kDmofc);
  r.product_codes->codes.pop_back();
  EXPECT_NE(validate_error(r).find("14 bytes, expected 15"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kDmofc);  // entropy-coded: LATN (r_clip 128) and CABC
  r.product_codes.reset();
  r.latent = ftm::LatentBox{5, 128.0f};
  r.cabac = Bytes{0x59, 0x60, 1, 2, 3, 4};
  EXPECT_EQ(validate_error(r), "no error");
  const Bytes b = write_one(r);
  EXPECT_EQ(ftm::write_stream(ftm::parse_stream(b.data(), b.size())), b);
  r.latent->r_clip = 20.0f;
  EXPECT_NE(validate_error(r).find("an entropy-coded DMOFC latent has r_clip 128"), std::string::npos);
  r.latent->r_clip = 128.0f;
  r.product_codes = learned_record(ftm::LearnedMethod::kDmofc).product_codes;
  EXPECT_NE(validate_error(r).find("not both"), std::string::npos);
  r = learned_record(ftm::LearnedMethod::kDmofc);
  r.scalar_quant = ftm::ScalarQuantBox{};
  EXPECT_NE(validate_error(r).find("DMOFC) carries no QSCL"), std::string::npos);
}

TEST(LearnedRecord, OtherKindsCarryNoLearnedBox) {
  auto r = learned_record(ftm::LearnedMethod::kSqEnhanced);
  r.kind = ftm::FeatureKind::kVector;
  EXPECT_NE(validate_error(r).find("only a learned record carries LMOD"), std::string::npos);
}

TEST(LearnedRecord, EmptySetsAreValid) {
  auto r = learned_record(ftm::LearnedMethod::kPq, 0, 8);
  r.product_codes->codes.clear();
  EXPECT_EQ(validate_error(r), "no error");
}

TEST(LearnedRecord, ParsingRejectsBrokenBoxes) {
  const Bytes good = write_one(learned_record(ftm::LearnedMethod::kPro));
  Bytes bad = good;
  bad[find_box(good, "LMOD") + 8 + 32] = 9;
  EXPECT_NE(parse_error(bad).find("method: 9 outside [0, 5]"), std::string::npos);
  bad = good;
  std::memcpy(bad.data() + find_box(good, "LATN") + 4, "PQCD", 4);
  EXPECT_NE(parse_error(bad).find("carry no QSCL, NORM or PQCD"), std::string::npos);
  bad = good;
  std::memcpy(bad.data() + find_box(good, "LMOD") + 4, "LATX", 4);
  EXPECT_NE(parse_error(bad).find("unknown or misplaced critical box for a learned record"), std::string::npos);
  for (std::size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(ftm::parse_stream(cut.data(), cut.size()), ftm::BitstreamError) << "length " << n;
  }
}

}  // namespace
