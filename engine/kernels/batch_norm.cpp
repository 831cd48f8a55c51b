#include "vkgrad/kernels/batch_norm.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeTrain = 0, kModeEval = 1, kModeBackward = 2;
constexpr uint32_t kAccumulate = 1, kNoDx = 2;

void check(const char* what, const vk::BufferRange& r, uint64_t bytes) {
  if (!r.buffer || r.size < bytes)
    throw Error(std::string("batch norm: ") + what + " needs " + std::to_string(bytes) + " bytes, its range has " +
                    std::to_string(r.size),
                "bind the whole tensor");
}

}  // namespace

BatchNorm::BatchNorm(vk::Context& ctx) : ctx_(ctx) {}

void BatchNorm::forward(vk::Recorder& rec, const BatchNormShape& s, const BatchNormTensors& t, const TensorRef& x,
                        const TensorRef& y, bool training) const {
  dispatch(rec, training ? kModeTrain : kModeEval, s, t, x, x, y, t.running_mean, t.running_var, 0);
}

void BatchNorm::backward(vk::Recorder& rec, const BatchNormShape& s, const BatchNormTensors& t, const TensorRef& x,
                         const TensorRef& dy, const std::optional<TensorRef>& dx, const vk::BufferRange& dgamma,
                         const vk::BufferRange& dbeta, bool accumulate) const {
  check("dγ", dgamma, 4ull * s.channels);
  check("dβ", dbeta, 4ull * s.channels);
  // Without dx the output binding is dγ's range, never written through it.
  const TensorRef out = dx ? *dx : TensorRef{dgamma, x.type};
  const uint32_t flags = (accumulate ? kAccumulate : 0u) | (dx ? 0u : kNoDx);
  dispatch(rec, kModeBackward, s, t, x, dy, out, dgamma, dbeta, flags);
}

// Modes that do not use a binding get a range they already bind there (read-only).
void BatchNorm::dispatch(vk::Recorder& rec, uint32_t mode, const BatchNormShape& s, const BatchNormTensors& t,
                         const TensorRef& x, const TensorRef& dy, const TensorRef& out,
                         const vk::BufferRange& dgamma, const vk::BufferRange& dbeta, uint32_t flags) const {
  const bool accumulate = (flags & kAccumulate) != 0, writes_out = (flags & kNoDx) == 0;
  const uint64_t elements = uint64_t(s.samples) * s.channels * s.pixels;
  if (elements == 0) throw Error("batch norm over an empty tensor", "every dimension must be at least 1");
  if (elements > 0xFFFFFFFFull) throw Error("batch norm over 2^32 elements or more", "split the batch");
  if (!(s.eps > 0.0f) || !(s.momentum >= 0.0f && s.momentum <= 1.0f))
    throw Error("batch norm needs eps > 0 and momentum in [0, 1]", "PyTorch's defaults are 1e-5 and 0.1");
  if (t.gamma.type != t.beta.type) throw Error("batch norm: γ and β differ in type", "store them alike");
  if (dy.type != x.type || (writes_out && out.type != x.type))
    throw Error("batch norm: x, dy and the output differ in type", "store them alike");
  check("x", x.range, tensor_bytes(x.type, elements));
  if (writes_out) check("the output", out.range, tensor_bytes(out.type, elements));
  if (mode == kModeBackward) check("dy", dy.range, tensor_bytes(dy.type, elements));
  check("γ", t.gamma.range, tensor_bytes(t.gamma.type, s.channels));
  check("β", t.beta.range, tensor_bytes(t.beta.type, s.channels));
  check("running_mean", t.running_mean, 4ull * s.channels);
  check("running_var", t.running_var, 4ull * s.channels);
  check("the batch count", t.batches, 4);
  check("the step parameters", t.params, 8);
  if (writes_out && (out.range.overlaps(x.range) || (mode == kModeBackward && out.range.overlaps(dy.range))))
    throw Error("batch norm: the output overlaps an input", "write it to a range of its own");

  const uint32_t per_channel = uint32_t(std::min<uint64_t>(uint64_t(s.samples) * s.pixels, 256));
  const uint32_t workgroup = reduce_workgroup_size(ctx_.caps(), per_channel);
  const vk::Pipeline& pipeline = ctx_.pipelines().get(
      {.shader = "batch_norm",
       .bindings = 11,
       .push_constant_size = sizeof(BatchNormArgs),
       .spec = {{0, workgroup}, {16, uint32_t(x.type)}, {17, uint32_t(t.gamma.type)}}});
  const BatchNormArgs args{mode, s.samples, s.channels, s.pixels, s.eps, s.momentum, flags};
  const bool train = mode == kModeTrain, bwd = mode == kModeBackward;
  // fp16 outputs are written half by half with atomics: always read-write.
  const bool reads_out = accumulate || out.type == ElemType::F16 || !writes_out;
  const vk::Binding b[] = {{x.range, vk::Access::Read},
                           {dy.range, vk::Access::Read},
                           {out.range, reads_out ? vk::Access::ReadWrite : vk::Access::Write},
                           {t.gamma.range, vk::Access::Read},
                           {t.beta.range, vk::Access::Read},
                           {t.running_mean, train ? vk::Access::ReadWrite : vk::Access::Read},
                           {t.running_var, train ? vk::Access::ReadWrite : vk::Access::Read},
                           {t.batches, train ? vk::Access::ReadWrite : vk::Access::Read},
                           {dgamma, bwd ? vk::Access::ReadWrite : vk::Access::Read},
                           {dbeta, bwd ? vk::Access::ReadWrite : vk::Access::Read},
                           {t.params, vk::Access::Read}};
  rec.dispatch({.pipeline = &pipeline,
                .bindings = b,
                .push_constants = &args,
                .groups = {std::min(s.channels, ctx_.caps().max_workgroup_count[0]), 1, 1},
                .label = bwd ? "batch_norm.backward" : train ? "batch_norm.train" : "batch_norm.eval"});
}

}  // namespace vkgrad::kernels
