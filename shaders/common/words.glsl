// Tensors bound as arrays of 32-bit words, with the element type a specialization constant:
// fp32 element i is word i; fp16 element i is half (i & 1) of word i >> 1 (low half first).
// Reading fp16 this way needs no 16-bit storage feature. Writers of fp16 data own whole words
// (element pairs) or use atomics, so that two invocations never race on one word.
#ifndef VKGRAD_WORDS_GLSL
#define VKGRAD_WORDS_GLSL

#define TYPE_F32 0u
#define TYPE_F16 1u

// fp32 → fp16 bits, rounded to nearest with ties to even, subnormals kept, overflow to inf.
// Done with integer operations because GLSL leaves packHalf2x16's rounding to the driver and
// the float-controls execution modes do not govern it: this way every device rounds alike.
uint half_rte(float f) {
  const uint x = floatBitsToUint(f);
  const uint sign = (x >> 16) & 0x8000u;
  const uint ax = x & 0x7FFFFFFFu;
  if (ax >= 0x7F800000u) return sign | (ax > 0x7F800000u ? 0x7E00u : 0x7C00u);  // NaN, inf
  if (ax >= 0x477FF000u) return sign | 0x7C00u;  // 65520 and up round to inf
  const uint e = ax >> 23;
  if (e >= 113u) {  // a normal half: rebias the exponent, round 23 mantissa bits to 10
    uint h = (ax >> 13) - (112u << 10);
    const uint rest = ax & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0u)) h += 1u;  // a carry renormalizes
    return sign | h;
  }
  if (e < 102u) return sign;  // below half the smallest subnormal (2^-25): zero
  // A subnormal half counts units of 2^-24.
  const uint m = (ax & 0x7FFFFFu) | 0x800000u;
  const uint shift = 126u - e;
  uint q = m >> shift;
  const uint rest = m & ((1u << shift) - 1u), half_unit = 1u << (shift - 1u);
  if (rest > half_unit || (rest == half_unit && (q & 1u) != 0u)) q += 1u;
  return sign | q;
}

uint pack_half2_rte(vec2 v) { return half_rte(v.x) | (half_rte(v.y) << 16); }

#define LOAD_ELEM(WORDS, TYPE, I) \
  ((TYPE) == TYPE_F32 ? uintBitsToFloat(WORDS[I]) : unpackHalf2x16(WORDS[(I) >> 1])[(I) & 1u])

#endif
