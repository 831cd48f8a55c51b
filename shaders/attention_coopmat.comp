#version 460
// Fused multi-head attention on cooperative matrices (vkgrad::kernels::Attention, variant
// coopmat): the same three modes, tensors and results as shaders/attention.comp (see there),
// for fp16 activations. One subgroup per workgroup owns a tile of BLOCK query rows (forward,
// MODE_BWD_Q) or key rows (MODE_BWD_KV) and walks BLOCK-row tiles of the other side, causal
// tiles past the diagonal skipped. The tiles are staged in shared memory as fp16; every product
// — S = q·kᵀ, dP = dy·vᵀ, P·v, dS·k, Pᵀ·dy, dSᵀ·q — is a sum of CM_M×CM_N×CM_K cooperative-
// matrix products (the device's fp16·fp16→fp32 shape) with fp32 accumulators kept in shared
// memory; the softmax, its online rescaling and the masks run per row on the invocations, in
// fp32, since KHR cooperative matrices say nothing of which invocation holds which element.
// P and dS enter their products rounded to fp16, as FlashAttention-2's. Deterministic: fixed
// tile order, no atomics.
//
// Rows past T are staged as zeros and never stored. Dispatch: (ceil(T / BLOCK), heads, batch)
// workgroups of one subgroup (the size pinned where subgroup-size control allows). BLOCK is a
// multiple of CM_M, CM_N and CM_K; HEAD_DIM of CM_N and CM_K. Needs 16-bit storage for the
// shared fp16 tiles (the coopmat variants require it).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#pragma use_vulkan_memory_model
#include "common/attention.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 2) const uint CM_M = 16;
layout(constant_id = 3) const uint CM_N = 16;
layout(constant_id = 4) const uint CM_K = 16;
layout(constant_id = 5) const uint BLOCK = 16;

// Row pitches, padded so that rows start 16 bytes apart from a bank-aligned multiple.
const uint HP = HEAD_DIM + 8u;  // fp16 [BLOCK][HEAD_DIM] tiles
const uint PP = BLOCK + 8u;     // fp16 [BLOCK][BLOCK] tiles
const uint SP = BLOCK + 4u;     // fp32 [BLOCK][BLOCK] tiles
const uint OP = HEAD_DIM + 4u;  // fp32 [BLOCK][HEAD_DIM] accumulators

// The tiles a mode stages (its own rows in X0, X1; the other side's in Y0, Y1), the two score
// tiles, their fp16 forms for the products, two accumulators, and two values per row.
// Kept in step with AttentionCoopmat::shared_bytes (engine/kernels/attention.cpp).
shared float16_t X0[BLOCK * HP], X1[BLOCK * HP], Y0[BLOCK * HP], Y1[BLOCK * HP];
shared float S0[BLOCK * SP], S1[BLOCK * SP];
shared float16_t P0[BLOCK * PP], P1[BLOCK * PP];
shared float Acc0[BLOCK * OP], Acc1[BLOCK * OP];
shared float row0[BLOCK], row1[BLOCK];

#define MatA coopmat<float16_t, gl_ScopeSubgroup, CM_M, CM_K, gl_MatrixUseA>
#define MatB coopmat<float16_t, gl_ScopeSubgroup, CM_K, CM_N, gl_MatrixUseB>
#define MatC coopmat<float, gl_ScopeSubgroup, CM_M, CM_N, gl_MatrixUseAccumulator>

// Stages BLOCK rows of HEAD_DIM elements starting at token t0 into TILE; rows past T are zeros.
// AT(t) is the first element of token t's row in the bound words.
#define STAGE(TILE, READER, AT, T0)                                                  \
  for (uint w = gl_LocalInvocationID.x; w < BLOCK * HEAD_DIM / 2u; w += gl_WorkGroupSize.x) { \
    const uint r = w / (HEAD_DIM / 2u), c = 2u * (w % (HEAD_DIM / 2u));              \
    const vec2 v = (T0) + r < p.tokens ? READER(AT((T0) + r) + c) : vec2(0.0);       \
    TILE[r * HP + c] = float16_t(v.x);                                               \
    TILE[r * HP + c + 1u] = float16_t(v.y);                                          \
  }

// OUT [BLOCK][BLOCK] = A · Bᵀ for A, B [BLOCK][HEAD_DIM] fp16 tiles.
#define MUL_ABT(A, B, OUT)                                                                           \
  for (uint tm = 0u; tm < BLOCK; tm += CM_M)                                                        \
    for (uint tn = 0u; tn < BLOCK; tn += CM_N) {                                                    \
      MatC acc = MatC(0.0);                                                                          \
      for (uint kk = 0u; kk < HEAD_DIM; kk += CM_K) {                                               \
        MatA a;                                                                                      \
        MatB b;                                                                                      \
        coopMatLoad(a, A, tm * HP + kk, HP, gl_CooperativeMatrixLayoutRowMajor);                    \
        coopMatLoad(b, B, tn * HP + kk, HP, gl_CooperativeMatrixLayoutColumnMajor);                 \
        acc = coopMatMulAdd(a, b, acc);                                                              \
      }                                                                                              \
      coopMatStore(acc, OUT, tm * SP + tn, SP, gl_CooperativeMatrixLayoutRowMajor);                  \
    }

// ACC [BLOCK][HEAD_DIM] += op(A) · B for A [BLOCK][BLOCK] and B [BLOCK][HEAD_DIM] fp16 tiles;
// op(A) = A (LAYOUT row-major) or Aᵀ (column-major).
#define MUL_ACC(A, LAYOUT, B, ACC)                                                                   \
  for (uint tm = 0u; tm < BLOCK; tm += CM_M)                                                        \
    for (uint tn = 0u; tn < HEAD_DIM; tn += CM_N) {                                                 \
      MatC acc;                                                                                      \
      coopMatLoad(acc, ACC, tm * OP + tn, OP, gl_CooperativeMatrixLayoutRowMajor);                   \
      for (uint kk = 0u; kk < BLOCK; kk += CM_K) {                                                  \
        MatA a;                                                                                      \
        MatB b;                                                                                      \
        if (LAYOUT == gl_CooperativeMatrixLayoutRowMajor)                                           \
          coopMatLoad(a, A, tm * PP + kk, PP, gl_CooperativeMatrixLayoutRowMajor);                   \
        else                                                                                         \
          coopMatLoad(a, A, kk * PP + tm, PP, gl_CooperativeMatrixLayoutColumnMajor);                \
        coopMatLoad(b, B, kk * HP + tn, HP, gl_CooperativeMatrixLayoutRowMajor);                     \
        acc = coopMatMulAdd(a, b, acc);                                                              \
      }                                                                                              \
      coopMatStore(acc, ACC, tm * OP + tn, OP, gl_CooperativeMatrixLayoutRowMajor);                  \
    }

void zero_accumulators() {
  for (uint i = gl_LocalInvocationID.x; i < BLOCK * OP; i += gl_WorkGroupSize.x) {
    Acc0[i] = 0.0;
    Acc1[i] = 0.0;
  }
}

// The first element of token t's q, k, v and y (dy) rows, for the b and h in scope.
#define Q_ROW(t) qkv_at(b, h, t)
#define K_ROW(t) (qkv_at(b, h, t) + D())
#define V_ROW(t) (qkv_at(b, h, t) + 2u * D())
#define Y_ROW(t) y_at(b, h, t)

// Query i sees key j (both within T).
bool visible(uint i, uint j, bool causal) { return i < p.tokens && j < p.tokens && (!causal || j <= i); }

void forward(uint b, uint h, uint i0, bool causal) {
  const uint lanes = gl_WorkGroupSize.x;
  STAGE(X0, qkv_pair, Q_ROW, i0)
  zero_accumulators();
  for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
    row0[r] = NEG_INF;  // running max
    row1[r] = 0.0;      // running sum
  }
  const uint keys = causal ? min(p.tokens, i0 + BLOCK) : p.tokens;
  for (uint j0 = 0u; j0 < keys; j0 += BLOCK) {
    barrier();  // the previous tile's products are done with Y0, Y1, P0
    STAGE(Y0, qkv_pair, K_ROW, j0)
    STAGE(Y1, qkv_pair, V_ROW, j0)
    barrier();
    MUL_ABT(X0, Y0, S0)
    barrier();
    // Key 0 is in the first tile and every row sees it, so the max is finite after that tile.
    for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
      const uint i = min(i0 + r, p.tokens - 1u);
      float m = row0[r];
      for (uint c = 0u; c < BLOCK; ++c)
        if (visible(i, j0 + c, causal)) m = max(m, p.scale * S0[r * SP + c]);
      const float rescale = exp(row0[r] - m);
      float l = row1[r] * rescale;
      for (uint c = 0u; c < BLOCK; ++c) {
        const float pr = visible(i, j0 + c, causal) ? exp(p.scale * S0[r * SP + c] - m) : 0.0;
        l += pr;
        P0[r * PP + c] = float16_t(pr);
      }
      for (uint c = 0u; c < HEAD_DIM; ++c) Acc0[r * OP + c] *= rescale;
      row0[r] = m;
      row1[r] = l;
    }
    barrier();
    MUL_ACC(P0, gl_CooperativeMatrixLayoutRowMajor, Y1, Acc0)
  }
  barrier();
  for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
    const uint i = i0 + r;
    if (i >= p.tokens) continue;
    lse[stat_at(b, h, i)] = row0[r] + log(row1[r]);
    const float inv = 1.0 / row1[r];
    for (uint c = 0u; c < HEAD_DIM; c += 2u)
      store_pair(y_at(b, h, i) + c, vec2(Acc0[r * OP + c], Acc0[r * OP + c + 1u]) * inv, false);
  }
}

// P and dS of the query tile at i0 against the key tile at j0, from S0 = q·kᵀ and S1 = dy·vᵀ,
// with each query row's lse in row0 and δ in row1 (indexed by query, the tile's row).
void probabilities_and_score_grads(uint i0, uint j0, bool causal) {
  for (uint e = gl_LocalInvocationID.x; e < BLOCK * BLOCK; e += gl_WorkGroupSize.x) {
    const uint r = e / BLOCK, c = e % BLOCK;
    const float pr = visible(i0 + r, j0 + c, causal) ? exp(p.scale * S0[r * SP + c] - row0[r]) : 0.0;
    P0[r * PP + c] = float16_t(pr);
    P1[r * PP + c] = float16_t(pr * (S1[r * SP + c] - row1[r]));
  }
}

void backward_q(uint b, uint h, uint i0, bool causal, bool accumulate) {
  const uint lanes = gl_WorkGroupSize.x;
  STAGE(X0, qkv_pair, Q_ROW, i0)
  STAGE(X1, dy_pair, Y_ROW, i0)
  zero_accumulators();
  for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
    const uint i = i0 + r;
    row0[r] = i < p.tokens ? lse[stat_at(b, h, i)] : 0.0;
    row1[r] = i < p.tokens ? row_delta(b, h, i) : 0.0;
    if (i < p.tokens) delta[stat_at(b, h, i)] = row1[r];
  }
  const uint keys = causal ? min(p.tokens, i0 + BLOCK) : p.tokens;
  for (uint j0 = 0u; j0 < keys; j0 += BLOCK) {
    barrier();
    STAGE(Y0, qkv_pair, K_ROW, j0)
    STAGE(Y1, qkv_pair, V_ROW, j0)
    barrier();
    MUL_ABT(X0, Y0, S0)
    MUL_ABT(X1, Y1, S1)
    barrier();
    probabilities_and_score_grads(i0, j0, causal);
    barrier();
    MUL_ACC(P1, gl_CooperativeMatrixLayoutRowMajor, Y0, Acc0)  // dq += dS·k
  }
  barrier();
  for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
    const uint i = i0 + r;
    if (i >= p.tokens) continue;
    for (uint c = 0u; c < HEAD_DIM; c += 2u)
      store_pair(Q_ROW(i) + c, p.scale * vec2(Acc0[r * OP + c], Acc0[r * OP + c + 1u]), accumulate);
  }
}

void backward_kv(uint b, uint h, uint j0, bool causal, bool accumulate) {
  const uint lanes = gl_WorkGroupSize.x;
  STAGE(X0, qkv_pair, K_ROW, j0)
  STAGE(X1, qkv_pair, V_ROW, j0)
  zero_accumulators();  // Acc0: dk, Acc1: dv
  // Query tiles before this key tile's first key see none of its keys.
  for (uint i0 = causal ? j0 : 0u; i0 < p.tokens; i0 += BLOCK) {
    barrier();
    STAGE(Y0, qkv_pair, Q_ROW, i0)
    STAGE(Y1, dy_pair, Y_ROW, i0)
    for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
      const uint i = i0 + r;
      row0[r] = i < p.tokens ? lse[stat_at(b, h, i)] : 0.0;
      row1[r] = i < p.tokens ? delta[stat_at(b, h, i)] : 0.0;
    }
    barrier();
    MUL_ABT(Y0, X0, S0)  // q·kᵀ
    MUL_ABT(Y1, X1, S1)  // dy·vᵀ
    barrier();
    probabilities_and_score_grads(i0, j0, causal);
    barrier();
    MUL_ACC(P1, gl_CooperativeMatrixLayoutColumnMajor, Y0, Acc0)  // dk += dSᵀ·q
    MUL_ACC(P0, gl_CooperativeMatrixLayoutColumnMajor, Y1, Acc1)  // dv += Pᵀ·dy
  }
  barrier();
  for (uint r = gl_LocalInvocationID.x; r < BLOCK; r += lanes) {
    const uint j = j0 + r;
    if (j >= p.tokens) continue;
    for (uint c = 0u; c < HEAD_DIM; c += 2u) {
      store_pair(K_ROW(j) + c, p.scale * vec2(Acc0[r * OP + c], Acc0[r * OP + c + 1u]), accumulate);
      store_pair(V_ROW(j) + c, vec2(Acc1[r * OP + c], Acc1[r * OP + c + 1u]), accumulate);
    }
  }
}

void main() {
  const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y, t0 = gl_WorkGroupID.x * BLOCK;
  const bool causal = (p.flags & FLAG_CAUSAL) != 0u, accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  if (p.mode == MODE_FORWARD)
    forward(b, h, t0, causal);
  else if (p.mode == MODE_BWD_Q)
    backward_q(b, h, t0, causal, accumulate);
  else
    backward_kv(b, h, t0, causal, accumulate);
}
