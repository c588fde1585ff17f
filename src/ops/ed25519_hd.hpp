// SPDX-License-Identifier: MIT
#pragma once
// Qualifiers for arithmetic shared by the GPU kernel and the host. The Ed25519 and SHA-512 cores
// are written once, as inline functions usable from both sides, so that the host-compiled copy
// that the CPU-only CI tests exercise is the very code the kernel runs.
//
// HETEX_ED_UNROLL marks the small fixed loops of the limb arithmetic (unrolled, their indices
// become constants and the limbs stay in registers). HETEX_ED_NO_UNROLL marks the long ones
// (squaring chains, the scalar-multiplication loop): unrolled, they would inline tens of
// thousands of instructions, thrash the instruction cache and overflow the device compiler.

// HETEX_ED_OUTLINE: the point operations and the two exponentiations stay out of line on the
// device. Fully inlined, the kernel took ptxas minutes, crashed cicc (stack overflow at the
// default 8 MB limit) once the loop had branches, and its loop body alone would fill the
// instruction cache. Out of line, each operation exists once; the hot ones take at most 32
// words of arguments, which device calls pass in registers (more go through the stack).
#if defined(__CUDA_ARCH__)
#define HETEX_ED_OUTLINE __noinline__
#else
#define HETEX_ED_OUTLINE inline
#endif

#if defined(__CUDACC__)
#ifndef HETEX_HD
#define HETEX_HD __host__ __device__
#endif
#define HETEX_ED_UNROLL _Pragma("unroll")
#define HETEX_ED_NO_UNROLL _Pragma("unroll 1")
#elif defined(__clang__)
#ifndef HETEX_HD
#define HETEX_HD
#endif
#define HETEX_ED_UNROLL _Pragma("unroll")
#define HETEX_ED_NO_UNROLL _Pragma("nounroll")
#else
#ifndef HETEX_HD
#define HETEX_HD
#endif
#define HETEX_ED_UNROLL _Pragma("GCC unroll 16")
#define HETEX_ED_NO_UNROLL _Pragma("GCC unroll 1")
#endif
