#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftm/pack.hpp"
#include "parallel.hpp"

namespace ftm {
namespace {

std::size_t checked_mul(std::size_t a, std::size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a)
    throw std::invalid_argument(std::string(what) + " overflows the address space");
  return a * b;
}

void check_shape(std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  if (n == 0 || c == 0 || h == 0 || w == 0)
    throw std::invalid_argument("feature tensor shape must have every side >= 1, got N=" +
                                std::to_string(n) + " C=" + std::to_string(c) +
                                " H=" + std::to_string(h) + " W=" + std::to_string(w));
  checked_mul(checked_mul(checked_mul(n, c, "tensor size"), h, "tensor size"), w, "tensor size");
}

void finish(PackGeometry& g) {
  checked_mul(checked_mul(g.frames, g.frame_h, "frame data size"), g.frame_w, "frame data size");
}

// Feature-map rows are short (7 to 56 elements), where a memcpy call costs
// more than the copy: rows are copied by plain loops, and this file is
// compiled with -fno-tree-loop-distribute-patterns so GCC keeps them loops.
template <class Q>
inline void copy_row(const Q* __restrict src, Q* __restrict dst, std::size_t w) {
  for (std::size_t x = 0; x < w; ++x) dst[x] = src[x];
}

// Edge replication of the margin right of column `w` and below row `h`
// inside one frame_h x frame_w frame.
template <class Q>
void replicate_edges(Q* frame, std::size_t h, std::size_t w, std::size_t frame_h,
                     std::size_t frame_w) {
  if (w < frame_w)
    for (std::size_t y = 0; y < h; ++y) {
      Q* row = frame + y * frame_w;
      const Q edge = row[w - 1];
      for (std::size_t x = w; x < frame_w; ++x) row[x] = edge;
    }
  const Q* last = frame + (h - 1) * frame_w;
  for (std::size_t y = h; y < frame_h; ++y) copy_row(last, frame + y * frame_w, frame_w);
}

template <class Q>
void copy_plane(const Q* src, std::size_t src_stride, Q* dst, std::size_t dst_stride,
                std::size_t h, std::size_t w) {
  for (std::size_t y = 0; y < h; ++y) copy_row(src + y * src_stride, dst + y * dst_stride, w);
}

std::size_t channel_of(const std::uint32_t* perm, std::size_t k) { return perm ? perm[k] : k; }

// Frames per thread chunk: keep small jobs on one thread.
std::size_t min_frames(const PackGeometry& g) {
  return std::max<std::size_t>(1, (std::size_t{1} << 16) / std::max<std::size_t>(1, g.frame_size()));
}

}  // namespace

std::size_t align_up(std::size_t v, std::size_t a) { return (v + a - 1) / a * a; }

PackGeometry channel_geometry(std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  check_shape(n, c, h, w);
  PackGeometry g;
  g.mode = PackMode::kChannel;
  g.n = n, g.c = c, g.h = h, g.w = w;
  g.frame_h = align_up(h, kPackAlign);
  g.frame_w = align_up(w, kPackAlign);
  g.frames = checked_mul(n, c, "frame count");
  finish(g);
  return g;
}

PackGeometry tiled_geometry(std::size_t n, std::size_t c, std::size_t h, std::size_t w,
                            std::size_t rows, std::size_t cols) {
  check_shape(n, c, h, w);
  if (rows == 0 && cols == 0) {
    cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(c))));
    while (cols * cols < c) ++cols;  // guard against sqrt rounding down
    rows = (c + cols - 1) / cols;
  }
  if (rows == 0 || cols == 0 || checked_mul(rows, cols, "tile grid") < c)
    throw std::invalid_argument("tile grid " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " cannot hold " + std::to_string(c) + " channels");
  // Tiles fill the grid in raster order, so an empty last row or a column
  // beyond C would only add padding for the codec to spend bits on.
  if ((rows - 1) * cols >= c || cols > c)
    throw std::invalid_argument("tile grid " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " leaves a whole row or column empty for " + std::to_string(c) +
                                " channels");
  PackGeometry g;
  g.mode = PackMode::kTiled;
  g.n = n, g.c = c, g.h = h, g.w = w;
  g.grid_rows = rows, g.grid_cols = cols;
  g.frame_h = align_up(checked_mul(rows, h, "frame height"), kPackAlign);
  g.frame_w = align_up(checked_mul(cols, w, "frame width"), kPackAlign);
  g.frames = n;
  finish(g);
  return g;
}

void check_permutation(const std::uint32_t* perm, std::size_t c) {
  std::vector<char> seen(c, 0);
  for (std::size_t k = 0; k < c; ++k) {
    if (perm[k] >= c)
      throw std::invalid_argument("channel permutation entry " + std::to_string(k) + " is " +
                                  std::to_string(perm[k]) + ", outside [0, " + std::to_string(c) + ")");
    if (seen[perm[k]])
      throw std::invalid_argument("channel permutation repeats channel " + std::to_string(perm[k]));
    seen[perm[k]] = 1;
  }
}

template <class Q>
void pack(const Q* tensor, const PackGeometry& g, const std::uint32_t* perm, Q* frames) {
  const std::size_t plane = g.h * g.w, fsize = g.frame_size();
  if (g.mode == PackMode::kChannel) {
    detail::parallel_for(g.frames, min_frames(g), [&](std::size_t b, std::size_t e) {
      for (std::size_t f = b; f < e; ++f) {
        const std::size_t s = f / g.c, k = f % g.c;
        Q* dst = frames + f * fsize;
        copy_plane(tensor + (s * g.c + channel_of(perm, k)) * plane, g.w, dst, g.frame_w, g.h, g.w);
        replicate_edges(dst, g.h, g.w, g.frame_h, g.frame_w);
      }
    });
    return;
  }
  detail::parallel_for(g.frames, min_frames(g), [&](std::size_t b, std::size_t e) {
    for (std::size_t s = b; s < e; ++s) {
      Q* dst = frames + s * fsize;
      for (std::size_t k = 0; k < g.grid_rows * g.grid_cols; ++k) {
        Q* tile = dst + (k / g.grid_cols) * g.h * g.frame_w + (k % g.grid_cols) * g.w;
        if (k < g.c)
          copy_plane(tensor + (s * g.c + channel_of(perm, k)) * plane, g.w, tile, g.frame_w, g.h, g.w);
        else
          for (std::size_t y = 0; y < g.h; ++y) std::fill(tile + y * g.frame_w, tile + y * g.frame_w + g.w, Q{0});
      }
      replicate_edges(dst, g.grid_rows * g.h, g.grid_cols * g.w, g.frame_h, g.frame_w);
    }
  });
}

template <class Q>
void unpack(const Q* frames, const PackGeometry& g, const std::uint32_t* perm, Q* tensor) {
  const std::size_t plane = g.h * g.w, fsize = g.frame_size();
  if (g.mode == PackMode::kChannel) {
    detail::parallel_for(g.frames, min_frames(g), [&](std::size_t b, std::size_t e) {
      for (std::size_t f = b; f < e; ++f) {
        const std::size_t s = f / g.c, k = f % g.c;
        copy_plane(frames + f * fsize, g.frame_w, tensor + (s * g.c + channel_of(perm, k)) * plane, g.w, g.h, g.w);
      }
    });
    return;
  }
  detail::parallel_for(g.frames, min_frames(g), [&](std::size_t b, std::size_t e) {
    for (std::size_t s = b; s < e; ++s)
      for (std::size_t k = 0; k < g.c; ++k) {
        const Q* tile = frames + s * fsize + (k / g.grid_cols) * g.h * g.frame_w + (k % g.grid_cols) * g.w;
        copy_plane(tile, g.frame_w, tensor + (s * g.c + channel_of(perm, k)) * plane, g.w, g.h, g.w);
      }
  });
}

template void pack<std::uint8_t>(const std::uint8_t*, const PackGeometry&, const std::uint32_t*, std::uint8_t*);
template void pack<std::uint16_t>(const std::uint16_t*, const PackGeometry&, const std::uint32_t*, std::uint16_t*);
template void unpack<std::uint8_t>(const std::uint8_t*, const PackGeometry&, const std::uint32_t*, std::uint8_t*);
template void unpack<std::uint16_t>(const std::uint16_t*, const PackGeometry&, const std::uint32_t*, std::uint16_t*);

}  // namespace ftm
