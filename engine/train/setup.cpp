// Compiling a Graph, part one: checking the configuration, the parameter layout, the
// activation arena from the memory planner, and the initial device state (passes.cpp records
// the passes).
#include "trainer_impl.hpp"

#include "graph/lifetimes.hpp"
#include "vk/host_memory.hpp"
#include "vkgrad/error.hpp"


#include <algorithm>
#include <random>
#include <variant>

namespace vkgrad::train {
namespace {

using graph::MemoryCategory;
using graph::TensorRole;
using kernels::ElemType;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

Trainer::Impl::Impl(vk::Context& c, const graph::Graph& g, const TrainerCreateInfo& i, bool inference_only)
    : ctx(c), graph(g), info(i), inference(inference_only), api(inference_only ? "Model" : "Trainer"), op_kernels(c),
      loss_scale(c), optimizer(c), pool(c) {
  if (info.batch_size == 0)
    throw Error(std::string(api) + "CreateInfo::batch_size is 0", "set the number of rows per step");
  op_kernels.attention_variant = info.attention_variant;
  if (info.ring_slots < 2) throw Error("TrainerCreateInfo::ring_slots must be at least 2", "use 2 or 3");
  if (info.accumulation_steps == 0)
    throw Error("TrainerCreateInfo::accumulation_steps is 0", "use 1 for no gradient accumulation");
  if (!graph.loss()) throw Error("the graph has no loss", "end the graph with cross_entropy(), mse() or l1()");
  if (graph.parameters().empty()) throw Error("the graph has no parameters to train", "add a linear layer or parameter()");
  rows = info.batch_size;
  mixed = info.precision == Precision::Mixed;
  act_type = mixed ? ElemType::F16 : ElemType::F32;

  const auto& o = info.optimizer;
  optimizer_args.kind = o.kind;
  optimizer_args.beta1 = o.kind == kernels::OptimizerKind::Sgd ? o.momentum : o.beta1;
  optimizer_args.beta2 = o.beta2;
  optimizer_args.eps = o.eps;
  optimizer_args.weight_decay = o.weight_decay;
  optimizer_args.dampening = o.dampening;
  optimizer_args.nesterov = o.nesterov ? 1 : 0;
  const auto& s = info.loss_scale;
  advance_args = {s.mode, s.growth_factor, s.backoff_factor, s.growth_interval, uint32_t(info.schedule.kind), o.lr,
                  info.schedule.min_lr, info.schedule.warmup_steps, info.schedule.total_steps};
  if (s.mode == kernels::ScaleMode::Dynamic && (s.growth_factor <= 1.0f || s.backoff_factor <= 0.0f ||
                                                s.backoff_factor >= 1.0f || s.growth_interval == 0))
    throw Error("dynamic loss scaling needs growth_factor > 1, 0 < backoff_factor < 1 and growth_interval >= 1",
                "keep GradScaler's defaults (2.0, 0.5, 2000) unless you have a reason");
  if (info.schedule.kind != ScheduleKind::Constant && info.schedule.kind != ScheduleKind::Cosine &&
      info.schedule.warmup_steps == 0)
    throw Error("a warm-up schedule needs warmup_steps >= 1", "set ScheduleConfig::warmup_steps");

  lay_out_parameters();
  if (!inference) plan_optimizer_runs();
  lay_out_buffers();
  lay_out_node_memory();
  plan_memory();
  initialize_state();
  if (info.communicator) {
    if (inference) throw Error("an inference model takes no communicator", "load the same parameters on every rank");
    set_up_data_parallel();  // before the passes: the backward's segments copy its buckets out
  }
  record_passes();
}

Trainer::Impl::~Impl() {
  // Wait for this trainer's own submissions only: inside a host engine the device has other
  // work. A destructor cannot throw: a lost device leaves nothing to wait for.
  for (auto& s : slots)
    if (s.in_flight) s.fence.wait_nothrow();
  for (size_t k = 0; k < segments_in_flight; ++k) bucket_fences[k].wait_nothrow();
}

uint32_t Trainer::Impl::base(uint32_t t) const { return graph.base(t); }

uint64_t Trainer::Impl::features(uint32_t t) const { return graph.tensors()[t].elements(); }

const Trainer::Impl::Param& Trainer::Impl::param(const std::string& name) const {
  for (const Param& p : params)
    if (graph.tensors()[p.tensor].name == name) return p;
  std::string known;
  for (const Param& p : params) known += (known.empty() ? "" : ", ") + graph.tensors()[p.tensor].name;
  throw Error("no parameter named '" + name + "' (parameters: " + known + ")", "use a name from parameter_names()");
}

kernels::TensorRef Trainer::Impl::param_value(uint32_t t) const {
  for (const Param& p : params)
    if (p.tensor == t)
      return mixed ? kernels::TensorRef{working_copy.range(2 * p.offset, kernels::tensor_bytes(ElemType::F16, p.count)),
                                        ElemType::F16}
                   : kernels::TensorRef{masters.range(4 * p.offset, 4 * p.count), ElemType::F32};
  throw Error("internal: tensor " + std::to_string(t) + " is not a parameter", "report this as a vkgrad bug");
}

kernels::TensorRef Trainer::Impl::param_grad(uint32_t t) const {
  for (const Param& p : params)
    if (p.tensor == t) return {grads.range(4 * p.offset, 4 * p.count), ElemType::F32};
  throw Error("internal: tensor " + std::to_string(t) + " is not a parameter", "report this as a vkgrad bug");
}

kernels::TensorRef Trainer::Impl::value(uint32_t t) const {
  if (graph.tensors()[t].role == TensorRole::Parameter) return param_value(t);
  if (graph.tensors()[t].role == TensorRole::Buffer) return buffer_value(t);
  const auto& v = values[base(t)];
  if (!v) throw Error("internal: tensor '" + graph.tensors()[t].name + "' has no storage", "report this as a vkgrad bug");
  return *v;
}

kernels::TensorRef Trainer::Impl::target() const {
  // The loss reads its target as fed: int32 labels, or values in the feed's type.
  const uint32_t t = graph.loss()->target;
  for (const auto& f : feeds)
    if (f.tensor == t) return {f.range, f.type};
  throw Error("internal: the loss target is not a feed", "report this as a vkgrad bug");
}

kernels::TensorRef Trainer::Impl::workspace(uint32_t node) const {
  const auto& w = workspaces[node];
  if (!w) throw Error("internal: node '" + graph.nodes()[node].label + "' has no backward scratch", "report this as a vkgrad bug");
  return *w;
}

kernels::TensorRef Trainer::Impl::grad(uint32_t t) const {
  if (graph.tensors()[t].role == TensorRole::Parameter) return param_grad(t);
  const auto& g = grads_of[base(t)];
  if (!g) throw Error("internal: tensor " + std::to_string(t) + " has no gradient storage", "report this as a vkgrad bug");
  return *g;
}

kernels::TensorRef Trainer::Impl::buffer_value(uint32_t t) const {
  for (const Param& b : buffer_slots)
    if (b.tensor == t) return {state_buffers.range(4 * b.offset, 4 * b.count), ElemType::F32};
  throw Error("internal: tensor " + std::to_string(t) + " is not a buffer", "report this as a vkgrad bug");
}

vk::BufferRange Trainer::Impl::node_constants(uint32_t node) const {
  const auto& r = node_memory[node].constants;
  if (!r.size) throw Error("internal: node '" + graph.nodes()[node].label + "' has no constants", "report this as a vkgrad bug");
  return r;
}

vk::BufferRange Trainer::Impl::node_scratch(uint32_t node) const {
  const auto& r = node_memory[node].scratch;
  if (!r.size) throw Error("internal: node '" + graph.nodes()[node].label + "' has no scratch", "report this as a vkgrad bug");
  return r;
}

void Trainer::Impl::lay_out_node_memory() {
  // One buffer, each piece at an offset that satisfies the storage-buffer offset alignment.
  const uint64_t align = std::max<uint64_t>(16, ctx.caps().min_storage_buffer_offset_alignment) / 4;
  std::vector<uint32_t> host;
  struct Words {
    uint64_t offset, count;
  };
  std::vector<std::pair<Words, Words>> at(graph.nodes().size(), {{0, 0}, {0, 0}});
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const auto& n = graph.nodes()[i];
    const auto memory = ops::unit(n.attr).memory;
    if (!memory) continue;
    const ops::NodeMemory m = memory(n, graph);
    at[i].first = {align_up(host.size(), align), m.constants.size()};
    host.resize(at[i].first.offset, 0u);
    host.insert(host.end(), m.constants.begin(), m.constants.end());
    at[i].second = {align_up(host.size(), align), (m.scratch_bytes + 3) / 4};
    host.resize(at[i].second.offset + at[i].second.count, 0u);
  }
  node_memory.assign(graph.nodes().size(), {});
  if (host.empty()) return;
  node_memory_buffer = vk::Buffer(ctx, {.size = 4 * host.size(), .name = "op constants and scratch"});
  vk::upload(ctx, node_memory_buffer, std::span<const uint32_t>(host));
  for (size_t i = 0; i < at.size(); ++i) {
    const auto [c, s] = at[i];
    if (c.count) node_memory[i].constants = node_memory_buffer.range(4 * c.offset, 4 * c.count);
    if (s.count) node_memory[i].scratch = node_memory_buffer.range(4 * s.offset, 4 * s.count);
  }
  counters.device_bytes[size_t(MemoryCategory::Workspace)] += 4 * host.size();
}

void Trainer::Impl::plan_optimizer_runs() {
  const auto& o = info.optimizer;
  for (const auto& g : o.groups) {
    const auto bad = [&](const char* what) {
      return Error("parameter group '" + g.prefix + "': " + what, "fix OptimizerConfig::groups");
    };
    if ((g.lr && !(*g.lr >= 0.0f)) || (g.weight_decay && !(*g.weight_decay >= 0.0f))) throw bad("a negative rate");
    if ((g.beta1 && !(*g.beta1 >= 0.0f && *g.beta1 < 1.0f)) || (g.beta2 && !(*g.beta2 >= 0.0f && *g.beta2 < 1.0f)))
      throw bad("betas must be in [0, 1)");
    if (g.eps && !(*g.eps > 0.0f)) throw bad("eps must be > 0");
    if (g.lr && *g.lr != o.lr && !(o.lr > 0.0f))
      throw bad("its learning rate is relative to OptimizerConfig::lr, which is 0");
    const bool matches = std::any_of(params.begin(), params.end(), [&](const Param& p) {
      return graph.tensors()[p.tensor].name.rfind(g.prefix, 0) == 0;
    });
    if (!matches) throw bad("no parameter's name starts with it");
  }
  // What each parameter is for, from the ops that read it (a parameter two ops share keeps the
  // first's kind).
  std::vector<std::optional<ops::ParamKind>> kind(graph.tensors().size());
  for (const auto& n : graph.nodes())
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (graph.tensors()[n.inputs[i]].role == TensorRole::Parameter && !kind[n.inputs[i]]) {
        const auto f = ops::unit(n.attr).param_kind;
        kind[n.inputs[i]] = f ? f(n, i) : ops::ParamKind::Weight;
      }
  const auto excluded = [&](uint32_t t) {
    const auto k = kind[t].value_or(ops::ParamKind::Weight);
    return (k == ops::ParamKind::Bias && o.no_decay.biases) || (k == ops::ParamKind::Norm && o.no_decay.norms) ||
           (k == ops::ParamKind::Embedding && o.no_decay.embeddings);
  };
  // One run per stretch of parameters with the same arguments.
  const auto same = [](const kernels::OptimizerArgs& a, const kernels::OptimizerArgs& b) {
    return a.lr_scale == b.lr_scale && a.beta1 == b.beta1 && a.beta2 == b.beta2 && a.eps == b.eps &&
           a.weight_decay == b.weight_decay;
  };
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    const auto& name = graph.tensors()[p.tensor].name;
    kernels::OptimizerArgs args = optimizer_args;
    if (excluded(p.tensor)) args.weight_decay = 0.0f;
    for (const auto& g : o.groups)
      if (name.rfind(g.prefix, 0) == 0) {
        if (g.lr) args.lr_scale = *g.lr == o.lr ? 1.0f : *g.lr / o.lr;
        if (g.beta1) args.beta1 = *g.beta1;
        if (g.beta2) args.beta2 = *g.beta2;
        if (g.eps) args.eps = *g.eps;
        if (g.weight_decay) args.weight_decay = *g.weight_decay;
        break;
      }
    if (i == 0 || !same(args, optimizer_runs.back().args)) optimizer_runs.push_back({p.offset, args});
    // A run spans the alignment gaps between its parameters (zeros that stay zero); its end
    // rounds up to a whole fp16 word, also inside the gap before the next parameter.
    const uint64_t end = i + 1 < params.size() ? p.offset + p.count : param_elements;
    optimizer_runs.back().args.n = uint32_t(align_up(end, 2) - optimizer_runs.back().offset);
  }
}

void Trainer::Impl::lay_out_buffers() {
  // Each buffer starts at an offset that satisfies the storage-buffer offset alignment.
  const uint64_t align = std::max<uint64_t>(64, ctx.caps().min_storage_buffer_offset_alignment / 4);
  std::mt19937_64 rng(info.seed ^ 0x9E3779B97F4A7C15ull);  // apart from the parameters' draws
  uint64_t elements = 0;
  for (uint32_t t : graph.buffers()) {
    const uint64_t offset = align_up(elements, align);
    buffer_slots.push_back({t, offset, graph.tensors()[t].elements()});
    elements = offset + graph.tensors()[t].elements();
  }
  if (elements == 0) return;
  auto host = vk::host_vector<float>(elements, "buffers (initial values)");
  for (const auto& b : buffer_slots) {
    const auto& ti = graph.tensors()[b.tensor];
    const auto v = graph::initialize(ti.init, ti.dims, rng);
    std::copy(v.begin(), v.end(), host.begin() + std::ptrdiff_t(b.offset));
  }
  state_buffers = vk::Buffer(ctx, {.size = 4 * host.size(), .name = "buffers (running statistics)"});
  vk::upload(ctx, state_buffers, std::span<const float>(host));
  counters.device_bytes[size_t(MemoryCategory::Parameters)] += 4 * host.size();
}

void Trainer::Impl::lay_out_parameters() {
  // Each parameter starts at an offset whose fp32 and fp16 byte offsets both satisfy the
  // device's storage-buffer offset alignment, so every parameter can be bound on its own.
  const uint64_t align = std::max<uint64_t>(128, ctx.caps().min_storage_buffer_offset_alignment / 2);
  std::mt19937_64 rng(info.seed);
  for (uint32_t t : graph.parameters()) {
    const uint64_t offset = align_up(param_elements, align);
    params.push_back({t, offset, graph.tensors()[t].elements()});
    param_elements = offset + graph.tensors()[t].elements();
  }
  param_elements = align_up(param_elements, 2);
  auto host = vk::host_vector<float>(param_elements, "parameters (initial values)");
  for (const auto& p : params) {
    const auto& ti = graph.tensors()[p.tensor];
    const auto v = graph::initialize(ti.init, ti.dims, rng);
    std::copy(v.begin(), v.end(), host.begin() + std::ptrdiff_t(p.offset));
  }
  const uint64_t bytes = 4 * param_elements;
  if (mixed) {
    working_copy = vk::Buffer(ctx, {.size = 2 * param_elements, .name = "parameters (fp16 working copy)"});
    auto half = vk::host_vector<uint16_t>(param_elements, "parameters (fp16 upload)");
    for (uint64_t i = 0; i < param_elements; ++i) half[i] = kernels::half_bits(host[i]);
    vk::upload(ctx, working_copy, std::span<const uint16_t>(half));
  }
  if (inference && mixed) {
    counters.device_bytes[size_t(MemoryCategory::Parameters)] = 2 * param_elements;
    return;
  }
  masters = vk::Buffer(ctx, {.size = bytes, .name = "parameters (fp32 masters)"});
  vk::upload(ctx, masters, std::span<const float>(host));
  counters.device_bytes[size_t(MemoryCategory::Parameters)] = bytes + (mixed ? 2 * param_elements : 0);
  if (inference) return;
  grads = vk::Buffer(ctx, {.size = bytes, .name = "gradients (fp32)"});
  const bool adam = info.optimizer.kind != kernels::OptimizerKind::Sgd;
  const bool momentum = !adam && info.optimizer.momentum != 0.0f;
  const auto zeros = vk::host_vector<float>(param_elements, "optimizer state (zeros)");
  if (adam || momentum) {
    exp_avg = vk::Buffer(ctx, {.size = bytes, .name = adam ? "optimizer exp_avg" : "optimizer momentum_buffer"});
    vk::upload(ctx, exp_avg, std::span<const float>(zeros));
  }
  if (adam) {
    exp_avg_sq = vk::Buffer(ctx, {.size = bytes, .name = "optimizer exp_avg_sq"});
    vk::upload(ctx, exp_avg_sq, std::span<const float>(zeros));
  }
  vk::upload(ctx, grads, std::span<const float>(zeros));
  optimizer_args.n = uint32_t(param_elements);
  counters.device_bytes[size_t(MemoryCategory::Gradients)] = bytes;
  counters.device_bytes[size_t(MemoryCategory::OptimizerState)] = (adam ? 2 : momentum ? 1 : 0) * bytes;
}

void Trainer::Impl::plan_memory() {
  const auto& ts = graph.tensors();
  // Under mixed precision a transformer's residual stream stays fp32 (ops::activation_types).
  const auto types = ops::activation_types(graph, act_type);
  auto act = graph::activation_requests(graph, rows, types,
                                        std::max<uint64_t>(256, ctx.caps().min_storage_buffer_offset_alignment), inference);
  grad_needed = std::move(act.requires_grad);
  const auto& requests = act.requests;
  std::vector<bool> consumed(ts.size(), false);
  for (const auto& n : graph.nodes())
    if (!ops::unit(n.attr).fp32_feeds)
      for (uint32_t in : n.inputs) consumed[base(in)] = true;

  plan = graph::plan_memory(requests);
  const uint64_t fixed = counters.device_bytes[size_t(MemoryCategory::Parameters)] +
                         counters.device_bytes[size_t(MemoryCategory::Gradients)] +
                         counters.device_bytes[size_t(MemoryCategory::OptimizerState)];
  uint64_t budget = info.memory_budget;
  if (budget == 0) {
    for (const auto& h : ctx.memory_heaps())
      if (h.device_local) budget = std::max(budget, h.budget > h.usage ? h.budget - h.usage : 0);
  }
  graph::check_budget(plan, budget > fixed ? budget - fixed : 0,
                      inference ? "inference graph activations" : "training graph activations");
  arena = vk::Buffer(ctx, {.size = std::max<uint64_t>(plan.arena_bytes, 4), .name = "activation arena"});

  values.assign(ts.size(), std::nullopt);
  grads_of.assign(ts.size(), std::nullopt);
  workspaces.assign(graph.nodes().size(), std::nullopt);
  using Kind = graph::ActivationRequests::Kind;
  for (size_t r = 0; r < requests.size(); ++r) {
    const auto [kind, owner] = act.owners[r];
    const kernels::TensorRef ref{arena.range(plan.offsets[r], requests[r].bytes),
                                 types[kind == Kind::Workspace ? graph.nodes()[owner].output() : owner]};
    (kind == Kind::Value ? values : kind == Kind::Grad ? grads_of : workspaces)[owner] = ref;
  }

  if (info.shared_predictions) {
    // The predictions live in the host's range instead of the arena (where their planned place
    // stays unused).
    const SharedFeed& sp = *info.shared_predictions;
    const uint32_t pred = base(graph.loss()->pred);
    FeedBuffer view;
    view.tensor = pred;
    view.type = types[pred];
    view.row_values = features(pred);
    share_feed(view, {"predictions", sp.buffer, sp.offset, sp.size, sp.type},
               kernels::tensor_bytes(view.type, rows * view.row_values));
    values[pred] = kernels::TensorRef{view.range, view.type};
  }

  // Feeds: inputs and int32 labels, one device buffer each (never in the arena: the upload
  // writes them while earlier steps may still run), and their staging layout. Under mixed
  // precision the host converts inputs that layers read to fp16 as it stages them; a loss
  // target only the loss reads, and coordinates only encodings read, stay fp32.
  for (uint32_t t : graph.feeds()) {
    const auto& ti = ts[t];
    FeedBuffer f;
    f.tensor = t;
    f.labels = ti.role == TensorRole::Labels;
    f.row_values = ti.elements();
    f.type = mixed && !f.labels && consumed[t] ? ElemType::F16 : ElemType::F32;
    if (f.labels) {
      // Labels index: classes in the cross-entropy, rows of an embedding table. The smallest
      // range any reader has is what the host checks each batch against.
      const auto narrow = [&](uint32_t bound, std::string reason) {
        if (f.bound == 0 || bound < f.bound) f.bound = bound, f.bound_reason = std::move(reason);
      };
      const auto& loss = *graph.loss();
      if (loss.kind == graph::LossKind::CrossEntropy && base(loss.target) == t)
        narrow(ts[loss.pred].dims.back(), "the " + std::to_string(ts[loss.pred].dims.back()) + " classes of the cross-entropy");
      for (const auto& n : graph.nodes())
        if (std::holds_alternative<graph::attr::Embedding>(n.attr) && base(n.inputs[0]) == t)
          narrow(ts[n.inputs[1]].dims[0], "the " + std::to_string(ts[n.inputs[1]].dims[0]) + " rows of " + ts[n.inputs[1]].name);
    }
    f.row_bytes = f.row_values * kernels::elem_bytes(f.type);
    f.staging_offset = staging_bytes;
    staging_bytes = align_up(staging_bytes + rows * f.row_bytes, 16);
    const uint64_t bytes = kernels::tensor_bytes(f.type, rows * f.row_values);
    const auto shared = std::find_if(info.shared_feeds.begin(), info.shared_feeds.end(),
                                     [&](const SharedFeed& sf) { return sf.name == ti.name; });
    if (shared != info.shared_feeds.end()) {
      share_feed(f, *shared, bytes);
    } else {
      f.device = vk::Buffer(ctx, {.size = bytes, .name = "feed " + ti.name});
      // Rows past a partial batch are read by the layers (and masked by the loss): keep them finite.
      const auto zeros = vk::host_vector<uint32_t>(bytes / 4, "feed " + ti.name + " (zeros)");
      vk::upload(ctx, f.device, std::span<const uint32_t>(zeros));
      f.range = f.device.range();
    }
    values[t] = kernels::TensorRef{f.range, f.type};
    feeds.push_back(std::move(f));
  }
  for (const SharedFeed& sf : info.shared_feeds)
    if (std::none_of(feeds.begin(), feeds.end(), [&](const FeedBuffer& f) { return ts[f.tensor].name == sf.name; })) {
      std::string names;
      for (const auto& f : feeds) names += (names.empty() ? "'" : ", '") + ts[f.tensor].name + "'";
      throw Error("shared feed '" + sf.name + "' is not a feed of the graph (its feeds: " + names + ")",
                  "name a Graph::input() or labels() tensor in SharedFeed::name");
    }
  staging_bytes += sizeof(StagingTail);

  uint64_t feed_bytes = 0;
  for (const auto& f : feeds) feed_bytes += f.shared ? 0 : f.device.size();
  counters.device_bytes[size_t(MemoryCategory::Activations)] =
      plan.requested_by_category[size_t(MemoryCategory::Activations)] + feed_bytes;
  counters.device_bytes[size_t(MemoryCategory::Workspace)] += plan.requested_by_category[size_t(MemoryCategory::Workspace)];
  counters.planned_arena_bytes = plan.arena_bytes;
}

void Trainer::Impl::share_feed(FeedBuffer& f, const SharedFeed& sf, uint64_t bytes) {
  const FeedType expected = f.labels ? FeedType::I32 : f.type == ElemType::F16 ? FeedType::F16 : FeedType::F32;
  const auto type_name = [](FeedType t) { return t == FeedType::I32 ? "I32" : t == FeedType::F16 ? "F16" : "F32"; };
  const std::string what = "shared feed '" + sf.name + "'";
  if (sf.buffer == VK_NULL_HANDLE) throw Error(what + " has no buffer", "set SharedFeed::buffer to the host's VkBuffer");
  if (sf.type != expected)
    throw Error(what + " is " + type_name(sf.type) + "; the graph reads it as " + type_name(expected),
                std::string("store it as ") + type_name(expected) + " and set SharedFeed::type to match");
  if (sf.size < bytes)
    throw Error(what + ": the host's range holds " + std::to_string(sf.size) + " bytes; the feed needs " +
                    std::to_string(bytes) + " (" + std::to_string(rows) + " rows × " + std::to_string(f.row_values) +
                    " values of " + type_name(expected) + ")",
                "give a range of at least that size");
  const uint64_t align = std::max<uint64_t>(1, ctx.caps().min_storage_buffer_offset_alignment);
  if (sf.offset % align != 0)
    throw Error(what + " starts at offset " + std::to_string(sf.offset) + ", not a multiple of the device's " +
                    std::to_string(align) + "-byte storage-buffer offset alignment",
                "place it at an aligned offset in the host's buffer");
  f.shared = true;
  f.range = {sf.buffer, sf.offset, bytes};
}

void Trainer::Impl::initialize_state() {
  TrainState s;
  s.scale = info.loss_scale.mode == kernels::ScaleMode::Off ? 1.0f : info.loss_scale.init_scale;
  s.lr = learning_rate(info.schedule, info.optimizer.lr, 0);
  state = vk::Buffer(ctx, {.size = sizeof s, .name = "train state"});
  vk::upload(ctx, state, &s, sizeof s);
  loss_value = vk::Buffer(ctx, {.size = 4, .name = "loss"});
  row_loss = vk::Buffer(ctx, {.size = 4ull * rows * ops::loss_rows_per_sample(*graph.loss(), graph),
                              .name = "per-row loss"});
  counters.device_bytes[size_t(MemoryCategory::Workspace)] += state.size() + loss_value.size() + row_loss.size();
  if (inference) return;
  partials = vk::Buffer(ctx, {.size = 4ull * kernels::LossScale::partial_count(uint32_t(param_elements)),
                              .name = "gradient norm partials"});
  device_record = vk::Buffer(ctx, {.size = sizeof(StepRecord), .name = "step record"});
  counters.device_bytes[size_t(MemoryCategory::Workspace)] += partials.size() + device_record.size();
}

}  // namespace vkgrad::train
