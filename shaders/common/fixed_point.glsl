// Deterministic sums of fp32 terms scattered by many invocations (vkgrad::kernels::HashGrid,
// Embedding): each term becomes a 64-bit fixed-point number (2^-32 units) added with two 32-bit
// integer atomics (the carry from the low word's returned old value), and integer sums do not
// depend on their order; a later pass converts each sum once. Range ±2^31: a term outside it,
// or inf or NaN, sets the overflow word instead, and the conversion then makes every result
// +inf, so that a loss scaler sees the overflow as it would in a floating-point sum.
//
// The including shader declares `uint accum[]` in a read-write storage buffer — [elements][lo,
// hi], then the overflow word, which the host clears before each scatter (kernels::
// fixed_point_accum_bytes) — and defines FIXED_OVERFLOW_WORD, that word's index.
#ifndef VKGRAD_FIXED_POINT_GLSL
#define VKGRAD_FIXED_POINT_GLSL

void fixed_add(uint e, float v) {
  if (!(abs(v) < 2147483648.0)) {  // also NaN
    atomicOr(accum[FIXED_OVERFLOW_WORD], 1u);
    return;
  }
  // |v|·2^32 as hi·2^32 + lo: the integer part, and the fraction's bits (a − floor(a) is exact
  // for a ≥ 0, so only the final rounding to 2^-32 errs); a negative v is the two's complement.
  const float a = abs(v), whole = floor(a);
  uint lo = uint(round((a - whole) * 4294967296.0)), hi = uint(whole);
  if (v < 0.0) {
    hi = ~hi + (lo == 0u ? 1u : 0u);
    lo = ~lo + 1u;
  }
  const uint old = atomicAdd(accum[2u * e], lo);
  const uint carry = old + lo < old ? 1u : 0u;
  // Mostly 0 (a small positive term without carry, or a small negative one with it): skipped.
  if (hi + carry != 0u) atomicAdd(accum[2u * e + 1u], hi + carry);
}

bool fixed_overflowed() { return accum[FIXED_OVERFLOW_WORD] != 0u; }

// Element e's sum as fp32 (+inf after an overflow), leaving its accumulator zero.
float fixed_take(uint e, bool overflow) {
  const uint lo = accum[2u * e], hi = accum[2u * e + 1u];
  accum[2u * e] = 0u;
  accum[2u * e + 1u] = 0u;
  return overflow ? uintBitsToFloat(0x7f800000u) : float(int(hi)) + float(lo) * 2.3283064365386963e-10;
}

#endif
