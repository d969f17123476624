// Repack against a per-pixel reference and depack as its exact inverse.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "ftm/pack.hpp"

namespace {

std::vector<std::uint16_t> random_codes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint16_t> v(n);
  for (auto& x : v) x = static_cast<std::uint16_t>(rng() & 0x3ff);
  return v;
}

// Value of frame pixel (f, y, x) computed the obvious way: clamp into the
// content area (edge replication), then find the channel it belongs to.
std::uint16_t reference_pixel(const std::vector<std::uint16_t>& t, const ftm::PackGeometry& g,
                              const std::vector<std::uint32_t>& perm, std::size_t f, std::size_t y,
                              std::size_t x) {
  if (g.mode == ftm::PackMode::kChannel) {
    const std::size_t s = f / g.c, k = f % g.c;
    y = std::min(y, g.h - 1), x = std::min(x, g.w - 1);
    return t[((s * g.c + perm[k]) * g.h + y) * g.w + x];
  }
  y = std::min(y, g.grid_rows * g.h - 1), x = std::min(x, g.grid_cols * g.w - 1);
  const std::size_t k = (y / g.h) * g.grid_cols + x / g.w;
  if (k >= g.c) return 0;
  return t[((f * g.c + perm[k]) * g.h + y % g.h) * g.w + x % g.w];
}

void check_layout(const ftm::PackGeometry& g, bool permute, unsigned seed) {
  const auto t = random_codes(g.tensor_size(), seed);
  std::vector<std::uint32_t> perm(g.c);
  std::iota(perm.begin(), perm.end(), 0u);
  if (permute) std::shuffle(perm.begin(), perm.end(), std::mt19937(seed));
  std::vector<std::uint16_t> frames(g.frames * g.frame_size(), 0xffff);
  ftm::pack(t.data(), g, permute ? perm.data() : nullptr, frames.data());
  ASSERT_EQ(g.frame_h % 8, 0u);
  ASSERT_EQ(g.frame_w % 8, 0u);
  for (std::size_t f = 0; f < g.frames; ++f)
    for (std::size_t y = 0; y < g.frame_h; ++y)
      for (std::size_t x = 0; x < g.frame_w; ++x)
        ASSERT_EQ(frames[(f * g.frame_h + y) * g.frame_w + x], reference_pixel(t, g, perm, f, y, x))
            << "frame " << f << " y " << y << " x " << x;
  std::vector<std::uint16_t> back(t.size(), 0xffff);
  ftm::unpack(frames.data(), g, permute ? perm.data() : nullptr, back.data());
  ASSERT_EQ(back, t);
}

struct Shape {
  std::size_t n, c, h, w;
};

const Shape kShapes[] = {{1, 1, 1, 1}, {1, 1, 8, 8}, {3, 5, 7, 9}, {2, 16, 13, 3},
                         {1, 24, 56, 56}, {4, 3, 1, 17}, {1, 7, 8, 1}};

TEST(Pack, ChannelModeMatchesReferenceAndInverts) {
  unsigned seed = 1;
  for (const auto& s : kShapes)
    for (bool permute : {false, true}) check_layout(ftm::channel_geometry(s.n, s.c, s.h, s.w), permute, seed++);
}

TEST(Pack, TiledModeMatchesReferenceAndInverts) {
  unsigned seed = 100;
  for (const auto& s : kShapes)
    for (bool permute : {false, true}) check_layout(ftm::tiled_geometry(s.n, s.c, s.h, s.w, 0, 0), permute, seed++);
  check_layout(ftm::tiled_geometry(2, 6, 5, 5, 1, 6), true, seed++);
  check_layout(ftm::tiled_geometry(2, 6, 5, 5, 6, 1), false, seed++);
  check_layout(ftm::tiled_geometry(1, 5, 4, 4, 2, 3), false, seed++);
}

TEST(Pack, GeometryFollowsThePaper) {
  const auto g = ftm::channel_geometry(2, 3, 13, 17);
  EXPECT_EQ(g.frames, 6u);
  EXPECT_EQ(g.frame_h, 16u);
  EXPECT_EQ(g.frame_w, 24u);
  const auto t = ftm::tiled_geometry(1, 10, 7, 7, 0, 0);
  EXPECT_EQ(t.grid_cols, 4u);
  EXPECT_EQ(t.grid_rows, 3u);
  EXPECT_EQ(t.frame_h, 24u);
  EXPECT_EQ(t.frame_w, 32u);
  for (std::size_t c = 1; c <= 300; ++c) {
    const auto d = ftm::tiled_geometry(1, c, 2, 2, 0, 0);
    ASSERT_GE(d.grid_rows * d.grid_cols, c);
    ASSERT_LT((d.grid_rows - 1) * d.grid_cols, c);
  }
}

TEST(Pack, RejectsBadShapesGridsAndPermutations) {
  EXPECT_THROW(ftm::channel_geometry(0, 1, 1, 1), std::invalid_argument);
  EXPECT_THROW(ftm::channel_geometry(1, 1, 0, 1), std::invalid_argument);
  EXPECT_THROW(ftm::tiled_geometry(1, 10, 4, 4, 2, 4), std::invalid_argument);  // 8 < 10 tiles
  EXPECT_THROW(ftm::tiled_geometry(1, 4, 4, 4, 3, 2), std::invalid_argument);   // empty last row
  EXPECT_THROW(ftm::tiled_geometry(1, 4, 4, 4, 1, 5), std::invalid_argument);   // empty column
  EXPECT_THROW(ftm::channel_geometry(1u << 20, 1u << 20, 1u << 20, 1u << 20), std::invalid_argument);
  const std::uint32_t repeated[3] = {0, 1, 1}, outside[3] = {0, 1, 3};
  EXPECT_THROW(ftm::check_permutation(repeated, 3), std::invalid_argument);
  EXPECT_THROW(ftm::check_permutation(outside, 3), std::invalid_argument);
}

TEST(Pack, EightBitFramesEqualSixteenBitOnes) {
  const auto g = ftm::tiled_geometry(2, 5, 6, 10, 0, 0);
  const auto t16 = random_codes(g.tensor_size(), 5);
  std::vector<std::uint8_t> t8(t16.begin(), t16.end());
  for (auto& v : t8) v = static_cast<std::uint8_t>(v & 0xff);
  std::vector<std::uint16_t> t16b(t8.begin(), t8.end());
  std::vector<std::uint8_t> f8(g.frames * g.frame_size());
  std::vector<std::uint16_t> f16(f8.size());
  ftm::pack(t8.data(), g, nullptr, f8.data());
  ftm::pack(t16b.data(), g, nullptr, f16.data());
  EXPECT_TRUE(std::equal(f8.begin(), f8.end(), f16.begin()));
}

}  // namespace
