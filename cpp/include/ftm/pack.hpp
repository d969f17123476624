// Repack of N x C x H x W integer feature tensors into 4:0:0 frames whose
// sides are multiples of 8 (seed 002 3.1), and the exact inverse.
//
// Channel mode: sample n's channel perm[k] becomes frame n * C + k, of size
//   ceil(H / 8) * 8 x ceil(W / 8) * 8.
// Tiled mode: sample n becomes one frame holding a rows x cols grid of H x W
//   tiles in raster order (tile k holds channel perm[k]; tiles k >= C are 0),
//   of size ceil(rows * H / 8) * 8 x ceil(cols * W / 8) * 8.
// In both modes the margin after the last row and column is filled by
// repeating the border element (edge replication).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ftm {

enum class PackMode : std::uint8_t { kChannel = 0, kTiled = 1 };

struct PackGeometry {
  PackMode mode = PackMode::kChannel;
  std::size_t n = 0, c = 0, h = 0, w = 0;
  std::size_t grid_rows = 1, grid_cols = 1;  // tiled mode only
  std::size_t frame_h = 0, frame_w = 0;
  std::size_t frames = 0;
  std::size_t frame_size() const { return frame_h * frame_w; }
  std::size_t tensor_size() const { return n * c * h * w; }
};

constexpr std::size_t kPackAlign = 8;

std::size_t align_up(std::size_t v, std::size_t a);

// Validates the shape (every side >= 1) and, for tiled mode, the grid
// (rows * cols >= C with no wholly empty row or column; 0 x 0 asks for the
// near-square default: cols =
// ceil(sqrt(C)), rows = ceil(C / cols)).
PackGeometry channel_geometry(std::size_t n, std::size_t c, std::size_t h, std::size_t w);
PackGeometry tiled_geometry(std::size_t n, std::size_t c, std::size_t h, std::size_t w,
                            std::size_t grid_rows, std::size_t grid_cols);

// Throws std::invalid_argument unless perm is a permutation of 0..c-1.
void check_permutation(const std::uint32_t* perm, std::size_t c);

// perm may be null for the identity order.
template <class Q>
void pack(const Q* tensor, const PackGeometry& g, const std::uint32_t* perm, Q* frames);

template <class Q>
void unpack(const Q* frames, const PackGeometry& g, const std::uint32_t* perm, Q* tensor);

}  // namespace ftm
