#version 460
// Cooperative-matrix GEMM (variant coopmat): fp16 operands, fp32 accumulators.
// The subgroup tile CM_M×CM_N×CM_K is one the device reports (specialization constants). The
// workgroup's WM×WN subgroups each own RM×RN accumulator tiles, so a workgroup computes a
// BM×BN = (WM·RM·CM_M)×(WN·RN·CM_N) block; BK-deep slabs of op(A) and op(B) are staged in
// shared memory as fp16 (common/gemm_stage.glsl), double-buffered so the next slab loads while
// this one multiplies.
// A workgroup whose block lies wholly inside an fp32 C, with no bias or activation (and C
// aligned: C_DIRECT), stores its accumulators straight to C, α and β applied as matrix
// operations. Otherwise — KHR cooperative matrices define no element-to-(row, column) mapping —
// each subgroup stores one accumulator at a time to its own shared scratch and the epilogue
// runs per invocation from there. The choice is workgroup-uniform, as every barrier must be.
// Dispatch: (ceil(N/BN), ceil(M/BM), batch) workgroups of WM·WN·SUBGROUP invocations, with
// the subgroup size pinned to SUBGROUP and full subgroups required.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#pragma use_vulkan_memory_model
#include "common/gemm.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint CM_M = 16;
layout(constant_id = 2) const uint CM_N = 16;
layout(constant_id = 3) const uint CM_K = 16;
layout(constant_id = 4) const uint WM = 2;
layout(constant_id = 5) const uint WN = 2;
layout(constant_id = 6) const uint RM = 2;
layout(constant_id = 7) const uint RN = 2;
layout(constant_id = 8) const uint BK = 32;  // a multiple of CM_K
layout(constant_id = 9) const uint SUBGROUP = 32;

// C is fp32 with ldc, the batch stride and the binding offset in whole 16-byte units, and the
// epilogue has neither bias nor activation (set by the host).
// Those tiles load and store C through the loaders' own view of binding 2 (c_words: fp32 bits,
// reinterpreted by the cooperative-matrix load and store): a second, float-typed variable on the
// same binding, touched only by cooperative-matrix operations, is invisible to the validation
// layer's access analysis (1.4.309), which then reports every write to C as a hazard.
layout(constant_id = 10) const bool C_DIRECT = false;

const uint BM = WM * RM * CM_M;
const uint BN = WN * RN * CM_N;

shared float16_t As[2 * BM * (BK + 8u)];  // two slabs, each [m][k], rows padded
shared float16_t Bs[2 * BK * (BN + 8u)];  // two slabs, each [k][n], rows padded
shared float Cs[WM * WN * CM_M * CM_N];  // one accumulator tile per subgroup
#include "common/gemm_stage.glsl"

void main() {
  const uint sg = gl_SubgroupID;
  const uint lane = gl_SubgroupInvocationID;
  const uint wm = sg % WM;
  const uint wn = sg / WM;
  const uint row0 = gl_WorkGroupID.y * BM;
  const uint col0 = gl_WorkGroupID.x * BN;
  const uint batch = gl_WorkGroupID.z;

  coopmat<float, gl_ScopeSubgroup, CM_M, CM_N, gl_MatrixUseAccumulator> acc[RM * RN];
  for (uint i = 0; i < RM * RN; ++i) acc[i] = coopmat<float, gl_ScopeSubgroup, CM_M, CM_N, gl_MatrixUseAccumulator>(0.0);

  stage_slab(0u, 0u, row0, col0, batch);
  barrier();
  for (uint k0 = 0; k0 < p.K; k0 += BK) {
    const uint slab = (k0 / BK) & 1u;
    // Slab slab^1 was last read before the previous iteration's closing barrier.
    if (k0 + BK < p.K) stage_slab(slab ^ 1u, k0 + BK, row0, col0, batch);
    for (uint kk = 0; kk < BK; kk += CM_K) {
      coopmat<float16_t, gl_ScopeSubgroup, CM_M, CM_K, gl_MatrixUseA> a[RM];
      coopmat<float16_t, gl_ScopeSubgroup, CM_K, CM_N, gl_MatrixUseB> b[RN];
      for (uint i = 0; i < RM; ++i)
        coopMatLoad(a[i], As, slab * BM * A_PITCH + ((wm * RM + i) * CM_M) * A_PITCH + kk, A_PITCH,
                    gl_CooperativeMatrixLayoutRowMajor);
      for (uint j = 0; j < RN; ++j)
        coopMatLoad(b[j], Bs, slab * BK * B_PITCH + kk * B_PITCH + (wn * RN + j) * CM_N, B_PITCH,
                    gl_CooperativeMatrixLayoutRowMajor);
      for (uint i = 0; i < RM; ++i)
        for (uint j = 0; j < RN; ++j) acc[i * RN + j] = coopMatMulAdd(a[i], b[j], acc[i * RN + j]);
    }
    barrier();
  }

  if (C_DIRECT && row0 + BM <= p.M && col0 + BN <= p.N) {
    for (uint i = 0; i < RM; ++i)
      for (uint j = 0; j < RN; ++j) {
        const uint at = batch * p.stride_c + (row0 + (wm * RM + i) * CM_M) * p.ldc + col0 + (wn * RN + j) * CM_N;
        coopmat<float, gl_ScopeSubgroup, CM_M, CM_N, gl_MatrixUseAccumulator> v = acc[i * RN + j] * p.alpha;
        // β = 0 must not read C (it may hold NaN).
        if (p.beta != 0.0) {
          coopmat<float, gl_ScopeSubgroup, CM_M, CM_N, gl_MatrixUseAccumulator> c;
          coopMatLoad(c, c_words, at, p.ldc, gl_CooperativeMatrixLayoutRowMajor);
          v = v + c * p.beta;
        }
        coopMatStore(v, c_words, at, p.ldc, gl_CooperativeMatrixLayoutRowMajor);
      }
    return;
  }

  const uint scratch = sg * CM_M * CM_N;
  for (uint i = 0; i < RM; ++i) {
    for (uint j = 0; j < RN; ++j) {
      coopMatStore(acc[i * RN + j], Cs, scratch, CM_N, gl_CooperativeMatrixLayoutRowMajor);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < CM_M * CM_N / 2u; e += SUBGROUP) {
        const uint tr = e / (CM_N / 2u), tc = 2u * (e % (CM_N / 2u));
        const uint r = row0 + (wm * RM + i) * CM_M + tr;
        const uint c = col0 + (wn * RN + j) * CM_N + tc;
        if (r < p.M && c < p.N) store_pair(batch, r, c, vec2(Cs[scratch + tr * CM_N + tc], Cs[scratch + tr * CM_N + tc + 1u]));
      }
      subgroupBarrier();  // the scratch is rewritten by the next tile
    }
  }
}
