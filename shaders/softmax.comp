#version 460
// Row-wise softmax and its gradient (vkgrad::kernels::Softmax), fp32 math whatever the storage:
//
//   MODE_FORWARD   y = exp(x - max x) / Σ exp(x - max x)     0 x    1 unused  2 y
//   MODE_BACKWARD  dx (+)= y ⊙ (dy - Σ_j dy_j·y_j)          0 y    1 dy      2 dx
//
// all [rows, cols], row-major. With FLAG_CAUSAL row r sees columns j ≤ r mod cols only (a
// stack of square attention-score blocks, query r mod cols): the others get y = 0, which the
// backward's formula then keeps at dx = 0. One workgroup per row (rows beyond the dispatch are strided
// over): each invocation walks the row's columns 256 apart, then the workgroup combines the
// partials in a fixed tree (common/workgroup_reduce.glsl), so results are deterministic for
// any cols. A row owns its elements only: with odd cols an fp16 word straddles two rows and
// each row writes its half atomically (common/out_pairs.glsl). Dispatch: (min(rows,
// maxComputeWorkGroupCount[0]), 1, 1) workgroups of 256.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"
#include "common/workgroup_reduce.glsl"


// Element types (vkgrad::kernels::ElemType) of bindings 0, 1 and 2.
layout(constant_id = 16) const uint IN0_TYPE = TYPE_F32;
layout(constant_id = 17) const uint IN1_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;

#define MODE_FORWARD 0u
#define MODE_BACKWARD 1u
#define FLAG_ACCUMULATE 1u
#define FLAG_CAUSAL 2u

// Mirrors vkgrad::kernels::SoftmaxArgs (include/vkgrad/kernels/softmax.hpp).
layout(push_constant) uniform SoftmaxArgs {
  uint mode;
  uint rows, cols;
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer In0_block { uint in0_words[]; };
layout(std430, binding = 1) readonly buffer In1_block { uint in1_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };

#include "common/out_pairs.glsl"

float in0(uint i) { return LOAD_ELEM(in0_words, IN0_TYPE, i); }
float in1(uint i) { return LOAD_ELEM(in1_words, IN1_TYPE, i); }

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
    const uint begin = r * p.cols, end = begin + p.cols;
    // The pairs holding any of this row's elements; the first and last may be shared.
    const uint first_pair = begin / 2u, pair_end = (end + 1u) / 2u;
    if (p.mode == MODE_FORWARD) {
      const uint seen = (p.flags & FLAG_CAUSAL) != 0u ? begin + r % p.cols + 1u : end;  // columns in the softmax
      float m = uintBitsToFloat(0xFF800000u);  // -inf
      for (uint i = begin + tid; i < seen; i += WORKGROUP_REDUCE_SIZE) m = max(m, in0(i));
      m = workgroup_max(m);
      float s = 0.0;
      for (uint i = begin + tid; i < seen; i += WORKGROUP_REDUCE_SIZE) s += exp(in0(i) - m);
      s = workgroup_sum(s);
      for (uint w = first_pair + tid; w < pair_end; w += WORKGROUP_REDUCE_SIZE) {
        const bvec2 own = pair_in(w, begin, end);
        vec2 y = vec2(0.0);
        for (uint h = 0u; h < 2u; ++h)
          if (own[h] && 2u * w + h < seen) y[h] = exp(in0(2u * w + h) - m) / s;
        write_out_pair(w, own, y, false);
      }
    } else {
      float d = 0.0;
      for (uint i = begin + tid; i < end; i += WORKGROUP_REDUCE_SIZE) d += in1(i) * in0(i);
      d = workgroup_sum(d);
      for (uint w = first_pair + tid; w < pair_end; w += WORKGROUP_REDUCE_SIZE) {
        const bvec2 own = pair_in(w, begin, end);
        const vec2 dx = vec2(own.x ? in0(2u * w) * (in1(2u * w) - d) : 0.0,
                             own.y ? in0(2u * w + 1u) * (in1(2u * w + 1u) - d) : 0.0);
        write_out_pair(w, own, dx, accumulate);
      }
    }
  }
}
