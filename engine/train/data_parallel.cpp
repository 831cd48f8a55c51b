// Data-parallel training over a dist::Communicator: rank 0's parameters at the start, and every
// update's gradients summed over the ranks between the backward and loss-scale passes, bucket
// by bucket while the backward pass still runs.
#include "trainer_impl.hpp"

#include "vk/host_memory.hpp"
#include "vkgrad/dist/communicator.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace vkgrad::train {

void Trainer::Impl::set_up_data_parallel() {
  comm = info.communicator;
  if (!info.shared_feeds.empty())
    throw Error("data-parallel training with shared feeds", "feed each rank's rows through step()'s batches");
  if (info.gradient_bucket_bytes == 0)
    throw Error("data-parallel training with gradient_bucket_bytes = 0",
                "give buckets a size (PyTorch DDP's 25 MiB is the default)");
  plan_buckets();
  exchange = vk::Buffer(ctx, {.size = 4 * exchange_values, .use = vk::MemoryUse::Readback, .name = "gradient exchange"});
  // The host's writes are made visible by the submission itself (after the flush).
  exchange_in = pool.record({.begin_with_barrier = true}, false, [&](vk::Recorder& rec) {
    for (const Bucket& b : buckets) {
      uint64_t at = b.offset;
      for (uint32_t i : b.params) {
        rec.copy(exchange.range(4 * at, 4 * params[i].count), grads.range(4 * params[i].offset, 4 * params[i].count));
        at += params[i].count;
      }
    }
    rec.copy(exchange.range(4 * exchange_loss, 4), loss_value.range(0, 4));
    if (state_buffers) rec.copy(exchange.range(4 * (exchange_loss + 1), state_buffers.size()), state_buffers.range());
  }).handle;
  for (size_t k = 0; k < buckets.size(); ++k) bucket_fences.emplace_back(ctx);
  broadcast_parameters();
}

// A parameter's gradient is final once the backward has run the first node (in graph order)
// that reads it, reshape views included: the backward walks the nodes from the last. Buckets
// close in that order, as PyTorch DDP's do in reverse registration order, so the first is
// summed while the backward of the layers below it still runs. The loss and the buffers (running
// statistics, final after the forward pass) go with the first.
void Trainer::Impl::plan_buckets() {
  const auto& nodes = graph.nodes();
  std::vector<size_t> final_after(params.size(), 0);
  std::vector<std::vector<uint32_t>> ready(nodes.size());
  for (uint32_t p = 0; p < params.size(); ++p) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      const auto& in = nodes[i].inputs;
      if (std::any_of(in.begin(), in.end(), [&](uint32_t t) { return base(t) == params[p].tensor; })) {
        final_after[p] = i;
        break;
      }
    }
    ready[final_after[p]].push_back(p);
  }
  const uint64_t cap_values = std::max<uint64_t>(1, info.gradient_bucket_bytes / 4);
  size_t placed = 0;
  Bucket open;
  for (size_t i = nodes.size(); i-- > 0;) {
    for (uint32_t p : ready[i]) {
      open.params.push_back(p);
      open.values += params[p].count;
    }
    placed += ready[i].size();
    if (open.values >= cap_values && placed < params.size()) {
      open.last_node = i;
      buckets.push_back(std::move(open));
      open = {};
    }
  }
  open.last_node = 0;
  buckets.push_back(std::move(open));
  exchange_loss = buckets[0].values;
  buckets[0].values += 1 + state_buffers.size() / 4;
  for (Bucket& b : buckets) {
    b.offset = exchange_values;
    exchange_values += b.values;
  }
  counters.gradient_buckets = uint32_t(buckets.size());
}

void Trainer::Impl::record_bucket_out(vk::Recorder& rec, size_t k) {
  const Bucket& b = buckets[k];
  uint64_t at = b.offset;
  for (uint32_t i : b.params) {
    rec.copy(grads.range(4 * params[i].offset, 4 * params[i].count), exchange.range(4 * at, 4 * params[i].count));
    at += params[i].count;
  }
  if (k == 0) {
    rec.copy(loss_value.range(0, 4), exchange.range(4 * exchange_loss, 4));
    if (state_buffers) rec.copy(state_buffers.range(), exchange.range(4 * (exchange_loss + 1), state_buffers.size()));
  }
  rec.host_read(exchange.range(4 * b.offset, 4 * b.values));
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

// The host's part of the step: it waits for each backward segment in turn, starts its bucket's
// sum, and keeps the sums already started moving while it waits for the next segment.
void Trainer::Impl::step_data_parallel(Slot& s, const std::vector<VkCommandBuffer>& backward_pass, bool inject_nonfinite,
                                       const vk::SubmitSync& sync) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  for (size_t k = 0; k < buckets.size(); ++k) {
    if (k == 0)
      submit({s.upload, forward, backward_pass[0]}, bucket_fences[0], {.wait = sync.wait});
    else
      submit({backward_pass[k]}, bucket_fences[k]);
    segments_in_flight = k + 1;
  }
  struct Sum {
    std::unique_ptr<dist::Pending> pending;
    Clock::time_point started, done;
    bool finished = false;
  };
  std::vector<Sum> sums(buckets.size());
  const auto progress = [&](size_t started) {
    for (size_t j = 0; j < started; ++j)
      if (!sums[j].finished && sums[j].pending->test()) {
        sums[j].finished = true;
        sums[j].done = Clock::now();
      }
  };
  float* const host = static_cast<float*>(exchange.mapped());
  Clock::time_point backward_done;
  for (size_t k = 0; k < buckets.size(); ++k) {
    while (!bucket_fences[k].wait_for(std::chrono::microseconds(100), "a backward segment before its gradient bucket's sum"))
      progress(k);
    backward_done = Clock::now();
    const Bucket& b = buckets[k];
    exchange.invalidate(4 * b.offset, 4 * b.values);
    // Each rank's loss and gradients are its rows' share of the global batch's mean (the loss
    // divided by the global rows, TrainState::mean_rows): their sum is the mean one process
    // would take, from gradients of the same magnitudes. Non-finite values reach every rank
    // with the sum, so every rank skips the same steps. The drill's overflow goes in as a
    // backward pass would leave it, before the sum (the loss-scale pass poisons only after it,
    // which would reach this rank alone).
    if (k == 0 && inject_nonfinite) host[b.offset] = std::numeric_limits<float>::infinity();
    sums[k].started = Clock::now();
    sums[k].pending = comm->start_sum(std::span(host + b.offset, b.values));
  }
  segments_in_flight = 0;
  for (Sum& sum : sums)
    if (!sum.finished) {
      sum.pending->complete();
      sum.done = Clock::now();
    }
  // The ranks' running statistics, each updated from its own rows, become their mean: the same
  // on every rank, and for the running mean what one process with the global batch computes.
  const float inverse_ranks = 1.0f / float(comm->size());
  for (uint64_t i = exchange_loss + 1; i < buckets[0].values; ++i) host[i] *= inverse_ranks;
  exchange.flush();
  submit({exchange_in, scale_pass, update, s.readout}, s.fence, {.signal = sync.signal});

  // The time some sum was in flight, and the part of it before the backward pass had finished.
  double busy = 0, hidden = 0;
  auto covered = sums[0].started;
  for (const Sum& sum : sums) {
    const auto from = std::max(sum.started, covered), to = std::max(sum.done, from);
    busy += std::chrono::duration<double>(to - from).count();
    if (from < backward_done) hidden += std::chrono::duration<double>(std::min(to, backward_done) - from).count();
    covered = to;
  }
  ++counters.gradient_exchanges;
  counters.exchange_wait_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  counters.allreduce_seconds += busy;
  counters.allreduce_hidden_seconds += hidden;
}

}  // namespace vkgrad::train
