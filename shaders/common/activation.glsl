// Activations applied in fp32 by fused epilogues. Codes match vkgrad::kernels::Activation.
#ifndef VKGRAD_ACTIVATION_GLSL
#define VKGRAD_ACTIVATION_GLSL

#define ACT_NONE 0u
#define ACT_RELU 1u
#define ACT_GELU 2u       // exact form, x·Φ(x), PyTorch's default
#define ACT_GELU_TANH 3u  // tanh approximation, PyTorch's approximate='tanh'

// erf(x), Abramowitz & Stegun 7.1.26: |error| ≤ 1.5e-7, below fp32 resolution of GELU's outputs.
float erf_approx(float x) {
  const float t = 1.0 / (1.0 + 0.3275911 * abs(x));
  const float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-x * x));
}

float gelu(float x) { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }

float gelu_tanh(float x) {
  // Clamped: tanh of a large argument overflows exp on some drivers and turns into NaN.
  const float u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(u));
}

float activate(float x, uint act) {
  if (act == ACT_RELU) return max(x, 0.0);
  if (act == ACT_GELU) return gelu(x);
  if (act == ACT_GELU_TANH) return gelu_tanh(x);
  return x;
}

#endif
