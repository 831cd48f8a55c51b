#version 460
// Fused optimizers over the flat FP32 master buffer, as PyTorch's SGD, Adam and AdamW define
// them (torch.optim, foreach=False), writing the FP16 working copy in the same pass.
// Nothing is written when the step is skipped (state.skip), so masters, moments and the
// optimizer step stay bitwise unchanged. Gradients arrive scaled: state.grad_unscale undoes
// the loss scale (and averages micro-batches), state.clip_coef applies gradient clipping. Each invocation owns an element pair (one fp16 copy word).
// Bindings: 0 state (r), 1 params [n] fp32 (rw), 2 grads [n] fp32 (r),
//           3 exp_avg / momentum buffer [n] fp32 (rw), 4 exp_avg_sq [n] fp32 (rw),
//           5 fp16 working copy [n] as words (w; only with write_copy).
// Dispatch: up to 1024 workgroups of 256, grid-stride over element pairs.
#extension GL_GOOGLE_include_directive : require
#include "common/train_state.glsl"
#include "common/words.glsl"

layout(local_size_x = 256) in;

#define KIND_SGD 0u
#define KIND_ADAM 1u
#define KIND_ADAMW 2u

// Mirrors vkgrad::train::OptimizerArgs.
layout(push_constant) uniform Args {
  uint kind;
  uint n;
  float beta1;  // Adam; SGD: momentum
  float beta2;
  float eps;
  float weight_decay;
  float dampening;  // SGD
  uint nesterov;    // SGD
  uint write_copy;
  float lr_scale;  // a parameter group's learning rate relative to the scheduled one
} args;

layout(std430, binding = 0) readonly buffer State_block { TrainState state; };
layout(std430, binding = 1) buffer Params_block { float params[]; };
layout(std430, binding = 2) readonly buffer Grads_block { float grads[]; };
layout(std430, binding = 3) buffer M_block { float exp_avg[]; };
layout(std430, binding = 4) buffer V_block { float exp_avg_sq[]; };
layout(std430, binding = 5) writeonly buffer Copy_block { uint copy_words[]; };

float update(uint i, float lr, uint t) {
  float w = params[i];
  float g = grads[i] * (state.grad_unscale * state.clip_coef);
  if (args.kind == KIND_SGD) {
    if (args.weight_decay != 0.0) g += args.weight_decay * w;
    if (args.beta1 != 0.0) {
      // PyTorch starts the momentum buffer at the first gradient.
      const float buf = t == 1u ? g : args.beta1 * exp_avg[i] + (1.0 - args.dampening) * g;
      exp_avg[i] = buf;
      g = args.nesterov != 0u ? g + args.beta1 * buf : buf;
    }
    w -= lr * g;
  } else {
    if (args.kind == KIND_ADAMW) {
      w *= 1.0 - lr * args.weight_decay;
    } else if (args.weight_decay != 0.0) {
      g += args.weight_decay * w;
    }
    const float m = exp_avg[i] + (1.0 - args.beta1) * (g - exp_avg[i]);
    const float v = args.beta2 * exp_avg_sq[i] + (1.0 - args.beta2) * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const float bias1 = 1.0 - pow(args.beta1, float(t));
    const float bias2 = 1.0 - pow(args.beta2, float(t));
    w -= (lr / bias1) * m / (sqrt(v) / sqrt(bias2) + args.eps);
  }
  params[i] = w;
  return w;
}

void main() {
  if (state.skip != 0u) return;
  const float lr = state.lr * args.lr_scale;
  const uint t = state.optimizer_step + 1u;
  const uint pairs = (args.n + 1u) / 2u;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint p = gl_GlobalInvocationID.x; p < pairs; p += stride) {
    const float w0 = update(2u * p, lr, t);
    const float w1 = 2u * p + 1u < args.n ? update(2u * p + 1u, lr, t) : 0.0;
    if (args.write_copy != 0u) copy_words[p] = pack_half2_rte(vec2(w0, w1));
  }
}
