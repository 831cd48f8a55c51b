#version 460
// 2-D pooling over NCHW planes (vkgrad::kernels::Pool), fp32 math whatever the storage:
//
//   MODE_MAX       y = max over the window (padding never wins)      0 x       1 unused  2 y   3 taps
//   MODE_MAX_BWD   dx (+)= Σ dy of the outputs whose argmax is here  0 taps    1 dy      2 dx
//   MODE_AVG       y = Σ window / count                              0 x       1 unused  2 y
//   MODE_AVG_BWD   dx (+)= Σ dy / count of the outputs covering here 0 unused  1 dy      2 dx
//
// Windows are PyTorch's: with stride, padding and kernel, the window of output o starts at
// o·stride − pad and spans kernel taps clipped to the image, and an average divides by the
// taps inside the padded image (count_include_pad); adaptive windows run from
// floor(o·in/out) to ceil((o+1)·in/out). The argmax is the first maximum in row-major window
// order, a NaN taking over (as PyTorch's CPU kernel); its tap, (row − start)·KW + (column −
// start) from the unclipped window start, is saved as a number in the output's type (exact in
// fp16 below 2048 taps) for the backward. Gradients are gathers: each input
// element sums, in a fixed order, the outputs that reach it, so no atomics and the same bits
// every run. Flat over element pairs of the output (common/out_pairs.glsl). The geometry is
// specialized, so that the index arithmetic divides by constants (CPU drivers have no vector
// integer division). Dispatch: (min(ceil(pairs / 256), 4096), 1, 1) workgroups of 256.
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

// Geometry (vkgrad::kernels::PoolGeometry).
layout(constant_id = 20) const uint H = 1;
layout(constant_id = 21) const uint W = 1;
layout(constant_id = 22) const uint OH = 1;
layout(constant_id = 23) const uint OW = 1;
layout(constant_id = 24) const uint KH = 1;
layout(constant_id = 25) const uint KW = 1;
layout(constant_id = 26) const uint SH = 1;
layout(constant_id = 27) const uint SW = 1;
layout(constant_id = 28) const uint PH = 0;
layout(constant_id = 29) const uint PW = 0;
layout(constant_id = 30) const bool ADAPTIVE = false;

// Mirrors vkgrad::kernels::PoolArgs (include/vkgrad/kernels/pool.hpp).
layout(push_constant) uniform PoolArgs {
  uint mode;
  uint planes;  // samples × channels
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer In0_block { uint in0_words[]; };
layout(std430, binding = 1) readonly buffer In1_block { uint in1_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };
layout(std430, binding = 3) buffer Taps_block { uint tap_words[]; };

#include "common/out_pairs.glsl"
PAIR_WRITER(write_tap_pair, tap_words)

float x_at(uint i) { return LOAD_ELEM(in0_words, IN0_TYPE, i); }
float tap_at(uint i) { return LOAD_ELEM(in0_words, IN0_TYPE, i); }
float dy_at(uint i) { return LOAD_ELEM(in1_words, IN1_TYPE, i); }

// Output o's window along an axis of `size` inputs, clipped to the image, and (z) the count an
// average divides by.
ivec3 window(uint o, uint outs, uint size, uint k, uint s, uint pad) {
  if (ADAPTIVE) {
    const int lo = int((o * size) / outs), hi = int(((o + 1u) * size + outs - 1u) / outs);
    return ivec3(lo, hi, hi - lo);
  }
  const int start = int(o * s) - int(pad);
  const int end = min(start + int(k), int(size + pad));
  return ivec3(max(start, 0), min(end, int(size)), end - start);
}

// The first outputs whose windows can reach input i along an axis, and the last.
ivec2 reaching(uint i, uint outs, uint size, uint k, uint s, uint pad) {
  if (ADAPTIVE) {
    const int lo = max(int((i * outs) / size) - 1, 0);
    const int hi = min(int(((i + 1u) * outs + size - 1u) / size), int(outs) - 1);
    return ivec2(lo, hi);
  }
  const int reach = int(i + pad);
  const int lo = reach < int(k) ? 0 : (reach - int(k)) / int(s) + 1;
  return ivec2(lo, min(reach / int(s), int(outs) - 1));
}

// Output (oy, ox)'s window start along each axis, unclipped: taps count from there.
ivec2 window_start(uint oy, uint ox) { return ivec2(int(oy * SH) - int(PH), int(ox * SW) - int(PW)); }

// Plane `plane`'s max over output (oy, ox)'s window, and the tap it came from.
vec2 window_max(uint plane, uint oy, uint ox) {
  const ivec3 wy = window(oy, OH, H, KH, SH, PH), wx = window(ox, OW, W, KW, SW, PW);
  const ivec2 start = window_start(oy, ox);
  float best = uintBitsToFloat(0xFF800000u);  // -inf
  int tap = (wy.x - start.x) * int(KW) + (wx.x - start.y);
  for (int y = wy.x; y < wy.y; ++y)
    for (int x = wx.x; x < wx.y; ++x) {
      const float v = x_at(plane * H * W + uint(y) * W + uint(x));
      if (v > best || isnan(v)) {
        best = v;
        tap = (y - start.x) * int(KW) + (x - start.y);
      }
    }
  return vec2(best, float(tap));
}

// The output value of element e, and (max) its tap.
vec2 forward(uint e) {
  const uint plane = e / (OH * OW), oy = (e / OW) % OH, ox = e % OW;
  if (p.mode == MODE_MAX) return window_max(plane, oy, ox);
  const ivec3 wy = window(oy, OH, H, KH, SH, PH), wx = window(ox, OW, W, KW, SW, PW);
  float s = 0.0;
  for (int y = wy.x; y < wy.y; ++y)
    for (int x = wx.x; x < wx.y; ++x) s += x_at(plane * H * W + uint(y) * W + uint(x));
  return vec2(s / float(wy.z * wx.z), 0.0);
}

float backward(uint e) {
  const uint plane = e / (H * W), iy = (e / W) % H, ix = e % W;
  const ivec2 ry = reaching(iy, OH, H, KH, SH, PH), rx = reaching(ix, OW, W, KW, SW, PW);
  float g = 0.0;
  for (int oy = ry.x; oy <= ry.y; ++oy)
    for (int ox = rx.x; ox <= rx.y; ++ox) {
      const uint o = plane * OH * OW + uint(oy) * OW + uint(ox);
      const ivec3 wy = window(uint(oy), OH, H, KH, SH, PH), wx = window(uint(ox), OW, W, KW, SW, PW);
      if (int(iy) < wy.x || int(iy) >= wy.y || int(ix) < wx.x || int(ix) >= wx.y) continue;
      if (p.mode == MODE_MAX_BWD) {
        const ivec2 start = window_start(uint(oy), uint(ox));
        const int tap = (int(iy) - start.x) * int(KW) + (int(ix) - start.y);
        if (int(tap_at(o)) == tap) g += dy_at(o);
      } else {
        g += dy_at(o) / float(wy.z * wx.z);
      }
    }
  return g;
}

void main() {
  const bool bwd = p.mode == MODE_MAX_BWD || p.mode == MODE_AVG_BWD;
  const uint n = p.planes * (bwd ? H * W : OH * OW);
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  for (uint w = gl_GlobalInvocationID.x; w < (n + 1u) / 2u; w += stride) {
    const bvec2 own = pair_in(w, 0u, n);
    if (bwd) {
      write_out_pair(w, own, vec2(backward(2u * w), own.y ? backward(2u * w + 1u) : 0.0), accumulate);
    } else {
      const vec2 v0 = forward(2u * w), v1 = own.y ? forward(2u * w + 1u) : vec2(0.0);
      write_out_pair(w, own, vec2(v0.x, v1.x), false);
      if (p.mode == MODE_MAX) write_tap_pair(w, own, vec2(v0.y, v1.y), false);
    }
  }
}
