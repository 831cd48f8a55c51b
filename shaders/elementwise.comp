#version 460
// The elementwise family (vkgrad::kernels::Elementwise): one entry point, the operation chosen
// by p.mode, element types by specialization constants, all arithmetic in fp32.
//
//   MODE_UNARY       y = f(x)               0 x [n]               1 unused  2 y [n]
//   MODE_UNARY_BWD   dx (+)= dy · f'(x)     0 x [n]               1 dy [n]  2 dx [n]
//   MODE_BINARY      c = a ∘ b              0 a [rows·cols]       1 b       2 c [rows·cols]
//                    (b is [rows·cols], or [cols] repeated for every row with FLAG_BROADCAST)
//   MODE_COLUMN_SUM  out (+)= Σ_r x[r][·]   0 x [rows, cols]      1 unused  2 out [cols]
//   MODE_BWD_COLUMN_SUM  dx = dy · f'(x) and sums (+)= Σ_r dx[r][·], in one pass (a layer's
//                    activation backward and its bias gradient): 0 x [rows, cols], 1 dy,
//                    2 dx [rows, cols], 3 sums [cols] (fp32). cols is even, so every element
//                    pair lies in one row; the sums add dx as stored (rounded to its type), so
//                    they equal MODE_UNARY_BWD followed by MODE_COLUMN_SUM bit for bit.
//   MODE_STRIDED_COPY  out[dst_offset + Σ_d c_d·dst_strides[d]] (+)= x[src_offset + Σ_d c_d·src_strides[d]]
//                    for every coordinate c of the row-major shape p.dims[0..4] (n = its product)
//                    0 x   2 out (column blocks of concat and slice, transposes, attention heads in
//                    and out of a fused QKV block).
// Binding 3 is unused by the other modes (the host binds their output there).
//
// Flat modes grid-stride over element pairs: invocation i owns elements 2i and 2i + 1, one
// fp16 word, so no two invocations write the same word (common/out_pairs.glsl). Dispatch:
// (min(ceil(pairs / 256), 4096), 1, 1). The column sum gives a workgroup 64 columns at a
// time (32 column pairs × 8 row slices, the slices combined in a fixed tree by
// common/workgroup_reduce.glsl, so the result is deterministic); dispatch (min(ceil(cols / 64),
// 4096), 1, 1), and so does the fused mode. 256 invocations each: specialization constant 0.
#extension GL_GOOGLE_include_directive : require
#include "common/unary.glsl"
#include "common/words.glsl"
#include "common/workgroup_reduce.glsl"

// Element types (vkgrad::kernels::ElemType) of bindings 0, 1 and 2.
layout(constant_id = 16) const uint IN0_TYPE = TYPE_F32;
layout(constant_id = 17) const uint IN1_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;

#define MODE_UNARY 0u
#define MODE_UNARY_BWD 1u
#define MODE_BINARY 2u
#define MODE_COLUMN_SUM 3u
#define MODE_BWD_COLUMN_SUM 4u
#define MODE_STRIDED_COPY 6u

#define BINARY_ADD 0u
#define BINARY_MUL 1u

#define FLAG_ACCUMULATE 1u
#define FLAG_BROADCAST 2u

// Mirrors vkgrad::kernels::ElementwiseArgs (include/vkgrad/kernels/elementwise.hpp).
layout(push_constant) uniform ElementwiseArgs {
  uint mode;
  uint op;    // UNARY_* or BINARY_*
  uint n;     // elements of the flat modes
  uint rows, cols;
  uint flags;
  uint dims[5], src_strides[5], dst_strides[5];  // MODE_STRIDED_COPY
  uint src_offset, dst_offset;
} p;

layout(std430, binding = 0) readonly buffer In0_block { uint in0_words[]; };
layout(std430, binding = 1) readonly buffer In1_block { uint in1_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };
layout(std430, binding = 3) buffer Sums_block { float col_sums[]; };

#include "common/out_pairs.glsl"

float in0(uint i) { return LOAD_ELEM(in0_words, IN0_TYPE, i); }
float in1(uint i) { return LOAD_ELEM(in1_words, IN1_TYPE, i); }
// Elements 2w and 2w + 1 (one word of fp16; a lavapipe gather fewer than two loads).
vec2 in0_pair(uint w) {
  return IN0_TYPE == TYPE_F32 ? vec2(uintBitsToFloat(in0_words[2u * w]), uintBitsToFloat(in0_words[2u * w + 1u]))
                              : unpackHalf2x16(in0_words[w]);
}
vec2 in1_pair(uint w) {
  return IN1_TYPE == TYPE_F32 ? vec2(uintBitsToFloat(in1_words[2u * w]), uintBitsToFloat(in1_words[2u * w + 1u]))
                              : unpackHalf2x16(in1_words[w]);
}

// The value of flat element i of a flat mode.
float flat_value(uint i) {
  if (p.mode == MODE_UNARY) return unary(in0(i), p.op);
  if (p.mode == MODE_UNARY_BWD) return in1(i) * unary_grad(in0(i), p.op);
  const float b = in1((p.flags & FLAG_BROADCAST) != 0u ? i % p.cols : i);
  return p.op == BINARY_MUL ? in0(i) * b : in0(i) + b;
}

// Writes v to destination element e alone (atomically where its word-mate belongs to another).
void store_one(uint e, float v, bool accumulate) {
  write_out_pair(e / 2u, bvec2((e & 1u) == 0u, (e & 1u) == 1u), vec2(v), accumulate);
}

// An invocation copies one run of the innermost dimension: the outer coordinates are divided
// out once per run, not per element (integer division is slow on CPU drivers).
void strided_copy() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  const uint inner = p.dims[4], runs = p.n / inner;
  for (uint run = gl_GlobalInvocationID.x; run < runs; run += stride) {
    uint src = p.src_offset, dst = p.dst_offset, rest = run;
    for (int d = 3; d >= 0; --d) {
      const uint c = rest % p.dims[d];
      src += c * p.src_strides[d];
      dst += c * p.dst_strides[d];
      rest /= p.dims[d];
    }
    const uint ss = p.src_strides[4], ds = p.dst_strides[4];
    for (uint j = 0u; j < inner; j += 2u) {
      const uint s0 = src + j * ss, d0 = dst + j * ds;
      if (j + 1u == inner) {
        store_one(d0, in0(s0), accumulate);
      } else if (ds == 1u && (d0 & 1u) == 0u) {  // a whole destination word
        write_out_pair(d0 / 2u, bvec2(true), vec2(in0(s0), in0(s0 + ss)), accumulate);
      } else {
        store_one(d0, in0(s0), accumulate);
        store_one(d0 + ds, in0(s0 + ss), accumulate);
      }
    }
  }
}

void flat_modes() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  for (uint w = gl_GlobalInvocationID.x; w < (p.n + 1u) / 2u; w += stride) {
    const bvec2 own = pair_in(w, 0u, p.n);
    // Element 2w + 1 is not read past the end: an fp32 input may end right at element n.
    const vec2 v = vec2(flat_value(2u * w), own.y ? flat_value(2u * w + 1u) : 0.0);
    write_out_pair(w, own, v, accumulate);
  }
}

#define COLSUM_PAIRS 32u  // column pairs per block
#define COLSUM_SLICES (WORKGROUP_REDUCE_SIZE / COLSUM_PAIRS)  // row slices

void column_sum() {
  const uint lane = gl_LocalInvocationID.x % COLSUM_PAIRS;
  const uint slice = gl_LocalInvocationID.x / COLSUM_PAIRS;
  const uint blocks = (p.cols + 2u * COLSUM_PAIRS - 1u) / (2u * COLSUM_PAIRS);
  for (uint block = gl_WorkGroupID.x; block < blocks; block += gl_NumWorkGroups.x) {
    const uint w = block * COLSUM_PAIRS + lane;  // this lane's column pair
    const bvec2 own = pair_in(w, 0u, p.cols);
    const bool fused = p.mode == MODE_BWD_COLUMN_SUM;
    vec2 s = vec2(0.0);
    for (uint r = slice; r < p.rows; r += COLSUM_SLICES) {
      const uint row = r * p.cols;
      if (fused) {
        if (!own.x) continue;  // cols is even: a pair is wholly in or out
        const uint pair = row / 2u + w;
        const vec2 x = in0_pair(pair), dy = in1_pair(pair);
        const vec2 g = dy * vec2(unary_grad(x.x, p.op), unary_grad(x.y, p.op));
        if (OUT_TYPE == TYPE_F16) {  // the sums add dx as stored
          const uint word = pack_half2_rte(g);
          out_words[pair] = word;
          s += unpackHalf2x16(word);
        } else {
          out_words[2u * pair] = floatBitsToUint(g.x);
          out_words[2u * pair + 1u] = floatBitsToUint(g.y);
          s += g;
        }
      } else {
        if (own.x) s.x += in0(row + 2u * w);
        if (own.y) s.y += in0(row + 2u * w + 1u);
      }
    }
    // Invocations of one lane share its column pair: a tree over the slices.
    const vec2 total = workgroup_reduce(s, COLSUM_PAIRS, REDUCE_SUM);
    if (slice == 0u && own.x) {
      const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
      if (!fused) {
        write_out_pair(w, own, total, accumulate);
      } else {
        col_sums[2u * w] = total.x + (accumulate ? col_sums[2u * w] : 0.0);
        col_sums[2u * w + 1u] = total.y + (accumulate ? col_sums[2u * w + 1u] : 0.0);
      }
    }
  }
}

void main() {
  if (p.mode == MODE_COLUMN_SUM || p.mode == MODE_BWD_COLUMN_SUM) column_sum();
  else if (p.mode == MODE_STRIDED_COPY) strided_copy();
  else flat_modes();
}
