// Tensor element storage, chosen per shader variant by one define:
//   ELEM_F32    float
//   ELEM_F16    float16_t (storageBuffer16BitAccess); arithmetic stays in fp32
//   ELEM_F16X2  fp16 pairs packed into uint words (devices without 16-bit storage)
// Kernels move elements two at a time: invocation i owns elements 2i and 2i+1 (one word in
// the packed form), so packed stores never race on a shared word. For an odd element count n
// the packed last word's upper half is preserved.
#ifndef VKGRAD_ELEM_GLSL
#define VKGRAD_ELEM_GLSL

#if defined(ELEM_F16)
#extension GL_EXT_shader_16bit_storage : require
#define ELEM_T float16_t
#elif defined(ELEM_F16X2)
#define ELEM_T uint
#elif defined(ELEM_F32)
#define ELEM_T float
#else
#error "define one of ELEM_F32, ELEM_F16, ELEM_F16X2"
#endif

#include "common/words.glsl"

// layout(binding = B) QUAL buffer NAME_block { ELEM_T NAME[]; };
#define ELEM_BUFFER(B, QUAL, NAME) layout(std430, binding = B) QUAL buffer NAME##_block { ELEM_T NAME[]; }

#if defined(ELEM_F16X2)
#define LOAD2(BUF, I, N) unpackHalf2x16(BUF[I])
#define STORE2(BUF, I, N, V)                                                        \
  BUF[I] = (2u * (I) + 1u < (N)) ? pack_half2_rte(V)                                  \
                                 : ((BUF[I] & 0xFFFF0000u) | (pack_half2_rte(V) & 0xFFFFu))
#else
#define LOAD2(BUF, I, N) \
  vec2(float(BUF[2u * (I)]), (2u * (I) + 1u < (N)) ? float(BUF[2u * (I) + 1u]) : 0.0)
#define STORE2(BUF, I, N, V)                                       \
  {                                                                \
    BUF[2u * (I)] = ELEM_T((V).x);                                 \
    if (2u * (I) + 1u < (N)) BUF[2u * (I) + 1u] = ELEM_T((V).y);   \
  }
#endif

// Element pairs of an n-element tensor.
uint pair_count(uint n) { return (n + 1u) / 2u; }

#endif
