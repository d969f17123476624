// The .ftm container: writing, parsing and checking the syntax of
// conformance/SPEC.md. Payloads (HEVC, VVC, AVS2, entropy-coded levels) are
// carried as opaque bytes; decoding them is the job of the codecs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftm/errors.hpp"
#include "ftm/pack.hpp"

namespace ftm {

// Errors are ftm::BitstreamError (errors.hpp); the message names the
// tensor, the box, the syntax element and, for parsed streams, the byte
// offset.

constexpr std::uint8_t kVersionMajor = 1;
constexpr std::uint8_t kVersionMinor = 0;
constexpr std::size_t kMaxTensors = 65535;
constexpr std::size_t kMaxNameLength = 255;
constexpr std::uint64_t kMaxTensorElements = std::uint64_t{1} << 31;
constexpr std::uint8_t kNoChannelAxis = 255;

// kImage: an image's samples coded as pictures (seed 003's texture), N x C x H x W uint8.
enum class FeatureKind : std::uint8_t { kMap = 0, kVector = 1, kLearned = 2, kImage = 3 };
// kUint8 is the source dtype of image records, and only of them.
enum class SourceDtype : std::uint8_t { kFloat16 = 0, kFloat32 = 1, kFloat64 = 2, kUint8 = 3 };

struct LogQuantBox {  // 'QLOG'
  std::uint8_t bit_depth = 8;
  bool nonnegative = false;
  float offset = 0.0f;
  float max_log = 0.0f;
};

struct MinMaxQuantBox {  // 'QMMX'
  std::uint8_t bit_depth = 8;
  std::uint8_t channel_axis = kNoChannelAxis;
  std::vector<float> lo, hi;
};

struct PackBox {  // 'PACK'
  PackMode mode = PackMode::kChannel;
  std::uint32_t grid_rows = 0, grid_cols = 0;
  std::vector<std::uint32_t> permutation;  // empty: identity
};

struct HevcBox {  // 'HEVC'
  std::uint8_t coded_bit_depth = 8;
  std::int8_t qp = 0;
  std::uint8_t encoder_id = 255;
  std::vector<std::uint8_t> payload;
};

// Codecs of a VIDC payload (SPEC.md 3.6); a 4:0:0 HEVC payload uses the HEVC box.
enum class VideoCodec : std::uint8_t { kHevc = 0, kVvc = 1, kAvs2 = 2 };
// Chroma format of a VIDC payload: 4:0:0, or 4:2:0 whose luma plane carries the frames.
enum class ChromaFormat : std::uint8_t { k400 = 0, k420 = 1 };

struct VideoBox {  // 'VIDC'
  VideoCodec codec_id = VideoCodec::kVvc;
  ChromaFormat chroma_format_idc = ChromaFormat::k400;
  std::uint8_t coded_bit_depth = 8;
  std::int8_t qp = 0;
  std::uint8_t encoder_id = 255;
  std::vector<std::uint8_t> payload;
};

// An image record's pictures (SPEC.md 3.16): colour_transform 0 is grey
// (C = 1, 4:0:0), 1 is RGB (C = 3) coded as 4:2:0 full-range YCbCr.
struct TextureBox {  // 'TXTR'
  std::uint8_t colour_transform = 0;
  VideoCodec codec_id = VideoCodec::kHevc;  // only HEVC in this version
  std::int8_t qp = 0;
  std::uint8_t encoder_id = 255;
  std::vector<std::uint8_t> payload;
};

struct ScalarQuantBox {  // 'QSCL'
  std::int8_t qp = 0;
  std::uint8_t reconstruction = 0;  // 0 floor, 1 midpoint
  std::uint8_t normalization = 0;   // 0 none, 1 l2 (NORM box), 2 scale
  float scale = 1.0f;
};

// Learned vector codecs (seed 001): what a learned record's model does.
// 0-4: seed 001 (Wang et al.); 5: seed 000 (Gao et al., DMOFC), an 8-bit latent
enum class LearnedMethod : std::uint8_t { kSqEnhanced = 0, kPro = 1, kProEnhanced = 2, kPq = 3, kOpq = 4, kDmofc = 5 };
constexpr std::uint8_t kMaxLearnedMethod = 5;
constexpr float kDmofcLatentClip = 128.0f;  // LATN r_clip of an entropy-coded DMOFC latent: levels in [-128, 127]
constexpr float kMaxClip = 32768.0f;
constexpr std::uint8_t kMaxCodeBits = 16;

struct LearnedModelBox {  // 'LMOD'
  std::array<std::uint8_t, 32> model_sha256{};
  LearnedMethod method = LearnedMethod::kPro;
};

struct LatentBox {  // 'LATN'
  std::uint32_t latent_dims = 1;
  float r_clip = 20.0f;
};

struct ProductCodesBox {  // 'PQCD'
  std::uint32_t num_subquantizers = 1;
  std::uint8_t code_bits = 8;
  std::vector<std::uint8_t> codes;  // N * M codes of code_bits bits, MSB first, zero-padded to a byte
};

struct HashBox {  // 'hash'
  std::uint8_t hash_type = 0;  // 0: MD5
  std::array<std::uint8_t, 16> codes_md5{};
  std::array<std::uint8_t, 16> features_md5{};
};

struct AncillaryBox {  // an ancillary box this version does not know
  std::string type;
  std::vector<std::uint8_t> data;
};

struct TensorRecord {
  std::string name;
  FeatureKind kind = FeatureKind::kMap;
  SourceDtype source_dtype = SourceDtype::kFloat32;
  std::vector<std::uint32_t> dims;
  std::optional<LogQuantBox> log_quant;
  std::optional<MinMaxQuantBox> minmax_quant;
  std::optional<PackBox> pack;
  std::optional<HevcBox> hevc;
  std::optional<VideoBox> video;  // instead of hevc, for the other codecs and 4:2:0 carriers
  std::optional<TextureBox> texture;  // the one payload box of an image record
  std::optional<ScalarQuantBox> scalar_quant;
  std::optional<std::vector<float>> norms;
  std::optional<std::vector<std::uint8_t>> cabac;
  std::optional<LearnedModelBox> learned_model;
  std::optional<LatentBox> latent;
  std::optional<ProductCodesBox> product_codes;
  std::optional<HashBox> hash;
  std::optional<std::string> info;
  std::vector<AncillaryBox> unknown_ancillary;

  std::uint64_t element_count() const;
  // Frame geometry of a feature map record (not of an image record); throws BitstreamError when the
  // record has no valid packing.
  PackGeometry geometry() const;
};

struct Stream {
  std::uint8_t version_major = kVersionMajor;
  std::uint8_t version_minor = kVersionMinor;
  std::vector<TensorRecord> tensors;
};

// One parsed syntax element, for traces like HM's: where it was, in which
// box, its name and its value as text.
struct SyntaxElement {
  std::size_t offset;
  std::string box;
  std::string name;
  std::string value;
};

// Checks every constraint of the spec; throws BitstreamError.
void validate(const Stream& stream);

// Validates, then serializes.
std::vector<std::uint8_t> write_stream(const Stream& stream);

// Parses and validates any byte string without reading out of bounds; with
// trace, also records every syntax element read.
Stream parse_stream(const std::uint8_t* data, std::size_t size, std::vector<SyntaxElement>* trace = nullptr);

}  // namespace ftm
