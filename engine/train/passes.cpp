// The recorded passes: forward, backward (autodiff over the graph), loss-scale and update, the
// per-slot upload and readout, and evaluation.
#include "trainer_impl.hpp"

#include "vk/dispatch.hpp"
#include "vkgrad/error.hpp"

namespace vkgrad::train {
namespace {

using graph::OpKind;
using kernels::ElemType;

}  // namespace

VkCommandBuffer Trainer::Impl::begin_commands(bool simultaneous) {
  const auto& d = ctx.vk().device;
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  check(d.vkAllocateCommandBuffers(ctx.device(), &ai, &cmd), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  // The passes are in every queued step: resubmitted while an earlier submission may be pending.
  bi.flags = simultaneous ? VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT : 0;
  check(d.vkBeginCommandBuffer(cmd, &bi), "vkBeginCommandBuffer");
  return cmd;
}

void Trainer::Impl::end_commands(VkCommandBuffer cmd) {
  check(ctx.vk().device.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
}

void Trainer::Impl::record_upload(vk::Recorder& rec, uint32_t slot) {
  Slot& s = slot == UINT32_MAX ? eval : slots[slot];
  for (const auto& f : feeds)
    rec.copy(s.staging.range(f.staging_offset, rows * f.row_bytes), f.device.range(0, rows * f.row_bytes));
  rec.copy(s.staging.range(staging_bytes - 16, 4), state.range(kernels::kStateValidRowsOffset, 4));
  rec.copy(s.staging.range(staging_bytes - 12, 4), state.range(kernels::kStateInjectOffset, 4));
}

void Trainer::Impl::record_forward(vk::Recorder& rec) {
  const auto& ts = graph.tensors();
  for (const auto& n : graph.nodes()) {
    const uint32_t cols = uint32_t(features(n.output));
    switch (n.kind) {
      case OpKind::Linear: {
        const uint32_t in = ts[n.inputs[1]].dims[1];
        const auto x = value(n.inputs[0]), w = param_value(n.inputs[1]), y = value(n.output);
        kernels::GemmDesc d;
        d.m = rows, d.n = cols, d.k = in;
        d.a = {x.range, x.type, in, 0, false};
        d.b = {w.range, w.type, in, 0, true};
        d.c = {y.range, y.type, cols, 0, false};
        if (n.inputs.size() > 2) {
          const auto b = param_value(n.inputs[2]);
          d.bias = b.range;
          d.bias_type = b.type;
        }
        d.activation = n.activation;
        gemm.record(rec, d);
        break;
      }
      case OpKind::Add:
      case OpKind::Mul: {
        const auto b = n.broadcast ? param_value(n.inputs[1]) : value(n.inputs[1]);
        elementwise.binary(rec, n.kind == OpKind::Add ? kernels::BinaryOp::Add : kernels::BinaryOp::Mul,
                           value(n.inputs[0]), b, value(n.output), rows, cols, n.broadcast);
        break;
      }
      case OpKind::Unary:
        elementwise.unary(rec, n.unary, value(n.inputs[0]), value(n.output), rows * cols);
        break;
      case OpKind::Softmax: {
        const uint32_t last = ts[n.output].dims.back();
        softmax.forward(rec, value(n.inputs[0]), value(n.output), rows * (cols / last), last);
        break;
      }
      case OpKind::Reshape:
        break;  // a view of its input's memory
    }
  }
  const auto& spec = *graph.loss();
  const uint32_t cols = uint32_t(features(spec.pred));
  loss.forward(rec, spec.kind, value(spec.pred), target(), state.range(0, 8), row_loss.range(), rows, cols);
  loss.mean(rec, spec.kind, row_loss.range(), state.range(0, 8), loss_value.range(), rows, cols);
}

void Trainer::Impl::record_backward(vk::Recorder& rec, bool first_micro_batch) {
  const auto& ts = graph.tensors();
  const auto& nodes = graph.nodes();
  const auto& spec = *graph.loss();
  std::vector<bool> written(ts.size(), false);  // by base tensor: the first contribution writes, later ones add
  // Parameter gradients always accumulate, so they start at zero with each update's first
  // micro-batch.
  if (first_micro_batch) rec.fill(grads.range(), 0u);
  loss.backward(rec, spec.kind, value(spec.pred), target(), state.range(0, 8), grad(spec.pred), rows,
                uint32_t(features(spec.pred)));
  written[base(spec.pred)] = true;

  // Adds `contribution` (same shape) into the gradient of activation t.
  const auto into = [&](uint32_t t, const kernels::TensorRef& contribution, uint32_t n) {
    if (written[base(t)]) {
      elementwise.binary(rec, kernels::BinaryOp::Add, grad(t), contribution, grad(t), 1, n, false);
    } else {
      elementwise.unary(rec, kernels::UnaryOp::Identity, contribution, grad(t), n);
      written[base(t)] = true;
    }
  };

  for (size_t i = nodes.size(); i-- > 0;) {
    const auto& n = nodes[i];
    if (!requires_grad[n.output] || !written[base(n.output)]) continue;
    const uint32_t cols = uint32_t(features(n.output));
    const auto dy = grad(n.output);
    switch (n.kind) {
      case OpKind::Linear: {
        const uint32_t x = n.inputs[0], w = n.inputs[1];
        const uint32_t in = ts[w].dims[1];
        kernels::TensorRef g = dy;
        const bool bias = n.inputs.size() > 2;
        if (n.activation == kernels::Activation::Relu) {
          // relu'(pre) = [y > 0]: the fused output is enough. The bias gradient comes out of
          // the same pass.
          g = *workspace[i];
          if (bias)
            elementwise.unary_backward_column_sum(rec, kernels::UnaryOp::Relu, value(n.output), dy, g,
                                                  param_grad(n.inputs[2]).range, rows, cols, true);
          else
            elementwise.unary_backward(rec, kernels::UnaryOp::Relu, value(n.output), dy, g, rows * cols, false);
        } else if (bias) {
          elementwise.column_sum(rec, g, param_grad(n.inputs[2]), rows, cols, true);
        }
        const auto xv = value(x), gw = param_grad(w);
        kernels::GemmDesc dw;  // dW += Gᵀ·X
        dw.m = cols, dw.n = in, dw.k = rows;
        dw.a = {g.range, g.type, cols, 0, true};
        dw.b = {xv.range, xv.type, in, 0, false};
        dw.c = {gw.range, ElemType::F32, in, 0, false};
        dw.beta = 1.0f;
        gemm.record(rec, dw);
        if (requires_grad[x]) {
          const auto wv = param_value(w), gx = grad(x);
          kernels::GemmDesc dx;  // dX (+)= G·W
          dx.m = rows, dx.n = in, dx.k = cols;
          dx.a = {g.range, g.type, cols, 0, false};
          dx.b = {wv.range, wv.type, in, 0, false};
          dx.c = {gx.range, gx.type, in, 0, false};
          dx.beta = written[base(x)] ? 1.0f : 0.0f;
          gemm.record(rec, dx);
          written[base(x)] = true;
        }
        break;
      }
      case OpKind::Add:
        if (requires_grad[n.inputs[0]]) into(n.inputs[0], dy, rows * cols);
        if (n.broadcast)
          elementwise.column_sum(rec, dy, param_grad(n.inputs[1]), rows, cols, true);
        else if (requires_grad[n.inputs[1]])
          into(n.inputs[1], dy, rows * cols);
        break;
      case OpKind::Mul: {
        const uint32_t a = n.inputs[0], b = n.inputs[1];
        const auto bv = n.broadcast ? param_value(b) : value(b);
        const auto scratch = *workspace[i];
        if (requires_grad[a]) {
          elementwise.binary(rec, kernels::BinaryOp::Mul, dy, bv, scratch, rows, cols, n.broadcast);
          into(a, scratch, rows * cols);
        }
        if (n.broadcast) {
          elementwise.binary(rec, kernels::BinaryOp::Mul, dy, value(a), scratch, rows, cols, false);
          elementwise.column_sum(rec, scratch, param_grad(b), rows, cols, true);
        } else if (requires_grad[b]) {
          elementwise.binary(rec, kernels::BinaryOp::Mul, dy, value(a), scratch, rows, cols, false);
          into(b, scratch, rows * cols);
        }
        break;
      }
      case OpKind::Unary:
        if (requires_grad[n.inputs[0]]) {
          const uint32_t x = n.inputs[0];
          elementwise.unary_backward(rec, n.unary, value(x), dy, grad(x), rows * cols, written[base(x)]);
          written[base(x)] = true;
        }
        break;
      case OpKind::Softmax:
        if (requires_grad[n.inputs[0]]) {
          const uint32_t x = n.inputs[0], last = ts[n.output].dims.back();
          softmax.backward(rec, value(n.output), dy, grad(x), rows * (cols / last), last, written[base(x)]);
          written[base(x)] = true;
        }
        break;
      case OpKind::Reshape:
        break;  // shares its input's gradient memory
    }
  }
}

void Trainer::Impl::record_passes() {
  const auto& d = ctx.vk().device;
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.queueFamilyIndex = ctx.queue_family();
  check(d.vkCreateCommandPool(ctx.device(), &pi, nullptr, &pool), "vkCreateCommandPool");
  // Hazard tracking does not cross command buffers: every pass starts with a full barrier.
  const vk::RecorderOptions opts{.begin_with_barrier = true};
  const auto pass = [&](const char* name, auto&& body) {
    VkCommandBuffer cmd = begin_commands(true);
    vk::RecorderOptions timed = opts;
    timed.timestamps = info.profile;
    auto rec = std::make_unique<vk::Recorder>(ctx, cmd, timed);
    body(*rec);
    if (info.profile)
      profiled.emplace_back(name, std::move(rec));
    else
      rec.reset();
    end_commands(cmd);
    return cmd;
  };
  forward = pass("forward", [&](vk::Recorder& rec) { record_forward(rec); });
  backward = pass("backward", [&](vk::Recorder& rec) { record_backward(rec, true); });
  if (info.accumulation_steps > 1)
    backward_accumulate = pass("backward_accumulate", [&](vk::Recorder& rec) { record_backward(rec, false); });
  scale_pass = pass("loss_scale", [&](vk::Recorder& rec) {
    loss_scale.unscale(rec, state.range(), grads.range(), uint32_t(param_elements), partials.range(),
                       loss_value.range(), info.optimizer.max_grad_norm, info.accumulation_steps);
  });
  update = pass("update", [&](vk::Recorder& rec) {
    const auto m = exp_avg ? exp_avg.range() : masters.range();
    const auto v = exp_avg_sq ? exp_avg_sq.range() : m;
    optimizer.record(rec, optimizer_args, state.range(), masters.range(), grads.range(), m, v,
                     mixed ? std::optional(working_copy.range()) : std::nullopt);
    loss_scale.advance(rec, state.range(), device_record.range(), advance_args);
  });

  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  slots.resize(info.ring_slots);
  for (uint32_t i = 0; i < slots.size(); ++i) {
    Slot& s = slots[i];
    s.staging = vk::Buffer(ctx, {.size = staging_bytes, .use = vk::MemoryUse::Upload, .name = "batch staging"});
    s.record = vk::Buffer(ctx, {.size = sizeof(kernels::StepRecord), .use = vk::MemoryUse::Readback, .name = "step record"});
    s.upload = begin_commands(false);
    {
      vk::Recorder rec(ctx, s.upload, opts);
      record_upload(rec, i);
    }
    end_commands(s.upload);
    s.readout = begin_commands(false);
    {
      vk::Recorder rec(ctx, s.readout, opts);
      rec.copy(device_record.range(), s.record.range());
      rec.host_read(s.record.range());
    }
    end_commands(s.readout);
    check(d.vkCreateFence(ctx.device(), &fi, nullptr, &s.fence), "vkCreateFence");
  }

  // Evaluation: its own staging and upload, the shared forward pass, then the predictions and
  // the loss copied out.
  const auto& spec = *graph.loss();
  const auto pred = value(spec.pred);
  eval.staging = vk::Buffer(ctx, {.size = staging_bytes, .use = vk::MemoryUse::Upload, .name = "evaluation staging"});
  eval_out = vk::Buffer(ctx, {.size = pred.range.size + 4, .use = vk::MemoryUse::Readback, .name = "evaluation output"});
  eval.upload = begin_commands(false);
  {
    vk::Recorder rec(ctx, eval.upload, opts);
    record_upload(rec, UINT32_MAX);
  }
  end_commands(eval.upload);
  eval_copy = begin_commands(false);
  {
    vk::Recorder rec(ctx, eval_copy, opts);
    rec.copy(pred.range, eval_out.range(0, pred.range.size));
    rec.copy(loss_value.range(), eval_out.range(pred.range.size, 4));
    rec.host_read(eval_out.range());
  }
  end_commands(eval_copy);
  check(d.vkCreateFence(ctx.device(), &fi, nullptr, &eval.fence), "vkCreateFence");
}

}  // namespace vkgrad::train
