// Vectorized kernels compiled once per x86-64 ISA level, and the choice of
// the variant that runs. Internal.
//
// A kernel body is an always-inline function; Variants<Fn>::of<body>() compiles
// it for each level (GCC target attributes) and gives the table of variants.
// Production code calls the table's best(): the highest level the CPU runs,
// capped by the FTM_ISA environment variable, chosen once. Tests run every
// variant against a reference (cpp/tests/test_kernel_variants.cpp).
//
// Variants compute the same integers. In floating point, the x86-64-v3 and v4
// variants fuse a multiply and the add that consumes it into one FMA (GCC's
// default for C++), the baseline has no FMA and rounds twice.
#pragma once

#include <cstddef>

// Sanitizer builds keep to the baseline: they check the source, which every
// variant shares, and stay quick to build.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define FTM_ISA_VARIANTS 1
#else
#define FTM_ISA_VARIANTS 0
#endif

// A kernel body must be inlined into each variant: called out of line it
// would run the baseline's code.
#if defined(__GNUC__)
#define FTM_INLINE_KERNEL inline __attribute__((always_inline))
#else
#define FTM_INLINE_KERNEL inline
#endif

namespace ftm::detail {

// Ordered: each level runs everything the ones below it run.
enum class Isa : int { kBaseline, kX86_64_V3, kX86_64_V4 };
constexpr int kIsaLevels = 3;

// "baseline", "x86-64-v3", "x86-64-v4": the values FTM_ISA takes.
const char* isa_name(Isa level);
// Whether this CPU runs code of that level (the baseline always).
bool isa_supported(Isa level);
// The highest level FTM_ISA allows (every level when it is unset or empty);
// throws std::invalid_argument naming any other value.
Isa isa_cap();
// The level production kernels run: the highest supported one within the
// cap. Read once.
Isa selected_isa();

// The variants of one kernel by level; nullptr where this build has none.
template <class Fn>
struct Kernel {
  Fn* variant[kIsaLevels];

  Fn* best() const {
    for (int level = static_cast<int>(selected_isa()); level > 0; --level)
      if (variant[level]) return variant[level];
    return variant[0];
  }
};

template <class Fn>
struct Variants;

template <class R, class... A>
struct Variants<R(A...)> {
  template <R (*body)(A...)>
  static R baseline(A... a) {
    return body(a...);
  }
#if FTM_ISA_VARIANTS
  template <R (*body)(A...)>
  __attribute__((target("arch=x86-64-v3"))) static R x86_64_v3(A... a) {
    return body(a...);
  }
  template <R (*body)(A...)>
  __attribute__((target("arch=x86-64-v4"))) static R x86_64_v4(A... a) {
    return body(a...);
  }
#endif

  template <R (*body)(A...)>
  static constexpr Kernel<R(A...)> of() {
#if FTM_ISA_VARIANTS
    return {{&baseline<body>, &x86_64_v3<body>, &x86_64_v4<body>}};
#else
    return {{&baseline<body>, nullptr, nullptr}};
#endif
  }
};

}  // namespace ftm::detail
