// How long each activation of a training step lives, from the op units' saved-tensor
// declarations, as requests for the memory planner: values, their gradients and the ops'
// backward scratch. Pure function of the graph; thread-safe.
#pragma once

#include "vkgrad/graph/graph.hpp"
#include "vkgrad/graph/memory_plan.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::graph {

// Positions in one step, in recording order: node i's forward at i, the loss at F (forward) and
// F + 1 (backward), node i's backward at F + 2 + (F − 1 − i), for F nodes.
struct StepPositions {
  uint32_t nodes = 0;
  uint32_t forward(size_t node) const { return uint32_t(node); }
  uint32_t loss_forward() const { return nodes; }
  uint32_t loss_backward() const { return nodes + 1; }
  uint32_t backward(size_t node) const { return nodes + 2 + (nodes - 1 - uint32_t(node)); }
};

struct ActivationRequests {
  enum class Kind { Value, Grad, Workspace };
  struct Owner {
    Kind kind = Kind::Value;
    uint32_t index = 0;  // the (base) tensor, or the node for a workspace
  };
  std::vector<bool> requires_grad;      // per tensor: a parameter, or computed from one
  std::vector<MemoryRequest> requests;  // per-batch bytes
  std::vector<Owner> owners;            // one per request
};

// A value lives from its producer's forward to the last forward that reads it or backward that
// saved it; a gradient (where some backward or the loss writes one) from the first backward
// that writes it to its producer's backward; a workspace during its node's backward. Views
// (reshape) share their base tensor's requests. `types` has each tensor's element type
// (ops::activation_types): a value and its gradient take it, a workspace its node's output's.
// Throws Error when the loss does not depend on any parameter.
// forward_only (inference): values live from their producer to their last forward reader (the
// predictions to the end), and there are no gradients or backward scratch.
ActivationRequests activation_requests(const Graph& graph, uint32_t rows, std::span<const kernels::ElemType> types,
                                       uint64_t alignment, bool forward_only = false);

}  // namespace vkgrad::graph
