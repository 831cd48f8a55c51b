#version 460
// Fused multi-head attention (vkgrad::kernels::Attention), flash-style: tiles of queries against
// blocks of keys with an online softmax, so no T×T matrix exists in memory; all arithmetic is
// fp32 whatever the storage. Per sample b and head h, with D = heads·HEAD_DIM:
//
//   qkv [batch, T, 3·D]: q, k, v side by side (GPT-2's c_attn output); head h is columns
//                        h·HEAD_DIM … of each third.   y, dy [batch, T, D] likewise.
//   lse, delta [batch, heads, T] fp32.
//
//   MODE_FORWARD  y_i = Σ_j P_ij v_j, P_ij = exp(s_ij − lse_i), s_ij = scale·q_i·k_j,
//                 lse_i = log Σ_j exp(s_ij) over the keys i sees (j ≤ i when causal).
//   MODE_BWD_Q    δ_i = dy_i·y_i (kept in delta), dq_i (+)= scale·Σ_j P_ij (dy_i·v_j − δ_i) k_j.
//   MODE_BWD_KV   dv_j (+)= Σ_i P_ij dy_i,  dk_j (+)= scale·Σ_i P_ij (dy_i·v_j − δ_i) q_i,
//                 reading the δ that MODE_BWD_Q kept: it must run first.
//
// The backward recomputes P from the saved lse (FlashAttention-2's scheme) and owns its
// outputs without atomics: MODE_BWD_Q gives each invocation a query row, MODE_BWD_KV a key row,
// so every sum runs in a fixed order on one invocation: deterministic.
//
// An invocation holds its own row (q, or k and v) and accumulators in registers; the rows it
// meets (k and v, or q and dy) are the same for the whole workgroup, so each is one uniform
// load shared by every lane (a broadcast, cheap on CPUs and GPUs alike). A causal tile visits
// only the keys (queries) its rows can see: the others are skipped whole. The forward rescales
// its accumulator once per KEY_BLOCK keys. Rows past T compute on a clamped copy and store
// nothing. Dispatch: (ceil(T / workgroup), heads, batch), workgroup size = constant 0.
// Element pairs (2m, 2m+1) of a row are one fp16 word: HEAD_DIM is even.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common/attention.glsl"

layout(local_size_x_id = 0) in;

#define KEY_BLOCK 8u
#define PAIRS (HEAD_DIM / 2u)

// mine · the row of READER at element AT (arrays sized by a specialization constant cannot be
// function arguments: glslang's copy of them fails validation).
#define DOT_ROW(MINE, READER, AT, RESULT)                                      \
  {                                                                           \
    RESULT = 0.0;                                                             \
    [[unroll]] for (uint m_ = 0u; m_ < PAIRS; ++m_) RESULT += dot(MINE[m_], READER((AT) + 2u * m_)); \
  }

void forward(uint b, uint h, uint first, uint row, bool causal) {
  const uint T = p.tokens;
  vec2 q[PAIRS], o[PAIRS];
  [[unroll]] for (uint m = 0u; m < PAIRS; ++m) {
    q[m] = qkv_pair(qkv_at(b, h, row) + 2u * m);
    o[m] = vec2(0.0);
  }
  // Key 0 is in the first block and every row sees it, so m is finite after that block.
  float mx = NEG_INF, l = 0.0;
  const uint keys = causal ? min(T, first + gl_WorkGroupSize.x) : T;
  for (uint j0 = 0u; j0 < keys; j0 += KEY_BLOCK) {
    float s[KEY_BLOCK];
    float block_max = mx;
    [[unroll]] for (uint c = 0u; c < KEY_BLOCK; ++c) {
      const uint j = j0 + c;
      s[c] = NEG_INF;
      if (j < keys) {
        float sj;
        DOT_ROW(q, qkv_pair, qkv_at(b, h, j) + D(), sj);
        if (!causal || j <= row) s[c] = p.scale * sj;
      }
      block_max = max(block_max, s[c]);
    }
    const float rescale = exp(mx - block_max);
    l *= rescale;
    [[unroll]] for (uint m = 0u; m < PAIRS; ++m) o[m] *= rescale;
    [[unroll]] for (uint c = 0u; c < KEY_BLOCK; ++c) {
      const uint j = j0 + c;
      if (j >= keys) continue;
      const float pj = exp(s[c] - block_max);
      l += pj;
      const uint v = qkv_at(b, h, j) + 2u * D();
      [[unroll]] for (uint m = 0u; m < PAIRS; ++m) o[m] += pj * qkv_pair(v + 2u * m);
    }
    mx = block_max;
  }
  if (row != first + gl_LocalInvocationID.x) return;  // a clamped row past T
  lse[stat_at(b, h, row)] = mx + log(l);
  const float inv = 1.0 / l;
  [[unroll]] for (uint m = 0u; m < PAIRS; ++m) store_pair(y_at(b, h, row) + 2u * m, o[m] * inv, false);
}

void backward_q(uint b, uint h, uint first, uint row, bool causal, bool accumulate) {
  const uint T = p.tokens;
  vec2 q[PAIRS], dy[PAIRS], dq[PAIRS];
  const float d = row_delta(b, h, row);
  [[unroll]] for (uint m = 0u; m < PAIRS; ++m) {
    q[m] = qkv_pair(qkv_at(b, h, row) + 2u * m);
    dy[m] = dy_pair(y_at(b, h, row) + 2u * m);
    dq[m] = vec2(0.0);
  }
  const float lse_row = lse[stat_at(b, h, row)];
  const uint keys = causal ? min(T, first + gl_WorkGroupSize.x) : T;
  for (uint j = 0u; j < keys; ++j) {
    const uint k = qkv_at(b, h, j) + D();
    float s, dp;
    DOT_ROW(q, qkv_pair, k, s);
    DOT_ROW(dy, qkv_pair, k + D(), dp);
    const float ds = (causal && j > row) ? 0.0 : exp(p.scale * s - lse_row) * (dp - d);
    [[unroll]] for (uint m = 0u; m < PAIRS; ++m) dq[m] += ds * qkv_pair(k + 2u * m);
  }
  if (row != first + gl_LocalInvocationID.x) return;
  delta[stat_at(b, h, row)] = d;
  [[unroll]] for (uint m = 0u; m < PAIRS; ++m) store_pair(qkv_at(b, h, row) + 2u * m, p.scale * dq[m], accumulate);
}

void backward_kv(uint b, uint h, uint first, uint row, bool causal, bool accumulate) {
  const uint T = p.tokens;
  vec2 k[PAIRS], v[PAIRS], dk[PAIRS], dv[PAIRS];
  [[unroll]] for (uint m = 0u; m < PAIRS; ++m) {
    k[m] = qkv_pair(qkv_at(b, h, row) + D() + 2u * m);
    v[m] = qkv_pair(qkv_at(b, h, row) + 2u * D() + 2u * m);
    dk[m] = vec2(0.0);
    dv[m] = vec2(0.0);
  }
  // Queries before this tile's first key see none of its keys.
  for (uint i = causal ? first : 0u; i < T; ++i) {
    const uint q = qkv_at(b, h, i), dyi = y_at(b, h, i);
    float s, dp;
    DOT_ROW(k, qkv_pair, q, s);
    DOT_ROW(v, dy_pair, dyi, dp);
    const float pr = (causal && i < row) ? 0.0 : exp(p.scale * s - lse[stat_at(b, h, i)]);
    const float ds = pr * (dp - delta[stat_at(b, h, i)]);
    [[unroll]] for (uint m = 0u; m < PAIRS; ++m) {
      dv[m] += pr * dy_pair(dyi + 2u * m);
      dk[m] += ds * qkv_pair(q + 2u * m);
    }
  }
  if (row != first + gl_LocalInvocationID.x) return;
  [[unroll]] for (uint m = 0u; m < PAIRS; ++m) {
    store_pair(qkv_at(b, h, row) + D() + 2u * m, p.scale * dk[m], accumulate);
    store_pair(qkv_at(b, h, row) + 2u * D() + 2u * m, dv[m], accumulate);
  }
}

void main() {
  const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
  const uint first = gl_WorkGroupID.x * gl_WorkGroupSize.x;
  const uint row = min(first + gl_LocalInvocationID.x, p.tokens - 1u);
  const bool causal = (p.flags & FLAG_CAUSAL) != 0u, accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  if (p.mode == MODE_FORWARD)
    forward(b, h, first, row, causal);
  else if (p.mode == MODE_BWD_Q)
    backward_q(b, h, first, row, causal, accumulate);
  else
    backward_kv(b, h, first, row, causal, accumulate);
}
