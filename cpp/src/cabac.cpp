#include "cabac.hpp"
#include "ftm/errors.hpp"

#include <stdexcept>
#include <string>

namespace ftm {

CabacContext cabac_context(int fast_shift, int slow_shift, std::uint32_t p1) {
  for (const int s : {fast_shift, slow_shift})
    if (s < kCabacMinShift || s > kCabacMaxShift)
      throw std::invalid_argument("context adaptation shift must be in [" + std::to_string(kCabacMinShift) +
                                  ", " + std::to_string(kCabacMaxShift) + "], got " + std::to_string(s));
  if (p1 < 1u || p1 >= (1u << kCabacProbBits))
    throw std::invalid_argument("initial probability must be in [1, 32767] / 32768, got " + std::to_string(p1));
  const std::uint32_t p = p1 << (kCabacStateBits - kCabacProbBits);
  const int last = fast_shift > slow_shift ? fast_shift : slow_shift;
  return CabacContext{p, p, 1, 1, static_cast<std::uint8_t>(fast_shift), static_cast<std::uint8_t>(slow_shift),
                      static_cast<std::uint16_t>(last > 1 ? 2 : 0)};
}

void cabac_warm_step(CabacContext& c) {
  // While warming up, the larger rate is w itself.
  const unsigned w = (c.fast_rate > c.slow_rate ? c.fast_rate : c.slow_rate) + 1u;
  c.fast_rate = static_cast<std::uint8_t>(w < c.fast_shift ? w : c.fast_shift);
  c.slow_rate = static_cast<std::uint8_t>(w < c.slow_shift ? w : c.slow_shift);
  const unsigned last = c.fast_shift > c.slow_shift ? c.fast_shift : c.slow_shift;
  c.warm_left = static_cast<std::uint16_t>(w < last ? 1u << w : 0u);
}

void cabac_encoder_shift(CabacEncoder& e) {
  // The top byte of low is final unless a carry can still reach it: that is
  // the case while it is 0xFF (and no carry has arrived), so such bytes wait.
  const auto top = static_cast<std::uint32_t>(e.low);
  const auto carry = static_cast<std::uint8_t>(e.low >> 32);
  if (top < 0xFF000000u || carry != 0) {
    std::uint8_t byte = e.cache;
    for (; e.pending != 0; --e.pending) {
      const auto out = static_cast<std::uint8_t>(byte + carry);
      // The whole code value lies in [0, 1): nothing carries into the lead byte.
      if (e.lead_byte) e.lead_byte = false;
      else e.out.push_back(out);
      byte = 0xFF;
    }
    e.cache = static_cast<std::uint8_t>(top >> 24);
  }
  ++e.pending;
  e.low = static_cast<std::uint64_t>(top & 0x00FFFFFFu) << 8;
}

void cabac_finish(CabacEncoder& e) {
  for (int i = 0; i < 5; ++i) cabac_encoder_shift(e);
}

void cabac_decoder_init(CabacDecoder& d, const std::uint8_t* data, std::size_t size) {
  if (size < 4)
    throw BitstreamError("CABAC payload must hold at least 4 bytes, got " + std::to_string(size));
  d.pos = data + 4;
  d.end = data + size;
  d.range = 0xFFFFFFFFu;
  d.code = static_cast<std::uint32_t>(data[0]) << 24 | static_cast<std::uint32_t>(data[1]) << 16 |
           static_cast<std::uint32_t>(data[2]) << 8 | static_cast<std::uint32_t>(data[3]);
  if (d.code >= d.range) cabac_throw_corrupt("first code word outside the coding interval");
}

void cabac_throw_overrun() {
  throw BitstreamError("CABAC payload truncated or corrupt: decoding needs bytes past its end");
}

void cabac_throw_corrupt(const char* what) {
  throw BitstreamError(std::string("CABAC payload corrupt: ") + what);
}

}  // namespace ftm
