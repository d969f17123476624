#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftm/bubble_index.hpp"
#include "parallel.hpp"

namespace ftm {
namespace {

constexpr std::uint32_t kUnset = std::numeric_limits<std::uint32_t>::max();

// Buffers reused across the rows of a batch.
struct Workspace {
  std::vector<std::uint32_t> position;  // value or sorted slot -> position in s_p
  std::vector<std::uint32_t> seen_at;   // position in s_p -> position in s_r, or kUnset
  std::vector<std::int64_t> sorted;     // general path: s_p's values in ascending order
  std::vector<std::uint32_t> order;     // general path: their positions in s_p
  std::vector<std::uint32_t> ranks, scratch;
};

[[noreturn]] void throw_repeated_in_p(std::int64_t v) {
  throw std::invalid_argument("s_p is not a ranking: element " + std::to_string(v) +
                              " occurs more than once");
}

[[noreturn]] void throw_foreign(std::int64_t v, std::size_t i) {
  throw std::invalid_argument("s_r is not a permutation of s_p: element " + std::to_string(v) +
                              " at position " + std::to_string(i) + " of s_r does not occur in s_p");
}

[[noreturn]] void throw_repeated_in_r(std::int64_t v, std::size_t first, std::size_t second) {
  throw std::invalid_argument("s_r is not a permutation of s_p: element " + std::to_string(v) +
                              " occurs twice in s_r (positions " + std::to_string(first) + " and " +
                              std::to_string(second) + ")");
}

// ranks[i] = position in s_p of s_r[i], validating that s_r is a permutation
// of s_p. Same lengths and no repeats in s_r imply no element of s_p is missing.
void rank_in_pristine(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n, Workspace& ws) {
  ws.ranks.resize(n);
  ws.seen_at.assign(n, kUnset);
  const bool dense = std::all_of(s_p, s_p + n, [n](std::int64_t v) {
    return v >= 0 && static_cast<std::uint64_t>(v) < n;
  });
  auto mark = [&](std::size_t i, std::uint32_t pos) {
    if (ws.seen_at[pos] != kUnset) throw_repeated_in_r(s_r[i], ws.seen_at[pos], i);
    ws.seen_at[pos] = static_cast<std::uint32_t>(i);
    ws.ranks[i] = pos;
  };
  if (dense) {
    // Ids are 0..n-1 (the usual case): a direct table, no sorting.
    ws.position.assign(n, kUnset);
    for (std::size_t i = 0; i < n; ++i) {
      auto& slot = ws.position[static_cast<std::size_t>(s_p[i])];
      if (slot != kUnset) throw_repeated_in_p(s_p[i]);
      slot = static_cast<std::uint32_t>(i);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v = s_r[i];
      if (v < 0 || static_cast<std::uint64_t>(v) >= n) throw_foreign(v, i);
      mark(i, ws.position[static_cast<std::size_t>(v)]);
    }
    return;
  }
  ws.order.resize(n);
  std::iota(ws.order.begin(), ws.order.end(), 0u);
  std::sort(ws.order.begin(), ws.order.end(), [&](std::uint32_t a, std::uint32_t b) { return s_p[a] < s_p[b]; });
  ws.sorted.resize(n);
  for (std::size_t k = 0; k < n; ++k) ws.sorted[k] = s_p[ws.order[k]];
  for (std::size_t k = 1; k < n; ++k)
    if (ws.sorted[k] == ws.sorted[k - 1]) throw_repeated_in_p(ws.sorted[k]);
  for (std::size_t i = 0; i < n; ++i) {
    const auto it = std::lower_bound(ws.sorted.begin(), ws.sorted.end(), s_r[i]);
    if (it == ws.sorted.end() || *it != s_r[i]) throw_foreign(s_r[i], i);
    mark(i, ws.order[static_cast<std::size_t>(it - ws.sorted.begin())]);
  }
}

// Merges sorted runs a and b into out; returns the pairs (x in a, y in b)
// with y < x. Values are distinct.
std::uint64_t merge_counting(const std::uint32_t* a, std::size_t na, const std::uint32_t* b,
                             std::size_t nb, std::uint32_t* out) {
  if (nb == 0 || a[na - 1] < b[0]) {  // already in order: common for close rankings
    std::memcpy(out, a, na * sizeof *a);
    std::memcpy(out + na, b, nb * sizeof *b);
    return 0;
  }
  std::uint64_t inversions = 0;
  std::size_t i = 0, j = 0, k = 0;
  while (i < na && j < nb) {  // branch-free body: the comparison is unpredictable
    const std::uint32_t x = a[i], y = b[j];
    const bool take_b = y < x;
    out[k++] = take_b ? y : x;
    inversions += take_b ? na - i : 0;
    i += !take_b;
    j += take_b;
  }
  std::memcpy(out + k, a + i, (na - i) * sizeof *a);
  std::memcpy(out + k + (na - i), b + j, (nb - j) * sizeof *b);
  return inversions;
}

void check_length(std::size_t n) {
  if (n >= kUnset)
    throw std::invalid_argument("rankings of " + std::to_string(n) + " elements exceed the 2^32 - 1 limit");
}

std::uint64_t count_with(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n, Workspace& ws) {
  rank_in_pristine(s_p, s_r, n, ws);
  ws.scratch.resize(n);
  return count_inversions_inplace(ws.ranks.data(), ws.scratch.data(), n);
}

double similarity(std::uint64_t swaps, std::size_t n) {
  if (n < 2) return 1.0;
  const double total = static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
  return 1.0 - static_cast<double>(swaps) / total;
}

}  // namespace

std::uint64_t count_inversions_inplace(std::uint32_t* values, std::uint32_t* scratch, std::size_t n) {
  // Insertion sort on short runs first: cheap, and nearly free on the nearly
  // sorted sequences that close rankings produce.
  constexpr std::size_t kRun = 16;
  std::uint64_t inversions = 0;
  for (std::size_t b = 0; b < n; b += kRun) {
    const std::size_t e = std::min(n, b + kRun);
    for (std::size_t i = b + 1; i < e; ++i) {
      const std::uint32_t v = values[i];
      std::size_t j = i;
      for (; j > b && values[j - 1] > v; --j) values[j] = values[j - 1];
      values[j] = v;
      inversions += i - j;
    }
  }
  std::uint32_t *src = values, *dst = scratch;
  for (std::size_t width = kRun; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(n, lo + width), hi = std::min(n, lo + 2 * width);
      inversions += merge_counting(src + lo, mid - lo, src + mid, hi - mid, dst + lo);
    }
    std::swap(src, dst);
  }
  if (src != values) std::memcpy(values, src, n * sizeof *values);
  return inversions;
}

std::uint64_t inversion_count(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n) {
  check_length(n);
  Workspace ws;
  return count_with(s_p, s_r, n, ws);
}

double bubble_index(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n) {
  return similarity(inversion_count(s_p, s_r, n), n);
}

void inversion_count_batch(const std::int64_t* P, const std::int64_t* R, std::size_t queries,
                           std::size_t n, std::uint64_t* counts) {
  check_length(n);
  detail::parallel_for(queries, 1, [&](std::size_t b, std::size_t e) {
    Workspace ws;
    for (std::size_t q = b; q < e; ++q) {
      try {
        counts[q] = count_with(P + q * n, R + q * n, n, ws);
      } catch (const std::invalid_argument& err) {
        throw std::invalid_argument("query " + std::to_string(q) + ": " + err.what());
      }
    }
  });
}

void bubble_index_batch(const std::int64_t* P, const std::int64_t* R, std::size_t queries,
                        std::size_t n, double* out) {
  std::vector<std::uint64_t> counts(queries);
  inversion_count_batch(P, R, queries, n, counts.data());
  for (std::size_t q = 0; q < queries; ++q) out[q] = similarity(counts[q], n);
}

}  // namespace ftm
