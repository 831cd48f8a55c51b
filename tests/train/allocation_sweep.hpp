// Allocation failure at every site of a small training run: Context creation, trainer
// compilation, two steps, the state saved to a checkpoint and loaded into a second trainer, a
// step there and its state read back.
// - Device: for N = 1, 2, ..., the N-th buffer creation or memory allocation (vkCreateBuffer,
//   vkAllocateMemory) fails with VK_ERROR_OUT_OF_DEVICE_MEMORY, and so does every memory
//   allocation after it (VMA would otherwise recover with a smaller block).
// - Host: the N-th request for a host buffer sized by the model or the data (vk/host_memory.hpp:
//   parameter uploads and read-backs, the checkpoint file, decoded tensors) fails.
// Each run must throw a vkgrad::Error with the result and advice naming what it allocated, or
// complete as the unfailed one does. A trainer that exists when the error comes must stay usable
// (a step and a state read-back succeed once the fault is lifted), and everything must be
// destroyed with no validation message (and, in the asan preset, no leak). The checks are
// GoogleTest expectations; not thread-safe (the faults are process-wide).
#pragma once

#include "vkgrad/graph/graph.hpp"

#include <cstdint>

namespace vkgrad::test {

enum class AllocationFault { Device, Host };

struct SweepCounts {
  uint32_t sites = 0, errors = 0, recovered = 0;
};

// Runs the sweep over `model` (named `name` in the printed summary).
SweepCounts sweep_allocations(const char* name, const graph::Graph& model, AllocationFault fault);

}  // namespace vkgrad::test
