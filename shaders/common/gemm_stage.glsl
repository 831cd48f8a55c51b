// Staging BK-deep slabs of op(A) and op(B) in shared memory as fp16, for the cooperative-matrix
// GEMMs. The includer defines BM, BN, BK (multiples of 8), the shared arrays
//   float16_t As[...]: slabs of op(A), each [BM][A_PITCH]   (m rows, k contiguous)
//   float16_t Bs[...]: slabs of op(B), each [BK][B_PITCH]   (k rows, n contiguous)
// with pitches padded by 8 halves (16 bytes) so that rows start on different banks, and calls
// stage_slab() from workgroup-uniform control flow. Needs 16-bit storage (the coopmat variants
// require it).
//
// Aligned operands (A_VEC, B_VEC: leading dimension, batch stride and binding offset in whole
// 16-byte units, set by the host) are read 128 bits — eight halves — at a time along their
// contiguous dimension; a vector that crosses the matrix edge, and unaligned operands, go
// element by element with bounds checks.
#ifndef VKGRAD_GEMM_STAGE_GLSL
#define VKGRAD_GEMM_STAGE_GLSL

#include "common/gemm.glsl"

const uint A_PITCH = BK + 8u;
const uint B_PITCH = BN + 8u;

// Eight halves of a 128-bit word, in memory order.
float16_t half_of(uvec4 w, uint j) { return unpackFloat2x16(w[j >> 1])[j & 1u]; }

void put_a(uint slab, uint m, uint kk, float16_t v) { As[slab * BM * A_PITCH + m * A_PITCH + kk] = v; }
void put_b(uint slab, uint kk, uint n, float16_t v) { Bs[slab * BK * B_PITCH + kk * B_PITCH + n] = v; }

void stage_slab(uint slab, uint k0, uint row0, uint col0, uint batch) {
  const uint threads = gl_WorkGroupSize.x;
  const uint tid = gl_LocalInvocationIndex;
  // op(A): stored [m][k] (contiguous k) or, transposed, [k][m] (contiguous m).
  for (uint v = tid; v < BM * BK / 8u; v += threads) {
    const uint m = TRANS_A ? 8u * (v % (BM / 8u)) : v / (BK / 8u);
    const uint kk = TRANS_A ? v / (BM / 8u) : 8u * (v % (BK / 8u));
    const uint r = row0 + m, k = k0 + kk;
    const bool whole = TRANS_A ? (k < p.K && r + 8u <= p.M) : (r < p.M && k + 8u <= p.K);
    if (A_VEC && whole) {
      const uvec4 w = a_vec[index_a(batch, r, k) >> 3];
      for (uint j = 0; j < 8u; ++j) put_a(slab, TRANS_A ? m + j : m, TRANS_A ? kk : kk + j, half_of(w, j));
    } else {
      for (uint j = 0; j < 8u; ++j) {
        const uint mj = TRANS_A ? m + j : m, kj = TRANS_A ? kk : kk + j;
        const bool inside = row0 + mj < p.M && k0 + kj < p.K;
        put_a(slab, mj, kj, float16_t(inside ? load_a(batch, row0 + mj, k0 + kj) : 0.0));
      }
    }
  }
  // op(B): stored [k][n] (contiguous n) or, transposed, [n][k] (contiguous k).
  for (uint v = tid; v < BK * BN / 8u; v += threads) {
    const uint n = TRANS_B ? v / (BK / 8u) : 8u * (v % (BN / 8u));
    const uint kk = TRANS_B ? 8u * (v % (BK / 8u)) : v / (BN / 8u);
    const uint c = col0 + n, k = k0 + kk;
    const bool whole = TRANS_B ? (c < p.N && k + 8u <= p.K) : (k < p.K && c + 8u <= p.N);
    if (B_VEC && whole) {
      const uvec4 w = b_vec[index_b(batch, k, c) >> 3];
      for (uint j = 0; j < 8u; ++j) put_b(slab, TRANS_B ? kk + j : kk, TRANS_B ? n : n + j, half_of(w, j));
    } else {
      for (uint j = 0; j < 8u; ++j) {
        const uint nj = TRANS_B ? n : n + j, kj = TRANS_B ? kk + j : kk;
        const bool inside = col0 + nj < p.N && k0 + kj < p.K;
        put_b(slab, kj, nj, float16_t(inside ? load_b(batch, k0 + kj, col0 + nj) : 0.0));
      }
    }
  }
}

#endif
