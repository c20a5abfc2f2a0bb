/* clones.h: a hot loop compiled for several x86-64 instruction sets, the
 * one this CPU has picked when the library loads (target_clones, an ifunc),
 * so that a portable build still runs AVX-512 or AVX2 vector code.
 * Floating-point contraction is off (-std=c11: no FMA is fused in), so every
 * clone rounds as the baseline one does and results do not depend on the
 * CPU. Not under the sanitizers, whose runtime is not up when ifunc
 * resolvers run. */
#ifndef NST_CLONES_H
#define NST_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(NST_NO_CLONES)
#define HOT_LOOP __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT_LOOP
#endif

#endif
