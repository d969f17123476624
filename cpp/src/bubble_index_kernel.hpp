// The bitset inversion counter of the bubble index, for its tests. Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "isa.hpp"

namespace ftm::detail {

// Buffers of the counter, reused across the rows of a batch.
struct BitsetTables {
  std::vector<std::uint64_t> seen;
  std::vector<std::uint16_t> below_word;
  std::vector<std::uint32_t> below_block;
};

// The kernel: sets inversions and returns false on a repeated rank
// (bubble_index.cpp describes the tables).
using CountByBitsetFn = bool(const std::uint32_t* ranks, std::size_t n, std::uint64_t* seen, std::uint16_t* below_word,
                             unsigned block_log2, std::uint32_t* below_block, std::uint32_t blocks_padded,
                             std::uint64_t& inversions);
// Every ISA variant (isa.hpp).
const Kernel<CountByBitsetFn>& count_by_bitset_kernel();

// Inversions of ranks in 0..n-1 with one variant of the kernel,
// tables sized here; false on a repeated rank.
bool count_with_bitset(const std::uint32_t* ranks, std::size_t n, BitsetTables& t, std::uint64_t& inversions,
                       CountByBitsetFn* count);

}  // namespace ftm::detail
