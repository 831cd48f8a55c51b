/* vkgrad.h — the C API: contexts (own or adopted), graphs, trainers, inference models,
 * checkpoints and the host-embedding calls, for engines and languages that bind C (C# native
 * plugins, GDExtension, Rust FFI). C11; no exception crosses it.
 *
 * Every function that can fail returns a vkgrad_result; on failure,
 * vkgrad_last_error() holds the message (what failed, where, what to do) until the same thread's
 * next failing call. Handles are opaque; each *_destroy accepts NULL. A context must outlive
 * the trainers and models made with it; a graph may be destroyed once they are created.
 * Thread safety is that of the C++ objects: one thread at a time per handle. */
#ifndef VKGRAD_H
#define VKGRAD_H

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vkgrad_result {
  VKGRAD_OK = 0,
  VKGRAD_ERROR_INVALID_ARGUMENT = -1, /* a bad value or handle: see vkgrad_last_error() */
  VKGRAD_ERROR_VULKAN = -2,           /* a Vulkan call failed (device lost, out of memory, ...) */
  VKGRAD_ERROR_FAILED = -3,           /* anything else vkgrad reports: the message says what */
  VKGRAD_ERROR_OUT_OF_HOST_MEMORY = -4
} vkgrad_result;

/* The message of this thread's newest failure ("" if none). Valid until its next failing call. */
const char* vkgrad_last_error(void);

typedef struct vkgrad_context_t* vkgrad_context;
typedef struct vkgrad_requirements_t* vkgrad_requirements;
typedef struct vkgrad_graph_t* vkgrad_graph;
typedef struct vkgrad_trainer_t* vkgrad_trainer;
typedef struct vkgrad_model_t* vkgrad_model;
typedef uint32_t vkgrad_tensor; /* a tensor of one graph */

/* ---- contexts ------------------------------------------------------------------------- */

typedef struct vkgrad_context_info {
  int32_t device_index; /* -1: the best device (or VKGRAD_DEVICE) */
  int validation;       /* non-zero: the Khronos validation layer (or VKGRAD_VALIDATION=1) */
} vkgrad_context_info;
vkgrad_result vkgrad_context_create(const vkgrad_context_info* info, vkgrad_context* out);
void vkgrad_context_destroy(vkgrad_context context);
/* The device's name; valid while the context lives. */
const char* vkgrad_context_device_name(vkgrad_context context);

/* What vkgrad needs of a host's physical device, before the host creates its VkDevice:
 * merge_features ORs vkgrad's feature bits into the host's VkPhysicalDeviceFeatures2 chain (and
 * links the structs it lacks at its end; the requirements object owns them, so keep it until
 * vkCreateDevice); the extensions listed must be enabled too. */
vkgrad_result vkgrad_requirements_create(PFN_vkGetInstanceProcAddr get_instance_proc_addr, VkInstance instance,
                                         VkPhysicalDevice physical_device, vkgrad_requirements* out);
void vkgrad_requirements_destroy(vkgrad_requirements requirements);
void vkgrad_requirements_merge_features(vkgrad_requirements requirements, VkPhysicalDeviceFeatures2* host_features);
uint32_t vkgrad_requirements_extension_count(vkgrad_requirements requirements);
const char* vkgrad_requirements_extension(vkgrad_requirements requirements, uint32_t index);

typedef struct vkgrad_adopt_info {
  PFN_vkGetInstanceProcAddr get_instance_proc_addr; /* required */
  PFN_vkGetDeviceProcAddr get_device_proc_addr;     /* NULL: the instance's */
  VkInstance instance;
  VkPhysicalDevice physical_device;
  VkDevice device; /* created with what `requirements` lists */
  VkQueue queue;   /* supports compute */
  uint32_t queue_family;
  uint32_t api_version;              /* the host instance's; 0: Vulkan 1.3 */
  vkgrad_requirements requirements;  /* the features and extensions the host enabled */
  /* Where the host shares `queue` across threads: called around every vkgrad call on it. */
  void (*lock_queue)(void* user);
  void (*unlock_queue)(void* user);
  void* user;
} vkgrad_adopt_info;
vkgrad_result vkgrad_context_adopt(const vkgrad_adopt_info* info, vkgrad_context* out);

/* ---- graphs --------------------------------------------------------------------------- */

typedef enum vkgrad_activation {
  VKGRAD_ACTIVATION_NONE = 0,
  VKGRAD_ACTIVATION_RELU = 1,
  VKGRAD_ACTIVATION_GELU = 2,
  VKGRAD_ACTIVATION_GELU_TANH = 3
} vkgrad_activation;
typedef enum vkgrad_unary {
  VKGRAD_UNARY_RELU = 0,
  VKGRAD_UNARY_GELU = 1,
  VKGRAD_UNARY_GELU_TANH = 2,
  VKGRAD_UNARY_TANH = 3,
  VKGRAD_UNARY_SIGMOID = 4,
  VKGRAD_UNARY_SIN = 5,
  VKGRAD_UNARY_COS = 6
} vkgrad_unary;
typedef enum vkgrad_loss { VKGRAD_LOSS_CROSS_ENTROPY = 0, VKGRAD_LOSS_MSE = 1, VKGRAD_LOSS_L1 = 2 } vkgrad_loss;

vkgrad_result vkgrad_graph_create(vkgrad_graph* out);
void vkgrad_graph_destroy(vkgrad_graph graph);
/* Per-sample float input / int32 labels (class indices, token ids) fed with each batch. */
vkgrad_result vkgrad_graph_input(vkgrad_graph g, const char* name, const uint32_t* dims, uint32_t rank, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_labels(vkgrad_graph g, const char* name, const uint32_t* dims, uint32_t rank, vkgrad_tensor* out);
/* nn.Linear: NAME.weight, NAME.bias (when `bias`). */
vkgrad_result vkgrad_graph_linear(vkgrad_graph g, vkgrad_tensor x, uint32_t out_features, const char* name,
                                  vkgrad_activation activation, int bias, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_conv2d(vkgrad_graph g, vkgrad_tensor x, uint32_t out_channels, uint32_t kernel,
                                  uint32_t stride, uint32_t padding, const char* name, vkgrad_activation activation,
                                  vkgrad_tensor* out);
vkgrad_result vkgrad_graph_max_pool2d(vkgrad_graph g, vkgrad_tensor x, uint32_t kernel, uint32_t stride, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_avg_pool2d(vkgrad_graph g, vkgrad_tensor x, uint32_t kernel, uint32_t stride, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_batch_norm2d(vkgrad_graph g, vkgrad_tensor x, const char* name, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_layer_norm(vkgrad_graph g, vkgrad_tensor x, const char* name, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_embedding(vkgrad_graph g, vkgrad_tensor ids, uint32_t vocab, uint32_t dim, const char* name,
                                     vkgrad_tensor* out);
vkgrad_result vkgrad_graph_causal_self_attention(vkgrad_graph g, vkgrad_tensor x, uint32_t heads, const char* name,
                                                 vkgrad_tensor* out);
vkgrad_result vkgrad_graph_fourier_features(vkgrad_graph g, vkgrad_tensor x, uint32_t frequencies, float sigma,
                                            const char* name, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_hash_grid(vkgrad_graph g, vkgrad_tensor x, const char* name, uint32_t levels,
                                     uint32_t features, uint32_t log2_table_size, uint32_t base_resolution,
                                     float growth, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_unary(vkgrad_graph g, vkgrad_tensor x, vkgrad_unary fn, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_add(vkgrad_graph g, vkgrad_tensor a, vkgrad_tensor b, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_mul(vkgrad_graph g, vkgrad_tensor a, vkgrad_tensor b, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_concat(vkgrad_graph g, const vkgrad_tensor* xs, uint32_t count, int32_t dim, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_softmax(vkgrad_graph g, vkgrad_tensor x, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_dropout(vkgrad_graph g, vkgrad_tensor x, float p, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_flatten(vkgrad_graph g, vkgrad_tensor x, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_reshape(vkgrad_graph g, vkgrad_tensor x, const uint32_t* dims, uint32_t rank, vkgrad_tensor* out);
vkgrad_result vkgrad_graph_loss(vkgrad_graph g, vkgrad_loss loss, vkgrad_tensor pred, vkgrad_tensor target);
/* A GPT-2-style decoder with nanoGPT's names (feeds "idx" and "targets", [context] each). */
vkgrad_result vkgrad_graph_create_gpt(uint32_t vocab, uint32_t context, uint32_t layers, uint32_t dim, uint32_t heads,
                                      vkgrad_graph* out);

/* ---- trainers ------------------------------------------------------------------------- */

typedef enum vkgrad_precision { VKGRAD_PRECISION_MIXED = 0, VKGRAD_PRECISION_FP32 = 1 } vkgrad_precision;
typedef enum vkgrad_optimizer { VKGRAD_OPTIMIZER_SGD = 0, VKGRAD_OPTIMIZER_ADAM = 1, VKGRAD_OPTIMIZER_ADAMW = 2 } vkgrad_optimizer;
typedef enum vkgrad_feed_type { VKGRAD_FEED_F32 = 0, VKGRAD_FEED_F16 = 1, VKGRAD_FEED_I32 = 2 } vkgrad_feed_type;

/* A host's buffer range read as a graph feed (see vkgrad::train::SharedFeed). */
typedef struct vkgrad_shared_feed {
  const char* name;
  VkBuffer buffer;
  VkDeviceSize offset, size;
  vkgrad_feed_type type;
} vkgrad_shared_feed;

/* Zero-initialized: vkgrad_trainer_info_defaults() gives PyTorch's defaults. */
typedef struct vkgrad_trainer_info {
  uint32_t batch_size; /* required */
  vkgrad_precision precision;
  vkgrad_optimizer optimizer;
  float lr, beta1, beta2, eps, weight_decay, momentum, max_grad_norm;
  uint64_t seed;
  const vkgrad_shared_feed* shared_feeds;
  uint32_t shared_feed_count;
  const vkgrad_shared_feed* shared_predictions; /* NULL: none (its name is ignored) */
} vkgrad_trainer_info;
vkgrad_trainer_info vkgrad_trainer_info_defaults(void); /* AdamW 1e-3, betas 0.9/0.999, wd 0.01 */

/* One feed of a batch: `values` (rows × features floats) for an input, `labels` (rows × per-
 * sample int32) for labels; both NULL for a shared feed. */
typedef struct vkgrad_feed {
  const float* values;
  size_t value_count;
  const int32_t* labels;
  size_t label_count;
} vkgrad_feed;
typedef struct vkgrad_batch {
  uint32_t rows;
  const vkgrad_feed* feeds; /* one per graph feed, in declaration order */
  uint32_t feed_count;
} vkgrad_batch;

typedef struct vkgrad_metrics {
  int valid;
  uint64_t steps, optimizer_steps, skipped_steps, nonfinite_losses;
  float loss, loss_scale, grad_norm;
  int skipped;
  uint64_t nonfinite_inputs; /* steps whose float inputs held inf or NaN (counted on the device) */
} vkgrad_metrics;

vkgrad_result vkgrad_trainer_create(vkgrad_context context, vkgrad_graph graph, const vkgrad_trainer_info* info,
                                    vkgrad_trainer* out);
void vkgrad_trainer_destroy(vkgrad_trainer trainer);
vkgrad_result vkgrad_trainer_step(vkgrad_trainer t, const vkgrad_batch* batch);
vkgrad_result vkgrad_trainer_metrics(vkgrad_trainer t, int wait, vkgrad_metrics* out);
/* Predictions (rows × outputs floats) into `out` of `capacity` floats; `*written` gets the count. */
vkgrad_result vkgrad_trainer_predict(vkgrad_trainer t, const vkgrad_batch* batch, float* out, size_t capacity,
                                     size_t* written);
vkgrad_result vkgrad_trainer_evaluate(vkgrad_trainer t, const vkgrad_batch* batch, float* loss);
vkgrad_result vkgrad_trainer_save_checkpoint(vkgrad_trainer t, const char* path);
/* strict: as LoadOptions::strict (non-zero: any mismatch is an error). */
vkgrad_result vkgrad_trainer_load_checkpoint(vkgrad_trainer t, const char* path, int strict);
vkgrad_result vkgrad_trainer_export_state_dict(vkgrad_trainer t, const char* path);
/* The network as GLSL (see vkgrad/io/glsl_export.hpp): the include and the weights file. */
vkgrad_result vkgrad_trainer_export_glsl(vkgrad_trainer t, vkgrad_graph graph, const char* glsl_path,
                                         const char* weights_path, int fp16);
/* A training step recorded into the host's command buffer (every feed shared), and its metrics
 * once the host's submission completed (see Trainer::record_step). */
vkgrad_result vkgrad_trainer_record_step(vkgrad_trainer t, VkCommandBuffer cmd, uint32_t rows);
/* An inference pass into the host's command buffer: shared inputs in, shared predictions out. */
vkgrad_result vkgrad_trainer_record_predict(vkgrad_trainer t, VkCommandBuffer cmd, uint32_t rows);
vkgrad_result vkgrad_trainer_host_step_metrics(vkgrad_trainer t, vkgrad_metrics* out);

/* ---- inference models ----------------------------------------------------------------- */

typedef struct vkgrad_model_info {
  uint32_t batch_size; /* 0: 256 */
  vkgrad_precision precision;
  const vkgrad_shared_feed* shared_feeds;
  uint32_t shared_feed_count;
  const vkgrad_shared_feed* shared_predictions; /* NULL: none */
} vkgrad_model_info;
vkgrad_result vkgrad_model_create(vkgrad_context context, vkgrad_graph graph, const vkgrad_model_info* info,
                                  vkgrad_model* out);
void vkgrad_model_destroy(vkgrad_model model);
/* A training checkpoint or a state_dict (safetensors), strictly. */
vkgrad_result vkgrad_model_load(vkgrad_model m, const char* path);
vkgrad_result vkgrad_model_predict(vkgrad_model m, const vkgrad_batch* batch, float* out, size_t capacity,
                                   size_t* written);
vkgrad_result vkgrad_model_record_predict(vkgrad_model m, VkCommandBuffer cmd, uint32_t rows);

#ifdef __cplusplus
}
#endif

#endif /* VKGRAD_H */
