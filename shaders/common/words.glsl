// Tensors bound as arrays of 32-bit words, with the element type a specialization constant:
// fp32 element i is word i; fp16 element i is half (i & 1) of word i >> 1 (low half first).
// Reading fp16 this way needs no 16-bit storage feature. Writers of fp16 data own whole words
// (element pairs) or use atomics, so that two invocations never race on one word.
#ifndef VKGRAD_WORDS_GLSL
#define VKGRAD_WORDS_GLSL

#define TYPE_F32 0u
#define TYPE_F16 1u

#define LOAD_ELEM(WORDS, TYPE, I) \
  ((TYPE) == TYPE_F32 ? uintBitsToFloat(WORDS[I]) : unpackHalf2x16(WORDS[(I) >> 1])[(I) & 1u])

#endif
