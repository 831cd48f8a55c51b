// Pointwise functions of the elementwise family and their derivatives, all in fp32. Codes match
// vkgrad::kernels::UnaryOp; 0-3 are the GEMM epilogue's activations and are computed by
// activate() itself, so that a fused activation and an unfused one give the same values.
#ifndef VKGRAD_UNARY_GLSL
#define VKGRAD_UNARY_GLSL

#include "common/activation.glsl"

#define UNARY_IDENTITY ACT_NONE
#define UNARY_RELU ACT_RELU
#define UNARY_GELU ACT_GELU
#define UNARY_GELU_TANH ACT_GELU_TANH
#define UNARY_TANH 4u
#define UNARY_SIGMOID 5u
#define UNARY_SIN 6u
#define UNARY_COS 7u

// x − 2πk, k = round(x/2π): Vulkan bounds sin and cos only on [−π, π], and Fourier features
// feed them arguments in the hundreds. Cody–Waite: 2π = C1 + C2 with C1 = 6.28125 (8 significant
// bits), so k·C1 is exact for |k| < 2^16 (|x| < 4·10^5) and x − k·C1 cancels exactly; `precise`
// keeps the compiler from re-associating the two steps.
float reduce_two_pi(float x) {
  const float k = round(x * 0.15915494309189535);
  precise const float r = x - k * 6.28125;
  return r - k * 0.0019353071795864769;
}

// tanh from t = e^(-2|x|) ∈ (0, 1], which cannot overflow whatever x is. (1 - t)/(1 + t) loses
// precision to cancellation near 0, so below |x| = 0.4 (where 1 - t ≥ 0.55 stops cancelling) the
// Taylor series takes over: its first omitted term, 929569/638512875·0.4^15, is 2^-32 of tanh(0.4).
float tanh_stable(float x) {
  const float a = abs(x);
  const float t = exp(-2.0 * a);
  const float z = a * a;
  const float series =
      a * (1.0 + z * (-1.0 / 3.0 + z * (2.0 / 15.0 + z * (-17.0 / 315.0 + z * (62.0 / 2835.0 +
                     z * (-1382.0 / 155925.0 + z * (21844.0 / 6081075.0)))))));
  const float r = a < 0.4 ? series : (1.0 - t) / (1.0 + t);
  return x < 0.0 ? -r : r;
}

// 1/(1 + e^-x) through t = e^(-|x|) ∈ (0, 1]: no overflow, and full relative precision for
// very negative x, where the result is t/(1 + t) rather than 1 minus something close to 1.
float sigmoid_stable(float x) {
  const float t = exp(-abs(x));
  const float r = 1.0 / (1.0 + t);
  return x >= 0.0 ? r : t * r;
}

// tanh'(x) = 1 - tanh² = 4t/(1 + t)² with t = e^(-2|x|): the product form keeps its relative
// precision where tanh² rounds to 1 and 1 - tanh² would be all rounding error.
float tanh_grad(float x) {
  const float t = exp(-2.0 * abs(x));
  return 4.0 * t / ((1.0 + t) * (1.0 + t));
}

// σ'(x) = σ(1 - σ) = t/(1 + t)² with t = e^(-|x|), symmetric and precise for either sign.
float sigmoid_grad(float x) {
  const float t = exp(-abs(x));
  return t / ((1.0 + t) * (1.0 + t));
}

// d/dx x·Φ(x) = Φ(x) + x·φ(x).
float gelu_grad(float x) {
  const float cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
  return cdf + x * 0.3989422804014327 * exp(-0.5 * x * x);
}

// PyTorch's GeluBackward for approximate='tanh': with u = β(x + κx³),
// 0.5(1 + tanh u) + 0.5x·(1 - tanh² u)·β(1 + 3κx²).
float gelu_tanh_grad(float x) {
  const float beta = 0.7978845608028654, kappa = 0.044715;
  const float u = beta * (x + kappa * x * x * x);
  const float sech2 = tanh_grad(u);
  // sech² underflows to 0 long before β(1 + 3κx²) overflows; the guard keeps 0·∞ out at |x| > 1e19.
  const float slope = sech2 == 0.0 ? 0.0 : 0.5 * x * sech2 * beta * (1.0 + 3.0 * kappa * x * x);
  return 0.5 * (1.0 + tanh_stable(u)) + slope;
}

float unary(float x, uint op) {
  if (op == UNARY_TANH) return tanh_stable(x);
  if (op == UNARY_SIGMOID) return sigmoid_stable(x);
  if (op == UNARY_SIN) return sin(reduce_two_pi(x));
  if (op == UNARY_COS) return cos(reduce_two_pi(x));
  return activate(x, op);
}

// f'(x); relu'(0) = 0, as in PyTorch.
float unary_grad(float x, uint op) {
  if (op == UNARY_RELU) return x > 0.0 ? 1.0 : 0.0;
  if (op == UNARY_GELU) return gelu_grad(x);
  if (op == UNARY_GELU_TANH) return gelu_tanh_grad(x);
  if (op == UNARY_TANH) return tanh_grad(x);
  if (op == UNARY_SIGMOID) return sigmoid_grad(x);
  if (op == UNARY_SIN) return cos(reduce_two_pi(x));
  if (op == UNARY_COS) return -sin(reduce_two_pi(x));
  return 1.0;
}

#endif
