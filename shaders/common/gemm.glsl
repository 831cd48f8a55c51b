// What every GEMM kernel shares: arguments, operand access, and the fused epilogue.
//
//   C[b] = act(alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias)     for b < batch (workgroup z)
//
// op(A) is M×K, op(B) is K×N, C is M×N, all row-major with leading dimensions (row strides, in
// elements) lda, ldb, ldc; op(X) = Xᵀ reads the stored matrix transposed. Operands are bound as
// 32-bit words and their element types are specialization constants, so fp16 data needs no
// 16-bit storage feature: an fp16 element i is half (i & 1) of word i >> 1.
#ifndef VKGRAD_GEMM_GLSL
#define VKGRAD_GEMM_GLSL

#include "common/activation.glsl"
#include "common/words.glsl"

// Element types (vkgrad::kernels::ElemType).
layout(constant_id = 16) const uint A_TYPE = TYPE_F16;
layout(constant_id = 17) const uint B_TYPE = TYPE_F16;
layout(constant_id = 18) const uint C_TYPE = TYPE_F32;
layout(constant_id = 19) const uint BIAS_TYPE = TYPE_F32;

// Operand layouts: op(X) = Xᵀ when set. Constants, so that no load tests them per element.
layout(constant_id = 20) const bool TRANS_A = false;
layout(constant_id = 21) const bool TRANS_B = false;

// Convolutions as implicit GEMMs (vkgrad::kernels::ConvPass): op(A) and op(B) are views of
// NCHW tensors addressed from the geometry below (no im2col buffer); taps in the zero padding
// read 0. Forward and data gradient: batch entry b is sample b / CV_GROUPS, group
// b % CV_GROUPS; weight gradient: b is the group and k runs over samples and output pixels.
//   forward        C[co][pix] = Σ W[g][co][(ci,kh,kw)] · X[ci][ih][iw]           A plain (per group)
//   data gradient  C[ci][pix] = Σ W[g][co][ci][(kh,kw)] · dY[co][oh][ow]        oh·S + kh·D − P = ih
//   weight grad.   C[co][(ci,kh,kw)] = Σ_(n,oh,ow) dY[n][co][oh][ow] · X[n][ci][ih][iw]
// Geometry is specialized, so the index arithmetic divides by constants.
const uint CONV_NONE = 0u, CONV_FORWARD = 1u, CONV_DATA_GRAD = 2u, CONV_WEIGHT_GRAD = 3u;
layout(constant_id = 24) const uint CONV_PASS = CONV_NONE;
layout(constant_id = 30) const uint CV_GROUPS = 1;
layout(constant_id = 31) const uint CV_CIN = 1;   // input channels per group
layout(constant_id = 32) const uint CV_COUT = 1;  // output channels per group
layout(constant_id = 33) const uint CV_H = 1;     // input height and width
layout(constant_id = 34) const uint CV_W = 1;
layout(constant_id = 35) const uint CV_KH = 1;    // kernel
layout(constant_id = 36) const uint CV_KW = 1;
layout(constant_id = 37) const uint CV_SH = 1;    // stride
layout(constant_id = 38) const uint CV_SW = 1;
layout(constant_id = 39) const uint CV_PH = 0;    // zero padding
layout(constant_id = 40) const uint CV_PW = 0;
layout(constant_id = 41) const uint CV_DH = 1;    // dilation
layout(constant_id = 42) const uint CV_DW = 1;
layout(constant_id = 43) const uint CV_OH = 1;    // output height and width
layout(constant_id = 44) const uint CV_OW = 1;
const uint CV_TAPS = CV_KH * CV_KW;
const uint CV_HW = CV_H * CV_W;
const uint CV_P = CV_OH * CV_OW;
// index_b() of a tap in the padding.
const uint NO_ELEMENT = 0xFFFFFFFFu;

// Mirrors vkgrad::kernels::GemmArgs (include/vkgrad/kernels/gemm.hpp); kernels that read A and
// B through buffer device addresses define GEMM_ADDRESSES and get GemmAddressArgs' tail.
layout(push_constant) uniform GemmArgs {
  uint M, N, K;
  uint lda, ldb, ldc;
  uint stride_a, stride_b, stride_c;  // elements between consecutive batch entries
  float alpha, beta;
  uint flags;  // bit 0: bias, bits 1-2: activation
#ifdef GEMM_ADDRESSES
  uvec2 a_address, b_address;  // the start of A's and B's ranges
#endif
} p;

layout(std430, binding = 0) readonly buffer A_block { uint a_words[]; };
layout(std430, binding = 1) readonly buffer B_block { uint b_words[]; };

// Aligned operands: leading dimension, batch stride and binding offset are whole 16-byte units
// (set by the host), so staging loaders may read them 128 bits at a time through these views.
layout(constant_id = 22) const bool A_VEC = false;
layout(constant_id = 23) const bool B_VEC = false;
layout(std430, binding = 0) readonly buffer A_vec_block { uvec4 a_vec[]; };
layout(std430, binding = 1) readonly buffer B_vec_block { uvec4 b_vec[]; };
layout(std430, binding = 2) buffer C_block { uint c_words[]; };
layout(std430, binding = 3) readonly buffer Bias_block { uint bias_words[]; };

bool has_bias() { return (p.flags & 1u) != 0u; }
uint activation() { return (p.flags >> 1) & 3u; }

// The input pixel along one axis that output pixel o reads at kernel tap t; above the edge
// (wrapped past zero) when the tap is in the padding.
uint conv_input(uint o, uint t, uint stride, uint pad, uint dilation) { return o * stride + t * dilation - pad; }

// Element index of op(A)[r][k] and op(B)[k][c] of batch entry `batch` in its operand; for
// op(B), NO_ELEMENT where a convolution tap falls in the padding.
uint index_a(uint batch, uint r, uint k) {
  if (CONV_PASS == CONV_DATA_GRAD)
    return (batch % CV_GROUPS) * (CV_COUT * CV_CIN * CV_TAPS) + (k / CV_TAPS) * (CV_CIN * CV_TAPS) + r * CV_TAPS +
           k % CV_TAPS;
  if (CONV_PASS == CONV_WEIGHT_GRAD)
    return (k / CV_P) * (CV_GROUPS * CV_COUT * CV_P) + batch * (CV_COUT * CV_P) + r * CV_P + k % CV_P;
  const uint entry = CONV_PASS == CONV_FORWARD ? batch % CV_GROUPS : batch;
  return entry * p.stride_a + (TRANS_A ? k * p.lda + r : r * p.lda + k);
}
uint index_b(uint batch, uint k, uint c) {
  if (CONV_PASS == CONV_FORWARD || CONV_PASS == CONV_WEIGHT_GRAD) {
    const bool fwd = CONV_PASS == CONV_FORWARD;
    const uint pix = fwd ? c : k % CV_P, tap = (fwd ? k : c) % CV_TAPS, ci = (fwd ? k : c) / CV_TAPS;
    const uint ih = conv_input(pix / CV_OW, tap / CV_KW, CV_SH, CV_PH, CV_DH);
    const uint iw = conv_input(pix % CV_OW, tap % CV_KW, CV_SW, CV_PW, CV_DW);
    const uint image = fwd ? batch : (k / CV_P) * CV_GROUPS + batch;
    return ih < CV_H && iw < CV_W ? image * (CV_CIN * CV_HW) + ci * CV_HW + ih * CV_W + iw : NO_ELEMENT;
  }
  if (CONV_PASS == CONV_DATA_GRAD) {
    const uint co = k / CV_TAPS, tap = k % CV_TAPS;
    const uint th = c / CV_W + CV_PH - (tap / CV_KW) * CV_DH;  // oh·stride, or wrapped past zero
    const uint tw = c % CV_W + CV_PW - (tap % CV_KW) * CV_DW;
    const uint oh = th / CV_SH, ow = tw / CV_SW;
    const bool hit = th % CV_SH == 0u && tw % CV_SW == 0u && oh < CV_OH && ow < CV_OW;
    return hit ? batch * (CV_COUT * CV_P) + co * CV_P + oh * CV_OW + ow : NO_ELEMENT;
  }
  return batch * p.stride_b + (TRANS_B ? c * p.ldb + k : k * p.ldb + c);
}
bool is_element(uint i) { return CONV_PASS == CONV_NONE || i != NO_ELEMENT; }

// op(A)[r][k] and op(B)[k][c] of batch entry `batch`, without bounds checks.
float load_a(uint batch, uint r, uint k) { return LOAD_ELEM(a_words, A_TYPE, index_a(batch, r, k)); }
float load_b(uint batch, uint k, uint c) {
  const uint i = index_b(batch, k, c);
  return is_element(i) ? LOAD_ELEM(b_words, B_TYPE, i) : 0.0;
}

// How the epilogue reads C; a kernel that writes fp16 C a half at a time reads it the same way.
#ifndef GEMM_LOAD_C
#define GEMM_LOAD_C(I) LOAD_ELEM(c_words, C_TYPE, I)
#endif

// A convolution's bias is per output channel: per row of C.
float epilogue(uint batch, uint r, uint c, float acc) {
  float v = p.alpha * acc;
  // beta = 0 must not read C: it may hold anything, NaN included (0·NaN = NaN).
  if (p.beta != 0.0) v += p.beta * GEMM_LOAD_C(batch * p.stride_c + r * p.ldc + c);
  if (has_bias())
    v += LOAD_ELEM(bias_words, BIAS_TYPE, CONV_PASS == CONV_FORWARD ? (batch % CV_GROUPS) * p.M + r : c);
  return activate(v, activation());
}

// One fp16 half of a word that other invocations may be writing the other half of.
void store_half_atomic(uint i, float v) {
  const uint shift = (i & 1u) * 16u;
  atomicAnd(c_words[i >> 1], ~(0xFFFFu << shift));
  atomicOr(c_words[i >> 1], (pack_half2_rte(vec2(v, 0.0)) & 0xFFFFu) << shift);
}

// Stores C[r][c] and C[r][c+1] (the latter only if c + 1 < N) from accumulators; c is even.
// fp16 pairs share one word when ldc and the batch stride are even; otherwise each half is
// written atomically, since its word-mate belongs to another invocation.
void store_pair(uint batch, uint r, uint c, vec2 acc) {
  const uint cbase = batch * p.stride_c;
  const uint i = cbase + r * p.ldc + c;
  const bool second = c + 1u < p.N;
  const float v0 = epilogue(batch, r, c, acc.x);
  const float v1 = second ? epilogue(batch, r, c + 1u, acc.y) : 0.0;
  if (C_TYPE == TYPE_F32) {
    c_words[i] = floatBitsToUint(v0);
    if (second) c_words[i + 1u] = floatBitsToUint(v1);
  } else if (((p.ldc | p.stride_c) & 1u) == 0u) {
    // Word-aligned pair; without a second element the upper half is row padding nobody owns.
    c_words[i >> 1] = second ? pack_half2_rte(vec2(v0, v1))
                             : ((c_words[i >> 1] & 0xFFFF0000u) | (pack_half2_rte(vec2(v0, 0.0)) & 0xFFFFu));
  } else {
    store_half_atomic(i, v0);
    if (second) store_half_atomic(i + 1u, v1);
  }
}

#endif
