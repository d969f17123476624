// Bubble index against Algorithm 1 of seed 002 transcribed literally.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftm/bubble_index.hpp"
#include "ftm/threads.hpp"

namespace {

using Ids = std::vector<std::int64_t>;

// Algorithm 1: map S_r through S_p.index, bubble sort, count swaps. O(n^2).
std::uint64_t algorithm1_swaps(const Ids& s_p, const Ids& s_r) {
  std::vector<std::size_t> ordered;
  for (auto e : s_r) ordered.push_back(static_cast<std::size_t>(std::find(s_p.begin(), s_p.end(), e) - s_p.begin()));
  std::uint64_t swaps = 0;
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i)
    for (std::size_t j = 0; j + 1 < ordered.size() - i; ++j)
      if (ordered[j] > ordered[j + 1]) {
        std::swap(ordered[j], ordered[j + 1]);
        ++swaps;
      }
  return swaps;
}

Ids permutation(std::size_t n, std::mt19937_64& rng, std::int64_t base = 0, std::int64_t step = 1) {
  Ids v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = base + static_cast<std::int64_t>(i) * step;
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

// A ranking close to s_p: a few nearby swaps, as a lightly distorted query gives.
Ids perturbed(const Ids& s_p, std::mt19937_64& rng, std::size_t swaps) {
  Ids r = s_p;
  if (r.size() < 2) return r;
  std::uniform_int_distribution<std::size_t> pick(0, r.size() - 2);
  for (std::size_t k = 0; k < swaps; ++k) {
    const std::size_t i = pick(rng);
    std::swap(r[i], r[std::min(r.size() - 1, i + 1 + pick(rng) % 5)]);
  }
  return r;
}

TEST(BubbleIndex, MatchesAlgorithmOneOnRandomAndCloseRankings) {
  std::mt19937_64 rng(42);
  for (std::size_t n : {0, 1, 2, 3, 15, 16, 17, 31, 33, 100, 257, 700}) {
    for (int trial = 0; trial < 4; ++trial) {
      // Dense ids 0..n-1 and sparse ids exercise both lookup paths.
      const Ids s_p = trial % 2 ? permutation(n, rng) : permutation(n, rng, -1000, 7919);
      const Ids s_r = trial < 2 ? permutation(0, rng) : perturbed(s_p, rng, n / 3);
      Ids r = s_r.empty() ? s_p : s_r;
      if (trial < 2) std::shuffle(r.begin(), r.end(), rng);
      const std::uint64_t want = algorithm1_swaps(s_p, r);
      ASSERT_EQ(ftm::inversion_count(s_p.data(), r.data(), n), want) << "n " << n << " trial " << trial;
      const double total = n < 2 ? 1.0 : n * (n - 1) / 2.0;
      ASSERT_DOUBLE_EQ(ftm::bubble_index(s_p.data(), r.data(), n), n < 2 ? 1.0 : 1.0 - want / total);
    }
  }
}

TEST(BubbleIndex, IdentityIsOneAndReversalIsZero) {
  std::mt19937_64 rng(1);
  const Ids s_p = permutation(1000, rng);
  Ids rev(s_p.rbegin(), s_p.rend());
  EXPECT_EQ(ftm::bubble_index(s_p.data(), s_p.data(), s_p.size()), 1.0);
  EXPECT_EQ(ftm::bubble_index(s_p.data(), rev.data(), s_p.size()), 0.0);
  EXPECT_EQ(ftm::inversion_count(s_p.data(), rev.data(), s_p.size()), 1000u * 999u / 2u);
}

TEST(BubbleIndex, NamesTheElementThatBreaksThePermutation) {
  const Ids s_p = {10, 20, 30, 40};
  auto message = [&](const Ids& s_r, const Ids& p) {
    try {
      ftm::inversion_count(p.data(), s_r.data(), p.size());
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({10, 20, 20, 40}, s_p).find("element 20 occurs twice"), std::string::npos);
  EXPECT_NE(message({10, 20, 35, 40}, s_p).find("element 35"), std::string::npos);
  EXPECT_NE(message({10, 20, 30, 40}, {10, 20, 10, 40}).find("s_p is not a ranking"), std::string::npos);
  EXPECT_NE(message({0, 1, 1, 3}, {0, 1, 2, 3}).find("element 1 occurs twice"), std::string::npos);
  EXPECT_NE(message({0, 1, 4, 3}, {0, 1, 2, 3}).find("element 4"), std::string::npos);
}

TEST(BubbleIndex, BatchEqualsRowByRowOnEveryThreadCount) {
  std::mt19937_64 rng(9);
  const std::size_t queries = 37, n = 501;
  Ids P, R;
  for (std::size_t q = 0; q < queries; ++q) {
    const Ids p = permutation(n, rng);
    const Ids r = q % 3 ? perturbed(p, rng, q * 10) : permutation(n, rng);
    P.insert(P.end(), p.begin(), p.end());
    R.insert(R.end(), r.begin(), r.end());
  }
  for (int threads : {1, 2, 5}) {
    ftm::set_num_threads(threads);
    std::vector<std::uint64_t> counts(queries);
    ftm::inversion_count_batch(P.data(), R.data(), queries, n, counts.data());
    for (std::size_t q = 0; q < queries; ++q)
      ASSERT_EQ(counts[q], ftm::inversion_count(P.data() + q * n, R.data() + q * n, n)) << "query " << q;
  }
  ftm::set_num_threads(0);
  R[5 * n + 3] = R[5 * n + 4];
  std::vector<double> out(queries);
  try {
    ftm::bubble_index_batch(P.data(), R.data(), queries, n, out.data());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("query 5:", 0), 0u) << e.what();
  }
}

TEST(BubbleIndex, InplaceCountSortsTheValues) {
  std::mt19937_64 rng(3);
  std::vector<std::uint32_t> v(10000);
  std::iota(v.begin(), v.end(), 0u);
  std::shuffle(v.begin(), v.end(), rng);
  std::uint64_t naive = 0;
  for (std::size_t i = 0; i < 2000; ++i)
    for (std::size_t j = i + 1; j < 2000; ++j) naive += v[i] > v[j];
  std::vector<std::uint32_t> head(v.begin(), v.begin() + 2000), scratch(2000);
  EXPECT_EQ(ftm::count_inversions_inplace(head.data(), scratch.data(), head.size()), naive);
  EXPECT_TRUE(std::is_sorted(head.begin(), head.end()));
}

}  // namespace
