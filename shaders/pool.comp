#version 460
// 2-D pooling over NCHW planes (vkgrad::kernels::Pool), fp32 math whatever the storage:
//
//   MODE_MAX       y = max over the window (padding never wins)      0 x       1 unused  2 y
//   MODE_MAX_BWD   dx (+)= Σ dy of the outputs whose argmax is here  0 x       1 dy      2 dx
//   MODE_AVG       y = Σ window / count                              0 x       1 unused  2 y
//   MODE_AVG_BWD   dx (+)= Σ dy / count of the outputs covering here 0 unused  1 dy      2 dx
//
// Windows are PyTorch's: with stride, padding and kernel, the window of output o starts at
// o·stride − pad and spans kernel taps clipped to the image, and an average divides by the
// taps inside the padded image (count_include_pad); adaptive windows run from
// floor(o·in/out) to ceil((o+1)·in/out). The argmax is the first maximum in row-major window
// order, a NaN taking over (as PyTorch's CPU kernel). Gradients are gathers: each input
// element sums, in a fixed order, the outputs that reach it, so no atomics and the same bits
// every run. Flat over element pairs of the output (common/out_pairs.glsl). Dispatch:
// (min(ceil(pairs / 256), 4096), 1, 1) workgroups of 256.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 16) const uint IN0_TYPE = TYPE_F32;
layout(constant_id = 17) const uint IN1_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;

#define MODE_MAX 0u
#define MODE_MAX_BWD 1u
#define MODE_AVG 2u
#define MODE_AVG_BWD 3u

#define FLAG_ACCUMULATE 1u
#define FLAG_ADAPTIVE 2u

// Mirrors vkgrad::kernels::PoolArgs (include/vkgrad/kernels/pool.hpp).
layout(push_constant) uniform PoolArgs {
  uint mode;
  uint planes;  // samples × channels
  uint h, w, oh, ow;
  uint kh, kw, sh, sw, ph, pw;
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer In0_block { uint in0_words[]; };
layout(std430, binding = 1) readonly buffer In1_block { uint in1_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };

#include "common/out_pairs.glsl"

float x_at(uint i) { return LOAD_ELEM(in0_words, IN0_TYPE, i); }
float dy_at(uint i) { return LOAD_ELEM(in1_words, IN1_TYPE, i); }

bool adaptive() { return (p.flags & FLAG_ADAPTIVE) != 0u; }

// Output o's window along an axis of `size` inputs, clipped to the image, and (z) the count an
// average divides by.
ivec3 window(uint o, uint outs, uint size, uint k, uint s, uint pad) {
  if (adaptive()) {
    const int lo = int((o * size) / outs), hi = int(((o + 1u) * size + outs - 1u) / outs);
    return ivec3(lo, hi, hi - lo);
  }
  const int start = int(o * s) - int(pad);
  const int end = min(start + int(k), int(size + pad));
  return ivec3(max(start, 0), min(end, int(size)), end - start);
}

// The first outputs whose windows can reach input i along an axis, and the last.
ivec2 reaching(uint i, uint outs, uint size, uint k, uint s, uint pad) {
  if (adaptive()) {
    const int lo = max(int((i * outs) / size) - 1, 0);
    const int hi = min(int(((i + 1u) * outs + size - 1u) / size), int(outs) - 1);
    return ivec2(lo, hi);
  }
  const int reach = int(i + pad);
  const int lo = reach < int(k) ? 0 : (reach - int(k)) / int(s) + 1;
  return ivec2(lo, min(reach / int(s), int(outs) - 1));
}

// Plane `plane`'s max over output (oy, ox)'s window, and its flat input index.
float window_max(uint plane, uint oy, uint ox, out uint arg) {
  const ivec3 wy = window(oy, p.oh, p.h, p.kh, p.sh, p.ph), wx = window(ox, p.ow, p.w, p.kw, p.sw, p.pw);
  const uint base = plane * p.h * p.w;
  float best = uintBitsToFloat(0xFF800000u);  // -inf
  arg = base + uint(wy.x) * p.w + uint(wx.x);
  for (int y = wy.x; y < wy.y; ++y)
    for (int x = wx.x; x < wx.y; ++x) {
      const uint i = base + uint(y) * p.w + uint(x);
      const float v = x_at(i);
      if (v > best || isnan(v)) {
        best = v;
        arg = i;
      }
    }
  return best;
}

float forward(uint e) {
  const uint plane = e / (p.oh * p.ow), oy = (e / p.ow) % p.oh, ox = e % p.ow;
  if (p.mode == MODE_MAX) {
    uint arg;
    return window_max(plane, oy, ox, arg);
  }
  const ivec3 wy = window(oy, p.oh, p.h, p.kh, p.sh, p.ph), wx = window(ox, p.ow, p.w, p.kw, p.sw, p.pw);
  float s = 0.0;
  for (int y = wy.x; y < wy.y; ++y)
    for (int x = wx.x; x < wx.y; ++x) s += x_at(plane * p.h * p.w + uint(y) * p.w + uint(x));
  return s / float(wy.z * wx.z);
}

float backward(uint e) {
  const uint plane = e / (p.h * p.w), iy = (e / p.w) % p.h, ix = e % p.w;
  const ivec2 ry = reaching(iy, p.oh, p.h, p.kh, p.sh, p.ph), rx = reaching(ix, p.ow, p.w, p.kw, p.sw, p.pw);
  float g = 0.0;
  for (int oy = ry.x; oy <= ry.y; ++oy)
    for (int ox = rx.x; ox <= rx.y; ++ox) {
      const uint o = plane * p.oh * p.ow + uint(oy) * p.ow + uint(ox);
      const ivec3 wy = window(uint(oy), p.oh, p.h, p.kh, p.sh, p.ph), wx = window(uint(ox), p.ow, p.w, p.kw, p.sw, p.pw);
      if (int(iy) < wy.x || int(iy) >= wy.y || int(ix) < wx.x || int(ix) >= wx.y) continue;
      if (p.mode == MODE_MAX_BWD) {
        uint arg;
        window_max(plane, uint(oy), uint(ox), arg);
        if (arg == e) g += dy_at(o);
      } else {
        g += dy_at(o) / float(wy.z * wx.z);
      }
    }
  return g;
}

void main() {
  const bool bwd = p.mode == MODE_MAX_BWD || p.mode == MODE_AVG_BWD;
  const uint n = p.planes * (bwd ? p.h * p.w : p.oh * p.ow);
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  for (uint w = gl_GlobalInvocationID.x; w < (n + 1u) / 2u; w += stride) {
    const bvec2 own = pair_in(w, 0u, n);
    const float v0 = bwd ? backward(2u * w) : forward(2u * w);
    const float v1 = own.y ? (bwd ? backward(2u * w + 1u) : forward(2u * w + 1u)) : 0.0;
    write_out_pair(w, own, vec2(v0, v1), accumulate);
  }
}
