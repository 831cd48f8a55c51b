// Data-parallel training over a dist::Communicator: rank 0's parameters at the start, and every
// update's gradients summed over the ranks between the backward and loss-scale passes.
#include "trainer_impl.hpp"

#include "vk/host_memory.hpp"
#include "vkgrad/dist/communicator.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"

#include <chrono>
#include <limits>

namespace vkgrad::train {

void Trainer::Impl::set_up_data_parallel() {
  comm = info.communicator;
  if (!info.shared_feeds.empty())
    throw Error("data-parallel training with shared feeds", "feed each rank's rows through step()'s batches");
  // The FP32 gradients, then the loss: one sum over the ranks for both.
  const uint64_t bytes = 4 * (param_elements + 1);
  exchange = vk::Buffer(ctx, {.size = bytes, .use = vk::MemoryUse::Readback, .name = "gradient exchange"});
  const vk::RecorderOptions opts{.begin_with_barrier = true};
  exchange_out = pool.record(opts, false, [&](vk::Recorder& rec) {
    rec.copy(grads.range(), exchange.range(0, 4 * param_elements));
    rec.copy(loss_value.range(0, 4), exchange.range(4 * param_elements, 4));
    rec.host_read(exchange.range());
  }).handle;
  // The host's writes are made visible by the submission itself (after the flush).
  exchange_in = pool.record(opts, false, [&](vk::Recorder& rec) {
    rec.copy(exchange.range(0, 4 * param_elements), grads.range());
    rec.copy(exchange.range(4 * param_elements, 4), loss_value.range(0, 4));
  }).handle;
  broadcast_parameters();
}

void Trainer::Impl::broadcast_parameters() {
  auto all = vk::host_vector<float>(param_elements, "parameters (broadcast from rank 0)");
  vk::download(ctx, masters, std::span<float>(all));
  comm->broadcast(std::as_writable_bytes(std::span(all)), 0);
  vk::upload(ctx, masters, std::span<const float>(all));
  if (mixed) {
    auto half = vk::host_vector<uint16_t>(param_elements, "parameters (fp16 upload)");
    for (uint64_t i = 0; i < param_elements; ++i) half[i] = kernels::half_bits(all[i]);
    vk::upload(ctx, working_copy, std::span<const uint16_t>(half));
  }
  if (state_buffers) {
    auto buffers = vk::host_vector<float>(state_buffers.size() / 4, "buffers (broadcast from rank 0)");
    vk::download(ctx, state_buffers, std::span<float>(buffers));
    comm->broadcast(std::as_writable_bytes(std::span(buffers)), 0);
    vk::upload(ctx, state_buffers, std::span<const float>(buffers));
  }
}

uint32_t Trainer::Impl::global_rows(uint32_t local) {
  float total = float(local);  // exact: batches stay far below 2^24 rows
  comm->sum(std::span(&total, 1));
  return uint32_t(total);
}

void Trainer::Impl::step_data_parallel(Slot& s, VkCommandBuffer backward_pass, bool inject_nonfinite,
                                       const vk::SubmitSync& sync) {
  const auto t0 = std::chrono::steady_clock::now();
  submit({s.upload, forward, backward_pass, exchange_out}, s.fence, {.wait = sync.wait});
  s.fence.wait("the backward pass before the gradient exchange");
  exchange.invalidate();
  // Each rank's loss and gradients are its rows' share of the global batch's mean (the loss
  // divided by the global rows, TrainState::mean_rows): their sum is the mean one process
  // would take, from gradients of the same magnitudes. Non-finite values reach every rank
  // with the sum, so every rank skips the same steps.
  const std::span<float> sums(static_cast<float*>(exchange.mapped()), param_elements + 1);
  // The drill's overflow as a backward pass would leave it, before the sum (the loss-scale pass
  // poisons only after it, which would reach this rank alone).
  if (inject_nonfinite) sums[0] = std::numeric_limits<float>::infinity();
  comm->sum(sums);
  exchange.flush();
  submit({exchange_in, scale_pass, update, s.readout}, s.fence, {.signal = sync.signal});
  ++counters.gradient_exchanges;
  counters.exchange_wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace vkgrad::train
