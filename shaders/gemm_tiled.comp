#version 460
// Portable tiled GEMM (variants tiled16 and fp32): FP32 accumulation whatever the operand types.
// A workgroup computes a BM×BN block of C, staging BK-deep slabs of op(A) and op(B) in shared
// memory as fp32; each invocation accumulates a TM×TN register tile of adjacent columns.
// Dispatch: (ceil(N/BN), ceil(M/BM), batch) workgroups of (BM/TM)·(BN/TN) invocations.
#extension GL_GOOGLE_include_directive : require
#include "common/gemm.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;  // even: fp16 stores go in word pairs

shared float As[BK * BM];  // [k][m]
shared float Bs[BK * BN];  // [k][n]

void main() {
  const uint threads = gl_WorkGroupSize.x;
  const uint tid = gl_LocalInvocationID.x;
  const uint tx = tid % (BN / TN);
  const uint ty = tid / (BN / TN);
  const uint row0 = gl_WorkGroupID.y * BM;
  const uint col0 = gl_WorkGroupID.x * BN;
  const uint batch = gl_WorkGroupID.z;

  float acc[TM * TN];
  for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

  for (uint k0 = 0; k0 < p.K; k0 += BK) {
    // Consecutive invocations walk the operand's contiguous dimension, so loads coalesce.
    for (uint i = tid; i < BM * BK; i += threads) {
      const uint m = TRANS_A ? i % BM : i / BK;
      const uint kk = TRANS_A ? i / BM : i % BK;
      const uint r = row0 + m, k = k0 + kk;
      As[kk * BM + m] = (r < p.M && k < p.K) ? load_a(batch, r, k) : 0.0;
    }
    for (uint i = tid; i < BK * BN; i += threads) {
      const uint n = TRANS_B ? i / BK : i % BN;
      const uint kk = TRANS_B ? i % BK : i / BN;
      const uint c = col0 + n, k = k0 + kk;
      Bs[kk * BN + n] = (c < p.N && k < p.K) ? load_b(batch, k, c) : 0.0;
    }
    barrier();
    for (uint kk = 0; kk < BK; ++kk) {
      float a[TM], b[TN];
      for (uint m = 0; m < TM; ++m) a[m] = As[kk * BM + ty * TM + m];
      for (uint n = 0; n < TN; ++n) b[n] = Bs[kk * BN + tx * TN + n];
      for (uint m = 0; m < TM; ++m)
        for (uint n = 0; n < TN; ++n) acc[m * TN + n] = fma(a[m], b[n], acc[m * TN + n]);
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
