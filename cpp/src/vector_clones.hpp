// Runtime dispatch for auto-vectorized kernels. Internal.
//
// On x86-64 Linux with GCC, a kernel marked FTM_VECTOR_CLONES is compiled
// three times (AVX-512, AVX2, baseline) and the loader picks the best one
// the CPU supports. Elsewhere it is compiled once for the baseline. The
// kernels are plain loops: every clone computes the same values.
#pragma once

// Sanitizer builds compile each kernel once: their instrumented ifunc
// resolvers would run before the sanitizer runtime is initialized.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define FTM_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FTM_VECTOR_CLONES
#endif

// Kernel bodies called from a FTM_VECTOR_CLONES function must be inlined
// into it: a separate function is compiled once, for the baseline only.
#if defined(__GNUC__)
#define FTM_INLINE_KERNEL inline __attribute__((always_inline))
#else
#define FTM_INLINE_KERNEL inline
#endif
