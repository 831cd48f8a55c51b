// The C API (include/vkgrad/vkgrad.h) over the C++ one: handles own the C++ objects, every entry
// point catches what the C++ side throws and turns it into a result code and a thread-local
// message, so no exception crosses into C.
#include "vkgrad/vkgrad.h"

#include "vkgrad/vkgrad.hpp"

#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <vector>

using namespace vkgrad;

struct vkgrad_context_t {
  std::unique_ptr<vk::Context> ctx;
};
struct vkgrad_requirements_t {
  std::unique_ptr<vk::DeviceRequirements> req;
  std::vector<std::string> extensions;
};
struct vkgrad_graph_t {
  graph::Graph g;
};
struct vkgrad_trainer_t {
  std::unique_ptr<train::Trainer> t;
};
struct vkgrad_model_t {
  std::unique_ptr<infer::Model> m;
};

namespace {

thread_local std::string last_error;

vkgrad_result fail(vkgrad_result code, std::string message) {
  last_error = std::move(message);
  return code;
}

// Runs `f`, turning whatever it throws into a result code and the thread's message.
template <class F>
vkgrad_result guarded(const char* function, F&& f) noexcept {
  try {
    f();
    return VKGRAD_OK;
  } catch (const Error& e) {
    return fail(e.result() != VK_SUCCESS ? VKGRAD_ERROR_VULKAN : VKGRAD_ERROR_FAILED, std::string(function) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return fail(VKGRAD_ERROR_OUT_OF_HOST_MEMORY, std::string(function) + ": out of host memory");
  } catch (const std::exception& e) {
    return fail(VKGRAD_ERROR_FAILED, std::string(function) + ": " + e.what());
  } catch (...) {
    return fail(VKGRAD_ERROR_FAILED, std::string(function) + ": an unknown error");
  }
}

// Null handles and pointers are the caller's mistake, named before anything runs.
#define VKGRAD_REQUIRE(cond, what)                                                                             \
  do {                                                                                                         \
    if (!(cond)) return fail(VKGRAD_ERROR_INVALID_ARGUMENT, std::string(__func__) + ": " + (what));          \
  } while (0)

std::vector<uint32_t> dims_of(const uint32_t* dims, uint32_t rank) { return {dims, dims + rank}; }

graph::Activation activation_of(vkgrad_activation a) { return graph::Activation(uint32_t(a)); }

// A C batch as the trainer's: spans over the caller's arrays.
train::Batch batch_of(const vkgrad_batch& b) {
  train::Batch out{b.rows, {}};
  for (uint32_t i = 0; i < b.feed_count; ++i) {
    const vkgrad_feed& f = b.feeds[i];
    out.feeds.push_back({std::span<const float>(f.values, f.values ? f.value_count : 0),
                         std::span<const int32_t>(f.labels, f.labels ? f.label_count : 0)});
  }
  return out;
}

void metrics_of(const train::Metrics& m, vkgrad_metrics* out) {
  *out = {m.valid ? 1 : 0, m.steps,      m.optimizer_steps, m.skipped_steps,    m.nonfinite_losses,
          m.loss,          m.loss_scale, m.grad_norm,       m.skipped ? 1 : 0, m.nonfinite_inputs};
}

train::SharedFeed shared_of(const vkgrad_shared_feed& s) {
  return {s.name ? s.name : "", s.buffer, s.offset, s.size, train::FeedType(uint32_t(s.type))};
}

// The shared buffers of a trainer's or a model's C create-info into its C++ one.
template <class CInfo, class Info>
void add_shared(const CInfo& c, Info& ci) {
  for (uint32_t i = 0; i < c.shared_feed_count; ++i) ci.shared_feeds.push_back(shared_of(c.shared_feeds[i]));
  if (c.shared_predictions) ci.shared_predictions = shared_of(*c.shared_predictions);
}

vkgrad_result copy_out(const std::vector<float>& values, float* out, size_t capacity, size_t* written) {
  if (written) *written = values.size();
  if (values.size() > capacity)
    return fail(VKGRAD_ERROR_INVALID_ARGUMENT, "the output holds " + std::to_string(capacity) + " floats; the predictions are " +
                                                   std::to_string(values.size()) + " (pass rows × outputs)");
  std::copy(values.begin(), values.end(), out);
  return VKGRAD_OK;
}

// Graph builders share one shape: a graph, then what the builder makes of it.
template <class F>
vkgrad_result build(const char* function, vkgrad_graph g, vkgrad_tensor* out, F&& f) noexcept {
  if (!g || !out) return fail(VKGRAD_ERROR_INVALID_ARGUMENT, std::string(function) + ": a null graph or output");
  return guarded(function, [&] { *out = f(g->g).id; });
}

graph::Tensor T(vkgrad_tensor t) { return {t}; }

}  // namespace

extern "C" {

const char* vkgrad_last_error(void) { return last_error.c_str(); }

vkgrad_result vkgrad_context_create(const vkgrad_context_info* info, vkgrad_context* out) {
  VKGRAD_REQUIRE(out, "out is NULL");
  return guarded(__func__, [&] {
    vk::ContextCreateInfo ci;
    if (info && info->device_index >= 0) ci.device_index = uint32_t(info->device_index);
    ci.validation = info && info->validation;
    auto c = std::make_unique<vkgrad_context_t>();
    c->ctx = std::make_unique<vk::Context>(ci);
    *out = c.release();
  });
}

void vkgrad_context_destroy(vkgrad_context context) { delete context; }

const char* vkgrad_context_device_name(vkgrad_context context) {
  return context ? context->ctx->caps().name.c_str() : "";
}

vkgrad_result vkgrad_requirements_create(PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                                         VkPhysicalDevice physical_device, vkgrad_requirements* out) {
  VKGRAD_REQUIRE(out && gipa && instance && physical_device, "every argument is required");
  return guarded(__func__, [&] {
    auto r = std::make_unique<vkgrad_requirements_t>();
    r->req = std::make_unique<vk::DeviceRequirements>(gipa, instance, physical_device);
    r->extensions = r->req->extensions();
    *out = r.release();
  });
}

void vkgrad_requirements_destroy(vkgrad_requirements requirements) { delete requirements; }

void vkgrad_requirements_merge_features(vkgrad_requirements r, VkPhysicalDeviceFeatures2* host_features) {
  if (!r || !host_features) return;
  std::vector<const char*> ignored;  // the host enables the listed extensions itself
  r->req->add_to(*host_features, ignored);
}

uint32_t vkgrad_requirements_extension_count(vkgrad_requirements r) { return r ? uint32_t(r->extensions.size()) : 0; }

const char* vkgrad_requirements_extension(vkgrad_requirements r, uint32_t index) {
  return r && index < r->extensions.size() ? r->extensions[index].c_str() : nullptr;
}

vkgrad_result vkgrad_context_adopt(const vkgrad_adopt_info* info, vkgrad_context* out) {
  VKGRAD_REQUIRE(info && out, "info or out is NULL");
  VKGRAD_REQUIRE(info->requirements, "info->requirements is NULL: create it with vkgrad_requirements_create");
  return guarded(__func__, [&] {
    vk::AdoptInfo a;
    a.get_instance_proc_addr = info->get_instance_proc_addr;
    a.get_device_proc_addr = info->get_device_proc_addr;
    a.instance = info->instance;
    a.physical_device = info->physical_device;
    a.device = info->device;
    a.queue = info->queue;
    a.queue_family = info->queue_family;
    if (info->api_version) a.api_version = info->api_version;
    a.enabled = info->requirements->req->features();
    a.extensions = info->requirements->extensions;
    if (info->lock_queue && info->unlock_queue) {
      a.lock_queue = [f = info->lock_queue, u = info->user] { f(u); };
      a.unlock_queue = [f = info->unlock_queue, u = info->user] { f(u); };
    }
    auto c = std::make_unique<vkgrad_context_t>();
    c->ctx = std::make_unique<vk::Context>(a);
    *out = c.release();
  });
}

vkgrad_result vkgrad_graph_create(vkgrad_graph* out) {
  VKGRAD_REQUIRE(out, "out is NULL");
  return guarded(__func__, [&] { *out = new vkgrad_graph_t; });
}

void vkgrad_graph_destroy(vkgrad_graph graph) { delete graph; }

vkgrad_result vkgrad_graph_input(vkgrad_graph g, const char* name, const uint32_t* dims, uint32_t rank, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name && (dims || rank == 0), "name or dims is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.input(name, dims_of(dims, rank)); });
}

vkgrad_result vkgrad_graph_labels(vkgrad_graph g, const char* name, const uint32_t* dims, uint32_t rank, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name && (dims || rank == 0), "name or dims is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.labels(name, rank ? dims_of(dims, rank) : std::vector<uint32_t>{1}); });
}

vkgrad_result vkgrad_graph_linear(vkgrad_graph g, vkgrad_tensor x, uint32_t out_features, const char* name,
                                  vkgrad_activation activation, int bias, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) {
    return gr.linear(T(x), out_features, name, activation_of(activation), bias != 0);
  });
}

vkgrad_result vkgrad_graph_conv2d(vkgrad_graph g, vkgrad_tensor x, uint32_t out_channels, uint32_t kernel, uint32_t stride,
                                  uint32_t padding, const char* name, vkgrad_activation activation, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) {
    return gr.conv2d(T(x), out_channels, kernel, name,
                     {.stride = stride, .padding = padding, .activation = activation_of(activation)});
  });
}

vkgrad_result vkgrad_graph_max_pool2d(vkgrad_graph g, vkgrad_tensor x, uint32_t kernel, uint32_t stride, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.max_pool2d(T(x), kernel, stride); });
}

vkgrad_result vkgrad_graph_avg_pool2d(vkgrad_graph g, vkgrad_tensor x, uint32_t kernel, uint32_t stride, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.avg_pool2d(T(x), kernel, stride); });
}

vkgrad_result vkgrad_graph_batch_norm2d(vkgrad_graph g, vkgrad_tensor x, const char* name, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.batch_norm2d(T(x), name); });
}

vkgrad_result vkgrad_graph_layer_norm(vkgrad_graph g, vkgrad_tensor x, const char* name, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.layer_norm(T(x), name); });
}

vkgrad_result vkgrad_graph_embedding(vkgrad_graph g, vkgrad_tensor ids, uint32_t vocab, uint32_t dim, const char* name,
                                     vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.embedding(T(ids), vocab, dim, name); });
}

vkgrad_result vkgrad_graph_causal_self_attention(vkgrad_graph g, vkgrad_tensor x, uint32_t heads, const char* name,
                                                 vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.causal_self_attention(T(x), heads, name); });
}

vkgrad_result vkgrad_graph_fourier_features(vkgrad_graph g, vkgrad_tensor x, uint32_t frequencies, float sigma,
                                            const char* name, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.fourier_features(T(x), frequencies, sigma, name); });
}

vkgrad_result vkgrad_graph_hash_grid(vkgrad_graph g, vkgrad_tensor x, const char* name, uint32_t levels, uint32_t features,
                                     uint32_t log2_table_size, uint32_t base_resolution, float growth, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(name, "name is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) {
    return gr.hash_grid(T(x), name, {levels, features, log2_table_size, base_resolution, growth});
  });
}

vkgrad_result vkgrad_graph_unary(vkgrad_graph g, vkgrad_tensor x, vkgrad_unary fn, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(fn >= VKGRAD_UNARY_RELU && fn <= VKGRAD_UNARY_COS, "fn is not a vkgrad_unary");
  return build(__func__, g, out, [&](graph::Graph& gr) {
    switch (fn) {
      case VKGRAD_UNARY_RELU: return gr.relu(T(x));
      case VKGRAD_UNARY_GELU: return gr.gelu(T(x));
      case VKGRAD_UNARY_GELU_TANH: return gr.gelu_tanh(T(x));
      case VKGRAD_UNARY_TANH: return gr.tanh(T(x));
      case VKGRAD_UNARY_SIGMOID: return gr.sigmoid(T(x));
      case VKGRAD_UNARY_SIN: return gr.sin(T(x));
      case VKGRAD_UNARY_COS: break;
    }
    return gr.cos(T(x));
  });
}

vkgrad_result vkgrad_graph_add(vkgrad_graph g, vkgrad_tensor a, vkgrad_tensor b, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.add(T(a), T(b)); });
}

vkgrad_result vkgrad_graph_mul(vkgrad_graph g, vkgrad_tensor a, vkgrad_tensor b, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.mul(T(a), T(b)); });
}

vkgrad_result vkgrad_graph_concat(vkgrad_graph g, const vkgrad_tensor* xs, uint32_t count, int32_t dim, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(xs || count == 0, "xs is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) {
    std::vector<graph::Tensor> ts;
    for (uint32_t i = 0; i < count; ++i) ts.push_back(T(xs[i]));
    return gr.concat(ts, dim);
  });
}

vkgrad_result vkgrad_graph_softmax(vkgrad_graph g, vkgrad_tensor x, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.softmax(T(x)); });
}

vkgrad_result vkgrad_graph_dropout(vkgrad_graph g, vkgrad_tensor x, float p, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.dropout(T(x), p); });
}

vkgrad_result vkgrad_graph_flatten(vkgrad_graph g, vkgrad_tensor x, vkgrad_tensor* out) {
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.flatten(T(x)); });
}

vkgrad_result vkgrad_graph_reshape(vkgrad_graph g, vkgrad_tensor x, const uint32_t* dims, uint32_t rank, vkgrad_tensor* out) {
  VKGRAD_REQUIRE(dims || rank == 0, "dims is NULL");
  return build(__func__, g, out, [&](graph::Graph& gr) { return gr.reshape(T(x), dims_of(dims, rank)); });
}

vkgrad_result vkgrad_graph_loss(vkgrad_graph g, vkgrad_loss loss, vkgrad_tensor pred, vkgrad_tensor target) {
  VKGRAD_REQUIRE(g, "graph is NULL");
  VKGRAD_REQUIRE(loss >= VKGRAD_LOSS_CROSS_ENTROPY && loss <= VKGRAD_LOSS_L1, "loss is not a vkgrad_loss");
  return guarded(__func__, [&] {
    if (loss == VKGRAD_LOSS_CROSS_ENTROPY) g->g.cross_entropy(T(pred), T(target));
    else if (loss == VKGRAD_LOSS_MSE) g->g.mse(T(pred), T(target));
    else g->g.l1(T(pred), T(target));
  });
}

vkgrad_result vkgrad_graph_create_gpt(uint32_t vocab, uint32_t context, uint32_t layers, uint32_t dim, uint32_t heads,
                                      vkgrad_graph* out) {
  VKGRAD_REQUIRE(out, "out is NULL");
  return guarded(__func__, [&] {
    auto g = std::make_unique<vkgrad_graph_t>();
    g->g = graph::gpt({.vocab = vocab, .context = context, .layers = layers, .dim = dim, .heads = heads});
    *out = g.release();
  });
}

vkgrad_trainer_info vkgrad_trainer_info_defaults(void) {
  const train::OptimizerConfig o;
  vkgrad_trainer_info i{};
  i.optimizer = VKGRAD_OPTIMIZER_ADAMW;
  i.lr = o.lr;
  i.beta1 = o.beta1;
  i.beta2 = o.beta2;
  i.eps = o.eps;
  i.weight_decay = o.weight_decay;
  return i;
}

vkgrad_result vkgrad_trainer_create(vkgrad_context context, vkgrad_graph graph, const vkgrad_trainer_info* info,
                                    vkgrad_trainer* out) {
  VKGRAD_REQUIRE(context && graph && info && out, "context, graph, info and out are required");
  VKGRAD_REQUIRE(info->optimizer >= VKGRAD_OPTIMIZER_SGD && info->optimizer <= VKGRAD_OPTIMIZER_ADAMW,
                 "info->optimizer is not a vkgrad_optimizer");
  VKGRAD_REQUIRE(info->shared_feeds || info->shared_feed_count == 0, "info->shared_feeds is NULL");
  return guarded(__func__, [&] {
    train::TrainerCreateInfo ci;
    ci.batch_size = info->batch_size;
    ci.precision = info->precision == VKGRAD_PRECISION_FP32 ? train::Precision::Fp32 : train::Precision::Mixed;
    ci.optimizer.kind = kernels::OptimizerKind(uint32_t(info->optimizer));
    ci.optimizer.lr = info->lr;
    ci.optimizer.beta1 = info->beta1;
    ci.optimizer.beta2 = info->beta2;
    ci.optimizer.eps = info->eps;
    ci.optimizer.weight_decay = info->weight_decay;
    ci.optimizer.momentum = info->momentum;
    ci.optimizer.max_grad_norm = info->max_grad_norm;
    ci.seed = info->seed;
    add_shared(*info, ci);
    auto t = std::make_unique<vkgrad_trainer_t>();
    t->t = std::make_unique<train::Trainer>(*context->ctx, graph->g, ci);
    *out = t.release();
  });
}

void vkgrad_trainer_destroy(vkgrad_trainer trainer) { delete trainer; }

vkgrad_result vkgrad_trainer_step(vkgrad_trainer t, const vkgrad_batch* batch) {
  VKGRAD_REQUIRE(t && batch && (batch->feeds || batch->feed_count == 0), "trainer or batch is NULL");
  return guarded(__func__, [&] { t->t->step(batch_of(*batch)); });
}

vkgrad_result vkgrad_trainer_metrics(vkgrad_trainer t, int wait, vkgrad_metrics* out) {
  VKGRAD_REQUIRE(t && out, "trainer or out is NULL");
  return guarded(__func__, [&] { metrics_of(t->t->metrics(wait ? train::Wait::Yes : train::Wait::No), out); });
}

vkgrad_result vkgrad_trainer_predict(vkgrad_trainer t, const vkgrad_batch* batch, float* out, size_t capacity,
                                     size_t* written) {
  VKGRAD_REQUIRE(t && batch && out, "trainer, batch or out is NULL");
  std::vector<float> p;
  const vkgrad_result r = guarded(__func__, [&] { p = t->t->predict(batch_of(*batch)); });
  return r == VKGRAD_OK ? copy_out(p, out, capacity, written) : r;
}

vkgrad_result vkgrad_trainer_evaluate(vkgrad_trainer t, const vkgrad_batch* batch, float* loss) {
  VKGRAD_REQUIRE(t && batch && loss, "trainer, batch or loss is NULL");
  return guarded(__func__, [&] { *loss = t->t->evaluate(batch_of(*batch)).loss; });
}

vkgrad_result vkgrad_trainer_save_checkpoint(vkgrad_trainer t, const char* path) {
  VKGRAD_REQUIRE(t && path, "trainer or path is NULL");
  return guarded(__func__, [&] { io::save_checkpoint(path, t->t->save_state()); });
}

vkgrad_result vkgrad_trainer_load_checkpoint(vkgrad_trainer t, const char* path, int strict) {
  VKGRAD_REQUIRE(t && path, "trainer or path is NULL");
  return guarded(__func__, [&] { t->t->load_state(io::load_checkpoint(path), {.strict = strict != 0}); });
}

vkgrad_result vkgrad_trainer_export_state_dict(vkgrad_trainer t, const char* path) {
  VKGRAD_REQUIRE(t && path, "trainer or path is NULL");
  return guarded(__func__, [&] { io::export_state_dict(path, t->t->save_state()); });
}

vkgrad_result vkgrad_trainer_export_glsl(vkgrad_trainer t, vkgrad_graph graph, const char* glsl_path,
                                         const char* weights_path, int fp16) {
  VKGRAD_REQUIRE(t && graph && glsl_path && weights_path, "trainer, graph and both paths are required");
  return guarded(__func__, [&] {
    const auto e = io::export_glsl(graph->g, t->t->save_state(), {.fp16 = fp16 != 0});
    std::ofstream glsl(glsl_path, std::ios::trunc), weights(weights_path, std::ios::binary | std::ios::trunc);
    glsl << e.source;
    weights.write(reinterpret_cast<const char*>(e.weights.data()), std::streamsize(e.weights.size()));
    if (!glsl || !weights)
      throw Error(std::string("could not write ") + glsl_path + " or " + weights_path, "check the folder exists and is writable");
  });
}

vkgrad_result vkgrad_trainer_record_step(vkgrad_trainer t, VkCommandBuffer cmd, uint32_t rows) {
  VKGRAD_REQUIRE(t && cmd, "trainer or command buffer is NULL");
  return guarded(__func__, [&] { (void)t->t->record_step(cmd, rows); });
}

vkgrad_result vkgrad_trainer_record_predict(vkgrad_trainer t, VkCommandBuffer cmd, uint32_t rows) {
  VKGRAD_REQUIRE(t && cmd, "trainer or command buffer is NULL");
  return guarded(__func__, [&] { (void)t->t->record_predict(cmd, rows); });
}

vkgrad_result vkgrad_trainer_host_step_metrics(vkgrad_trainer t, vkgrad_metrics* out) {
  VKGRAD_REQUIRE(t && out, "trainer or out is NULL");
  return guarded(__func__, [&] { metrics_of(t->t->host_step_metrics(), out); });
}

vkgrad_result vkgrad_model_create(vkgrad_context context, vkgrad_graph graph, const vkgrad_model_info* info,
                                  vkgrad_model* out) {
  VKGRAD_REQUIRE(context && graph && info && out, "context, graph, info and out are required");
  VKGRAD_REQUIRE(info->shared_feeds || info->shared_feed_count == 0, "info->shared_feeds is NULL");
  return guarded(__func__, [&] {
    infer::ModelCreateInfo ci;
    if (info->batch_size) ci.batch_size = info->batch_size;
    ci.precision = info->precision == VKGRAD_PRECISION_FP32 ? kernels::Precision::Fp32 : kernels::Precision::Mixed;
    add_shared(*info, ci);
    auto m = std::make_unique<vkgrad_model_t>();
    m->m = std::make_unique<infer::Model>(*context->ctx, graph->g, ci);
    *out = m.release();
  });
}

void vkgrad_model_destroy(vkgrad_model model) { delete model; }

vkgrad_result vkgrad_model_load(vkgrad_model m, const char* path) {
  VKGRAD_REQUIRE(m && path, "model or path is NULL");
  return guarded(__func__, [&] { (void)m->m->load(path); });
}

vkgrad_result vkgrad_model_predict(vkgrad_model m, const vkgrad_batch* batch, float* out, size_t capacity,
                                   size_t* written) {
  VKGRAD_REQUIRE(m && batch && out, "model, batch or out is NULL");
  std::vector<float> p;
  const vkgrad_result r = guarded(__func__, [&] { p = m->m->predict(batch_of(*batch)); });
  return r == VKGRAD_OK ? copy_out(p, out, capacity, written) : r;
}

vkgrad_result vkgrad_model_record_predict(vkgrad_model m, VkCommandBuffer cmd, uint32_t rows) {
  VKGRAD_REQUIRE(m && cmd, "model or command buffer is NULL");
  return guarded(__func__, [&] { (void)m->m->record_predict(cmd, rows); });
}

}  // extern "C"
