// Trainer configuration: plain structs in the style of Vulkan create-infos. Zero-initialized
// and default values give PyTorch's defaults. Plain values; thread-safe.
#pragma once

#include "vkgrad/kernels/attention.hpp"
#include "vkgrad/kernels/loss_scale.hpp"
#include "vkgrad/kernels/optimizer.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/train/schedule.hpp"

#include <vulkan/vulkan_core.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vkgrad::dist {
class Communicator;
}  // namespace vkgrad::dist

namespace vkgrad::train {

using kernels::Precision;  // Mixed (default): FP16 activations and working copies; Fp32: everything FP32

// torch.amp.GradScaler's dynamic loss scaling, decided on the device.
struct LossScaleConfig {
  kernels::ScaleMode mode = kernels::ScaleMode::Dynamic;  // Static keeps init_scale; Off uses 1
  float init_scale = 65536.0f;
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  uint32_t growth_interval = 2000;
};

// Settings for the parameters whose names start with `prefix`, as PyTorch's parameter groups
// (the first matching group wins; the rest use the OptimizerConfig's own). The schedule scales
// every group's learning rate alike.
struct ParamGroup {
  std::string prefix;
  std::optional<float> lr, beta1, beta2, eps, weight_decay;
};

// Parameters that weight decay skips, by what their op uses them for (recipes such as
// nanoGPT's decay only matrix weights). A ParamGroup's weight_decay still wins for its prefix.
struct DecayExclusions {
  bool biases = false;      // of linear and convolution layers
  bool norms = false;       // layer and batch norm γ and β
  bool embeddings = false;  // embedding tables
};

struct OptimizerConfig {
  kernels::OptimizerKind kind = kernels::OptimizerKind::AdamW;
  float lr = 1e-3f;
  float beta1 = 0.9f;   // Adam, AdamW
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;  // AdamW's default; use sgd()/adam() for theirs (0)
  float momentum = 0.0f;       // SGD
  float dampening = 0.0f;      // SGD
  bool nesterov = false;       // SGD
  float max_grad_norm = 0.0f;  // clip by global norm when > 0 (after unscaling)
  std::vector<ParamGroup> groups;
  DecayExclusions no_decay;

  static OptimizerConfig sgd(float lr, float momentum = 0.0f, float weight_decay = 0.0f, bool nesterov = false);
  static OptimizerConfig adam(float lr = 1e-3f, float weight_decay = 0.0f);
  static OptimizerConfig adamw(float lr = 1e-3f, float weight_decay = 0.01f);
};

// How a feed's rows lie in device memory: FP32 or FP16 values, or int32 labels.
enum class FeedType { F32, F16, I32 };

// A host's buffer range used as a graph feed (an input, a target or labels) without a copy: the
// passes read the feed from there, as the host last wrote it. It must allow storage-buffer use,
// start at a multiple of the device's minStorageBufferOffsetAlignment and hold batch_size rows
// of the feed's values in its type: I32 for labels; F16 for inputs that layers read under mixed
// precision; F32 for inputs in FP32 training, loss targets and encoding coordinates (the error
// for a mismatch names the type expected). The host keeps it alive as long as it submits work
// that reads it (steps, recorded passes); it may destroy it before the trainer once nothing
// more is submitted, and the trainer never touches it on destruction.
struct SharedFeed {
  std::string name;  // the feed's graph name
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;  // bytes
  FeedType type = FeedType::F32;
};

struct TrainerCreateInfo {
  uint32_t batch_size = 0;  // rows per step (the compiled maximum); required
  Precision precision = Precision::Mixed;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  LossScaleConfig loss_scale;
  uint32_t ring_slots = 2;  // steps the host may run ahead of the device (>= 2)
  // Micro-batches per update: gradients of this many step() calls are averaged, then checked
  // for overflow once and applied once. Metrics report the last micro-batch's loss.
  uint32_t accumulation_steps = 1;
  uint64_t seed = 0;        // parameter initialization
  // Device memory the trainer may plan for; 0 = the device-local heap's current budget.
  uint64_t memory_budget = 0;
  // Record a GPU timestamp around every dispatch of the four passes, for Trainer::profile().
  // Costs two timestamp writes per dispatch each step; ignored where the queue has none.
  bool profile = false;
  // The fused attention's variant, forced (tests, benchmarks); unset: kernels::select_attention's
  // choice. A variant the device cannot run throws Error when the passes are recorded.
  std::optional<kernels::AttentionVariant> attention_variant;
  // Feeds read from the host's buffers instead of the staging ring (see SharedFeed); step()
  // then takes no data for them, and record_step() needs every feed shared.
  std::vector<SharedFeed> shared_feeds;
  // The loss's predictions written straight into the host's range (its name is ignored; its
  // type is the activations': F16 under mixed precision, else F32; rows × outputs values), for
  // record_predict() into a buffer the host's own passes read.
  std::optional<SharedFeed> shared_predictions;
  // Data-parallel training: this process is one rank of `communicator` (vkgrad/dist; it must
  // outlive the trainer). Every rank builds the same graph and configuration and steps on its
  // own batch_size rows; the parameters and buffers start as rank 0's, and every update's FP32
  // gradients (and loss) are summed over the ranks and divided by their number before the
  // loss-scale pass, so every rank skips the same steps, keeps the same scale and holds
  // bitwise the same weights. Buffers (batch norm's running statistics), which each rank
  // updates from its own rows, become the ranks' mean at every update. Each such step waits on
  // the host for its backward pass and the sums (Counters::gradient_exchanges). Null: one
  // process.
  dist::Communicator* communicator = nullptr;
  // Data parallel: the gradients go to the other ranks in buckets of at least this many bytes
  // (the last: what is left), each summed as soon as the backward pass has written its last
  // gradient, while the backward of the layers below runs on (PyTorch DDP's bucket_cap_mb).
  uint64_t gradient_bucket_bytes = uint64_t(25) << 20;
};

}  // namespace vkgrad::train
