// What the fused attention shaders share (shaders/attention.comp, attention_coopmat.comp): the
// modes and flags, push constants, bindings, element-pair access to the tensors and where each
// row lives. The includer declares nothing of this; HEAD_DIM is specialization constant 1, the
// activation element type constant 16.
#ifndef VKGRAD_ATTENTION_GLSL
#define VKGRAD_ATTENTION_GLSL

#include "common/words.glsl"

layout(constant_id = 1) const uint HEAD_DIM = 32;
layout(constant_id = 16) const uint ACT_TYPE = TYPE_F32;  // qkv, y, dy, dqkv

#define MODE_FORWARD 0u
#define MODE_BWD_Q 1u
#define MODE_BWD_KV 2u
#define FLAG_CAUSAL 1u
#define FLAG_ACCUMULATE 2u

// Mirrors vkgrad::kernels::AttentionArgs (include/vkgrad/kernels/attention.hpp).
layout(push_constant) uniform AttentionArgs {
  uint mode;
  uint tokens, heads;
  float scale;
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer Qkv_block { uint qkv_words[]; };
layout(std430, binding = 1) readonly buffer Y_block { uint y_words[]; };    // backward: y
layout(std430, binding = 2) readonly buffer Dy_block { uint dy_words[]; };  // backward: dy
layout(std430, binding = 3) buffer Out_block { uint out_words[]; };         // y, or dqkv
layout(std430, binding = 4) buffer Lse_block { float lse[]; };
layout(std430, binding = 5) buffer Delta_block { float delta[]; };

// Element pair (i, i + 1), i even, of a tensor bound as words.
#define PAIR_READER(NAME, WORDS)                                                                    \
  vec2 NAME(uint i) {                                                                               \
    return ACT_TYPE == TYPE_F32 ? vec2(uintBitsToFloat(WORDS[i]), uintBitsToFloat(WORDS[i + 1u])) \
                                : unpackHalf2x16(WORDS[i >> 1]);                                    \
  }
PAIR_READER(qkv_pair, qkv_words)
PAIR_READER(y_pair, y_words)
PAIR_READER(dy_pair, dy_words)

void store_pair(uint i, vec2 v, bool accumulate) {
  if (ACT_TYPE == TYPE_F32) {
    if (accumulate) v += vec2(uintBitsToFloat(out_words[i]), uintBitsToFloat(out_words[i + 1u]));
    out_words[i] = floatBitsToUint(v.x);
    out_words[i + 1u] = floatBitsToUint(v.y);
  } else {
    out_words[i >> 1] = pack_half2_rte(accumulate ? v + unpackHalf2x16(out_words[i >> 1]) : v);
  }
}

#define NEG_INF uintBitsToFloat(0xFF800000u)

// Where things are, for sample b, head h: the first element of token t's q (k, v: + D, + 2D)
// and y rows, and the index of its lse and delta.
uint D() { return p.heads * HEAD_DIM; }
uint qkv_at(uint b, uint h, uint t) { return (b * p.tokens + t) * 3u * D() + h * HEAD_DIM; }
uint y_at(uint b, uint h, uint t) { return (b * p.tokens + t) * D() + h * HEAD_DIM; }
uint stat_at(uint b, uint h, uint t) { return (b * p.heads + h) * p.tokens + t; }

// δ = dy·y of one row, fp32.
float row_delta(uint b, uint h, uint t) {
  float d = 0.0;
  for (uint m = 0u; m < HEAD_DIM; m += 2u) d += dot(dy_pair(y_at(b, h, t) + m), y_pair(y_at(b, h, t) + m));
  return d;
}

#endif
