#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "bubble_index_kernel.hpp"
#include "ftm/bubble_index.hpp"
#include "isa.hpp"
#include "parallel.hpp"

namespace ftm {
namespace {

constexpr std::uint32_t kUnset = std::numeric_limits<std::uint32_t>::max();

// Buffers reused across the rows of a batch.
struct Workspace {
  std::vector<std::uint32_t> position;  // value or sorted slot -> position in s_p
  std::vector<std::int64_t> sorted;     // general path: s_p's values in ascending order
  std::vector<std::uint32_t> order;     // general path: their positions in s_p
  std::vector<std::uint32_t> ranks, scratch;
  std::vector<std::uint64_t> seen;  // distinct()
  detail::BitsetTables bitset;
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

// ranks[i] = position in s_p of s_r[i]. Rejects repeats in s_p and elements
// of s_r that s_p lacks; a repeat in s_r shows up as a repeated rank, which
// the counters detect (throw_repeat then names it). Returns the number of
// descents of the ranks (ranks[i - 1] > ranks[i]), counted on the way.
std::size_t rank_in_pristine(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n, Workspace& ws) {
  ws.ranks.resize(n);
  std::uint32_t* ranks = ws.ranks.data();
  // Ids 0..n-1 (the usual case) index a direct table; n distinct ids in
  // [0, n) are a permutation, so every slot gets filled.
  ws.position.assign(n, kUnset);
  bool dense = true;
  for (std::size_t i = 0; i < n && dense; ++i) {
    const std::int64_t v = s_p[i];
    if (v < 0 || static_cast<std::uint64_t>(v) >= n) {
      dense = false;
    } else {
      auto& slot = ws.position[static_cast<std::size_t>(v)];
      if (slot != kUnset) throw_repeated_in_p(v);
      slot = static_cast<std::uint32_t>(i);
    }
  }
  if (dense) {
    std::size_t descents = 0;
    std::uint32_t previous = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v = s_r[i];
      if (v < 0 || static_cast<std::uint64_t>(v) >= n) throw_foreign(v, i);
      const std::uint32_t r = ws.position[static_cast<std::size_t>(v)];
      ranks[i] = r;
      descents += previous > r;
      previous = r;
    }
    return descents;
  }
  ws.order.resize(n);
  std::iota(ws.order.begin(), ws.order.end(), 0u);
  std::sort(ws.order.begin(), ws.order.end(), [&](std::uint32_t a, std::uint32_t b) { return s_p[a] < s_p[b]; });
  ws.sorted.resize(n);
  for (std::size_t k = 0; k < n; ++k) ws.sorted[k] = s_p[ws.order[k]];
  for (std::size_t k = 1; k < n; ++k)
    if (ws.sorted[k] == ws.sorted[k - 1]) throw_repeated_in_p(ws.sorted[k]);
  std::size_t descents = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto it = std::lower_bound(ws.sorted.begin(), ws.sorted.end(), s_r[i]);
    if (it == ws.sorted.end() || *it != s_r[i]) throw_foreign(s_r[i], i);
    ranks[i] = ws.order[static_cast<std::size_t>(it - ws.sorted.begin())];
    descents += i > 0 && ranks[i - 1] > ranks[i];
  }
  return descents;
}

// Called once a repeated rank is known to exist: names the element of s_r
// and both of its positions.
[[noreturn]] void throw_repeat(const std::int64_t* s_r, const std::uint32_t* ranks, std::size_t n) {
  std::vector<std::uint32_t> first(n, kUnset);
  for (std::size_t i = 0; i < n; ++i) {
    if (first[ranks[i]] != kUnset) throw_repeated_in_r(s_r[i], first[ranks[i]], i);
    first[ranks[i]] = static_cast<std::uint32_t>(i);
  }
  throw std::logic_error("throw_repeat called without a repeat");
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

// Inversions of ranks in 0..n-1 in one pass: for each value, count the
// earlier values below it from a bitset of seen values (64 per word) and
// two prefix tables: below_block[b] = seen values in blocks before b, and
// below_word[w] = seen values in earlier words of w's block (blocks hold up
// to 256 words, 16384 values, so those counts fit 16 bits). Each update is a
// fixed-length masked add over a padded table, which vectorizes without
// peeling; nothing depends on the data enough to mispredict, unlike sorting.
// Cost per element is O(blocks / lanes + block_words / lanes): merge sort
// wins only past kBitsetMaxN. Returns false on a repeated rank.
constexpr std::size_t kBitsetMaxN = std::size_t{1} << 24;
constexpr unsigned kMaxBlockWordsLog2 = 8;

FTM_INLINE_KERNEL bool count_by_bitset(const std::uint32_t* ranks, std::size_t n, std::uint64_t* seen,
                                       std::uint16_t* below_word, unsigned block_log2, std::uint32_t* below_block,
                                       std::uint32_t blocks_padded, std::uint64_t& inversions) {
  const auto block_words = static_cast<std::uint16_t>(1u << block_log2);
  std::uint64_t total = 0, repeats = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t v = ranks[i], w = v >> 6, b = w >> block_log2;
    const auto w_in_block = static_cast<std::uint16_t>(w & (block_words - 1u));
    const std::uint64_t bit = std::uint64_t{1} << (v & 63);
    repeats |= seen[w] & bit;
    total += i - (below_block[b] + below_word[w] + static_cast<std::uint64_t>(__builtin_popcountll(seen[w] & (bit - 1))));
    seen[w] |= bit;
    for (std::uint32_t k = 0; k < blocks_padded; ++k) below_block[k] += k > b;
    std::uint16_t* words = below_word + (std::size_t{b} << block_log2);
    for (std::uint16_t k = 0; k < block_words; ++k) words[k] = static_cast<std::uint16_t>(words[k] + (k > w_in_block));
  }
  inversions = total;
  return repeats == 0;
}

}  // namespace

const detail::Kernel<detail::CountByBitsetFn>& detail::count_by_bitset_kernel() {
  static constexpr auto kernel = Variants<CountByBitsetFn>::of<&count_by_bitset>();
  return kernel;
}

bool detail::count_with_bitset(const std::uint32_t* ranks, std::size_t n, BitsetTables& t, std::uint64_t& inversions,
                               CountByBitsetFn* count) {
  const std::size_t words = n == 0 ? 1 : (n + 63) / 64;  // never empty tables
  // Vector work per element is about blocks / 16 (uint32 lanes) plus
  // block_words / 32 (uint16 lanes): pick the block size that minimizes it,
  // from 32 words (one 512-bit vector of uint16) up.
  unsigned block_log2 = 5;
  auto cost = [words](unsigned lg) { return (((words - 1) >> lg) + 17) / 16 + (std::size_t{1} << lg) / 32; };
  for (unsigned lg = 6; lg <= kMaxBlockWordsLog2; ++lg)
    if (cost(lg) < cost(block_log2)) block_log2 = lg;
  const std::size_t blocks = ((words - 1) >> block_log2) + 1;
  const auto blocks_padded = static_cast<std::uint32_t>((blocks + 16) / 16 * 16);  // 16 uint32 lanes
  t.seen.assign(blocks << block_log2, 0);
  t.below_word.assign(blocks << block_log2, 0);
  t.below_block.assign(blocks_padded, 0);
  return count(ranks, n, t.seen.data(), t.below_word.data(), block_log2, t.below_block.data(), blocks_padded,
               inversions);
}

namespace {

// Rankings that barely differ (the usual case at high fidelity) have few
// inversions; insertion counting costs O(n + inversions) then. It gives up
// once the count passes `budget`. A repeated rank ends up next to its twin,
// so repeats are caught on the way.
enum class Insertion { kCounted, kOverBudget, kRepeat };

Insertion count_by_insertion(const std::uint32_t* ranks, std::size_t n, std::uint32_t* work, std::uint64_t budget,
                             std::uint64_t& inversions) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t v = ranks[i];
    std::size_t j = i;
    for (; j > 0 && work[j - 1] > v; --j) work[j] = work[j - 1];
    if (j > 0 && work[j - 1] == v) return Insertion::kRepeat;
    work[j] = v;
    total += i - j;
    if (total > budget) return Insertion::kOverBudget;
  }
  inversions = total;
  return Insertion::kCounted;
}

// Checks ranks are distinct with a bitset (for the paths that do not).
bool distinct(const std::uint32_t* ranks, std::size_t n, std::vector<std::uint64_t>& seen) {
  seen.assign((n + 63) / 64, 0);
  std::uint64_t repeats = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << (ranks[i] & 63);
    repeats |= seen[ranks[i] >> 6] & bit;
    seen[ranks[i] >> 6] |= bit;
  }
  return repeats == 0;
}

std::uint64_t count_ranks(const std::int64_t* s_r, std::size_t n, std::size_t descents, Workspace& ws) {
  const std::uint32_t* ranks = ws.ranks.data();
  std::uint64_t inversions = 0;
  // Few descents suggest few inversions; the budget bounds the loss when
  // the guess is wrong.
  if (descents <= n / 4) {
    ws.scratch.resize(n);
    switch (count_by_insertion(ranks, n, ws.scratch.data(), 4 * static_cast<std::uint64_t>(n), inversions)) {
      case Insertion::kCounted: return inversions;
      case Insertion::kRepeat: throw_repeat(s_r, ranks, n);
      case Insertion::kOverBudget: break;
    }
  }
  if (n <= kBitsetMaxN) {
    static detail::CountByBitsetFn* const count = detail::count_by_bitset_kernel().best();
    if (!detail::count_with_bitset(ranks, n, ws.bitset, inversions, count)) throw_repeat(s_r, ranks, n);
    return inversions;
  }
  if (!distinct(ranks, n, ws.seen)) throw_repeat(s_r, ranks, n);
  ws.scratch.resize(n);
  return count_inversions_inplace(ws.ranks.data(), ws.scratch.data(), n);
}

void check_length(std::size_t n) {
  if (n >= kUnset)
    throw std::invalid_argument("rankings of " + std::to_string(n) + " elements exceed the 2^32 - 1 limit");
}

std::uint64_t count_with(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n, Workspace& ws) {
  const std::size_t descents = rank_in_pristine(s_p, s_r, n, ws);
  return count_ranks(s_r, n, descents, ws);
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
