// Writing an output tensor one element pair at a time. Pair w is flat elements 2w and 2w + 1:
// one word in fp16, so whoever owns both elements of a pair stores the word whole. Where an
// invocation owns only one of them (the padding half after an odd-length tensor, or a row
// boundary inside the word when rows have odd length and workgroups own rows) the half is
// written with atomics: its word-mate may be written at the same time by another invocation,
// and must survive.
//
// The including shader declares, before the #include, the output as `uint out_words[]` in a
// read-write storage buffer and its element type as the specialization constant OUT_TYPE; a
// further output of that type gets its own writer with PAIR_WRITER below.
#ifndef VKGRAD_OUT_PAIRS_GLSL
#define VKGRAD_OUT_PAIRS_GLSL

#include "common/words.glsl"

// PAIR_WRITER(NAME, WORDS) defines void NAME(uint w, bvec2 own, vec2 v, bool accumulate), which
// stores v.x at element 2w of WORDS if own.x and v.y at element 2w + 1 if own.y; with
// `accumulate`, it adds the elements' current values first (in fp32, one rounding to
// OUT_TYPE). A half owned alone is read and written atomically: its word-mate may be changing.
#define PAIR_WRITER(NAME, WORDS)                                                                  \
  void NAME(uint w, bvec2 own, vec2 v, bool accumulate) {                                         \
    if (OUT_TYPE == TYPE_F32) {                                                                   \
      for (uint h = 0u; h < 2u; ++h) {                                                            \
        if (!own[h]) continue;                                                                    \
        const uint i = 2u * w + h;                                                                \
        WORDS[i] = floatBitsToUint(accumulate ? v[h] + uintBitsToFloat(WORDS[i]) : v[h]);         \
      }                                                                                           \
    } else if (own.x && own.y) {                                                                  \
      WORDS[w] = pack_half2_rte(accumulate ? v + unpackHalf2x16(WORDS[w]) : v);                   \
    } else {                                                                                      \
      for (uint h = 0u; h < 2u; ++h) {                                                            \
        if (!own[h]) continue;                                                                    \
        const float r = accumulate ? v[h] + unpackHalf2x16(atomicOr(WORDS[w], 0u))[h] : v[h];     \
        const uint shift = 16u * h;                                                               \
        atomicAnd(WORDS[w], ~(0xFFFFu << shift));                                                 \
        atomicOr(WORDS[w], (pack_half2_rte(vec2(r, 0.0)) & 0xFFFFu) << shift);                    \
      }                                                                                           \
    }                                                                                             \
  }

PAIR_WRITER(write_out_pair, out_words)

// Which elements of pair w lie in the flat range [begin, end).
bvec2 pair_in(uint w, uint begin, uint end) {
  return bvec2(2u * w >= begin && 2u * w < end, 2u * w + 1u >= begin && 2u * w + 1u < end);
}

#endif
