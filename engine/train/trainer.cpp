// The Trainer's runtime: the step ring, submissions, metrics and host reads.
#include "trainer_impl.hpp"

#include "vk/host_memory.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/pipeline.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace vkgrad::train {

OptimizerConfig OptimizerConfig::sgd(float lr, float momentum, float weight_decay, bool nesterov) {
  OptimizerConfig c;
  c.kind = kernels::OptimizerKind::Sgd;
  c.lr = lr;
  c.momentum = momentum;
  c.weight_decay = weight_decay;
  c.nesterov = nesterov;
  return c;
}

OptimizerConfig OptimizerConfig::adam(float lr, float weight_decay) {
  OptimizerConfig c;
  c.kind = kernels::OptimizerKind::Adam;
  c.lr = lr;
  c.weight_decay = weight_decay;
  return c;
}

OptimizerConfig OptimizerConfig::adamw(float lr, float weight_decay) {
  OptimizerConfig c;
  c.kind = kernels::OptimizerKind::AdamW;
  c.lr = lr;
  c.weight_decay = weight_decay;
  return c;
}

void Trainer::Impl::write_staging(Slot& s, const Batch& batch, const char* what, uint32_t micro_batch, uint32_t mean_rows) {
  if (batch.rows == 0)
    throw Error(std::string(what) + ": a batch of 0 rows", "pass at least one row (Batch::rows and its feeds)");
  if (batch.rows > rows)
    throw Error(std::string(what) + ": a batch of " + std::to_string(batch.rows) + " rows; this trainer takes 1.." +
                    std::to_string(rows),
                "split the data into batches of at most TrainerCreateInfo::batch_size rows");
  if (batch.feeds.size() != feeds.size())
    throw Error(std::string(what) + ": the batch has " + std::to_string(batch.feeds.size()) + " feeds, the graph " +
                    std::to_string(feeds.size()),
                "give one Feed per Graph::feeds() entry, in declaration order");
  auto* base_ptr = static_cast<std::byte*>(s.staging.mapped());
  for (size_t i = 0; i < feeds.size(); ++i) {
    const FeedBuffer& f = feeds[i];
    const Feed& in = batch.feeds[i];
    const auto& name = graph.tensors()[f.tensor].name;
    if (f.shared) {
      if (!in.values.empty() || !in.labels.empty())
        throw Error(std::string(what) + ": feed '" + name + "' is shared: the passes read it from the host's buffer",
                    "leave its Feed empty and write the rows into the shared buffer before the step");
      continue;
    }
    const uint64_t count = uint64_t(batch.rows) * f.row_values;
    const uint64_t given = f.labels ? in.labels.size() : in.values.size();
    if (given != count)
      throw Error(std::string(what) + ": feed '" + name + "' has " + std::to_string(given) + " values, expected " +
                      std::to_string(count) + " (" + std::to_string(batch.rows) + " rows × " +
                      std::to_string(f.row_values) + ")",
                  f.labels ? "pass rows × the labels' per-sample count of int32 indices, row-major"
                           : "pass rows × features floats, row-major");
    std::byte* dst = base_ptr + f.staging_offset;
    if (f.labels) {
      if (f.bound)
        for (uint64_t v = 0; v < count; ++v)
          if (in.labels[v] < 0 || uint32_t(in.labels[v]) >= f.bound)
            throw Error(std::string(what) + ": feed '" + name + "' holds " + std::to_string(in.labels[v]) + " in row " +
                            std::to_string(v / f.row_values) +
                            (f.row_values > 1 ? ", position " + std::to_string(v % f.row_values) : std::string()) +
                            ", outside [0, " + std::to_string(f.bound) + "): " + f.bound_reason,
                        "fix the data (class indices and token ids count from 0), or size the layer for them");
      std::memcpy(dst, in.labels.data(), 4 * count);
    } else if (f.type == kernels::ElemType::F32) {
      std::memcpy(dst, in.values.data(), 4 * count);
    } else {
      for (uint64_t v = 0; v < count; ++v) {
        const uint16_t h = kernels::half_bits(in.values[v]);
        std::memcpy(dst + 2 * v, &h, 2);
      }
    }
  }
  const StagingTail tail{batch.rows, batch.inject_nonfinite_gradient ? 1u : 0u, micro_batch, mean_rows};
  std::memcpy(base_ptr + staging_bytes - sizeof tail, &tail, sizeof tail);
  s.staging.flush();
}

void Trainer::Impl::submit(std::vector<VkCommandBuffer> commands, vk::Fence& fence, const vk::SubmitSync& sync) {
  fence.reset();
  ctx.submit(commands, fence.handle(), sync);
  ++counters.submits;
}

void Trainer::Impl::absorb(const StepRecord& r) {
  if (newest.valid && r.iteration + 1 <= newest.steps) return;  // an older step than we have
  newest.valid = true;
  newest.steps = uint64_t(r.iteration) + 1;
  newest.optimizer_steps = r.optimizer_step;
  newest.loss = r.loss;
  newest.loss_scale = r.scale;
  newest.skipped = r.skipped != 0;
  newest.skipped_steps = r.skipped_steps;
  newest.nonfinite_losses = r.nonfinite_losses;
  newest.nonfinite_inputs = r.nonfinite_inputs;
  newest.grad_norm = r.grad_norm;
  history.push_back(newest);
  if (history.size() > kHistoryCap) history.pop_front();
}

// Reads a finished slot's record; waits for it first if `wait`.
void Trainer::Impl::wait_slot(uint32_t i, bool count_backpressure) {
  Slot& s = slots[i];
  if (!s.in_flight) return;
  if (count_backpressure && !s.fence.signalled("training step")) ++counters.backpressure_waits;
  s.fence.wait("training step");
  s.in_flight = false;
  if (!s.has_record) return;
  s.record.invalidate();
  StepRecord r;
  std::memcpy(&r, s.record.mapped(), sizeof r);
  absorb(r);
}

// Slots in submission order: the next slot to reuse holds the oldest step.
void Trainer::Impl::poll() {
  for (uint32_t j = 0; j < slots.size(); ++j) {
    const uint32_t i = uint32_t((queued + j) % slots.size());
    if (slots[i].in_flight && slots[i].fence.signalled("training step")) wait_slot(i, false);
  }
}

Trainer::Trainer(vk::Context& ctx, const graph::Graph& graph, const TrainerCreateInfo& info)
    : impl_(std::make_unique<Impl>(ctx, graph, info)) {}

Trainer::Trainer(vk::Context& ctx, const graph::Graph& graph, const TrainerCreateInfo& info, InferenceOnly)
    : impl_(std::make_unique<Impl>(ctx, graph, info, true)) {}

Trainer::~Trainer() = default;

void Trainer::step(const Batch& batch, const vk::SubmitSync& sync) {
  Impl& m = *impl_;
  const uint32_t slot = uint32_t(m.queued % m.slots.size());
  m.wait_slot(slot, true);
  auto& s = m.slots[slot];
  // Micro-batch k of an update: the first zeroes the gradients, the last applies them.
  const uint32_t k = uint32_t(m.queued % m.info.accumulation_steps);
  m.write_staging(s, batch, "Trainer::step", k, m.comm ? m.global_rows(batch.rows) : 0);
  const bool last = k + 1 == m.info.accumulation_steps;
  const auto& backward = k == 0 ? m.backward : m.backward_accumulate;
  if (last && m.comm) {
    m.step_data_parallel(s, backward, batch.inject_nonfinite_gradient, sync);
  } else {
    std::vector<VkCommandBuffer> commands{s.upload, m.forward};
    commands.insert(commands.end(), backward.begin(), backward.end());
    if (last) commands.insert(commands.end(), {m.scale_pass, m.update, s.readout});
    m.submit(std::move(commands), s.fence, sync);
  }
  s.in_flight = true;
  s.has_record = last;
  ++m.queued;
}

Metrics Trainer::metrics(Wait wait) {
  Impl& m = *impl_;
  if (wait == Wait::Yes) {
    ++m.counters.blocking_reads;
    for (uint32_t j = 0; j < m.slots.size(); ++j) m.wait_slot(uint32_t((m.queued + j) % m.slots.size()), false);
  } else {
    m.poll();
  }
  return m.newest;
}

std::vector<Metrics> Trainer::take_history() {
  impl_->poll();
  std::vector<Metrics> out(impl_->history.begin(), impl_->history.end());
  impl_->history.clear();
  return out;
}

Trainer::Evaluation Trainer::evaluate(const Batch& batch) {
  Impl& m = *impl_;
  m.write_staging(m.eval, batch, "Trainer::evaluate");
  m.submit({m.eval.upload, m.eval_forward, m.eval_copy}, m.eval.fence);
  ++m.counters.blocking_reads;
  m.eval.fence.wait("evaluation");
  m.eval_out.invalidate();
  const auto& spec = *m.graph.loss();
  const uint64_t cols = m.features(spec.pred);
  const auto pred = m.value(spec.pred);
  const auto* bytes = static_cast<const std::byte*>(m.eval_out.mapped());
  Evaluation e;
  e.predictions = vk::host_vector<float>(uint64_t(batch.rows) * cols, "predictions");
  for (size_t i = 0; i < e.predictions.size(); ++i) {
    if (pred.type == kernels::ElemType::F32) {
      std::memcpy(&e.predictions[i], bytes + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * i, 2);
      e.predictions[i] = kernels::half_value(h);
    }
  }
  std::memcpy(&e.loss, bytes + pred.range.size, 4);
  return e;
}

std::vector<float> Trainer::predict(const Batch& batch) {
  Impl& m = *impl_;
  const uint32_t target = m.graph.loss()->target;
  const bool with_target = batch.feeds.size() == m.feeds.size();
  std::string inputs;  // their names, for errors
  for (const auto& f : m.feeds)
    if (f.tensor != target) inputs += (inputs.empty() ? "'" : ", '") + m.graph.tensors()[f.tensor].name + "'";
  if (!with_target && batch.feeds.size() + 1 != m.feeds.size())
    throw Error(std::string(m.api) + "::predict: the batch has " + std::to_string(batch.feeds.size()) + " feeds; the model's inputs are " +
                    inputs,
                "give one Feed per input, in declaration order (the loss target may be left out)");
  if (batch.rows == 0) throw Error(std::string(m.api) + "::predict: a batch of 0 rows", "pass at least one row");
  // Every feed as given, checked whole (chunks would report their own sizes), and zeros for
  // the loss target when it is left out.
  std::vector<Feed> given;
  std::vector<float> zero_values;
  std::vector<int32_t> zero_labels;
  for (size_t i = 0, k = 0; i < m.feeds.size(); ++i) {
    const auto& f = m.feeds[i];
    const uint64_t count = uint64_t(batch.rows) * f.row_values;
    if (f.tensor == target && !with_target) {
      if (f.labels)
        vk::host_resize(zero_labels, count, "zero labels for the left-out target");
      else
        vk::host_resize(zero_values, count, "zero targets for the left-out target");
      given.push_back(f.labels ? Feed{{}, zero_labels} : Feed{zero_values, {}});
      continue;
    }
    const Feed& in = batch.feeds[with_target ? i : k++];
    const uint64_t n = f.labels ? in.labels.size() : in.values.size();
    if (f.shared && batch.rows > m.rows)
      throw Error(std::string(m.api) + "::predict: feed '" + m.graph.tensors()[f.tensor].name +
                      "' is shared, so a batch holds at most its " + std::to_string(m.rows) + " rows",
                  "predict at most batch_size rows at a time with shared feeds");
    if (f.shared ? n != 0 : n != count)
      throw Error(std::string(m.api) + "::predict: feed '" + m.graph.tensors()[f.tensor].name + "' has " + std::to_string(n) +
                      " values, expected " + std::to_string(count) + " (" + std::to_string(batch.rows) + " rows × " +
                      std::to_string(f.row_values) + ")",
                  "pass rows × features values, row-major");
    given.push_back(in);
  }
  // Any number of rows: the compiled batch size at a time.
  std::vector<float> out;
  for (uint32_t r0 = 0; r0 < batch.rows; r0 += m.rows) {
    const uint32_t n = std::min(m.rows, batch.rows - r0);
    Batch chunk{n, {}};
    for (size_t i = 0; i < given.size(); ++i) {
      const uint64_t per_row = m.feeds[i].row_values, at = uint64_t(r0) * per_row, len = uint64_t(n) * per_row;
      chunk.feeds.push_back(m.feeds[i].shared ? Feed{}
                            : m.feeds[i].labels ? Feed{{}, given[i].labels.subspan(at, len)}
                                                : Feed{given[i].values.subspan(at, len), {}});
    }
    const auto p = evaluate(chunk).predictions;
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<float> Trainer::Impl::read_parameter(const Param& p) const {
  auto out = vk::host_vector<float>(p.count, "parameter read-back");
  if (masters) {
    vk::download(ctx, masters, std::span<float>(out), 4 * p.offset);
    return out;
  }
  auto half = vk::host_vector<uint16_t>(p.count, "parameter read-back (fp16)");
  vk::download(ctx, working_copy, std::span<uint16_t>(half), 2 * p.offset);
  for (size_t i = 0; i < p.count; ++i) out[i] = kernels::half_value(half[i]);
  return out;
}

std::vector<float> Trainer::parameter(const std::string& name) {
  Impl& m = *impl_;
  const auto& p = m.param(name);
  ++m.counters.blocking_reads;
  return m.read_parameter(p);
}

std::vector<float> Trainer::gradient(const std::string& name) {
  Impl& m = *impl_;
  const auto& p = m.param(name);
  ++m.counters.blocking_reads;
  auto out = vk::host_vector<float>(p.count, "gradient read-back");
  vk::download(m.ctx, m.grads, std::span<float>(out), 4 * p.offset);
  // The buffer holds them scaled; the loss-scale pass left the factor in the state.
  TrainState st;
  vk::download(m.ctx, m.state, &st, sizeof st);
  for (float& g : out) g *= st.grad_unscale;
  return out;
}

void Trainer::set_parameter(const std::string& name, std::span<const float> values) {
  Impl& m = *impl_;
  const auto& p = m.param(name);
  if (values.size() != p.count)
    throw Error("set_parameter('" + name + "'): " + std::to_string(values.size()) + " values for a parameter of " +
                    std::to_string(p.count),
                "pass the whole tensor, row-major");
  if (m.masters) vk::upload(m.ctx, m.masters, values, 4 * p.offset);
  if (m.mixed) {
    auto half = vk::host_vector<uint16_t>(p.count + (p.count & 1), "parameter upload (fp16)");
    for (size_t i = 0; i < p.count; ++i) half[i] = kernels::half_bits(values[i]);
    vk::upload(m.ctx, m.working_copy, std::span<const uint16_t>(half), 2 * p.offset);
  }
}

namespace {

const char* precision_name(Precision p) { return p == Precision::Mixed ? "mixed" : "fp32"; }

const char* optimizer_name(kernels::OptimizerKind k) {
  return k == kernels::OptimizerKind::Sgd ? "sgd" : k == kernels::OptimizerKind::Adam ? "adam" : "adamw";
}

// The optimizer-state tensors a configuration keeps, with the prefixes PyTorch's state_dict uses.
std::vector<std::pair<std::string, const vk::Buffer*>> moment_buffers(const Trainer::Impl& m) {
  std::vector<std::pair<std::string, const vk::Buffer*>> out;
  const bool adam = m.info.optimizer.kind != kernels::OptimizerKind::Sgd;
  if (m.exp_avg) out.emplace_back(adam ? "optim.exp_avg." : "optim.momentum_buffer.", &m.exp_avg);
  if (m.exp_avg_sq) out.emplace_back("optim.exp_avg_sq.", &m.exp_avg_sq);
  return out;
}

}  // namespace

TrainingState Trainer::save_state() {
  Impl& m = *impl_;
  (void)metrics(Wait::Yes);
  TrainingState st;
  auto all = vk::host_vector<float>(m.param_elements, "training state read-back");
  vk::download(m.ctx, m.masters, std::span<float>(all));
  const auto keep = [&](const Impl::Param& p, const std::string& name) {
    const auto& dims = m.graph.tensors()[p.tensor].dims;
    TrainingState::Tensor t{{dims.begin(), dims.end()}, vk::host_vector<float>(p.count, "training state: " + name)};
    std::copy_n(all.begin() + std::ptrdiff_t(p.offset), p.count, t.values.begin());
    st.tensors[name] = std::move(t);
  };
  for (const auto& p : m.params) keep(p, m.graph.tensors()[p.tensor].name);
  for (const auto& b : m.buffer_slots) {
    const auto& ti = m.graph.tensors()[b.tensor];
    TrainingState::Tensor t{{ti.dims.begin(), ti.dims.end()}, vk::host_vector<float>(b.count, "training state: " + ti.name),
                            ti.integer};
    vk::download(m.ctx, m.state_buffers, std::span<float>(t.values), 4 * b.offset);
    st.tensors[ti.name] = std::move(t);
  }
  for (const auto& [prefix, buffer] : moment_buffers(m)) {
    vk::download(m.ctx, *buffer, std::span<float>(all));
    for (const auto& p : m.params) keep(p, prefix + m.graph.tensors()[p.tensor].name);
  }
  vk::download(m.ctx, m.state, &st.device, sizeof st.device);
  st.precision = precision_name(m.info.precision);
  st.optimizer = optimizer_name(m.info.optimizer.kind);
  return st;
}

namespace {

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "a, b, c and 4 more"
std::string some_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < std::min<size_t>(names.size(), 3); ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > 3) s += " and " + std::to_string(names.size() - 3) + " more";
  return s;
}

}  // namespace

LoadReport Trainer::load_state(const TrainingState& st, const LoadOptions& options) {
  Impl& m = *impl_;
  (void)metrics(Wait::Yes);
  if (!m.inference) {
    const std::string precision = precision_name(m.info.precision), optimizer = optimizer_name(m.info.optimizer.kind);
    if (!st.precision.empty() && st.precision != precision && !options.allow_precision_change)
      throw Error("the training state was saved by a " + st.precision + " trainer; this one is " + precision,
                  "build the trainer with the same TrainerCreateInfo::precision, or pass "
                  "LoadOptions{.allow_precision_change = true} to continue in " + precision);
    if (!st.optimizer.empty() && st.optimizer != optimizer && !options.allow_optimizer_change)
      throw Error("the training state was saved with " + st.optimizer + "; this trainer uses " + optimizer,
                  "build the trainer with the same OptimizerConfig::kind, or pass "
                  "LoadOptions{.allow_optimizer_change = true} (with .strict = false where the moments differ)");
  }
  // Every tensor the trainer keeps, by its name in a state, with its shape.
  struct Slot {
    std::string name;
    std::vector<uint64_t> shape;
  };
  std::vector<Slot> slots;
  const auto shape_of = [&](uint32_t tensor) {
    const auto& dims = m.graph.tensors()[tensor].dims;
    return std::vector<uint64_t>(dims.begin(), dims.end());
  };
  for (const auto& p : m.params) slots.push_back({m.graph.tensors()[p.tensor].name, shape_of(p.tensor)});
  for (const auto& b : m.buffer_slots) slots.push_back({m.graph.tensors()[b.tensor].name, shape_of(b.tensor)});
  for (const auto& [prefix, buffer] : moment_buffers(m))
    for (const auto& p : m.params) slots.push_back({prefix + m.graph.tensors()[p.tensor].name, shape_of(p.tensor)});

  // Everything is checked before anything is written: a bad state leaves the trainer as it was.
  LoadReport report;
  for (const Slot& slot : slots) {
    const auto it = st.tensors.find(slot.name);
    if (it == st.tensors.end()) {
      report.missing.push_back(slot.name);
      continue;
    }
    const auto& t = it->second;
    uint64_t count = 1;
    for (uint64_t d : slot.shape) count *= d;
    if ((!t.shape.empty() && t.shape != slot.shape) || t.values.size() != count)
      throw Error("the training state's '" + slot.name + "' is " +
                      (t.shape.empty() ? std::to_string(t.values.size()) + " values" : shape_text(t.shape)) +
                      ", the trainer's " + shape_text(slot.shape),
                  "load a checkpoint saved from the same model");
  }
  for (const auto& [name, t] : st.tensors)
    if (std::none_of(slots.begin(), slots.end(), [&](const Slot& s) { return s.name == name; }))
      report.unexpected.push_back(name);
  if (options.strict && !report.missing.empty())
    throw Error("the training state has no " + some_names(report.missing) + " (of " + std::to_string(slots.size()) +
                    " tensors the trainer keeps)",
                "load a checkpoint saved from the same model and optimizer, or pass LoadOptions{.strict = false} "
                "to keep the current values of what it lacks");
  if (options.strict && !report.unexpected.empty())
    throw Error("the training state holds " + some_names(report.unexpected) +
                    ", which this trainer does not have (another model's tensors, or another optimizer's state)",
                "load a checkpoint saved from the same model and optimizer, or pass LoadOptions{.strict = false} "
                "to skip them");

  const auto has = [&](const std::string& name) { return st.tensors.count(name) != 0; };
  for (const auto& [prefix, buffer] : moment_buffers(m)) {
    auto all = vk::host_vector<float>(m.param_elements, "optimizer state upload");
    vk::download(m.ctx, *buffer, std::span<float>(all));  // what the state lacks keeps its value
    for (const auto& p : m.params) {
      const auto name = prefix + m.graph.tensors()[p.tensor].name;
      if (!has(name)) continue;
      const auto& v = st.tensors.at(name).values;
      std::copy(v.begin(), v.end(), all.begin() + std::ptrdiff_t(p.offset));
    }
    vk::upload(m.ctx, *buffer, std::span<const float>(all));
  }
  for (const auto& p : m.params) {
    const auto& name = m.graph.tensors()[p.tensor].name;
    if (has(name)) set_parameter(name, st.tensors.at(name).values);
  }
  for (const auto& b : m.buffer_slots) {
    const auto& name = m.graph.tensors()[b.tensor].name;
    if (has(name)) vk::upload(m.ctx, m.state_buffers, std::span<const float>(st.tensors.at(name).values), 4 * b.offset);
  }
  if (m.inference) return report;  // no step state
  TrainState device = st.device;
  device.found_inf = 0;
  device.inject_nonfinite = 0;
  device.nonfinite_input_values = 0;
  vk::upload(m.ctx, m.state, &device, sizeof device);
  m.newest = {};
  m.newest.steps = device.iteration;
  m.newest.optimizer_steps = device.optimizer_step;
  m.newest.loss_scale = device.scale;
  m.newest.skipped_steps = device.skipped_steps;
  m.newest.nonfinite_losses = device.nonfinite_losses;
  m.newest.nonfinite_inputs = device.nonfinite_inputs;
  return report;
}

vk::HostDependencies Trainer::record_step(VkCommandBuffer cmd, uint32_t rows, const HostRecordingOptions& options) {
  Impl& m = *impl_;
  if (cmd == VK_NULL_HANDLE) throw Error("Trainer::record_step: no command buffer", "pass the host's command buffer, in the recording state");
  if (m.info.accumulation_steps != 1)
    throw Error("Trainer::record_step records whole updates; this trainer accumulates " +
                    std::to_string(m.info.accumulation_steps) + " micro-batches per update",
                "use accumulation_steps = 1 with record_step");
  if (rows == 0 || rows > m.rows)
    throw Error("Trainer::record_step: " + std::to_string(rows) + " rows; this trainer takes 1.." + std::to_string(m.rows),
                "pass the rows the shared buffers hold for this step");
  std::string unshared;
  for (const auto& f : m.feeds)
    if (!f.shared) unshared += (unshared.empty() ? "'" : ", '") + m.graph.tensors()[f.tensor].name + "'";
  if (!unshared.empty())
    throw Error("Trainer::record_step: feeds " + unshared + " are not shared, so no data would reach them",
                "list every feed in TrainerCreateInfo::shared_feeds");
  if (!m.host_record)
    m.host_record = vk::Buffer(m.ctx, {.size = sizeof(StepRecord), .use = vk::MemoryUse::Readback, .name = "host step record"});
  const vk::HostDependencies deps = vk::host_dependencies();
  vk::Recorder rec(m.ctx, cmd);
  if (options.place_dependencies) rec.memory_dependency(deps.before);
  // The step's scalars, as an upload from staging would write them: no injected overflow, the
  // update's only micro-batch.
  const uint32_t zero = 0;
  rec.update(m.state.range(offsetof(TrainState, valid_rows), 4), std::as_bytes(std::span(&rows, 1)));
  rec.update(m.state.range(offsetof(TrainState, inject_nonfinite), 4), std::as_bytes(std::span(&zero, 1)));
  rec.update(m.state.range(offsetof(TrainState, micro_batch), 4), std::as_bytes(std::span(&zero, 1)));
  m.record_forward(rec, true);
  m.record_backward(rec, true);
  m.record_loss_scale(rec);
  m.record_update(rec);
  rec.copy(m.device_record.range(), m.host_record.range());
  if (options.place_dependencies) rec.memory_dependency(deps.after);
  return deps;
}

vk::HostDependencies Trainer::record_predict(VkCommandBuffer cmd, uint32_t rows, const HostRecordingOptions& options) {
  Impl& m = *impl_;
  if (cmd == VK_NULL_HANDLE)
    throw Error(std::string(m.api) + "::record_predict: no command buffer", "pass the host's command buffer, in the recording state");
  if (!m.info.shared_predictions)
    throw Error(std::string(m.api) + "::record_predict: the predictions have no shared range to go to",
                "set shared_predictions when creating it");
  if (rows == 0 || rows > m.rows)
    throw Error(std::string(m.api) + "::record_predict: " + std::to_string(rows) + " rows; it takes 1.." + std::to_string(m.rows),
                "pass the rows the shared inputs hold");
  std::string unshared;
  for (const auto& f : m.feeds)
    if (!f.shared && f.tensor != m.graph.loss()->target)
      unshared += (unshared.empty() ? "'" : ", '") + m.graph.tensors()[f.tensor].name + "'";
  if (!unshared.empty())
    throw Error(std::string(m.api) + "::record_predict: inputs " + unshared + " are not shared, so no data would reach them",
                "list every input in shared_feeds");
  const vk::HostDependencies deps = vk::host_dependencies();
  vk::Recorder rec(m.ctx, cmd);
  if (options.place_dependencies) rec.memory_dependency(deps.before);
  rec.update(m.state.range(offsetof(TrainState, valid_rows), 4), std::as_bytes(std::span(&rows, 1)));
  m.record_forward(rec, false);
  if (options.place_dependencies) rec.memory_dependency(deps.after);
  return deps;
}

Metrics Trainer::host_step_metrics() {
  Impl& m = *impl_;
  if (!m.host_record)
    throw Error("Trainer::host_step_metrics: no step was recorded with record_step", "record and submit one first");
  m.host_record.invalidate();
  StepRecord r;
  std::memcpy(&r, m.host_record.mapped(), sizeof r);
  m.absorb(r);
  return m.newest;
}

std::vector<std::string> Trainer::parameter_names() const {
  std::vector<std::string> out;
  for (const auto& p : impl_->params) out.push_back(impl_->graph.tensors()[p.tensor].name);
  return out;
}

std::vector<PassProfile> Trainer::profile() {
  (void)metrics(Wait::Yes);
  std::vector<PassProfile> out;
  for (const auto& [name, rec] : impl_->profiled) {
    PassProfile p{name, 0.0, {}};
    for (const auto& t : rec->timings()) {
      p.ms += t.ms;
      p.dispatches.emplace_back(t.label, t.ms);
    }
    if (p.dispatches.empty()) continue;
    // A pass recorded in segments (the data-parallel backward's buckets) is one pass.
    if (!out.empty() && out.back().pass == p.pass) {
      out.back().ms += p.ms;
      out.back().dispatches.insert(out.back().dispatches.end(), p.dispatches.begin(), p.dispatches.end());
    } else {
      out.push_back(std::move(p));
    }
  }
  return out;
}

Counters Trainer::counters() const {
  Counters c = impl_->counters;
  c.pipeline_creations = impl_->ctx.pipelines().stats().created;
  return c;
}

const graph::MemoryPlan& Trainer::memory_plan() const { return impl_->plan; }

uint32_t Trainer::batch_size() const { return impl_->rows; }

}  // namespace vkgrad::train
