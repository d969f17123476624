// Serialization of a Stream into the bytes of conformance/SPEC.md.
#include <cstring>

#include "bitstream_syntax.hpp"
#include "ftm/bitstream.hpp"

namespace ftm {
namespace {

using namespace syntax;

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

// The boxes only a learned record has, which come before its QSCL/NORM/CABC.
void write_learned_boxes(Writer& w, const TensorRecord& r) {
  if (r.learned_model) {
    const auto box = w.begin_box(kLmod);
    w.bytes(r.learned_model->model_sha256.data(), 32);
    w.u8(static_cast<std::uint32_t>(r.learned_model->method));
    w.end_box(box);
  }
  if (r.latent) {
    const auto box = w.begin_box(kLatn);
    w.u32(r.latent->latent_dims);
    w.f32(r.latent->r_clip);
    w.end_box(box);
  }
  if (r.product_codes) {
    const auto box = w.begin_box(kPqcd);
    w.u32(r.product_codes->num_subquantizers);
    w.u8(r.product_codes->code_bits);
    w.bytes(r.product_codes->codes.data(), r.product_codes->codes.size());
    w.end_box(box);
  }
}

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
  if (r.video) {
    box = w.begin_box(kVidc);
    w.u8(static_cast<std::uint32_t>(r.video->codec_id));
    w.u8(static_cast<std::uint32_t>(r.video->chroma_format_idc));
    w.u8(r.video->coded_bit_depth);
    w.u8(static_cast<std::uint8_t>(r.video->qp));
    w.u8(r.video->encoder_id);
    w.bytes(r.video->payload.data(), r.video->payload.size());
    w.end_box(box);
  }
  if (r.texture) {
    box = w.begin_box(kTxtr);
    w.u8(r.texture->colour_transform);
    w.u8(static_cast<std::uint32_t>(r.texture->codec_id));
    w.u8(static_cast<std::uint8_t>(r.texture->qp));
    w.u8(r.texture->encoder_id);
    w.bytes(r.texture->payload.data(), r.texture->payload.size());
    w.end_box(box);
  }
  write_learned_boxes(w, r);
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
    box = w.begin_box(fourcc_of(a.type));
    w.bytes(a.data.data(), a.data.size());
    w.end_box(box);
  }
}

}  // namespace

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

}  // namespace ftm
