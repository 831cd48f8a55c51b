#version 460
// Per-channel sums over an NCHW tensor (vkgrad::kernels::ChannelReduce), in fp32:
//
//   out[c] (+)= Σ_n Σ_p x[n][c][p]        0 x [samples, channels, pixels]   1 out [channels] (fp32)
//
// (a convolution's bias gradient, and the statistics a batch norm needs). One workgroup per
// channel (more channels are strided over): each invocation walks the channel's elements
// WORKGROUP_REDUCE_SIZE apart in order, then the workgroup adds the partials in a fixed tree,
// so the result is the same bits on every run. Dispatch: (min(channels, 65535), 1, 1).
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"
#include "common/workgroup_reduce.glsl"

layout(constant_id = 16) const uint IN_TYPE = TYPE_F32;

#define FLAG_ACCUMULATE 1u

// Mirrors vkgrad::kernels::ChannelReduceArgs (include/vkgrad/kernels/channel_reduce.hpp).
layout(push_constant) uniform ChannelReduceArgs {
  uint samples, channels, pixels;
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer In_block { uint in_words[]; };
layout(std430, binding = 1) buffer Out_block { float sums[]; };

void main() {
  const uint per_channel = p.samples * p.pixels;
  for (uint c = gl_WorkGroupID.x; c < p.channels; c += gl_NumWorkGroups.x) {
    float s = 0.0;
    for (uint j = gl_LocalInvocationID.x; j < per_channel; j += WORKGROUP_REDUCE_SIZE) {
      const uint n = j / p.pixels, px = j % p.pixels;
      s += LOAD_ELEM(in_words, IN_TYPE, (n * p.channels + c) * p.pixels + px);
    }
    const float total = workgroup_sum(s);
    if (gl_LocalInvocationID.x == 0u) sums[c] = total + ((p.flags & FLAG_ACCUMULATE) != 0u ? sums[c] : 0.0);
  }
}
