#version 460
// NV cooperative-matrix-2 GEMM (variant coopmat2): fp16 operands, fp32 accumulators.
// Flexible dimensions let each subgroup own one TM×TN accumulator — any multiple of the
// device's granularity — instead of many small ones, and per-element operations give the
// epilogue each element's (row, column), so results go from the accumulator straight to C
// with the bias, activation and fp16 rounding applied on the way: no shared-memory round trip,
// and edges are a bounds check. Operands are staged in shared memory as in the coopmat
// variant (common/gemm_stage.glsl), double-buffered.
// Dispatch: (ceil(N/BN), ceil(M/BM), batch) workgroups of WM·WN·SUBGROUP invocations, with
// BM = WM·TM and BN = WN·TN, the subgroup size pinned to SUBGROUP.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_NV_cooperative_matrix2 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require
#pragma use_vulkan_memory_model

// C as fp16 elements: 16-bit stores need no pairing (each half is its own memory location), and
// C is read the same way, never as a word whose other half another invocation is writing.
layout(std430, binding = 2) buffer C16_block { float16_t c_halves[]; };
#define GEMM_LOAD_C(I) (C_TYPE == TYPE_F32 ? uintBitsToFloat(c_words[I]) : float(c_halves[I]))
#include "common/gemm.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 32;  // multiples of the device's M, N, K granularity
layout(constant_id = 2) const uint TN = 32;
layout(constant_id = 3) const uint TK = 16;
layout(constant_id = 4) const uint WM = 2;
layout(constant_id = 5) const uint WN = 2;
layout(constant_id = 8) const uint BK = 32;  // a multiple of TK and of 8

const uint BM = WM * TM;
const uint BN = WN * TN;

shared float16_t As[2 * BM * (BK + 8u)];
shared float16_t Bs[2 * BK * (BN + 8u)];
#include "common/gemm_stage.glsl"

// The epilogue of one accumulator element at (r, c) of the subgroup's tile: stores it to C and
// returns it unchanged. Out-of-range elements (edge tiles) are dropped.
float store_element(const in uint r, const in uint c, const in float acc, const in uint row0, const in uint col0,
                    const in uint batch) {
  const uint gr = row0 + r, gc = col0 + c;
  if (gr < p.M && gc < p.N) {
    const uint cbase = batch * p.stride_c;
    const float v = epilogue(batch, gr, gc, acc);
    const uint i = cbase + gr * p.ldc + gc;
    if (C_TYPE == TYPE_F32)
      c_words[i] = floatBitsToUint(v);
    else
      c_halves[i] = unpackFloat2x16(half_rte(v)).x;
  }
  return acc;
}

void main() {
  const uint sg = gl_SubgroupID;
  const uint wm = sg % WM;
  const uint wn = sg / WM;
  const uint row0 = gl_WorkGroupID.y * BM;
  const uint col0 = gl_WorkGroupID.x * BN;
  const uint batch = gl_WorkGroupID.z;

  coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator> acc =
      coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator>(0.0);

  stage_slab(0u, 0u, row0, col0, batch);
  barrier();
  for (uint k0 = 0; k0 < p.K; k0 += BK) {
    const uint slab = (k0 / BK) & 1u;
    // Slab slab^1 was last read before the previous iteration's closing barrier.
    if (k0 + BK < p.K) stage_slab(slab ^ 1u, k0 + BK, row0, col0, batch);
    for (uint kk = 0; kk < BK; kk += TK) {
      coopmat<float16_t, gl_ScopeSubgroup, TM, TK, gl_MatrixUseA> a;
      coopmat<float16_t, gl_ScopeSubgroup, TK, TN, gl_MatrixUseB> b;
      coopMatLoad(a, As, slab * BM * A_PITCH + wm * TM * A_PITCH + kk, A_PITCH, gl_CooperativeMatrixLayoutRowMajor);
      coopMatLoad(b, Bs, slab * BK * B_PITCH + kk * B_PITCH + wn * TN, B_PITCH, gl_CooperativeMatrixLayoutRowMajor);
      acc = coopMatMulAdd(a, b, acc);
    }
    barrier();
  }

  coopMatPerElementNV(acc, acc, store_element, row0 + wm * TM, col0 + wn * TN, batch);
}
