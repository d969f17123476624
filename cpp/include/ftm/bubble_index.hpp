// Bubble index of seed 002 (eq. 3, Algorithm 1): how similar two rankings of
// the same documents are.
//
//   bubble_index(S_p, S_r) = 1 - swaps / (n (n - 1) / 2)
//
// where swaps is the number of swaps bubble sort makes to bring S_r into
// S_p's order, i.e. the number of inversions, counted here in O(n log n) by
// merge sort. It equals (Kendall tau + 1) / 2 and is 1.0 for n < 2.
//
// Algorithm 1 as printed in the paper returns swaps / total, a dissimilarity;
// eq. 3 and Table 3 use a similarity near 1, and the authors' published code
// returns 1 - swaps / total. FTM returns the similarity.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ftm {

// Throws std::invalid_argument when s_p has a repeated element or s_r is not
// a permutation of s_p; the message names the offending element.
std::uint64_t inversion_count(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n);

double bubble_index(const std::int64_t* s_p, const std::int64_t* s_r, std::size_t n);

// Row q of the queries x n arrays P and R is one ranking pair. Rows are spread
// over num_threads() threads; an invalid row throws naming the row.
void inversion_count_batch(const std::int64_t* P, const std::int64_t* R, std::size_t queries,
                           std::size_t n, std::uint64_t* counts);

void bubble_index_batch(const std::int64_t* P, const std::int64_t* R, std::size_t queries,
                        std::size_t n, double* out);

// The swap count of a sequence of distinct values against ascending order.
// Sorts `values` in place; `scratch` holds n elements.
std::uint64_t count_inversions_inplace(std::uint32_t* values, std::uint32_t* scratch,
                                       std::size_t n);

}  // namespace ftm
