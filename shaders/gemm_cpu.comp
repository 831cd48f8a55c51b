#version 460
// GEMM shaped for CPU Vulkan (variant cpu): no shared memory, no barriers, FP32 accumulation.
// A CPU driver (lavapipe) runs a subgroup as one SIMD vector: an address that is the same for
// every lane becomes one scalar load and a broadcast, one that varies per lane a gather, and
// a loop-carried value costs a register. So a workgroup is one subgroup-sized row of lanes
// that computes an RM × (2·lanes·VN) block of C: the RM rows of op(A) are read at addresses
// uniform across the workgroup, and each lane owns VN column pairs of op(B) (a pair is one
// 32-bit word of fp16), giving 2·RM·VN accumulators per lane. k advances four at a time.
// Operands are read through buffer device addresses: lavapipe bounds-checks every access
// through a descriptor, and these loops never leave the operand.
// Dispatch: (ceil(N / (2·lanes·VN)), ceil(M / RM), batch) workgroups of `lanes` invocations.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#define GEMM_ADDRESSES
#include "common/gemm.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint RM = 12;  // rows of C per workgroup
layout(constant_id = 2) const uint VN = 1;   // column pairs per lane
// An fp16 operand whose element pairs (k, k+1) of op(A) rows, or (c, c+1) / (k, k+1) of op(B),
// always start a 32-bit word: set by the host when leading dimension and batch stride are even.
layout(constant_id = 3) const bool A_PAIRED = false;
layout(constant_id = 4) const bool B_PAIRED = false;

layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer Words { uint w[]; };

float elem(Words words, uint type, uint i) { return LOAD_ELEM(words.w, type, i); }
vec2 pair(Words words, uint i) { return unpackHalf2x16(words.w[i >> 1]); }  // i even, fp16

// Convolutions (CONV_PASS): conv-addressed operands (B; A too in the gradient passes) are read
// one element at a time through the implicit-GEMM addressing.
float a_at(Words a, uint batch, uint r, uint k) { return elem(a, A_TYPE, index_a(batch, r, k)); }
float b_at(Words b, uint batch, uint k, uint c) {
  const uint i = index_b(batch, k, c);
  return is_element(i) ? elem(b, B_TYPE, i) : 0.0;
}

// op(A)[r][k .. k+3]; the address is the same for every lane.
vec4 a_quad(Words a, uint batch, uint base, uint r, uint k) {
  if (CONV_PASS == CONV_DATA_GRAD || CONV_PASS == CONV_WEIGHT_GRAD)
    return vec4(a_at(a, batch, r, k), a_at(a, batch, r, k + 1u), a_at(a, batch, r, k + 2u), a_at(a, batch, r, k + 3u));
  if (TRANS_A) {
    const uint i = base + k * p.lda + r;
    return vec4(elem(a, A_TYPE, i), elem(a, A_TYPE, i + p.lda), elem(a, A_TYPE, i + 2u * p.lda),
                elem(a, A_TYPE, i + 3u * p.lda));
  }
  const uint i = base + r * p.lda + k;
  if (A_TYPE == TYPE_F16 && A_PAIRED) return vec4(pair(a, i), pair(a, i + 2u));
  return vec4(elem(a, A_TYPE, i), elem(a, A_TYPE, i + 1u), elem(a, A_TYPE, i + 2u), elem(a, A_TYPE, i + 3u));
}

// op(B)[k][c] and op(B)[k][c1], where c1 is c + 1 clamped to the edge (c even). An fp16
// word pair never needs the clamp: its word lies inside the operand's last row.
vec2 b_pair(Words b, uint batch, uint base, uint k, uint c, uint c1) {
  if (CONV_PASS != CONV_NONE) return vec2(b_at(b, batch, k, c), b_at(b, batch, k, c1));
  if (TRANS_B) return vec2(elem(b, B_TYPE, base + c * p.ldb + k), elem(b, B_TYPE, base + c1 * p.ldb + k));
  const uint i = base + k * p.ldb + c;
  if (B_TYPE == TYPE_F16 && B_PAIRED) return pair(b, i);
  return vec2(elem(b, B_TYPE, i), elem(b, B_TYPE, base + k * p.ldb + c1));
}

// A transposed B stores each column's k contiguously: columns c and c1 over k .. k+3.
vec4 b_quad(Words b, uint base, uint k, uint c) {
  const uint i = base + c * p.ldb + k;
  if (B_TYPE == TYPE_F16 && B_PAIRED) return vec4(pair(b, i), pair(b, i + 2u));
  return vec4(elem(b, B_TYPE, i), elem(b, B_TYPE, i + 1u), elem(b, B_TYPE, i + 2u), elem(b, B_TYPE, i + 3u));
}

void main() {
  const uint lanes = gl_WorkGroupSize.x;
  const uint lane = gl_LocalInvocationID.x;
  const uint batch = gl_WorkGroupID.z;
  const uint row0 = gl_WorkGroupID.y * RM;
  const uint col0 = gl_WorkGroupID.x * (2u * lanes * VN);
  Words a = Words(p.a_address);
  Words b = Words(p.b_address);
  const uint abase = (CONV_PASS == CONV_FORWARD ? batch % CV_GROUPS : batch) * p.stride_a;
  const uint bbase = batch * p.stride_b;

  // Rows and columns past the edge read a clamped neighbour (always inside the operand) and
  // are never stored, so the hot loop has no bounds checks. A clamped pair start stays even.
  uint rows[RM];
  for (uint i = 0; i < RM; ++i) rows[i] = min(row0 + i, p.M - 1u);
  uint cols[VN], cols1[VN];
  for (uint v = 0; v < VN; ++v) {
    cols[v] = min(col0 + 2u * (v * lanes + lane), (p.N - 1u) & ~1u);
    cols1[v] = min(cols[v] + 1u, p.N - 1u);
  }

  vec2 acc[RM * VN];
  for (uint i = 0; i < RM * VN; ++i) acc[i] = vec2(0.0);

  uint k = 0;
  for (; k + 4u <= p.K; k += 4u) {
    vec4 b0[VN], b1[VN];  // columns c and c+1 over k .. k+3
    for (uint v = 0; v < VN; ++v) {
      if (TRANS_B) {
        b0[v] = b_quad(b, bbase, k, cols[v]);
        b1[v] = b_quad(b, bbase, k, cols1[v]);
      } else {
        const vec2 p0 = b_pair(b, batch, bbase, k, cols[v], cols1[v]);
        const vec2 p1 = b_pair(b, batch, bbase, k + 1u, cols[v], cols1[v]);
        const vec2 p2 = b_pair(b, batch, bbase, k + 2u, cols[v], cols1[v]);
        const vec2 p3 = b_pair(b, batch, bbase, k + 3u, cols[v], cols1[v]);
        b0[v] = vec4(p0.x, p1.x, p2.x, p3.x);
        b1[v] = vec4(p0.y, p1.y, p2.y, p3.y);
      }
    }
    for (uint i = 0; i < RM; ++i) {
      const vec4 av = a_quad(a, batch, abase, rows[i], k);
      for (uint v = 0; v < VN; ++v)
        acc[i * VN + v] += vec2(dot(av, b0[v]), dot(av, b1[v]));
    }
  }
  for (; k < p.K; ++k) {
    for (uint v = 0; v < VN; ++v) {
      const vec2 bv = b_pair(b, batch, bbase, k, cols[v], cols1[v]);
      for (uint i = 0; i < RM; ++i) acc[i * VN + v] += a_at(a, batch, rows[i], k) * bv;
    }
  }

  for (uint v = 0; v < VN; ++v) {
    const uint c = col0 + 2u * (v * lanes + lane);
    if (c >= p.N) continue;
    for (uint i = 0; i < RM; ++i) {
      if (row0 + i < p.M) store_pair(batch, row0 + i, c, acc[i * VN + v]);
    }
  }
}
