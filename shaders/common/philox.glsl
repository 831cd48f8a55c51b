// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator, four 32-bit outputs per (counter, key), so any element's random
// number is computed where it is needed: dropout's backward recomputes its forward's mask.
// Checked against Random123's known-answer vectors through its host twin (tests/reference/philox).
#ifndef VKGRAD_PHILOX_GLSL
#define VKGRAD_PHILOX_GLSL

uvec4 philox4x32_10(uvec4 ctr, uvec2 key) {
  for (int round = 0; round < 10; ++round) {
    uint hi0, lo0, hi1, lo1;
    umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
    umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
    ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
    key += uvec2(0x9E3779B9u, 0xBB67AE85u);
  }
  return ctr;
}

// A uniform draw in [0, 1) from 24 of a word's bits (exact in fp32).
float philox_uniform(uint bits) { return float(bits >> 8) * 5.9604644775390625e-8; }

#endif
