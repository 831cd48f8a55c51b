// vkgrad — the whole user-facing API in one include: the device context (own or adopted, with
// the host-device requirements), graphs and their builders, the trainer and its configuration,
// inference-only models, checkpoints and the file formats, and data batching. The kernels
// (vkgrad/kernels/*) are a lower layer, included where wanted.
#pragma once

#include "vkgrad/data/batcher.hpp"
#include "vkgrad/data/dataset.hpp"
#include "vkgrad/data/feature_batcher.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/fit/fit.hpp"
#include "vkgrad/graph/gpt.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/infer/model.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/io/glsl_export.hpp"
#include "vkgrad/io/idx.hpp"
#include "vkgrad/io/npy.hpp"
#include "vkgrad/io/safetensors.hpp"
#include "vkgrad/train/config.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"
#include "vkgrad/vk/requirements.hpp"
#include "vkgrad/vk/submit_sync.hpp"
