#version 460
// Losses (vkgrad::kernels::Loss) with PyTorch's 'mean' reduction, fp32 math whatever the storage.
// Rows r ≥ valid = min(params.valid_rows, rows) are padding: they read nothing and give 0.
//
//   MODE_FORWARD   row_loss[r] (fp32)           0 pred [rows, cols]  1 target  2 params  3 row_loss [rows]
//   MODE_MEAN      loss[0] = Σ row_loss / N     0 row_loss [rows]    1 unused  2 params  3 loss [1]
//   MODE_BACKWARD  dpred = scale · ∂mean/∂pred  0 pred [rows, cols]  1 target  2 params  3 dpred [rows, cols]
//
// target: int32 class labels [rows] for KIND_CROSS_ENTROPY (a label outside [0, cols) makes
// the row NaN, so that the trainer's non-finite check sees it); [rows, cols] of TARGET_TYPE
// for KIND_MSE and KIND_L1. params is vkgrad::kernels::LossParams, updated on the device by
// the trainer, so a recorded pass stays valid when the loss scale or the batch fill changes.
// N = valid (cross-entropy) or valid·cols (MSE, L1).
//
// One workgroup per row, rows beyond the dispatch strided over, reductions in a fixed tree
// (deterministic); fp16 words straddling two rows are written a half at a time
// (common/out_pairs.glsl). Dispatch: forward and backward (min(rows,
// maxComputeWorkGroupCount[0]), 1, 1), mean (1, 1, 1); 256 invocations each.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"
#include "common/workgroup_reduce.glsl"


// Element types (vkgrad::kernels::ElemType) of pred, target (MSE and L1) and dpred.
layout(constant_id = 16) const uint PRED_TYPE = TYPE_F32;
layout(constant_id = 17) const uint TARGET_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;

#define MODE_FORWARD 0u
#define MODE_MEAN 1u
#define MODE_BACKWARD 2u

// vkgrad::kernels::LossKind.
#define KIND_CROSS_ENTROPY 0u
#define KIND_MSE 1u
#define KIND_L1 2u

// Mirrors vkgrad::kernels::LossArgs (include/vkgrad/kernels/loss.hpp).
layout(push_constant) uniform LossArgs {
  uint mode;
  uint kind;
  uint rows, cols;
  uint positions;  // rows per sample: params.valid_rows counts samples
} p;

layout(std430, binding = 0) readonly buffer Pred_block { uint pred_words[]; };
layout(std430, binding = 1) readonly buffer Target_block { uint target_words[]; };
layout(std430, binding = 2) readonly buffer Params_block {
  float scale;
  uint valid_rows;
  uint mean_rows;  // 0: the mean is over the valid rows
} params;
layout(std430, binding = 3) buffer Out_block { uint out_words[]; };

#include "common/out_pairs.glsl"

// A quiet NaN built from bits: 0.0/0.0 may be folded to anything.
float nan_value() { return uintBitsToFloat(0x7FC00000u); }

float pred(uint i) { return LOAD_ELEM(pred_words, PRED_TYPE, i); }
float target(uint i) { return LOAD_ELEM(target_words, TARGET_TYPE, i); }

uint valid_rows() { return min(params.valid_rows * p.positions, p.rows); }
// What the mean divides by: the valid rows, or the global batch's rows (data parallel).
float mean_count() {
  const float rows = params.mean_rows == 0u ? float(valid_rows()) : float(params.mean_rows * p.positions);
  return p.kind == KIND_CROSS_ENTROPY ? rows : rows * float(p.cols);
}

// Σ_j (p - t)² or Σ_j |p - t| over [begin, end), combined over the workgroup.
float row_distance(uint begin, uint end) {
  float s = 0.0;
  for (uint i = begin + gl_LocalInvocationID.x; i < end; i += WORKGROUP_REDUCE_SIZE) {
    const float d = pred(i) - target(i);
    s += p.kind == KIND_MSE ? d * d : abs(d);
  }
  return workgroup_sum(s);
}

// The row's max and Σ exp(pred - max), for log-sum-exp and softmax.
vec2 row_logsumexp_parts(uint begin, uint end) {
  float m = uintBitsToFloat(0xFF800000u);  // -inf
  for (uint i = begin + gl_LocalInvocationID.x; i < end; i += WORKGROUP_REDUCE_SIZE) m = max(m, pred(i));
  m = workgroup_max(m);
  float s = 0.0;
  for (uint i = begin + gl_LocalInvocationID.x; i < end; i += WORKGROUP_REDUCE_SIZE) s += exp(pred(i) - m);
  return vec2(m, workgroup_sum(s));
}

// Labels are int32 bits; as uint, a negative label is ≥ cols too.
bool label_ok(uint label) { return label < p.cols; }

void forward() {
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
    float loss = 0.0;
    if (r < valid_rows()) {
      const uint begin = r * p.cols, end = begin + p.cols;
      if (p.kind == KIND_CROSS_ENTROPY) {
        const vec2 ms = row_logsumexp_parts(begin, end);
        const uint label = target_words[r];
        // −log softmax[label] = (max − pred[label]) + log Σ exp(pred − max): both terms ≥ 0.
        loss = label_ok(label) ? (ms.x - pred(begin + label)) + log(ms.y) : nan_value();
      } else {
        loss = row_distance(begin, end);
      }
    }
    if (gl_LocalInvocationID.x == 0u) out_words[r] = floatBitsToUint(loss);
  }
}

void mean() {
  const uint valid = valid_rows();
  float s = 0.0;
  for (uint r = gl_LocalInvocationID.x; r < valid; r += WORKGROUP_REDUCE_SIZE) s += uintBitsToFloat(pred_words[r]);
  s = workgroup_sum(s);
  // No rows give 0/0 = NaN, like PyTorch's mean over nothing.
  if (gl_LocalInvocationID.x == 0u) out_words[0] = floatBitsToUint(s / mean_count());
}

void backward() {
  const uint valid = valid_rows();
  const float k = params.scale / mean_count();
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
    const uint begin = r * p.cols, end = begin + p.cols;
    const uint first_pair = begin / 2u, pair_end = (end + 1u) / 2u;
    const bool masked = r >= valid;
    vec2 ms = vec2(0.0);
    uint label = 0u;
    if (!masked && p.kind == KIND_CROSS_ENTROPY) {
      ms = row_logsumexp_parts(begin, end);
      label = target_words[r];
    }
    for (uint w = first_pair + gl_LocalInvocationID.x; w < pair_end; w += WORKGROUP_REDUCE_SIZE) {
      const bvec2 own = pair_in(w, begin, end);
      vec2 g = vec2(0.0);
      for (uint h = 0u; h < 2u && !masked; ++h) {
        if (!own[h]) continue;
        const uint i = 2u * w + h;
        if (p.kind == KIND_CROSS_ENTROPY) {
          const float onehot = i - begin == label ? 1.0 : 0.0;
          g[h] = label_ok(label) ? (exp(pred(i) - ms.x) / ms.y - onehot) * k : nan_value();
        } else {
          const float d = pred(i) - target(i);
          g[h] = p.kind == KIND_MSE ? 2.0 * d * k : sign(d) * k;  // sign(0) = 0
        }
      }
      write_out_pair(w, own, g, false);
    }
  }
}

void main() {
  if (p.mode == MODE_FORWARD) forward();
  else if (p.mode == MODE_MEAN) mean();
  else backward();
}
