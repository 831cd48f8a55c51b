#version 460
// Portable tiled GEMM (variants tiled16 and fp32): FP32 accumulation whatever the operand types.
// A workgroup computes a BM×BN block of C, staging BK-deep slabs of op(A) and op(B) in shared
// memory; each invocation accumulates a TM×TN register tile of adjacent columns.
// fp16 operands stay fp16 in shared memory, as words holding the pair (k, k+1) of one row of
// op(A) or one column of op(B) — half the shared traffic of fp32, and one unpack gives two
// steps of k. fp32 operands are staged as fp32. Aligned operands (A_VEC, B_VEC) are read from
// global memory 128 bits at a time along their contiguous dimension; other loads, and vectors
// that cross the matrix edge, go element by element. Shared rows are padded by one word.
// Dispatch: (ceil(N/BN), ceil(M/BM), batch) workgroups of (BM/TM)·(BN/TN) invocations.
#extension GL_GOOGLE_include_directive : require
#include "common/gemm.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;  // a multiple of 8
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;  // even: fp16 stores go in word pairs

const bool PAIRS = A_TYPE == TYPE_F16 && B_TYPE == TYPE_F16;
const uint A_PITCH = BM + 1u;  // words per shared row
const uint B_PITCH = BN + 1u;
// fp16: BK/2 rows of k-pairs; fp32: BK rows. Sized for fp32, the larger.
shared uint As[BK * A_PITCH];  // [k or k-pair][m]
shared uint Bs[BK * B_PITCH];  // [k or k-pair][n]

// fp16 bits of element i of an operand bound as words.
#define HALF_BITS(WORDS, I) ((WORDS[(I) >> 1] >> (((I) & 1u) * 16u)) & 0xFFFFu)
uint half_a(uint batch, uint r, uint k) { return HALF_BITS(a_words, index_a(batch, r, k)); }
uint half_b(uint batch, uint k, uint c) {
  const uint i = index_b(batch, k, c);
  return is_element(i) ? HALF_BITS(b_words, i) : 0u;
}

// The word of op(A)[r][k] as fp32 (fp16 converted when the other operand is fp32) or of the pair op(A)[r][k], op(A)[r][k+1] (fp16), with
// out-of-range elements 0. Vectors (A_VEC, B_VEC) are only set for operands of the staged type.
uint word_a(uint batch, uint r, uint k) {
  if (r >= p.M) return 0u;
  if (!PAIRS) return k < p.K ? floatBitsToUint(load_a(batch, r, k)) : 0u;
  const uint lo = k < p.K ? half_a(batch, r, k) : 0u;
  const uint hi = k + 1u < p.K ? half_a(batch, r, k + 1u) : 0u;
  return lo | (hi << 16);
}
uint word_b(uint batch, uint k, uint c) {
  if (c >= p.N) return 0u;
  if (!PAIRS) return k < p.K ? floatBitsToUint(load_b(batch, k, c)) : 0u;
  const uint lo = k < p.K ? half_b(batch, k, c) : 0u;
  const uint hi = k + 1u < p.K ? half_b(batch, k + 1u, c) : 0u;
  return lo | (hi << 16);
}

// Elements of one 128-bit vector, and shared rows per staged k (fp16 pairs share a row).
const uint VEC = PAIRS ? 8u : 4u;
const uint KSTEP = PAIRS ? 2u : 1u;

// Stages op(A) rows row0.. and k0.., BM × BK, as As[k / KSTEP][m].
void stage_a(uint batch, uint row0, uint k0) {
  const uint threads = gl_WorkGroupSize.x, tid = gl_LocalInvocationID.x;
  // An item is VEC elements along the contiguous dimension (times KSTEP along k for Aᵀ).
  const uint items = TRANS_A ? BM * BK / (VEC * KSTEP) : BM * BK / VEC;
  for (uint v = tid; v < items; v += threads) {
    // A vector runs along the stored contiguous dimension: k (A) or m (Aᵀ).
    const uint m = TRANS_A ? VEC * (v % (BM / VEC)) : v / (BK / VEC);
    const uint kk = TRANS_A ? KSTEP * (v / (BM / VEC)) : VEC * (v % (BK / VEC));
    const uint r = row0 + m, k = k0 + kk;
    if (!TRANS_A) {
      const bool whole = A_VEC && r < p.M && k + VEC <= p.K;
      const uvec4 w = whole ? a_vec[index_a(batch, r, k) / VEC] : uvec4(0u);
      if (PAIRS) {
        // Eight halves along k: four k-pairs, already word-sized.
        for (uint j = 0; j < 4u; ++j) As[(kk / 2u + j) * A_PITCH + m] = whole ? w[j] : word_a(batch, r, k + 2u * j);
      } else {
        for (uint j = 0; j < 4u; ++j) As[(kk + j) * A_PITCH + m] = whole ? w[j] : word_a(batch, r, k + j);
      }
    } else {
      // Along m: fp16 pairs along k need the next k's vector too.
      const bool whole = A_VEC && r + VEC <= p.M && k + KSTEP <= p.K;
      const uvec4 w0 = whole ? a_vec[index_a(batch, r, k) / VEC] : uvec4(0u);
      const uvec4 w1 = whole && PAIRS ? a_vec[index_a(batch, r, k + 1u) / VEC] : uvec4(0u);
      for (uint j = 0; j < VEC; ++j) {
        const uint shift = (j & 1u) * 16u;
        const uint packed = PAIRS ? ((w0[j >> 1] >> shift) & 0xFFFFu) | (((w1[j >> 1] >> shift) & 0xFFFFu) << 16)
                                  : w0[j];
        As[(kk / KSTEP) * A_PITCH + m + j] = whole ? packed : word_a(batch, r + j, k);
      }
    }
  }
}

// Stages op(B) columns col0.. and k0.., BK × BN, as Bs[k / KSTEP][n].
void stage_b(uint batch, uint col0, uint k0) {
  const uint threads = gl_WorkGroupSize.x, tid = gl_LocalInvocationID.x;
  const uint items = TRANS_B ? BN * BK / VEC : BN * BK / (VEC * KSTEP);
  for (uint v = tid; v < items; v += threads) {
    // A vector runs along the stored contiguous dimension: n (B) or k (Bᵀ).
    const uint n = TRANS_B ? v / (BK / VEC) : VEC * (v % (BN / VEC));
    const uint kk = TRANS_B ? VEC * (v % (BK / VEC)) : KSTEP * (v / (BN / VEC));
    const uint c = col0 + n, k = k0 + kk;
    if (TRANS_B) {
      const bool whole = B_VEC && c < p.N && k + VEC <= p.K;
      const uvec4 w = whole ? b_vec[index_b(batch, k, c) / VEC] : uvec4(0u);
      if (PAIRS) {
        for (uint j = 0; j < 4u; ++j) Bs[(kk / 2u + j) * B_PITCH + n] = whole ? w[j] : word_b(batch, k + 2u * j, c);
      } else {
        for (uint j = 0; j < 4u; ++j) Bs[(kk + j) * B_PITCH + n] = whole ? w[j] : word_b(batch, k + j, c);
      }
    } else {
      const bool whole = B_VEC && c + VEC <= p.N && k + KSTEP <= p.K;
      const uvec4 w0 = whole ? b_vec[index_b(batch, k, c) / VEC] : uvec4(0u);
      const uvec4 w1 = whole && PAIRS ? b_vec[index_b(batch, k + 1u, c) / VEC] : uvec4(0u);
      for (uint j = 0; j < VEC; ++j) {
        const uint shift = (j & 1u) * 16u;
        const uint packed = PAIRS ? ((w0[j >> 1] >> shift) & 0xFFFFu) | (((w1[j >> 1] >> shift) & 0xFFFFu) << 16)
                                  : w0[j];
        Bs[(kk / KSTEP) * B_PITCH + n + j] = whole ? packed : word_b(batch, k, c + j);
      }
    }
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint tx = tid % (BN / TN);
  const uint ty = tid / (BN / TN);
  const uint row0 = gl_WorkGroupID.y * BM;
  const uint col0 = gl_WorkGroupID.x * BN;
  const uint batch = gl_WorkGroupID.z;

  float acc[TM * TN];
  for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

  for (uint k0 = 0; k0 < p.K; k0 += BK) {
    stage_a(batch, row0, k0);
    stage_b(batch, col0, k0);
    barrier();
    for (uint kr = 0; kr < BK / KSTEP; ++kr) {
      // One shared row: a k-pair (fp16) or one k (fp32); k runs in order either way, so the
      // sums round exactly as a plain loop over k would.
      vec2 a[TM], b[TN];
      for (uint m = 0; m < TM; ++m) {
        const uint w = As[kr * A_PITCH + ty * TM + m];
        a[m] = PAIRS ? unpackHalf2x16(w) : vec2(uintBitsToFloat(w), 0.0);
      }
      for (uint n = 0; n < TN; ++n) {
        const uint w = Bs[kr * B_PITCH + tx * TN + n];
        b[n] = PAIRS ? unpackHalf2x16(w) : vec2(uintBitsToFloat(w), 0.0);
      }
      for (uint m = 0; m < TM; ++m)
        for (uint n = 0; n < TN; ++n) {
          acc[m * TN + n] = fma(a[m].x, b[n].x, acc[m * TN + n]);
          if (PAIRS) acc[m * TN + n] = fma(a[m].y, b[n].y, acc[m * TN + n]);
        }
    }
    barrier();
  }

  for (uint m = 0; m < TM; ++m) {
    const uint r = row0 + ty * TM + m;
    if (r >= p.M) break;
    for (uint n = 0; n < TN; n += 2u) {
      const uint c = col0 + tx * TN + n;
      if (c >= p.N) break;
      store_pair(batch, r, c, vec2(acc[m * TN + n], acc[m * TN + n + 1u]));
    }
  }
}
