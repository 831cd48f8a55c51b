#include "vkgrad/kernels/channel_reduce.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {

ChannelReduce::ChannelReduce(vk::Context& ctx)
    : ctx_(ctx), pipelines_(ctx, "channel_reduce", 2, sizeof(ChannelReduceArgs)) {}

void ChannelReduce::sum(vk::Recorder& rec, const TensorRef& x, const vk::BufferRange& sums, uint32_t samples,
                        uint32_t channels, uint32_t pixels, bool accumulate) const {
  const uint64_t per_channel = uint64_t(samples) * pixels, elements = per_channel * channels;
  if (channels == 0 || per_channel == 0)
    throw Error("channel sum over an empty tensor (" + std::to_string(samples) + "×" + std::to_string(channels) + "×" +
                    std::to_string(pixels) + ")",
                "every dimension must be at least 1");
  if (elements > 0xFFFFFFFFull)
    throw Error("channel sum over " + std::to_string(elements) + " elements", "split the batch below 2^32 elements");
  if (x.range.size < tensor_bytes(x.type, elements) || sums.size < 4ull * channels)
    throw Error("channel sum: the input needs " + std::to_string(tensor_bytes(x.type, elements)) +
                    " bytes and the sums " + std::to_string(4ull * channels) + "; the ranges have " +
                    std::to_string(x.range.size) + " and " + std::to_string(sums.size),
                "bind the whole tensors");
  const uint32_t workgroup = reduce_workgroup_size(ctx_.caps(), uint32_t(std::min<uint64_t>(per_channel, 256)));
  const ChannelReduceArgs args{samples, channels, pixels, accumulate ? 1u : 0u};
  const vk::Binding b[] = {{x.range, vk::Access::Read}, {sums, accumulate ? vk::Access::ReadWrite : vk::Access::Write}};
  rec.dispatch({.pipeline = &pipelines_.get({{0, workgroup}, {16, uint32_t(x.type)}}),
                .bindings = b,
                .push_constants = &args,
                .groups = {std::min(channels, ctx_.caps().max_workgroup_count[0]), 1, 1},
                .label = "channel_reduce.sum"});
}

}  // namespace vkgrad::kernels
