#version 460
// embed_renderer's full-screen pass: the left square shows the training picture straight from
// the buffer the trainer reads it from (the shared "rgb" feed), the right one evaluates the
// network at each pixel centre with vkgrad's exported GLSL (net.glsl, generated at build time).
#extension GL_GOOGLE_include_directive : require
#ifdef NET_FP16
#extension GL_EXT_shader_16bit_storage : require
#endif

#define NET_SET 0
#define NET_BINDING 0
#include "net.glsl"

layout(std430, set = 0, binding = 1) readonly buffer Target { float target[]; };  // rows of RGB

layout(push_constant) uniform Square {
  vec2 origin;      // the square's top-left pixel
  float size;       // its side in pixels
  uint resolution;  // the training picture's side
  uint network;     // 0: the picture, 1: the network
} square;

layout(location = 0) out vec4 color;

void main() {
  const vec2 uv = (gl_FragCoord.xy - square.origin) / square.size;  // pixel centres: ((j + 0.5) / R, ...)
  if (square.network == 0u) {
    const uvec2 p = min(uvec2(uv * float(square.resolution)), uvec2(square.resolution - 1u));
    const uint row = p.y * square.resolution + p.x;
    color = vec4(target[3u * row], target[3u * row + 1u], target[3u * row + 2u], 1.0);
    return;
  }
  float x[NET_IN];
  x[0] = uv.x;
  x[1] = uv.y;
  float y[NET_OUT];
  net_eval(x, y);
  color = vec4(y[0], y[1], y[2], 1.0);
}
